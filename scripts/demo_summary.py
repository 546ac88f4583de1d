"""Print where a starter project's results are: the MLflow runs, metrics, predictions.

Usage: python scripts/demo_summary.py PROJECT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(project: Path) -> None:
    import json

    from mlflow import MlflowClient

    store = project / "mlflow.db"
    client = MlflowClient(f"sqlite:///{store}")
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        order_by=["attributes.start_time DESC"],
    )
    training = next(r for r in runs if "test.roc_auc" in r.data.metrics)
    inference = next(r for r in runs if r.info.run_name == "inference")
    metrics = training.data.metrics
    predictions = project / "data/07_model_output/predictions.csv"
    rows = sum(1 for _ in predictions.open()) - 1
    print()
    print("Results")
    print(f"  MLflow store      {store}  (browse: cd {project} && kedro mlflow ui)")
    print(f"  training run      {training.info.run_id}  status {training.info.status}")
    for name in ("accuracy", "f1", "roc_auc", "baseline_accuracy"):
        print(f"    test.{name:<18}{metrics[f'test.{name}']:.4f}")
    print(f"  registry          {training.data.tags.get('mlops.registry.summary')}")
    raw_md5 = training.data.tags.get("mlops.lineage.data.raw_customers.md5")
    print(
        f"  raw data          md5 {raw_md5}  (kedro mlops lineage {training.info.run_id})"
    )
    print(
        f"  inference run     {inference.info.run_id}  status {inference.info.status}"
    )
    print(f"  predictions       {predictions}  ({rows} rows)")
    print(f"  plots             {project / 'data/08_reporting'}")
    reporting = project / "data/08_reporting"
    decision = json.loads((reporting / "retrain_decision.json").read_text())
    drifted = ", ".join(decision["drifted_columns"]) or "none"
    print(f"  drift             {drifted} drifted; retrain: {decision['retrain']}")
    print(f"  drift report      {reporting / 'drift_report.html'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
