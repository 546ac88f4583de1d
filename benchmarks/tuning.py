"""The starter's parameter search: what tracking adds per trial, and two
trials at a time against one.

In one process, without a project or a wheel: the starter's ``model_input``
is made by the template's own nodes on the shipped ``customers.csv``
(:mod:`harness.starter_model`), and the starter's search (its
``conf/base/parameters_train.yml``: search space, folds, metric) runs 50
trials of its ``HistGradientBoostingClassifier``:

1. untracked (no MLflow run) and tracked (an active run in a fresh sqlite
   store: every trial a child run), side by side, with ``n_jobs`` 2 and 1;
2. then the logging alone (``log_search`` of the 50 trials into a new run)
   five times, per trial.

Targets: tracking adds at most 50 ms per trial; ``n_jobs: 2`` takes at most
0.7x the time of ``n_jobs: 1`` on two cores.

Usage: python benchmarks/tuning.py [--trials 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.starter_model import parameters, starter_model_input  # noqa: E402
from kedro_mlops.quality.tuning import log_search, search, tune  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    trials = parser.parse_args().trials

    import mlflow
    from sklearn.ensemble import HistGradientBoostingClassifier

    params = parameters()
    column = params["schema"]["target"]["column"]
    with tempfile.TemporaryDirectory() as folder:
        model_input, _, _ = starter_model_input(Path(folder))
        os.chdir(folder)  # the sqlite store's artifacts go beside it
        uri = f"sqlite:///{Path(folder) / 'mlflow.db'}"
        mlflow.set_tracking_uri(uri)
        mlflow.MlflowClient().search_experiments()  # migrate the new store first
        features = model_input.drop(columns=[column])
        labels = model_input[column]
        model = HistGradientBoostingClassifier(
            random_state=params["train"]["random_state"], **params["train"]["model"]
        )
        base = dict(params["train"]["tuning"], trials=trials, seconds=0)
        print(
            f"{trials} trials of the starter's search: {len(features)} rows, "
            f"{base['cv_folds']} folds, {base['metric']}, "
            f"space {sorted(base['search_space'])}"
        )
        walls: dict[tuple[int, bool], float] = {}
        for n_jobs in (2, 1):
            for tracked in (False, True):
                settings = dict(base, n_jobs=n_jobs)
                start = time.perf_counter()
                if tracked:
                    with mlflow.start_run():
                        tune(model, features, labels, settings)
                else:
                    tune(model, features, labels, settings)
                walls[n_jobs, tracked] = time.perf_counter() - start
                print(
                    f"  n_jobs={n_jobs} {'tracked  ' if tracked else 'untracked'}"
                    f" {walls[n_jobs, tracked]:6.2f} s"
                )
        result = search(model, features, labels, dict(base, n_jobs=2))
        logging = []
        for _ in range(5):
            with mlflow.start_run() as run:
                start = time.perf_counter()
                log_search(run.info.run_id, result)
                logging.append(time.perf_counter() - start)
    per_trial = statistics.median(logging) / trials * 1000
    print(
        f"logging {trials} trials as child runs (median of 5): "
        f"{statistics.median(logging):.3f} s, {per_trial:.1f} ms per trial "
        "(target: at most 50 ms)"
    )
    for n_jobs in (2, 1):
        added = (walls[n_jobs, True] - walls[n_jobs, False]) / trials * 1000
        print(f"tracked - untracked, n_jobs={n_jobs}: {added:+.1f} ms per trial")
    ratio = walls[2, False] / walls[1, False]
    print(
        f"n_jobs=2 / n_jobs=1 (untracked): {ratio:.2f}x "
        f"({walls[2, False]:.2f} s / {walls[1, False]:.2f} s; target: at most 0.7x)"
    )


if __name__ == "__main__":
    main()
