"""Training runs that log the model-quality names (tuning, calibration,
threshold, importance, slices, the drift reference) into a real MLflow store."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from tests.mlflow_models import log_constant_model


def png(width: int = 4, height: int = 3) -> bytes:
    """A real PNG image (grey pixels), made without a plotting library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def slices_report(values: dict[tuple[str, str], float], overall: float = 0.80):
    """quality/slices.json: a recall per slice, flagged below overall - 0.05."""
    return {
        "metric": "recall",
        "overall": overall,
        "margin": 0.05,
        "min_rows": 30,
        "slices": [
            {
                "column": column,
                "slice": value_name,
                "rows": 120,
                "value": value,
                "gap": overall - value,
                "flagged": overall - value > 0.05,
            }
            for (column, value_name), value in values.items()
        ],
    }


TUNING = {
    "metric": "roc_auc",
    "direction": "maximize",
    "best_params": {"C": 0.5, "max_depth": 4},
    "best_score": 0.8312,
    "trials": [
        {"number": 0, "params": {"C": 1.0, "max_depth": 2}, "score": 0.8011,
         "score_std": 0.01, "state": "COMPLETE"},
        {"number": 1, "params": {"C": 0.5, "max_depth": 4}, "score": 0.8312,
         "score_std": 0.012, "state": "COMPLETE"},
        {"number": 2, "params": {"C": 9.0, "max_depth": 8}, "score": None,
         "score_std": None, "state": "PRUNED"},
    ],
}  # fmt: skip
CALIBRATION = {
    "brier_score": 0.1432,
    "bins": [
        {"mean_predicted": 0.1, "fraction_positive": 0.12, "rows": 400},
        {"mean_predicted": 0.7, "fraction_positive": 0.66, "rows": 100},
    ],
    "calibrated": True,
    "method": "isotonic",
}
THRESHOLD = {
    "threshold": 0.37,
    "cost_false_positive": 1.0,
    "cost_false_negative": 5.0,
    "expected_cost": 0.4125,
    "source": "costs",
}
IMPORTANCE = (
    "feature,importance_mean,importance_std\n"
    "contract,0.1234,0.0100\n"
    "tenure_months,0.0567,0.0050\n"
    "monthly_charges,0.0011,0.0009\n"
)


def log_quality(
    folder: Path,
    slices: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
) -> None:
    """Log every name of the model-quality contract into the active run
    (``metrics`` replace its values)."""
    import mlflow
    import pandas as pd

    from kedro_mlops.versioning.lineage import DataVersion, Lineage

    lineage = Lineage(
        commit="4f2a9c1e", dirty=False, env="local", pipelines=["training"],
        data=[DataVersion("raw_customers", "data/01_raw/customers.csv",
                          "0cc175b9c0f1b6a831c399e269772661", 460261)],
    )  # fmt: skip
    mlflow.set_tags(lineage.tags())
    mlflow.log_params({"train.C": "0.5", "tuning.best.C": "0.5"})
    mlflow.log_metrics(
        {
            "test.accuracy": 0.81, "test.baseline_accuracy": 0.73,
            "test.brier_score": 0.1432, "test.threshold": 0.37,
            "tuning.best_score": 0.8312, "tuning.trials": 3.0,
            "slices.flagged": 1.0,
        } | (metrics or {})
    )  # fmt: skip
    quality = folder / "quality"
    quality.mkdir(parents=True, exist_ok=True)
    files = {
        "tuning.json": json.dumps(TUNING),
        "calibration.json": json.dumps(CALIBRATION),
        "threshold.json": json.dumps(THRESHOLD),
        "permutation_importance.csv": IMPORTANCE,
        "slices.json": json.dumps(
            slices or slices_report({("contract", "month-to-month"): 0.61})
        ),
    }
    for name, text in files.items():
        (quality / name).write_text(text)
    (quality / "reliability.png").write_bytes(png(4, 3))
    (quality / "permutation_importance.png").write_bytes(png(5, 2))
    mlflow.log_artifacts(str(quality), "quality")
    reference = folder / "reference_sample.parquet"
    pd.DataFrame({"tenure_months": range(25), "contract": ["monthly"] * 25}).to_parquet(
        reference
    )
    mlflow.log_artifact(str(reference), "reference")


def training_run(
    metrics: dict[str, float],
    folder: Path | None = None,
    slices: dict[str, Any] | None = None,
) -> str:
    """A finished run with a logged model, ``metrics``, and with ``folder``
    the whole model-quality contract (``slices``: its quality/slices.json)."""
    import mlflow

    with mlflow.start_run() as run:
        if folder is not None:
            log_quality(folder, slices, metrics)
        else:
            mlflow.log_metrics(metrics)
        log_constant_model()
    return run.info.run_id
