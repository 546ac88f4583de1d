"""What ``kedro mlops serve`` answers on ``POST /invocations``, and its limits.

:class:`ScoringApp` is an ASGI app in front of MLflow's scoring app (which
keeps ``/ping``, ``/health`` and ``/version``). It answers ``/invocations``
itself, with MLflow's request formats (JSON ``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs``; CSV; Parquet) and MLflow's
parsers, so that:

* a request larger than the limit is refused with 413 before it is read: from
  its ``Content-Length`` header, or, for a body sent in chunks, as soon as the
  bytes read pass the limit. The bodies a process holds at once are bounded
  too (:data:`IN_FLIGHT` limits' worth; a request waits for its turn);
* every refusal is a 4xx whose JSON body is ``{"error_code", "message"}`` with a
  one-line message that names what was wrong: never a stack trace, never the
  request's data echoed back. A failure that is not the request's fault is a
  500 whose traceback goes to the server's log;
* CSV works with a signature whose integer columns are typed ``any`` (MLflow's
  own parser cannot type them), and scores as the same rows in JSON do;
* numeric (``double``) columns are converted here, and text in them is
  reported with the row numbers of the request, as the schema check does;
* a request may only run the model with the runner it was bundled with:
  kedro-mlflow imports and calls whatever the ``runner`` parameter names.

:func:`score` is the request path without HTTP: bytes and content type in,
status and JSON out.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedro_mlops.serving.capture import Capture
    from kedro_mlops.serving.metrics import Metrics

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The request size limit (MB, 10^6 bytes) when nothing sets it.
DEFAULT_MAX_REQUEST_MB = 16.0
#: Sets the limit of the server processes; ``kedro mlops serve`` sets it from
#: ``--max-request-mb`` or ``serving.max_request_mb`` in ``mlops.yml``.
LIMIT_VARIABLE = "KEDRO_MLOPS_SERVE_MAX_REQUEST_MB"
#: Request bodies one server process reads and scores at once, in limits.
IN_FLIGHT = 2
#: The longest message of a refusal, in characters.
MAX_REASON = 1000

JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_CODES = {
    400: "BAD_REQUEST",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_ERROR",
    504: "TIMEOUT",
}


class Refused(Exception):
    """A request the server does not score: its HTTP status and the reason."""

    def __init__(self, status: int, reason: str, error_code: str | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = one_line(reason)
        self.error_code = error_code or _CODES.get(status, "BAD_REQUEST")

    def body(self) -> bytes:
        return json.dumps(
            {"error_code": self.error_code, "message": self.reason}
        ).encode()


def max_request_bytes(environ: MutableMapping[str, str] | None = None) -> int:
    """The limit set by :data:`LIMIT_VARIABLE` (MB), in bytes."""
    environ = os.environ if environ is None else environ
    raw = environ.get(LIMIT_VARIABLE, "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_MAX_REQUEST_MB
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:
        raise ValueError(
            f"{LIMIT_VARIABLE}={raw!r}: the request size limit must be a number "
            "of MB greater than 0, e.g. 16."
        )
    return int(megabytes * 1_000_000)


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """``text`` on one line: a listing ``- item`` becomes ``item; item``.

    Example:
        >>> one_line("Bad data:\\n  - column 'a' is missing\\n  - column 'b' is missing\\nFix it.")
        "Bad data: column 'a' is missing; column 'b' is missing. Fix it."
    """
    pieces: list[str] = []
    previous_item = False
    for raw in str(text).splitlines():
        line = raw.strip()
        if not line:
            continue
        item = line.startswith("- ")
        if pieces:
            if item and previous_item:
                pieces.append("; ")
            elif previous_item and not pieces[-1].endswith("."):
                pieces.append(". ")
            else:
                pieces.append(" ")
        pieces.append(line[2:] if item else line)
        previous_item = item
    reason = "".join(pieces)
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


class Model:
    """The served model, with what each request needs of its signature."""

    def __init__(self, model: Any) -> None:
        from mlflow.types.schema import AnyType, DataType, Schema

        self.model = model
        schema = model.metadata.get_input_schema()
        named = schema is not None and schema.has_input_names()
        specs = list(schema.inputs) if named and schema is not None else []
        self.columns = [spec.name for spec in specs]
        self.required = [spec.name for spec in specs if spec.required]
        numeric = (DataType.double, DataType.float)
        self.numeric = [spec.name for spec in specs if spec.type in numeric]
        # What MLflow's parsers convert: every typed column but the numbers
        # (converted here, with row numbers) and those typed `any`.
        parsed = [
            spec
            for spec in specs
            if not isinstance(spec.type, AnyType) and spec.name not in self.numeric
        ]
        self.parse_schema: Any = Schema(parsed) if parsed else None
        self.csv_types = {
            spec.name: spec.type.to_pandas()
            for spec in parsed
            if isinstance(spec.type, DataType)
        }
        params = model.metadata.get_params_schema()
        runner = next(
            (p for p in (params.params if params else []) if p.name == "runner"), None
        )
        self.runner = runner.default if runner is not None else None


#: Called with the request's rows and the model's output after a request is
#: scored (status 200): the server's metrics and request capture.
Scored = Callable[[Any, Any], None]


def score(
    body: bytes,
    content_type: str | None,
    served: Model,
    scored: Scored | None = None,
) -> tuple[int, bytes]:
    """One request, without HTTP: (status, JSON body).

    Raises nothing for a bad request: it is a 4xx with a one-line reason.
    ``scored(frame, predictions)`` follows a scored request; what it raises is
    logged, and the request is answered all the same.
    """
    from mlflow.pyfunc.scoring_server import predictions_to_json

    try:
        frame, params = _read_table(body, content_type, served)
        predictions = _predict(frame, params, served)
        output = io.StringIO()
        try:
            predictions_to_json(predictions, output)
        except Exception as exc:
            logger.exception("The predictions could not be written as JSON")
            raise Refused(
                500,
                f"The predictions could not be written as JSON "
                f"({type(exc).__name__}); the server log has the details.",
            ) from None
    except Refused as refused:
        return refused.status, refused.body()
    if scored is not None:
        try:
            scored(frame, predictions)
        except Exception:
            logger.exception("Recording a scored request failed (it was answered)")
    return 200, output.getvalue().encode()


def _mime_type(content_type: str | None) -> str:
    if not content_type:
        raise Refused(
            415,
            f"The request has no Content-Type: send {JSON} (MLflow's "
            f"dataframe_split or dataframe_records), {CSV} or {PARQUET}.",
        )
    mime, *parameters = (part.strip() for part in content_type.split(";"))
    mime = mime.lower()
    if mime not in (JSON, CSV, PARQUET):
        raise Refused(
            415,
            f"Content-Type {mime!r} is not scored: send {JSON}, {CSV} or {PARQUET}.",
        )
    for parameter in parameters:
        name, _, value = (
            text.strip().strip('"').lower() for text in parameter.partition("=")
        )
        if name != "charset" or value not in ("utf-8", "utf8"):
            raise Refused(
                415,
                f"Content-Type parameter {parameter!r} is not supported: only "
                "charset=utf-8.",
            )
    return mime


def _read_table(
    body: bytes, content_type: str | None, served: Model
) -> tuple[Any, dict[str, Any] | None]:
    mime = _mime_type(content_type)
    if not body:
        raise Refused(400, "The request body is empty: send the rows to score.")
    from mlflow.exceptions import MlflowException

    params = None
    try:
        if mime == JSON:
            frame, params = _read_json(body, served)
        elif mime == CSV:
            frame = _read_csv(body, served)
        else:
            import pandas as pd

            frame = pd.read_parquet(io.BytesIO(body))
    except Refused:
        raise
    except MlflowException as exc:
        raise Refused(400, exc.message) from None
    except Exception as exc:
        what = {JSON: "JSON", CSV: "CSV", PARQUET: "Parquet"}[mime]
        raise Refused(
            400, f"The request body is not a table in {what}: {_describe(exc)}"
        ) from None
    return _checked_frame(frame, served), params


def _read_json(body: bytes, served: Model) -> tuple[Any, dict[str, Any] | None]:
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    try:
        document = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise Refused(400, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Refused(
            400,
            f"The JSON must be an object with one of the keys {', '.join(FORMATS)}; "
            f"it is a {type(document).__name__}.",
        )
    found = [key for key in FORMATS if key in document]
    if len(found) != 1:
        raise Refused(
            400,
            f"The JSON must have exactly one of the keys {', '.join(FORMATS)} "
            f"(and optionally params); it has {sorted(document) or 'none'}.",
        )
    params = document.get("params")
    if params is not None:
        _check_params(params, served)
    frame = infer_and_parse_data(
        {found[0]: document.pop(found[0])}, served.parse_schema
    )
    return frame, params


def _check_params(params: Any, served: Model) -> None:
    if not isinstance(params, dict):
        raise Refused(400, f"params must be a JSON object; it is {params!r:.80}.")
    runner = params.get("runner", served.runner)
    if runner != served.runner:
        allowed = (
            f"only {served.runner!r}, the runner the model was bundled with"
            if served.runner
            else "none: this model takes no runner"
        )
        raise Refused(400, f"params.runner {runner!r:.80} is refused: {allowed}.")


def _read_csv(body: bytes, served: Model) -> Any:
    import pandas as pd

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, f"The CSV is not UTF-8 text: {exc}") from None
    return pd.read_csv(io.StringIO(text), dtype=served.csv_types or None)


def _checked_frame(data: Any, served: Model) -> Any:
    """The request's table, its numeric columns as floats; or a :class:`Refused`."""
    import pandas as pd

    from kedro_mlops.schema.validate import ROW_NUMBERS, numeric_problem

    if not isinstance(data, pd.DataFrame):
        try:
            data = pd.DataFrame(data)
        except Exception as exc:
            raise Refused(
                400, f"The request is not a table with named columns: {_describe(exc)}"
            ) from None
    repeated = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
    if repeated:
        raise Refused(400, f"The request repeats the columns {repeated}.")
    if len(data) == 0:
        raise Refused(400, "The request has no rows: there is nothing to score.")
    missing = [c for c in served.required if c not in data.columns]
    if missing:
        raise Refused(
            400,
            f"The request is missing inputs {missing}: the model needs the "
            f"columns {served.columns}.",
        )
    converted = {}
    problems = []
    for column in served.numeric:
        if column in data.columns:
            values, problem = numeric_problem(data[column])
            if problem:
                problems.append(problem)
            elif values is not None:
                converted[column] = values
    if problems:
        raise Refused(
            400,
            f"The request does not match the model's inputs: {'; '.join(problems)}. "
            + ROW_NUMBERS,
        )
    return data.assign(**converted) if converted else data


def _predict(frame: Any, params: dict[str, Any] | None, served: Model) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return served.model.predict(frame, params=params)
    except MlflowException as exc:
        status = exc.get_http_status_code()
        if status >= 500:
            logger.error("Scoring failed: %s", exc.message)
        # MLflow's schema check repeats the data and the schema before its reason.
        inner = exc.__context__
        reason = (
            str(inner)
            if inner is not None and exc.message.startswith("Failed to enforce schema")
            else exc.message
        )
        raise Refused(status, reason, exc.error_code) from None
    except Exception as exc:
        logger.exception("Scoring failed")
        raise Refused(
            500,
            f"Scoring failed ({type(exc).__name__}); the server log has the details.",
        ) from None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if text[0].isupper() else f"{type(exc).__name__}: {text}"


class ScoringApp:
    """The ASGI app: ``/invocations`` and ``/metrics`` here, everything else
    MLflow's ``app``.

    ``metrics`` (:class:`~kedro_mlops.serving.metrics.Metrics`) counts the
    requests and answers ``GET /metrics``; ``capture``
    (:class:`~kedro_mlops.serving.capture.Capture`) gets every scored request.
    When the server stops (the lifespan's shutdown), capture writes what
    waits, then ``on_shutdown`` runs.
    """

    def __init__(  # noqa: PLR0913 - the app and its optional parts
        self,
        app: Any,
        model: Any,
        max_request_bytes: int,
        *,
        timeout: float | None = None,
        on_shutdown: Callable[[], None] | None = None,
        metrics: Metrics | None = None,
        capture: Capture | None = None,
    ) -> None:
        self.app = app
        self.served = Model(model)
        self.limit = max_request_bytes
        self.timeout = timeout
        self.on_shutdown = on_shutdown
        self.metrics = metrics
        self.capture = capture
        self._budget = _Budget(IN_FLIGHT * max_request_bytes)
        self._scored = self._recorder() if metrics or capture else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/invocations":
            if scope["method"] == "POST":
                await self._invocations(scope, receive, send)
                return
        elif (
            scope["type"] == "http"
            and scope["path"] == "/metrics"
            and scope["method"] in ("GET", "HEAD")
            and self.metrics is not None
        ):
            await self._metrics(scope, send)
            return
        elif scope["type"] == "lifespan":
            receive = self._lifespan(receive)
        await self.app(scope, receive, send)

    def _lifespan(self, receive: Receive) -> Receive:
        async def receive_and_clean_up() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.stopped()
            return message

        return receive_and_clean_up

    def stopped(self) -> None:
        """The server stops: captured rows written, then ``on_shutdown``."""
        try:
            if self.capture is not None:
                self.capture.close()
            if self.metrics is not None:
                self.metrics.stopped()
        finally:
            if self.on_shutdown is not None:
                self.on_shutdown()

    def _recorder(self) -> Scored:
        metrics, capture = self.metrics, self.capture

        def scored(frame: Any, predictions: Any) -> None:
            if metrics is not None:
                metrics.scored(predictions, len(frame))
            if capture is not None:
                capture.put(frame, predictions)

        return scored

    async def _metrics(self, scope: Scope, send: Send) -> None:
        assert self.metrics is not None
        body, content_type = await asyncio.to_thread(self.metrics.render)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        payload = b"" if scope["method"] == "HEAD" else body
        await send({"type": "http.response.body", "body": payload})

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in scope["headers"]
        }
        content_type = headers.get("content-type")
        started = time.perf_counter()
        try:
            _mime_type(content_type)
            length = self._declared_length(headers.get("content-length"))
            async with self._budget.hold(length if length is not None else self.limit):
                body = await self._read(receive)
                status, payload = await self._score(body, content_type)
        except Refused as refused:
            if refused.status >= 500:
                logger.error("Request failed: %s", refused.reason)
            status, payload = refused.status, refused.body()
        if self.metrics is not None:
            self.metrics.answered(status, time.perf_counter() - started)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", JSON.encode()),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _declared_length(self, header: str | None) -> int | None:
        if header is None:
            return None
        try:
            length = int(header)
        except ValueError:
            raise Refused(
                400, f"Content-Length {header!r:.40} is not a number."
            ) from None
        if length > self.limit:
            raise self._too_large(f"{length / 1e6:.1f} MB")
        return length

    def _too_large(self, size: str) -> Refused:
        return Refused(
            413,
            f"The request is {size}, over the limit of {self.limit / 1e6:g} MB: send "
            "fewer rows per request, or raise the limit (kedro mlops serve "
            "--max-request-mb, or serving.max_request_mb in mlops.yml).",
        )

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(
                    400, "The client disconnected before sending the whole request."
                )
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise self._too_large(f"over {self.limit / 1e6:g} MB (stopped reading)")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _score(self, body: bytes, content_type: str | None) -> tuple[int, bytes]:
        work = asyncio.to_thread(score, body, content_type, self.served, self._scored)
        try:
            return await asyncio.wait_for(work, timeout=self.timeout)
        except asyncio.TimeoutError:
            raise Refused(
                504, f"Scoring took longer than {self.timeout:g} s: send fewer rows."
            ) from None


class _Budget:
    """Bytes of request bodies held at once; a request waits until its own fit
    (one that is alone always fits)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self._changed: asyncio.Condition | None = None

    def hold(self, size: int) -> _Held:
        return _Held(self, size)


class _Held:
    def __init__(self, budget: _Budget, size: int) -> None:
        self.budget = budget
        self.size = size

    async def __aenter__(self) -> None:
        budget = self.budget
        if budget.used + self.size <= budget.total:  # the usual case: no waiting
            budget.used += self.size
            return
        if budget._changed is None:
            budget._changed = asyncio.Condition()
        async with budget._changed:
            await budget._changed.wait_for(
                lambda: budget.used == 0 or budget.used + self.size <= budget.total
            )
            budget.used += self.size

    async def __aexit__(self, *exc: object) -> None:
        budget = self.budget
        budget.used -= self.size
        if budget._changed is not None:
            async with budget._changed:
                budget._changed.notify_all()
