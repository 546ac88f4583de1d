"""Windows of captured traffic: hourly partitions grouped, selected and loaded.

The model server captures its requests in Hive-style hourly partitions,
``<path>/hour=YYYY-MM-DDTHH/<file>.parquet``; a Kedro ``PartitionedDataset``
loads them as ``{partition id: load function}``. :func:`load_windows` groups
the partitions by their ``hour=`` folder into windows of ``window_hours`` hours
(aligned on UTC midnight), keeps the last ``windows`` *complete* windows up to
``end`` (default: now), loads only their files and concatenates each window's
rows. The window still open is left for a later run: a window is read once
its traffic is all there, so the history logged from it never changes.

Files whose columns differ from the newest file's (a column added or removed
since they were written) are aligned on the newest file's columns: a column
they lack is missing (null) in their rows, and counted in the summary; a
column the newest file no longer has is dropped, with one warning naming it.
A window without traffic has no frame; the summary lists it with 0 rows.

Example:
    >>> import pandas as pd
    >>> partitions = {
    ...     "hour=2024-05-01T10/a": lambda: pd.DataFrame({"x": [1.0, 2.0]}),
    ...     "hour=2024-05-01T11/b": lambda: pd.DataFrame({"x": [3.0]}),
    ... }
    >>> frames, summary = load_windows(partitions, windows=2, end="2024-05-01T12:20")
    >>> {key: len(frame) for key, frame in frames.items()}
    {'2024-05-01T10': 2, '2024-05-01T11': 1}
    >>> [(w["window"], w["end"]) for w in summary["windows"]]
    [('2024-05-01T10', '2024-05-01T11:00:00+00:00'), ('2024-05-01T11', '2024-05-01T12:00:00+00:00')]
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

#: Where the starter's model server writes its captured requests.
DEFAULT_CAPTURE_PATH = "data/09_monitoring/captured"
#: The columns the capture adds to each request's columns and predictions.
CAPTURE_COLUMNS = ("_captured_at", "_model_name", "_model_version", "_request_id")
#: A window's key: its start, in UTC, as the ``hour=`` folders write it.
KEY_FORMAT = "%Y-%m-%dT%H"

UTC = timezone.utc
_HOUR = re.compile(r"(?:^|/)hour=(\d{4}-\d{2}-\d{2}T\d{2})(?=/|$)")


class NoCapturedTrafficError(ValueError):
    """There is no captured traffic to monitor (no files, or none in the windows)."""


@dataclass(frozen=True, order=True)
class Window:
    """``hours`` hours of traffic from ``start`` (UTC).

    Example:
        >>> window = Window.of(datetime(2024, 5, 1, 13, tzinfo=UTC), hours=6)
        >>> window.key, window.step, window.end.hour
        ('2024-05-01T12', 1714564800, 18)
    """

    start: datetime
    hours: int = 1

    @classmethod
    def of(cls, moment: datetime, hours: int = 1) -> Window:
        """The window of ``hours`` hours that holds ``moment``."""
        day = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return cls(day.replace(hour=day.hour - day.hour % hours), hours)

    @classmethod
    def from_key(cls, key: str, hours: int = 1) -> Window:
        """The window whose key is ``key`` (``YYYY-MM-DDTHH``)."""
        return cls(datetime.strptime(key, KEY_FORMAT).replace(tzinfo=UTC), hours)

    @property
    def key(self) -> str:
        return self.start.strftime(KEY_FORMAT)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)

    @property
    def step(self) -> int:
        """The start in Unix seconds: the window's step in MLflow."""
        return int(self.start.timestamp())


def last_windows(end: datetime, hours: int, count: int) -> list[Window]:
    """The ``count`` complete windows that end at or before ``end``, oldest first.

    Example:
        >>> [w.key for w in last_windows(datetime(2024, 5, 1, 12, 30, tzinfo=UTC), 1, 2)]
        ['2024-05-01T10', '2024-05-01T11']
    """
    open_window = Window.of(end, hours)
    last = open_window.start if end < open_window.end else open_window.end
    step = timedelta(hours=hours)
    return [Window(last - step * i, hours) for i in range(count, 0, -1)]


def partition_hour(partition_id: str) -> datetime | None:
    """The hour of a partition id from its (last) ``hour=`` folder, or None.

    Example:
        >>> partition_hour("hour=2024-05-01T13/20240501T131500-7-1")
        datetime.datetime(2024, 5, 1, 13, 0, tzinfo=datetime.timezone.utc)
        >>> partition_hour("2024-05-01/x") is None
        True
    """
    found = _HOUR.findall(partition_id)
    if not found:
        return None
    try:
        return datetime.strptime(found[-1], KEY_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # hour=2024-13-45T99
        return None


def _as_utc(end: datetime | str | None) -> datetime:
    if end is None:
        return datetime.now(UTC)
    moment = end if isinstance(end, datetime) else datetime.fromisoformat(end)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def no_capture_message(path: str | None) -> str:
    """What to do when there is no captured traffic at ``path``."""
    where = path or DEFAULT_CAPTURE_PATH
    return (
        f"No captured traffic in {where}: the model server writes its requests "
        "there when serving.capture.enabled is true in conf/base/mlops.yml. "
        "Enable it, serve the model (`kedro mlops serve`) and let it answer "
        "requests, then run the monitoring again."
    )


def _placed(partitions: Mapping[str, Any], path: str | None) -> dict[str, datetime]:
    """The hour of every partition that has one; the others are left out."""
    usable: dict[str, datetime] = {}
    unplaced = []
    for partition_id in partitions:
        if partition_id.endswith(".partial"):
            continue
        hour = partition_hour(partition_id)
        if hour is None:
            unplaced.append(partition_id)
        else:
            usable[partition_id] = hour
    if unplaced:
        logger.warning(
            "Monitoring: %d captured file(s) are not in an hour=YYYY-MM-DDTHH folder "
            "and are left out, e.g. %s.",
            len(unplaced),
            unplaced[0],
        )
    if not usable:
        raise NoCapturedTrafficError(no_capture_message(path))
    return usable


def _grouped(
    usable: Mapping[str, datetime], selected: list[Window], path: str | None
) -> dict[str, list[str]]:
    """The partition ids of each selected window (by window key)."""
    first, last = selected[0].start, selected[-1].end
    hours = selected[0].hours
    by_window: dict[str, list[str]] = {w.key: [] for w in selected}
    later = 0
    for partition_id, hour in sorted(usable.items()):
        if first <= hour < last:
            by_window[Window.of(hour, hours).key].append(partition_id)
        elif hour >= last:
            later += 1
    if later:
        logger.info(
            "Monitoring: %d captured file(s) from %s UTC on are in a window still "
            "open; a later run reads them.",
            later,
            last.strftime("%Y-%m-%d %H:%M"),
        )
    if not any(by_window.values()):
        newest = max(usable.values()).strftime("%Y-%m-%d %H:00")
        raise NoCapturedTrafficError(
            f"No captured traffic in the {len(selected)} complete window(s) of "
            f"{hours} h from {first:%Y-%m-%d %H:00} to {last:%Y-%m-%d %H:00} "
            f"UTC in {path or 'the captured requests'} (the newest captured hour is "
            f"{newest} UTC). Raise monitoring.windows in mlops.yml to look further "
            "back, or run again once the current window has closed."
        )
    return by_window


def load_windows(
    partitions: Mapping[str, Callable[[], pd.DataFrame]],
    window_hours: int = 1,
    windows: int = 24,
    end: datetime | str | None = None,
    path: str | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The captured rows of the last ``windows`` complete windows, one frame each.

    Args:
        partitions: a ``PartitionedDataset`` load: partition id -> load function.
            Ids ending ``.partial`` (files still being written) and ids without
            an ``hour=`` folder are left out.
        window_hours: hours per window (windows start at multiples of it from
            UTC midnight).
        windows: how many complete windows to keep.
        end: the end of the last window (its window's start if it falls inside
            one); a datetime (naive means UTC) or an ISO string. Default: now.
        path: where the partitions are, for the messages.

    Returns:
        ``{window key: frame}`` for the windows with traffic, oldest first, and
        a summary: per window its key, start, end, rows and files; the columns
        missing from older files (with their rows) and the dropped ones.

    Raises:
        NoCapturedTrafficError: no captured file at all, or none in the windows.
    """
    selected = last_windows(_as_utc(end), window_hours, windows)
    by_window = _grouped(_placed(partitions, path), selected, path)
    loaded = {
        key: [(pid, partitions[pid]()) for pid in ids] for key, ids in by_window.items()
    }
    files = [(pid, frame) for parts in loaded.values() for pid, frame in parts]
    columns = list(files[-1][1].columns)  # the newest file's: today's schema
    missing: dict[str, int] = {}
    dropped: dict[str, int] = {}
    frames: dict[str, pd.DataFrame] = {}
    summary_windows = []
    for window in selected:
        parts = []
        for _, frame in loaded[window.key]:
            for column in frame.columns.difference(columns):
                dropped[column] = dropped.get(column, 0) + len(frame)
            for column in pd.Index(columns).difference(frame.columns):
                missing[column] = missing.get(column, 0) + len(frame)
            same = list(frame.columns) == columns
            parts.append(frame if same else frame.reindex(columns=columns))
        rows = sum(len(part) for part in parts)
        if rows:
            frames[window.key] = pd.concat(parts, ignore_index=True)
        else:
            logger.info("Monitoring: no captured traffic in window %s.", window.key)
        summary_windows.append(
            {
                "window": window.key,
                "start": window.start.isoformat(),
                "end": window.end.isoformat(),
                "step": window.step,
                "rows": rows,
                "files": len(parts),
            }
        )
    if missing:
        logger.warning(
            "Monitoring: older captured files lack column(s) of the newest ones; "
            "their rows have no value there: %s.",
            ", ".join(f"{c} ({n:,} rows)" for c, n in sorted(missing.items())),
        )
    if dropped:
        logger.warning(
            "Monitoring: column(s) of older captured files that the newest ones no "
            "longer have are left out: %s.",
            ", ".join(sorted(dropped)),
        )
    summary = {
        "window_hours": window_hours,
        "windows": summary_windows,
        "columns": columns,
        "missing_columns": dict(sorted(missing.items())),
        "dropped_columns": dict(sorted(dropped.items())),
    }
    return frames, summary
