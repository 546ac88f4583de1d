"""The estimated performance of the starter's model against the realized one.

In one process, without a project or a wheel: the starter's model is trained
by the template's own nodes on the shipped ``customers.csv``
(:mod:`harness.starter_model`), the calibrator is fitted on its test set's
scores and labels, and both shipped batches are scored. For each batch the
metrics estimated from the scores alone
(:func:`kedro_mlops.monitoring.performance.estimate_performance`) are printed
beside those measured with its shipped labels (``realized_performance``), and
their difference.

Then how far the estimate's error comes from the reference: the same model
scores 100,000 fresh customers drawn like the training table
(``scripts/make_sample_data.py``, another seed), whose realized ROC AUC is the
model's own, free of a 2,000-row batch's sampling error; it is printed beside
the estimate from the test-set calibrator, and from one fitted on half of the
fresh rows (estimating the other half).

Last, the time ``estimate_performance`` takes on 1,000,000 scores (the best
of 5), with the test set's calibrator and with an isotonic one (fitted on
the test set's scores squared, which are too low).

Usage: python benchmarks/performance_estimate.py
"""

from __future__ import annotations

import runpy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.starter_model import RAW, REPO, train_starter_model  # noqa: E402
from kedro_mlops.monitoring.performance import (  # noqa: E402
    estimate_performance,
    fit_calibrator,
    realized_performance,
    reference_from_evaluation,
)

METRICS = ("roc_auc", "accuracy", "precision", "recall", "positive_rate")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        trained = train_starter_model(Path(folder))
    schema = trained.params["schema"]
    threshold = trained.params["infer"]["threshold"]
    scores, labels = reference_from_evaluation(
        trained.test_predictions,
        trained.test_set,
        schema["id_column"],
        schema["target"],
    )
    calibrator = fit_calibrator(scores, labels)
    print(f"reference: the test set, {calibrator.reference_rows} rows")
    print(f"calibration: {calibrator.method}: {calibrator.reason}")
    print(
        f"expected calibration error: raw {calibrator.ece_raw:.4f}, "
        f"isotonic (cross-validated) {calibrator.ece_isotonic_cv:.4f}"
    )
    test_set = estimate_performance(scores, calibrator, threshold)
    test_realized = realized_performance(
        trained.test_predictions,
        trained.test_set,
        schema["id_column"],
        schema["target"],
    )
    print(
        f"test set: ROC AUC estimated {test_set['roc_auc']:.4f}, "
        f"realized {test_realized['roc_auc']:.4f}\n"
    )
    print(f"{'batch':<11} {'metric':<14} {'estimated':>9} {'realized':>9} {'diff':>7}")
    for batch in ("control", "production"):
        scored = trained.predict(pd.read_csv(RAW / f"batch_{batch}.csv"))
        realized = realized_performance(
            scored,
            pd.read_csv(RAW / f"labels_{batch}.csv"),
            schema["id_column"],
            schema["target"],
        )
        estimated = estimate_performance(
            scored[f"{schema['target']['column']}_probability"], calibrator, threshold
        )
        for name in METRICS:
            e, r = estimated[name], realized[name]
            print(f"{batch:<11} {name:<14} {e:>9.4f} {r:>9.4f} {e - r:>+7.4f}")

    generator = runpy.run_path(str(REPO / "scripts/make_sample_data.py"))
    fresh = generator["make_customers"](100_000, seed=7, first_id=900_001)
    column = schema["target"]["column"]
    scored = trained.predict(fresh.drop(columns=[column]))
    probability = scored[f"{column}_probability"].to_numpy()
    truth = (fresh[column] == schema["target"]["positive_class"]).to_numpy()
    half = len(fresh) // 2
    second = scored.iloc[half:]
    realized = realized_performance(
        second, fresh.iloc[half:], schema["id_column"], schema["target"]
    )["roc_auc"]
    from_test_set = estimate_performance(probability[half:], calibrator, threshold)
    own = fit_calibrator(probability[:half], truth[:half])
    from_fresh = estimate_performance(probability[half:], own, threshold)
    print(
        f"\n50,000 fresh customers: ROC AUC realized {realized:.4f}; estimated "
        f"{from_test_set['roc_auc']:.4f} with the test set's calibrator, "
        f"{from_fresh['roc_auc']:.4f} with one fitted on 50,000 other fresh rows "
        f"({own.method})"
    )

    rng = np.random.default_rng(0)
    million = rng.beta(1.2, 2.5, 1_000_000)
    # the squared scores are too low: the test set calibrates them with isotonic regression
    isotonic = fit_calibrator(scores**2, labels)
    for name, used in (("test set's", calibrator), ("isotonic", isotonic)):
        best = min(_seconds(million, used, threshold) for _ in range(5))
        print(f"1,000,000 scores, {name} calibrator ({used.method}): {best:.3f} s")


def _seconds(scores: np.ndarray, calibrator, threshold: float) -> float:
    start = time.perf_counter()
    estimate_performance(scores, calibrator, threshold)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
