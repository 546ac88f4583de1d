"""The model card of a registered model version: one page that says what
made the model and how good it is.

Written once the version is registered (the plugin's last ``after_pipeline_run``
hook), from what its training run logged:

* data lineage: the DVC data versions and the git commit (the
  ``mlops.lineage.*`` tags, :mod:`kedro_mlops.versioning.lineage`);
* the training parameters and the tuning summary (``quality/tuning.json``);
* the ``test.*`` metrics, with the majority-class baseline;
* calibration (``test.brier_score``, ``quality/calibration.json``,
  ``quality/reliability.png``);
* the decision threshold (``quality/threshold.json``);
* permutation importance (``quality/permutation_importance.csv`` and ``.png``);
* the flagged slices (``quality/slices.json``);
* the drift reference (``reference/reference_sample.parquet``): its rows and
  columns.

A section whose names the run has not logged says so and the card goes on.
The card is logged into the training run as ``model_card/model_card.html``
(self-contained: inline CSS, images as ``data:`` URIs, a Content-Security-Policy
that forbids fetching anything) and ``model_card/model_card.md`` (its twin; images
link to the run's own artifacts), and the registered version's description
links to it.

Example (a card made from plain data, without a store):
    >>> card = ModelCard("churn_model v2", [Section("Metrics", ["No metric."])])
    >>> card.html().startswith("<!DOCTYPE html>"), "## Metrics" in card.markdown()
    (True, True)
"""

from __future__ import annotations

import base64
import csv
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_mlops.quality.slices import ARTIFACT as SLICES
from kedro_mlops.versioning.lineage import TAG_PREFIX as LINEAGE_PREFIX
from kedro_mlops.versioning.lineage import Lineage

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)

CARD_FOLDER = "model_card"
HTML_FILE = "model_card.html"
MARKDOWN_FILE = "model_card.md"
#: The first words of the registered version's description: what finds it again.
DESCRIPTION_MARK = "Model card:"

TUNING = "quality/tuning.json"
CALIBRATION = "quality/calibration.json"
RELIABILITY = "quality/reliability.png"
THRESHOLD = "quality/threshold.json"
IMPORTANCE = "quality/permutation_importance.csv"
IMPORTANCE_PLOT = "quality/permutation_importance.png"
REFERENCE = "reference/reference_sample.parquet"
#: The rows of long tables that the card shows (the artifact has them all).
MAX_ROWS = 15

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; max-width: 980px; padding: 24px; color: #1f2430; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e3e6ec; }
p.missing { color: #8a5a00; background: #fff7e6; padding: 6px 10px; border-radius: 4px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e3e6ec; }
th { background: #f4f6f9; font-weight: 600; }
td { font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #e3e6ec; margin: 8px 0; }
code { font-size: 13px; }
"""


@dataclass(frozen=True)
class Missing:
    """A sentence that says what the run has not logged."""

    text: str


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Image:
    """A PNG artifact of the run: embedded in the HTML, linked from the Markdown."""

    artifact: str
    data: bytes
    alt: str


Block = str | Missing | Table | Image


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class ModelCard:
    title: str
    sections: list[Section]
    experiment_id: str = ""
    artifact_uri: str = ""

    def html(self) -> str:
        """The self-contained page."""
        body = [f"<h1>{escape(self.title)}</h1>"]
        for section in self.sections:
            body.append(f"<h2>{escape(section.title)}</h2>")
            body += [_html_block(block) for block in section.blocks]
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f"<title>{escape(self.title)}</title><style>{_STYLE}</style></head>"
            "<body>\n" + "\n".join(body) + "\n</body></html>\n"
        )

    def markdown(self) -> str:
        """The Markdown twin (images link to the run's artifacts, one folder up)."""
        lines = [f"# {self.title}", ""]
        for section in self.sections:
            lines += [f"## {section.title}", ""]
            for block in section.blocks:
                lines += [_markdown_block(block), ""]
        return "\n".join(lines)


def _html_block(block: Block) -> str:
    if isinstance(block, Missing):
        return f'<p class="missing">{escape(block.text)}</p>'
    if isinstance(block, Table):
        head = "".join(f"<th>{escape(h)}</th>" for h in block.headers)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
            for row in block.rows
        )
        return f"<table><tr>{head}</tr>{rows}</table>"
    if isinstance(block, Image):
        data = base64.b64encode(block.data).decode("ascii")
        return f'<img alt="{escape(block.alt)}" src="data:image/png;base64,{data}">'
    return f"<p>{escape(block)}</p>"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_block(block: Block) -> str:
    if isinstance(block, Missing):
        return f"> {block.text}"
    if isinstance(block, Table):
        lines = [
            "| " + " | ".join(_cell(h) for h in block.headers) + " |",
            "|" + "---|" * len(block.headers),
        ]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
        return "\n".join(lines)
    if isinstance(block, Image):
        return f"![{block.alt}](../{block.artifact})"
    return block


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if isinstance(value, bool) else "none"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"
    return str(value)


def _not_logged(path: str, what: str) -> Missing:
    return Missing(f"Not logged: the run has no {path} ({what}).")


class RunFiles:
    """The artifacts of one run, listed once per folder, fetched when asked
    (without MLflow's progress bar: a line per file in a run's output).

    Through the run's artifact repository itself: a ``runs:/`` URI would look
    the run up again in the store for every file.
    """

    def __init__(self, artifact_uri: str, local: Path) -> None:
        from mlflow.store.artifact.artifact_repository_registry import (
            get_artifact_repository,
        )

        self.repository = get_artifact_repository(artifact_uri)
        self.local = local
        self._listed: dict[str, set[str]] = {}

    def has(self, path: str) -> bool:
        folder = path.rpartition("/")[0]
        if folder not in self._listed:
            found = self.repository.list_artifacts(folder)
            self._listed[folder] = {a.path for a in found}
        return path in self._listed[folder]

    def get(self, path: str) -> Path | None:
        """The artifact downloaded under ``local``, or ``None`` if not logged."""
        if not self.has(path):
            return None
        with _quiet_downloads():
            return Path(self.repository.download_artifacts(path, str(self.local)))

    def json(self, path: str) -> Any:
        """A JSON artifact, or ``None`` if not logged."""
        local = self.get(path)
        return None if local is None else _json(local)


def _read(
    files: RunFiles, path: str, what: str, parse: Callable[[Path], list[Block]]
) -> list[Block]:
    """``parse`` the artifact, or say it is not logged, or cannot be read."""
    local = files.get(path)
    if local is None:
        return [_not_logged(path, what)]
    try:
        return parse(local)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return [Missing(f"{path} could not be read ({type(error).__name__}: {error}).")]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the sections


def _model_section(
    run: Any, model_name: str, version: str, summary: str | None
) -> Section:
    info = run.info

    def when(ms: int | None) -> str:
        if not ms:
            return "none"
        return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S UTC"
        )

    rows = [
        ["registered model", f"{model_name} v{version}"],
        ["training run", f"{info.run_id} ({info.run_name or 'no name'})"],
        ["experiment", str(info.experiment_id)],
        ["started", when(info.start_time)],
        ["finished", when(info.end_time)],
    ]
    if summary:
        rows.append(["registry", summary])
    return Section("Model", [Table(["", ""], rows)])


def _lineage_section(tags: Mapping[str, str]) -> Section:
    section = Section("Data lineage")
    if not any(key.startswith(LINEAGE_PREFIX) for key in tags):
        section.blocks.append(
            Missing(
                f"Not logged: the run has no lineage tags ({LINEAGE_PREFIX}*): "
                "it was not tracked by the kedro-mlops hooks."
            )
        )
        return section
    lineage = Lineage.from_tags(dict(tags))
    dirty = {True: "yes", False: "no", None: "unknown"}[lineage.dirty]
    section.blocks.append(
        f"Git commit {lineage.commit or 'none (not a git repository)'} "
        f"(uncommitted changes: {dirty}); Kedro environment "
        f"'{lineage.env}'; pipelines: {', '.join(lineage.pipelines) or 'none'}."
    )
    if not lineage.data:
        section.blocks.append(
            Missing("No DVC-tracked dataset was read or written by the run.")
        )
    else:
        section.blocks.append(
            Table(
                ["dataset", "path", "md5", "rev", "role", "state"],
                [[d.name, d.path, d.md5, d.rev, d.role, d.state] for d in lineage.data],
            )
        )
    return section


def _parameters_section(params: Mapping[str, str]) -> Section:
    shown = {k: v for k, v in params.items() if not k.startswith("tuning.best.")}
    if not shown:
        return Section("Training parameters", [Missing("The run logged no parameter.")])
    return Section(
        "Training parameters",
        [Table(["parameter", "value"], [[k, shown[k]] for k in sorted(shown)])],
    )


def _tuning(path: Path) -> list[Block]:
    tuning = _json(path)
    trials = list(tuning.get("trials", []))
    blocks: list[Block] = [
        f"Search for the best {tuning['metric']} ({tuning['direction']}) over "
        f"{len(trials)} trials: best score {_number(tuning['best_score'])}."
    ]
    best = tuning.get("best_params") or {}
    if best:
        blocks.append(
            Table(
                ["best parameter", "value"],
                [[k, _number(best[k])] for k in sorted(best)],
            )
        )
    scored = [t for t in trials if t.get("score") is not None]
    scored.sort(
        key=lambda t: float(t["score"]),
        reverse=tuning["direction"] != "minimize",
    )
    if scored:
        blocks.append(
            Table(
                ["trial", "score", "std", "state", "parameters"],
                [
                    [
                        str(t["number"]),
                        _number(t["score"]),
                        _number(t.get("score_std")),
                        str(t.get("state", "")),
                        ", ".join(
                            f"{k}={_number(v)}"
                            for k, v in sorted((t.get("params") or {}).items())
                        ),
                    ]
                    for t in scored[:MAX_ROWS]
                ],
            )
        )
    return blocks


def _metrics_section(metrics: Mapping[str, float]) -> Section:
    section = Section("Metrics (test set)")
    test = {k: v for k, v in metrics.items() if k.startswith("test.")}
    if not test:
        section.blocks.append(Missing("Not logged: the run has no test.* metric."))
        return section
    accuracy, baseline = test.get("test.accuracy"), test.get("test.baseline_accuracy")
    if baseline is None:
        section.blocks.append(
            Missing(
                "Not logged: the run has no test.baseline_accuracy; there is no "
                "baseline to compare with."
            )
        )
    elif accuracy is not None:
        section.blocks.append(
            f"Accuracy {accuracy:.4f} against {baseline:.4f} for the majority-class "
            f"baseline ({accuracy - baseline:+.4f})."
        )
    section.blocks.append(
        Table(["metric", "value"], [[k, _number(test[k])] for k in sorted(test)])
    )
    return section


def _calibration(path: Path) -> list[Block]:
    calibration = _json(path)
    method = calibration.get("method") or "none"
    blocks: list[Block] = [
        f"Calibrated: {_number(bool(calibration['calibrated']))} (method: {method})."
    ]
    bins = calibration.get("bins") or []
    if bins:
        blocks.append(
            Table(
                ["mean predicted", "fraction positive", "rows"],
                [
                    [
                        _number(b["mean_predicted"]),
                        _number(b["fraction_positive"]),
                        str(b["rows"]),
                    ]
                    for b in bins
                ],
            )
        )
    return blocks


def _image(files: RunFiles, path: str, alt: str, what: str) -> Block:
    local = files.get(path)
    if local is None:
        return _not_logged(path, what)
    return Image(path, local.read_bytes(), alt)


def _calibration_section(metrics: Mapping[str, float], files: RunFiles) -> Section:
    section = Section("Calibration")
    brier = metrics.get("test.brier_score")
    section.blocks.append(
        f"Brier score {brier:.4f} (lower is better)."
        if brier is not None
        else Missing("Not logged: the run has no test.brier_score metric.")
    )
    section.blocks += _read(files, CALIBRATION, "calibration bins", _calibration)
    section.blocks.append(
        _image(files, RELIABILITY, "reliability diagram", "reliability diagram")
    )
    return section


def _threshold(path: Path) -> list[Block]:
    threshold = _json(path)
    rows = [
        ["threshold", _number(threshold["threshold"])],
        ["source", str(threshold.get("source", ""))],
        ["cost of a false positive", _number(threshold.get("cost_false_positive"))],
        ["cost of a false negative", _number(threshold.get("cost_false_negative"))],
        ["expected cost", _number(threshold.get("expected_cost"))],
    ]
    return [Table(["", ""], rows)]


def _threshold_section(metrics: Mapping[str, float], files: RunFiles) -> Section:
    blocks = _read(files, THRESHOLD, "the decision threshold", _threshold)
    if isinstance(blocks[0], Missing) and "test.threshold" in metrics:
        blocks.append(
            f"The run's test.threshold metric: {metrics['test.threshold']:.4f}."
        )
    return Section("Decision threshold", blocks)


def _importance(path: Path) -> list[Block]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    table = [
        [
            r["feature"],
            _number(float(r["importance_mean"])),
            _number(float(r["importance_std"])),
        ]
        for r in rows[:MAX_ROWS]
    ]
    more = f" (the first {MAX_ROWS} of {len(rows)})" if len(rows) > MAX_ROWS else ""
    return [
        f"Permutation importance on the test set, most important first{more}.",
        Table(["feature", "importance (mean)", "std"], table),
    ]


def _importance_section(files: RunFiles) -> Section:
    section = Section("Feature importance")
    section.blocks += _read(files, IMPORTANCE, "permutation importance", _importance)
    section.blocks.append(
        _image(
            files,
            IMPORTANCE_PLOT,
            "permutation importance",
            "permutation importance plot",
        )
    )
    return section


def _slices(path: Path) -> list[Block]:
    report = _json(path)
    slices = report.get("slices") or []
    flagged = [s for s in slices if s.get("flagged")]
    blocks: list[Block] = [
        f"{report['metric']} per slice against {_number(report['overall'])} "
        f"overall: {len(flagged)} of {len(slices)} slices flagged (worse by more "
        f"than {_number(report.get('margin'))}, at least "
        f"{report.get('min_rows')} rows)."
    ]
    if flagged:
        blocks.append(
            Table(
                ["column", "slice", "rows", report["metric"], "gap"],
                [
                    [
                        str(s["column"]),
                        str(s["slice"]),
                        str(s["rows"]),
                        _number(s["value"]),
                        _number(s["gap"]),
                    ]
                    for s in flagged[:MAX_ROWS]
                ],
            )
        )
    return blocks


def _reference(path: Path) -> list[Block]:
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(path)
    names = list(metadata.schema.names)
    return [
        f"The drift reference: {metadata.num_rows} rows of {len(names)} columns "
        f"({REFERENCE}).",
        Table(["columns"], [[", ".join(names)]]),
    ]


def build_card(
    client: MlflowClient,
    run_id: str,
    model_name: str,
    version: str,
    *,
    summary: str | None = None,
    local: Path | None = None,
) -> ModelCard:
    """The card of ``model_name`` ``version``, from its training run ``run_id``.

    Args:
        client: an MLflow client on the run's store.
        run_id: the training run that logged the model.
        model_name: the registered model's name.
        version: the registered version.
        summary: the registry's line about this version, if any.
        local: a folder to download the artifacts into (a temporary one if not).
    """
    if local is None:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            return build_card(
                client, run_id, model_name, version, summary=summary, local=Path(folder)
            )
    run = client.get_run(run_id)
    files = RunFiles(run.info.artifact_uri, local)
    metrics, params, tags = run.data.metrics, run.data.params, run.data.tags
    return ModelCard(
        f"Model card: {model_name} v{version}",
        [
            _model_section(run, model_name, version, summary),
            _lineage_section(tags),
            _parameters_section(params),
            Section("Tuning", _read(files, TUNING, "hyper-parameter search", _tuning)),
            _metrics_section(metrics),
            _calibration_section(metrics, files),
            _threshold_section(metrics, files),
            _importance_section(files),
            Section("Flagged slices", _read(files, SLICES, "slice metrics", _slices)),
            Section(
                "Drift reference",
                _read(files, REFERENCE, "the drift reference sample", _reference),
            ),
        ],
        experiment_id=str(run.info.experiment_id),
        artifact_uri=str(run.info.artifact_uri),
    )


def card_description(run_id: str, experiment_id: str) -> str:
    """The registered version's description: a link to its card."""
    page = f"{CARD_FOLDER}/{HTML_FILE}"
    return (
        f"{DESCRIPTION_MARK} [{HTML_FILE}](#/experiments/{experiment_id}/runs/"
        f"{run_id}/artifacts/{page}) (and {MARKDOWN_FILE}), artifacts of the "
        f"training run: `runs:/{run_id}/{page}`"
    )


@contextmanager
def _quiet_downloads() -> Iterator[None]:
    """No MLflow progress bar per file fetched (each one would print a line
    in the training run's output); MLflow's own setting, restored after."""
    import os

    name = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    before = os.environ.get(name)
    os.environ[name] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def write_model_card(
    client: MlflowClient,
    run_id: str,
    model_name: str,
    version: str,
    summary: str | None = None,
) -> ModelCard:
    """Make the card, log it into the training run (``model_card/``), and link
    it from the registered version's description (after any text it had)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        card = build_card(
            client, run_id, model_name, version, summary=summary, local=root
        )
        out = root / CARD_FOLDER
        out.mkdir()
        (out / HTML_FILE).write_text(card.html(), encoding="utf-8")
        (out / MARKDOWN_FILE).write_text(card.markdown(), encoding="utf-8")
        RunFiles(card.artifact_uri, root).repository.log_artifacts(
            str(out), CARD_FOLDER
        )
    link = card_description(run_id, card.experiment_id)
    existing = client.get_model_version(model_name, version).description or ""
    if DESCRIPTION_MARK not in existing:
        description = f"{existing.rstrip()}\n\n{link}" if existing.strip() else link
        client.update_model_version(model_name, version, description=description)
    return card
