"""Self-contained HTML rendering of a drift report.

Kept apart from :mod:`kedro_mlops.drift.report`: the report is data, this
module only renders it. One file with inline CSS and inline SVG: no script, no
font, no image and no stylesheet is fetched from anywhere, and a
Content-Security-Policy forbids the browser from trying. The page has a
verdict, a summary table (most severe first, drifted columns marked) and, per
column, the reference and current distributions side by side. Given a trend
(the same check over earlier windows of time, :class:`TrendWindow`), it also
has a "Trend" section: the drift share per window as a line chart, and the
most severe columns' severity per window as small line charts.

Example:
    >>> from kedro_mlops.drift.report import DriftReport
    >>> page = render_html(DriftReport(dataset_drift=False, drift_share=0.0,
    ...                                share_threshold=0.5, columns=[],
    ...                                rows_reference=10, rows_current=10))
    >>> "<table" in page and "http://" not in page and "https://" not in page
    True
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from .report import ColumnDrift, Distribution, DriftReport

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_REFERENCE_COLOUR = "#5b7fa6"
_CURRENT_COLOUR = "#e08a2c"

_STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 24px; color: #1f2430; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 0 0 6px; }
.verdict { padding: 12px 16px; border-radius: 6px; margin: 12px 0; font-weight: 600; }
.verdict.drift { background: #fde8e8; border: 1px solid #e3a0a0; color: #8a1c1c; }
.verdict.calm { background: #e7f5ea; border: 1px solid #9ccfa6; color: #1d5e2b; }
.muted { color: #5d6475; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e3e6ec; }
th { background: #f4f6f9; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.drifted td:first-child { border-left: 4px solid #c62828; }
tr.drifted { background: #fff5f5; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; }
.badge.drift { background: #c62828; color: #fff; }
.badge.ok { background: #e3e6ec; color: #374151; }
section.column { border: 1px solid #e3e6ec; border-radius: 6px; padding: 12px 16px;
                 margin: 12px 0; }
section.column.drifted { border-color: #e3a0a0; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px;
               vertical-align: -1px; border-radius: 2px; }
dl.stats { display: grid; grid-template-columns: max-content auto; gap: 2px 12px;
           margin: 8px 0; font-size: 13px; }
dl.stats dt { color: #5d6475; }
dl.stats dd { margin: 0; font-variant-numeric: tabular-nums; }
.bars td { padding: 2px 6px; font-size: 12px; }
.bar { height: 8px; border-radius: 2px; margin: 1px 0; }
svg text { font: 11px system-ui, sans-serif; fill: #5d6475; }
td.spark { width: 240px; }
"""
_TREND_COLOUR = "#3b5b85"
_DRIFT_COLOUR = "#c62828"


@dataclass(frozen=True)
class TrendWindow:
    """One window of time in a report's trend: its label, its rows and its
    report (None when it was not compared: no traffic, or too few rows).

    Example:
        >>> TrendWindow("2024-05-01T10", 0, None).report is None
        True
    """

    label: str
    rows: int
    report: DriftReport | None


def render_html(
    report: DriftReport,
    title: str = "Data drift report",
    trend: Sequence[TrendWindow] = (),
    trend_columns: int = 5,
) -> str:
    """The report as one self-contained HTML page.

    Args:
        report: the drift report.
        title: the page title and heading.
        trend: earlier windows and this one, oldest first: with two or more,
            the page has a "Trend" section.
        trend_columns: how many columns the trend shows (the report's most
            severe first).

    Returns:
        The page: inline CSS and SVG, no script, nothing fetched.

    Example:
        >>> from kedro_mlops.drift.report import DriftReport
        >>> page = render_html(DriftReport(dataset_drift=True, drift_share=1.0,
        ...                                share_threshold=0.5, columns=[],
        ...                                rows_reference=1, rows_current=1))
        >>> page.startswith("<!DOCTYPE html>"), page.count("<h1>")
        (True, 1)
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _verdict(report),
        _summary_table(report),
    ]
    if len(trend) >= 2:
        parts.append(_trend_section(report, trend, trend_columns))
    if report.prediction is not None:
        parts += ["<h2>Prediction</h2>", _table([report.prediction], "prediction")]
    if report.skipped or report.new_columns:
        parts.append(_skipped(report))
    parts.append("<h2>Distributions</h2>")
    parts.append(
        f'<p class="legend"><span style="background:{_REFERENCE_COLOUR}"></span>'
        f'reference<span style="background:{_CURRENT_COLOUR}"></span>current</p>'
    )
    columns = [*([report.prediction] if report.prediction else []), *report.columns]
    parts += [_column_section(column) for column in columns]
    parts.append("</body></html>")
    return "\n".join(parts)


def save_html(
    report: DriftReport, path: str | Path, title: str = "Data drift report"
) -> Path:
    """Write :func:`render_html` of the report to ``path`` (UTF-8).

    Args:
        report: the drift report.
        path: the file to write (replaced if it exists).
        title: the page title and heading.

    Returns:
        ``path``, as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> from kedro_mlops.drift.report import DriftReport
        >>> report = DriftReport(dataset_drift=False, drift_share=0.0,
        ...                      share_threshold=0.5, columns=[],
        ...                      rows_reference=1, rows_current=1)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     save_html(report, Path(folder) / "drift.html").name
        'drift.html'
    """
    target = Path(path)
    target.write_text(render_html(report, title=title), encoding="utf-8")
    return target


def _verdict(report: DriftReport) -> str:
    drifted, total = len(report.drifted_columns), len(report.columns)
    headline = "Dataset drift detected" if report.dataset_drift else "No dataset drift"
    text = (
        f"{headline}: {drifted} of {total} feature columns drifted "
        f"({report.drift_share:.0%}; the dataset drifts at {report.share_threshold:.0%})."
    )
    if report.prediction is not None:
        state = "drifted" if report.prediction.drifted else "did not drift"
        text += f" Prediction column '{report.prediction.column}' {state}."
    css = "drift" if report.drift_detected else "calm"
    rows = (
        f'<p class="muted">{report.rows_reference:,} reference rows, '
        f"{report.rows_current:,} current rows. Columns are sorted by severity "
        "(how far past its threshold the score is).</p>"
    )
    return f'<div class="verdict {css}" id="verdict">{escape(text)}</div>{rows}'


def _summary_table(report: DriftReport) -> str:
    return "<h2>Summary</h2>" + _table(report.columns, "summary")


def _table(columns: list[ColumnDrift], table_id: str) -> str:
    head = (
        "<tr><th>Column</th><th>Verdict</th><th>Kind</th><th>Test</th>"
        "<th>Score</th><th>Threshold</th><th>Missing (ref → cur)</th>"
        "<th>Not in reference</th></tr>"
    )
    rows = []
    for column in columns:
        badge = (
            '<span class="badge drift">DRIFT</span>'
            if column.drifted
            else '<span class="badge ok">ok</span>'
        )
        test = column.test or column.status.replace("_", " ")
        if column.test and not column.automatic:
            test += " (configured)"
        rows.append(
            f'<tr class="{"drifted" if column.drifted else "stable"}" '
            f'data-column="{escape(column.column)}">'
            f'<td><a href="#{_anchor(column)}">{escape(column.column)}</a></td>'
            f"<td>{badge}</td><td>{column.kind}</td><td>{escape(test)}</td>"
            f'<td class="num">{_number(column.score)}</td>'
            f'<td class="num">{_number(column.threshold)}</td>'
            f'<td class="num">{column.missing_share_reference:.1%} → '
            f"{column.missing_share_current:.1%}</td>"
            f'<td class="num">{column.unseen_count:,}</td></tr>'
        )
    return f'<table id="{table_id}"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _skipped(report: DriftReport) -> str:
    items = [
        f"<li><b>{escape(name)}</b>: {escape(reason)}</li>"
        for name, reason in report.skipped.items()
    ]
    items += [
        f"<li><b>{escape(name)}</b>: not in the reference (new column)</li>"
        for name in report.new_columns
    ]
    return f"<h2>Not compared</h2><ul>{''.join(items)}</ul>"


def _anchor(column: ColumnDrift) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in column.column)
    return f"{column.role}-{safe}-{zlib.crc32(column.column.encode()):08x}"


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if math.isinf(value):
        return "∞"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4g}"


def _column_section(column: ColumnDrift) -> str:
    css = "column drifted" if column.drifted else "column"
    badge = (
        '<span class="badge drift">DRIFT</span>'
        if column.drifted
        else '<span class="badge ok">ok</span>'
    )
    stats = column.statistics
    entries = [
        (
            "decided by",
            f"{column.test or column.status} (score {_number(column.score)}, threshold {_number(column.threshold)})",
        ),
        (
            "values compared",
            f"{column.n_reference:,} reference, {column.n_current:,} current",
        ),
        (
            "KS statistic / p-value",
            f"{_number(stats.ks_statistic)} / {_number(stats.ks_p_value)}",
        ),
        ("Wasserstein (ref. std)", _number(stats.wasserstein)),
        (
            "chi-square / p-value",
            f"{_number(stats.chi2_statistic)} / {_number(stats.chi2_p_value)}",
        ),
        ("Jensen-Shannon", _number(stats.jensenshannon)),
        ("PSI", _number(stats.psi)),
    ]
    if column.infinite_reference or column.infinite_current:
        entries.append(
            (
                "infinite values",
                f"{column.infinite_reference:,} → {column.infinite_current:,}",
            )
        )
    if column.unseen_count:
        examples = ", ".join(
            f"{escape(label)} ({count:,})"
            for label, count in column.unseen_examples.items()
        )
        entries.append(("not in reference", f"{column.unseen_count:,}: {examples}"))
    if column.message:
        entries.append(("note", column.message))
    listing = "".join(
        f"<dt>{escape(key)}</dt><dd>{escape(value) if key != 'not in reference' else value}</dd>"
        for key, value in entries
        if "–" not in value or key == "decided by"
    )
    chart = ""
    if column.distribution is not None:
        chart = (
            _histogram_svg(column.distribution)
            if column.distribution.kind == "histogram"
            else _category_bars(column.distribution)
        )
    return (
        f'<section class="{css}" id="{_anchor(column)}">'
        f"<h3>{escape(column.column)} {badge}</h3>"
        f'<dl class="stats">{listing}</dl>{chart}</section>'
    )


def _histogram_svg(distribution: Distribution) -> str:
    width, height, bottom = 720, 170, 20
    bins = len(distribution.reference)
    peak = max(*distribution.reference, *distribution.current, 1e-12)
    slot = width / bins
    bar = slot * 0.42
    shapes = []
    for i, (ref, cur) in enumerate(
        zip(distribution.reference, distribution.current, strict=True)
    ):
        x = i * slot
        for offset, share, colour in (
            (0.06, ref, _REFERENCE_COLOUR),
            (0.5, cur, _CURRENT_COLOUR),
        ):
            tall = (height - bottom - 4) * share / peak
            shapes.append(
                f'<rect x="{x + slot * offset:.1f}" y="{height - bottom - tall:.1f}" '
                f'width="{bar:.1f}" height="{tall:.1f}" fill="{colour}"/>'
            )
    labels = distribution.labels
    ticks = [(0, labels[0], "start"), (width / 2, labels[len(labels) // 2], "middle")]
    ticks.append((width, labels[-1], "end"))
    for x, label, anchor in ticks:
        shapes.append(
            f'<text x="{x:.1f}" y="{height - 5}" text-anchor="{anchor}">{escape(label)}</text>'
        )
    return (
        f'<svg role="img" aria-label="reference and current histograms" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px">'
        f'<line x1="0" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        f'stroke="#c5cad3"/>{"".join(shapes)}</svg>'
    )


def _category_bars(distribution: Distribution) -> str:
    peak = max(*distribution.reference, *distribution.current, 1e-12)
    rows = []
    for label, ref, cur in zip(
        distribution.labels, distribution.reference, distribution.current, strict=True
    ):
        rows.append(
            f"<tr><td>{escape(label)}</td>"
            f'<td class="num">{ref:.1%}</td><td class="num">{cur:.1%}</td>'
            f'<td style="width:55%"><div class="bar" style="width:{100 * ref / peak:.1f}%;'
            f'background:{_REFERENCE_COLOUR}"></div><div class="bar" '
            f'style="width:{100 * cur / peak:.1f}%;background:{_CURRENT_COLOUR}"></div></td></tr>'
        )
    return (
        '<table class="bars"><thead><tr><th>category</th><th>reference</th>'
        f"<th>current</th><th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _trend_section(report: DriftReport, trend: Sequence[TrendWindow], top: int) -> str:
    compared = [w for w in trend if w.report is not None]
    intro = (
        f'<p class="muted">{len(trend)} windows from {escape(trend[0].label)} to '
        f"{escape(trend[-1].label)}; {len(compared)} compared (the others had no "
        "traffic or too few rows: gaps in the lines). Red points drifted.</p>"
    )
    shares = [None if w.report is None else w.report.drift_share for w in trend]
    drifted = [bool(w.report and w.report.dataset_drift) for w in trend]
    chart = _line_svg(
        shares,
        drifted,
        labels=[w.label for w in trend],
        threshold=report.share_threshold,
        width=720,
        height=160,
        ceiling=1.0,
    )
    rows = []
    for column in [
        *report.columns[:top],
        *([report.prediction] if report.prediction else []),
    ]:
        verdicts = [_column_in(w.report, column.column) for w in trend]
        severities = [None if v is None else v.severity for v in verdicts]
        flags = [bool(v and v.drifted) for v in verdicts]
        times = sum(flags)
        rows.append(
            f'<tr data-column="{escape(column.column)}"><td>{escape(column.column)}</td>'
            f"<td>{escape(column.test or column.status.replace('_', ' '))}</td>"
            f'<td class="spark">{_line_svg(severities, flags, threshold=1.0)}</td>'
            f'<td class="num">{times} of {sum(v is not None for v in verdicts)}</td>'
            f'<td class="num">{_number(column.score)}</td></tr>'
        )
    table = (
        '<table id="trend-columns"><thead><tr><th>Column</th><th>Test</th>'
        "<th>Severity per window (dashed: threshold)</th><th>Drifted in</th>"
        f"<th>Score now</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    windows = "".join(
        f'<tr><td>{escape(w.label)}</td><td class="num">{w.rows:,}</td>'
        + (
            '<td class="num">–</td><td class="muted">not compared</td>'
            if w.report is None
            else f'<td class="num">{w.report.drift_share:.0%}</td>'
            f"<td>{escape(', '.join(w.report.drifted_columns)) or '–'}</td>"
        )
        + "</tr>"
        for w in reversed(trend)
    )
    listing = (
        '<table id="trend-windows"><thead><tr><th>Window</th><th>Rows</th>'
        "<th>Drift share</th><th>Drifted columns</th></tr></thead>"
        f"<tbody>{windows}</tbody></table>"
    )
    return (
        '<section id="trend"><h2>Trend</h2>'
        f"{intro}<h3>Share of drifted columns</h3>{chart}"
        f"<h3>Most severe columns</h3>{table}<h3>Windows, newest first</h3>"
        f"{listing}</section>"
    )


def _column_in(report: DriftReport | None, name: str) -> ColumnDrift | None:
    if report is None:
        return None
    try:
        return report.column(name)
    except KeyError:
        return None


def _line_svg(
    values: Sequence[float | None],
    flags: Sequence[bool],
    *,
    threshold: float,
    labels: Sequence[str] = (),
    width: int = 220,
    height: int = 36,
    ceiling: float | None = None,
) -> str:
    """A line over the windows (a gap where a value is None), a dashed
    threshold, and red points where ``flags`` is set."""
    bottom = 16 if labels else 3
    known = [v for v in values if v is not None and math.isfinite(v)]
    top = ceiling if ceiling is not None else max([threshold * 1.25, *known])
    pad = 4
    slot = (width - 2 * pad) / max(len(values) - 1, 1)

    def y(value: float) -> float:
        share = min(value, top) / top if top > 0 else 0.0
        return height - bottom - share * (height - bottom - 4)

    shapes = [
        f'<line x1="0" y1="{y(threshold):.1f}" x2="{width}" y2="{y(threshold):.1f}" '
        'stroke="#9aa1ad" stroke-dasharray="4 3"/>'
    ]
    segment: list[str] = []
    for i, value in enumerate([*values, None]):
        if value is None or not math.isfinite(value):
            if len(segment) > 1:
                shapes.append(
                    f'<polyline points="{" ".join(segment)}" fill="none" '
                    f'stroke="{_TREND_COLOUR}" stroke-width="1.5"/>'
                )
            segment = []
            continue
        segment.append(f"{pad + i * slot:.1f},{y(value):.1f}")
    for i, (value, flag) in enumerate(zip(values, flags, strict=True)):
        if value is not None and math.isfinite(value):
            colour = _DRIFT_COLOUR if flag else _TREND_COLOUR
            label = f"{labels[i]}: " if labels else ""
            shapes.append(
                f'<circle cx="{pad + i * slot:.1f}" cy="{y(value):.1f}" r="2.5" '
                f'fill="{colour}"><title>{escape(label)}{_number(value)}</title></circle>'
            )
    if labels:
        shapes.append(
            f'<text x="{width}" y="{y(threshold) - 4:.1f}" text-anchor="end">'
            f"threshold {_number(threshold)}</text>"
            f'<text x="0" y="{y(top) + 8:.1f}">{_number(top)}</text>'
        )
        for x, label, anchor in ((0, labels[0], "start"), (width, labels[-1], "end")):
            shapes.append(
                f'<text x="{x}" y="{height - 3}" text-anchor="{anchor}">{escape(label)}</text>'
            )
    return (
        f'<svg role="img" aria-label="trend over the windows" viewBox="0 0 {width} '
        f'{height}" width="100%" style="max-width:{width}px">{"".join(shapes)}</svg>'
    )
