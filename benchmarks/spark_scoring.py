"""Scoring a Spark DataFrame with the champion: kedro-mlops' mapInPandas with a
per-worker model vs MLflow's ``mlflow.pyfunc.spark_udf``.

The starter's project is generated and trained in a fresh environment (the
wheel with its ``tools`` and ``spark`` extras). Then, in that environment, one
process starts Spark ``local[2]`` and scores the shipped production batch
repeated to ``--rows`` rows (1,000,000 by default; new ids), written as a
folder of 8 Parquet files (8 partitions), with the registered champion:

* MLflow: ``mlflow.pyfunc.spark_udf(spark, <the local model>,
  result_type=<the scores' struct>, env_manager="local")`` applied to the
  signature's columns;
* mapInPandas: ``mapInPandas`` over the same columns, each Arrow batch scored
  by the model that each Python worker loads once
  (:func:`kedro_mlops.spark.scoring.worker_model`), nothing else;
* kedro-mlops: ``SparkModelRegistryDataset(...).load().predict(frame)``: the
  same mapInPandas, plus what batch inference needs (each partition reports its
  rows and refusals, the scores are kept in memory for the nodes that read them,
  ids repeated across partitions are looked for);

each written to Spark's ``noop`` sink (every column computed, nothing stored);
and, for comparison without Spark, the same model's pandas ``predict`` in one
process over the same Parquet files read in record batches of 100,000 rows
(``ParquetFile.iter_batches``), the scores dropped.

The rows are read once and kept in memory in 8 partitions; the Python workers
are started (with MLflow and kedro-mlflow imported) before the first round.
Each round uses a model folder of its own, so that both load the model as on
a first run; the methods alternate. The model loads are counted in every
process (driver and Python workers) by wrapping kedro-mlflow's
``KedroPipelineModel.load_context`` from a ``sitecustomize`` module on
``PYTHONPATH``; the workers inherit it. Printed: rows per second and model
loads of each method and round, and their medians.

Usage: python benchmarks/spark_scoring.py [--rows N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PARTITIONS = 8
MODEL = "churn_model"
METHODS = (
    "mlflow spark_udf",
    "mapInPandas",
    "kedro-mlops predict",
    "pandas in batches",
)
#: Rows per batch of the pandas method (pyarrow record batches of the files).
PANDAS_BATCH_ROWS = 100_000

#: Counts model loads in every process that imports kedro-mlflow's model class.
LOAD_COUNTER = textwrap.dedent(
    """\
    import importlib.abc
    import os
    import sys

    TARGET = "kedro_mlflow.mlflow.kedro_pipeline_model"


    class _CountLoads(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != TARGET:
                return None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
            else:
                return None
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                model = module.KedroPipelineModel
                load = model.load_context

                def counted(self, context):
                    with open(os.environ["SPARK_SCORING_LOADS"], "a") as log:
                        log.write(f"{os.getpid()}\\n")
                    return load(self, context)

                model.load_context = counted

            spec.loader.exec_module = exec_module
            return spec


    if os.environ.get("SPARK_SCORING_LOADS"):
        sys.meta_path.insert(0, _CountLoads())
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        measure(args.measure, args.rows, args.rounds)
        return
    from _common import build_wheel, create_env, new_project, with_tools

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        env = create_env(work / "env", with_tools(wheel, "spark"))
        project = new_project(env, work / "projects")
        env.run("kedro", "run", cwd=project)  # training: the champion
        counter = work / "counter"
        counter.mkdir()
        (counter / "sitecustomize.py").write_text(LOAD_COUNTER)
        result = env.run(
            "python", str(Path(__file__).resolve()), "--measure", str(project),
            "--rows", str(args.rows), "--rounds", str(args.rounds),
            cwd=project,
            extra_env={
                "PYTHONPATH": str(counter),
                "SPARK_SCORING_LOADS": str(work / "loads.log"),
            },
        )  # fmt: skip
    report(json.loads(result.stdout.strip().splitlines()[-1]))


def report(rounds: list[dict]) -> None:
    for method in METHODS:
        mine = [r for r in rounds if r["method"] == method]
        for r in mine:
            print(
                f"{method:<24} {r['rows']:>9,} rows in {r['seconds']:6.1f} s: "
                f"{r['rows'] / r['seconds']:>9,.0f} rows/s, model loaded "
                f"{r['loads']} times in {r['processes']} processes "
                f"({r['partitions']} partitions)"
            )
        speed = statistics.median(r["rows"] / r["seconds"] for r in mine)
        loads = statistics.median(r["loads"] for r in mine)
        print(f"{method:<24} median: {speed:,.0f} rows/s, {loads:g} loads per run")


def measure(project: Path, rows: int, rounds: int) -> None:
    """In the project's environment: write the data, score it both ways."""
    import shutil

    import mlflow
    import numpy as np
    import pandas as pd

    from kedro_mlops.datasets import SparkModelRegistryDataset
    from kedro_mlops.spark.session import start_session

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    spark = start_session(
        {
            "spark.master": "local[2]",
            "spark.driver.memory": "2g",
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "4",
        },
        "benchmarks/spark_scoring.py",
    )
    spark.sparkContext.setLogLevel("ERROR")
    folder = Path(tempfile.mkdtemp(prefix="spark-scoring-"))
    batch = pd.read_parquet(project / "data/01_raw/batch_production.parquet")
    copies = -(-rows // len(batch))
    data = pd.concat([batch] * copies, ignore_index=True).head(rows)
    data["customer_id"] = [f"C{i:09d}" for i in range(len(data))]
    for i, part in enumerate(np.array_split(np.arange(len(data)), PARTITIONS)):
        data.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)
    # in memory, 8 partitions: both read the same rows the same way
    frame = spark.read.parquet(str(folder)).repartition(PARTITIONS).persist()
    frame.count()
    _warm_workers(spark)
    loads_log = Path(os.environ["SPARK_SCORING_LOADS"])
    dataset = SparkModelRegistryDataset(model_name=MODEL, alias="champion")
    results = []
    for round_number in range(rounds):
        for method in METHODS:
            loads_log.write_text("")  # the driver's load below counts for pandas
            model = dataset.load()  # a folder of its own: loaded anew everywhere
            start = time.perf_counter()
            if method == "pandas in batches":
                _in_pandas_batches(model, folder)
            else:
                if method == "kedro-mlops predict":
                    scores = model.predict(frame)
                elif method == "mapInPandas":
                    scores = _with_map_in_pandas(spark, model, frame)
                else:
                    scores = _with_spark_udf(spark, model, frame)
                scores.write.format("noop").mode("overwrite").save()
            seconds = time.perf_counter() - start
            loaded = [p for p in loads_log.read_text().split() if p]
            workers = set(loaded) - {str(os.getpid())}
            if method == "pandas in batches":  # this process only
                workers = {str(os.getpid())} & set(loaded)
            results.append(
                {
                    "method": method,
                    "round": round_number,
                    "rows": rows,
                    "seconds": seconds,
                    "loads": len([p for p in loaded if p in workers]),
                    "processes": len(workers),
                    "partitions": (
                        len(list(folder.glob("*.parquet")))
                        if method == "pandas in batches"
                        else frame.rdd.getNumPartitions()
                    ),
                }
            )
            if method == "kedro-mlops predict":
                scores.unpersist()
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(results))


def _in_pandas_batches(model, folder: Path) -> None:
    """The model's pandas predict over the files, batch by batch."""
    import pyarrow.parquet as pq

    for file in sorted(folder.glob("*.parquet")):
        reader = pq.ParquetFile(file)
        for batch in reader.iter_batches(batch_size=PANDAS_BATCH_ROWS):
            model.predict(batch.to_pandas())


def _imports(batches):
    import kedro_mlflow.mlflow  # noqa: F401
    import mlflow.pyfunc  # noqa: F401
    import sklearn.ensemble  # noqa: F401

    yield from batches


def _warm_workers(spark) -> None:
    """Start the Python workers and import what a model needs, for both."""
    spark.range(PARTITIONS * 4).repartition(PARTITIONS).mapInPandas(
        _imports, "id long"
    ).count()


def _scored(shipped, columns, batches):
    from kedro_mlops.spark.scoring import worker_model

    model, _ = worker_model(shipped)
    for batch in batches:
        yield model.predict(batch)[columns]


def _with_map_in_pandas(spark, model, frame):
    """mapInPandas with the model loaded once per worker, nothing more."""
    import functools

    output = model.output_schema(frame)
    score = functools.partial(_scored, model.ship(spark), output.fieldNames())
    return frame.select(*model.input_columns(frame)).mapInPandas(score, output)


def _with_spark_udf(spark, model, frame):
    """MLflow's spark_udf on the same local model folder, the same output
    struct, the signature's columns passed as one struct (named columns)."""
    import mlflow
    from pyspark.sql import functions as F

    udf = mlflow.pyfunc.spark_udf(
        spark,
        model_uri=model.path,
        result_type=model.output_schema(frame),
        env_manager="local",
    )
    columns = F.struct(*model.input_columns(frame))
    return frame.select(udf(columns).alias("scores")).select("scores.*")


if __name__ == "__main__":
    main()
