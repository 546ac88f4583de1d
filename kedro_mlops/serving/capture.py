"""Request capture: what the model server scored, written as Parquet in the background.

``kedro mlops serve`` with ``serving.capture.enabled: true`` in ``mlops.yml``
hands every scored request (status 200) to a :class:`Capture`: the request's
rows as the model received them (numeric columns converted), the model's
prediction columns, and four columns of its own:

* ``_captured_at``: when the request was scored (UTC, milliseconds);
* ``_model_name``, ``_model_version``: the registered model that scored it;
* ``_request_id``: one UUID (hex) per request, shared by its rows.

A request never waits for the disk: :meth:`Capture.put` appends references to
a bounded queue (:attr:`CaptureSettings.max_queue_rows` rows, counting the
rows being written) and returns; a request that does not fit is dropped and
counted. A background thread makes the queued requests into Arrow tables
every :data:`CONVERT_SECONDS` (requests of the same columns together), so
that few request frames stay alive for the garbage collector to walk, and
writes the tables every ``flush_seconds``, or as soon as ``file_rows`` rows
wait, and when the server stops.

Files are Hive-style hourly partitions (the hour of ``_captured_at``)::

    <path>/hour=2025-01-31T14/20250131T140502-4711-3.parquet

named by the time of writing, the process id and a sequence number, so that
the processes of ``--workers N`` never write the same name. Each file is
written under a name ending ``.partial`` in the same folder, then renamed
(local files: after ``fsync``): a reader that takes the ``.parquet`` files
(Kedro's ``PartitionedDataset`` with ``filename_suffix: .parquet``) sees whole
files only. Requests whose columns differ (names or types) go to separate
files: one file holds one schema.

A path that cannot be written (missing permission, a full disk) does not stop
the server: one warning names the path and the error, the rows are counted as
dropped, and the next flush tries again (a line says when writing works
again).
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

logger = logging.getLogger(__name__)

#: The capture settings of the server processes, as JSON (unset: no capture);
#: ``kedro mlops serve`` sets it from ``serving.capture`` in ``mlops.yml``.
CAPTURE_VARIABLE = "KEDRO_MLOPS_SERVE_CAPTURE"
#: The registered name and version of the served model.
MODEL_NAME_VARIABLE = "KEDRO_MLOPS_SERVE_MODEL_NAME"
MODEL_VERSION_VARIABLE = "KEDRO_MLOPS_SERVE_MODEL_VERSION"

#: The columns capture adds after the request's and the model's.
CAPTURED_AT, MODEL_NAME, MODEL_VERSION, REQUEST_ID = (
    "_captured_at",
    "_model_name",
    "_model_version",
    "_request_id",
)
META_COLUMNS = (CAPTURED_AT, MODEL_NAME, MODEL_VERSION, REQUEST_ID)
#: The column of a prediction that is not a table.
PREDICTION = "prediction"
PARTIAL = ".partial"
SUFFIX = ".parquet"
#: A warning about a full queue at the first dropped request, then every this many.
WARN_EVERY_DROPS = 1000
#: An hour in milliseconds: ``_captured_at // MS_PER_HOUR`` is its partition.
MS_PER_HOUR = 3_600_000
#: How often the writer makes the queued requests into tables (seconds).
CONVERT_SECONDS = 0.5

_sequence = itertools.count()  # file names, unique in the process


@dataclass(frozen=True)
class CaptureSettings:
    """Where and how much: ``serving.capture`` of ``mlops.yml``, resolved."""

    path: str
    max_queue_rows: int = 100_000
    flush_seconds: float = 5.0
    file_rows: int = 50_000

    def to_environ(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environ(
        cls, environ: MutableMapping[str, str] | None = None
    ) -> CaptureSettings | None:
        """The settings :data:`CAPTURE_VARIABLE` holds; ``None`` when it is unset."""
        environ = os.environ if environ is None else environ
        raw = environ.get(CAPTURE_VARIABLE, "").strip()
        if not raw:
            return None
        try:
            settings = cls(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{CAPTURE_VARIABLE}={raw!r:.200}: not capture settings ({exc}); "
                "it is set by `kedro mlops serve` from serving.capture in mlops.yml."
            ) from None
        if not (
            settings.path
            and settings.max_queue_rows > 0
            and settings.flush_seconds > 0
            and settings.file_rows > 0
        ):
            raise ValueError(
                f"{CAPTURE_VARIABLE}={raw!r:.200}: path must be set, and "
                "max_queue_rows, flush_seconds and file_rows greater than 0."
            )
        return settings


def served_model(environ: MutableMapping[str, str] | None = None) -> tuple[str, str]:
    """The served model's registered name and version (empty when not set)."""
    environ = os.environ if environ is None else environ
    return environ.get(MODEL_NAME_VARIABLE, ""), environ.get(MODEL_VERSION_VARIABLE, "")


class Capture:
    """The queue of scored requests and the thread that writes them.

    ``on_captured(rows)`` and ``on_dropped(rows)`` are called (from the writer
    thread, or from :meth:`put` for a full queue) with the rows written and
    the rows lost; the server's metrics count them.
    """

    def __init__(
        self,
        settings: CaptureSettings,
        model_name: str = "",
        model_version: str = "",
        *,
        on_captured: Callable[[int], None] | None = None,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.model_name = model_name
        self.model_version = model_version
        self.on_captured = on_captured
        self.on_dropped = on_dropped
        self.captured_rows = 0
        self.dropped_rows = 0
        self._files = _Files(settings.path)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: collections.deque[_Scored] = collections.deque()
        self._held = 0  # rows in the queue or being written
        self._full_drops = 0  # requests dropped for a full queue
        self._failing = False  # the last write failed (warned once)
        self._stopping = False
        self._flush_now = False
        self._thread = threading.Thread(
            target=self._run, name="kedro-mlops-capture", daemon=True
        )
        self._thread.start()

    # ---- the request path ------------------------------------------------------

    def put(self, frame: Any, predictions: Any) -> bool:
        """Queue one scored request; ``False`` when it was dropped (queue full).

        O(1): keeps references to ``frame`` (the rows as the model got them)
        and ``predictions``; the writer thread makes the table.
        """
        rows = len(frame)
        item = _Scored(
            frame, predictions, time.time_ns() // 1_000_000, uuid.uuid4().hex
        )
        with self._lock:
            if self._stopping or self._held + rows > self.settings.max_queue_rows:
                self.dropped_rows += rows
                self._full_drops += 1
                drops = self._full_drops
                held = self._held
                accepted = False
            else:
                self._queue.append(item)
                self._held += rows
                # the writer sleeps while nothing waits: wake it for the first
                # request (it makes a table within CONVERT_SECONDS), or for a
                # file's worth of rows
                if len(self._queue) == 1 or self._held >= self.settings.file_rows:
                    self._wake.notify()
                accepted = True
        if not accepted:
            if self.on_dropped is not None:
                self.on_dropped(rows)
            if drops % WARN_EVERY_DROPS == 1 or WARN_EVERY_DROPS == 1:
                logger.warning(
                    "Capture: the queue is full (%d rows wait for %s, "
                    "serving.capture.max_queue_rows is %d): %d requests dropped "
                    "so far (%d rows); said again every %d dropped requests.",
                    held,
                    self.settings.path,
                    self.settings.max_queue_rows,
                    drops,
                    self.dropped_rows,
                    WARN_EVERY_DROPS,
                )
        return accepted

    # ---- the writer thread -----------------------------------------------------

    def flush(self, timeout: float = 30.0) -> bool:
        """Wake the writer and wait until everything queued before is written
        (or dropped); ``False`` if that took longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._wake:
            self._flush_now = True
            self._wake.notify()
            while self._held:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._wake.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Write what waits and stop the writer (the server's shutdown)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning(
                "Capture: %d rows were still being written to %s when the "
                "server stopped, after %g s.",
                self._held,
                self.settings.path,
                timeout,
            )

    def _run(self) -> None:
        # Queued requests are made into tables every CONVERT_SECONDS, so that
        # few frames are alive at once (each holds hundreds of objects the
        # garbage collector walks); the tables wait for flush_seconds or
        # file_rows, then each becomes a file.
        settings = self.settings
        tables: dict[tuple[Any, ...], list[Any]] = {}
        last = time.monotonic()
        while True:
            with self._wake:
                while not (
                    self._stopping
                    or self._flush_now
                    or self._held >= settings.file_rows
                ):
                    left = last + settings.flush_seconds - time.monotonic()
                    if left <= 0:
                        break
                    if self._queue:
                        self._wake.wait(min(left, CONVERT_SECONDS))
                        break
                    self._wake.wait(left)
                batch = list(self._queue)
                self._queue.clear()
                flush = self._flush_now or self._stopping
                self._flush_now = False
                stopping = self._stopping
            if batch:
                self._convert(batch, tables)
            if (
                flush
                or self._held >= settings.file_rows
                or (time.monotonic() >= last + settings.flush_seconds)
            ):
                last = time.monotonic()
                waiting = list(tables.items())
                tables.clear()
                self._write(waiting)
            if stopping:
                return

    def _convert(
        self, batch: list[_Scored], tables: dict[tuple[Any, ...], list[Any]]
    ) -> None:
        """The queued requests as tables, by hour and columns (a request or a
        group that cannot be made into one is lost, said and counted)."""
        groups: dict[tuple[Any, ...], list[_Request]] = {}
        for item in batch:
            try:
                request = _Request.of(item)
                key = request.key()
            except Exception as exc:
                logger.warning(
                    "Capture: a request of %d rows is not captured: %s",
                    len(item.frame),
                    exc,
                )
                self._done(len(item.frame), captured=False)
                continue
            groups.setdefault(key, []).append(request)
        for key, group in groups.items():
            try:
                table = _table(group, self.model_name, self.model_version)
            except Exception as exc:
                rows = sum(len(r.frame) for r in group)
                logger.warning(
                    "Capture: %d rows of %d requests are not captured: %s",
                    rows,
                    len(group),
                    exc,
                )
                self._done(rows, captured=False)
                continue
            tables.setdefault(key, []).append(table)

    def _write(self, keyed: list[tuple[tuple[Any, ...], list[Any]]]) -> None:
        """One file per hour and columns."""
        for key, parts in keyed:
            try:
                table = _joined(parts)
            except Exception:
                rows = sum(t.num_rows for t in parts)
                logger.exception("Capture: %d rows could not be captured", rows)
                self._done(rows, captured=False)
                continue
            self._write_file(_hour(key[0]), table)

    def _write_file(self, hour: str, table: Any) -> None:
        rows = table.num_rows
        try:
            self._files.write(hour, table)
        except OSError as exc:
            self._done(rows, captured=False)
            if not self._failing:
                self._failing = True
                logger.warning(
                    "Capture: cannot write to %s: %s: %s. The server goes "
                    "on serving; the rows are dropped and counted until "
                    "writing works again (tried at every flush).",
                    self.settings.path,
                    type(exc).__name__,
                    exc,
                )
            return
        except Exception:
            logger.exception("Capture: %d rows could not be captured", rows)
            self._done(rows, captured=False)
            return
        if self._failing:
            self._failing = False
            logger.warning("Capture: writing to %s works again.", self.settings.path)
        self._done(rows, captured=True)

    def _done(self, rows: int, *, captured: bool) -> None:
        """``rows`` are no longer held: written, or lost."""
        with self._wake:
            self._held -= rows
            if captured:
                self.captured_rows += rows
            else:
                self.dropped_rows += rows
            self._wake.notify_all()
        callback = self.on_captured if captured else self.on_dropped
        if callback is not None:
            callback(rows)


@dataclass
class _Scored:
    frame: Any
    predictions: Any
    captured_at: int  # ms since the epoch, UTC
    request_id: str


@dataclass
class _Request:
    """One scored request, checked, waiting to be grouped (the writer makes it).

    Requests with the same :meth:`key` (hour, columns and their types, the
    model's answer's kind) become one table: their frames are concatenated
    once, then each column converted to Arrow once, which costs a fraction of
    converting request by request.
    """

    frame: Any
    answer: Any  # the model's table (a DataFrame) or its values (an array)
    captured_at: int
    request_id: str

    @classmethod
    def of(cls, item: _Scored) -> _Request:
        import numpy as np
        import pandas as pd

        answer = item.predictions
        if isinstance(answer, dict):
            answer = pd.DataFrame(answer)
        elif isinstance(answer, pd.Series):
            answer = answer.to_numpy()
        elif not isinstance(answer, pd.DataFrame):
            answer = np.asarray(answer)
            if answer.ndim > 1:  # one list per row
                as_lists = np.empty(len(answer), dtype=object)
                as_lists[:] = [list(row) for row in answer]
                answer = as_lists
        if len(answer) != len(item.frame):
            raise ValueError(
                f"the model's output has {len(answer)} rows for "
                f"{len(item.frame)} request rows"
            )
        return cls(item.frame, answer, item.captured_at, item.request_id)

    def key(self) -> tuple[Any, ...]:
        answer = self.answer
        return (
            self.captured_at // MS_PER_HOUR,
            tuple(self.frame.columns),
            _kinds(self.frame),
            (tuple(answer.columns), _kinds(answer))
            if hasattr(answer, "columns")
            else answer.dtype,
        )


def _hour(hours: int) -> str:
    """The partition name of an hour since the epoch (UTC)."""
    moment = datetime.fromtimestamp(hours * 3600, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H")


def _joined(tables: list[Any]) -> Any:
    """Tables of the same columns as one: Arrow's types promoted (a column of
    nulls takes the others' type, int32 and int64 give int64); a column whose
    values differ in kind between tables (numbers in one, text in another) is
    kept as text, as it is within one table."""
    import pyarrow as pa

    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    as_text = []
    for name in tables[0].schema.names:
        fields = [pa.schema([t.schema.field(name)]) for t in tables]
        try:
            pa.unify_schemas(fields, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            as_text.append(name)
    cast = []
    for table in tables:
        texts = table
        for name in as_text:
            i = texts.schema.get_field_index(name)
            texts = texts.set_column(i, name, texts.column(i).cast(pa.string()))
        cast.append(texts)
    return pa.concat_tables(cast, promote_options="permissive")


def _kinds(frame: Any) -> tuple[Any, ...]:
    """A frame's column types as files tell them apart: NumPy's as they are;
    pandas' own (text, categories, nullable numbers, zoned times) as objects,
    so that text with and without nulls (``str`` and ``object`` columns) goes
    to one file, the Arrow types coming from the concatenated values."""
    import numpy as np

    text = np.dtype(object)
    return tuple(d if isinstance(d, np.dtype) else text for d in frame.dtypes)


def _table(group: list[_Request], model_name: str, model_version: str) -> Any:
    """One Arrow table of requests with the same :meth:`_Request.key`: the
    request's columns, the model's (those the request does not have, or
    ``prediction`` for an answer that is not a table), then capture's own."""
    import numpy as np
    import pyarrow as pa

    frame = _concatenated([r.frame for r in group])
    counts = [len(r.frame) for r in group]
    fields = {
        str(name): _arrow_column(frame.iloc[:, i])
        for i, name in enumerate(frame.columns)
    }
    answer = _concatenated([r.answer for r in group])
    if hasattr(answer, "columns"):
        for i, name in enumerate(answer.columns):
            if str(name) not in fields:
                fields[str(name)] = _arrow_column(answer.iloc[:, i])
    else:
        fields[PREDICTION] = _arrow_values(answer)
    total = len(frame)
    fields[CAPTURED_AT] = pa.array(
        np.repeat(np.array([r.captured_at for r in group], dtype="int64"), counts),
        pa.timestamp("ms", tz="UTC"),
    )
    fields[MODEL_NAME] = pa.repeat(pa.scalar(model_name, pa.string()), total)
    fields[MODEL_VERSION] = pa.repeat(pa.scalar(model_version, pa.string()), total)
    fields[REQUEST_ID] = pa.array(
        np.repeat(np.array([r.request_id for r in group], dtype=object), counts),
        pa.string(),
    )
    return pa.table(fields)


def _concatenated(parts: list[Any]) -> Any:
    """Frames (or arrays) of one kind, one after the other."""
    if len(parts) == 1:
        return parts[0]
    if hasattr(parts[0], "columns"):
        import pandas as pd

        return pd.concat(parts, ignore_index=True)
    import numpy as np

    return np.concatenate(parts)


def _arrow_column(series: Any) -> Any:
    """A request column as Arrow: text as ``string``, pandas' nullable numbers
    and booleans with their nulls, anything else through its NumPy values."""
    import pandas as pd
    import pyarrow as pa

    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return pa.array(series, from_pandas=True).cast(pa.string())
    if (
        isinstance(dtype, pd.api.extensions.ExtensionDtype)
        and dtype.kind in "iufb"
        and not isinstance(dtype, pd.CategoricalDtype)
    ):
        return pa.array(series, from_pandas=True)
    return _arrow_values(series.to_numpy())


def _arrow_values(values: Any) -> Any:
    """NumPy values as Arrow; values of mixed kinds (text and numbers) as text."""
    import pyarrow as pa

    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        import pandas as pd

        missing = pd.isna(values)
        return pa.array(
            [None if m else str(v) for v, m in zip(values, missing, strict=True)],
            pa.string(),
        )


class _Files:
    """Writes whole files under a path: local (fsync, then rename) or fsspec (mv)."""

    def __init__(self, path: str) -> None:
        self.path = path.rstrip("/")
        self.remote = "://" in path
        self._fs: Any = None

    def write(self, hour: str, table: Any) -> str:
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        data = sink.getvalue().to_pybytes()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{os.getpid()}-{next(_sequence)}{SUFFIX}"
        folder = f"{self.path}/hour={hour}"
        final = f"{folder}/{name}"
        partial = final + PARTIAL
        if self.remote:
            self._write_fsspec(folder, partial, final, data)
        else:
            self._write_local(folder, partial, final, data)
        return final

    def _write_local(self, folder: str, partial: str, final: str, data: bytes) -> None:
        os.makedirs(folder, exist_ok=True)
        try:
            with open(partial, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(partial, final)
        except BaseException:
            _remove_local(partial)
            raise

    def _write_fsspec(self, folder: str, partial: str, final: str, data: bytes) -> None:
        if self._fs is None:
            from fsspec.core import url_to_fs

            self._fs, _ = url_to_fs(self.path)
        fs = self._fs
        fs.makedirs(folder, exist_ok=True)
        try:
            with fs.open(partial, "wb") as stream:
                stream.write(data)
            fs.mv(partial, final)
        except BaseException:
            try:
                if fs.exists(partial):
                    fs.rm(partial)
            except Exception:  # the error that matters is the write's
                logger.debug("Capture: %s could not be removed", partial)
            raise


def _remove_local(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        logger.debug("Capture: %s could not be removed", path)
