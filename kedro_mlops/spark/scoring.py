"""A registered model that scores a pandas DataFrame, or a Spark DataFrame partition by partition.

:class:`ScoringModel` wraps the MLflow model (the model bundled with its
inference pipeline). ``predict(frame)``:

* a pandas DataFrame: the model's own ``predict``, unchanged;
* a Spark DataFrame: ``mapInPandas`` over its partitions, each Arrow batch
  scored by the model, which each Python worker loads once (the model's
  folder travels to the executors with ``SparkContext.addFile``) and keeps
  for the next tasks. The result is a Spark DataFrame of the model's output
  columns, kept in memory or on disk (``persist``), since the scoring also
  tells the driver, per partition, its row count and any refusal.

The output columns come from the model's output signature when it has one,
else from the table schema it was trained with (``params:schema`` of the
bundled pipeline): the id column (typed as in the input), the
``<target>_probability`` (double) and the ``<target>_prediction`` (long).
No row is brought to the driver to find them.

A batch that the model refuses (its schema validation, see
:mod:`kedro_mlops.schema`) fails the whole ``predict`` on the driver with the
error the pandas run gives, rows counted from the first row of the whole
frame: the refusals of every batch are merged
(:func:`~kedro_mlops.schema.validate.merge_schema_errors`), and ids repeated
across batches, which no single batch can see, are looked for in the scores.

Only the standard library is imported here; pandas, pyspark and MLflow when
a frame is scored.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import pickle
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)

# The columns through which each partition reports to the driver (one row per
# partition, its output columns empty; the scored rows have these empty).
PARTITION = "__kedro_mlops_partition"
ROWS = "__kedro_mlops_rows"
PROCESS = "__kedro_mlops_process"
LOADED = "__kedro_mlops_loaded"
FAILURES = "__kedro_mlops_failures"
REPORT = (PARTITION, ROWS, PROCESS, LOADED, FAILURES)

#: Models loaded by this process (a Spark Python worker), by shipped folder.
_MODELS: dict[str, Any] = {}

# monotonically_increasing_id(): the partition in the upper 31 bits, the
# record's number within the partition in the lower 33.
_RECORD_BITS = 33


class ScoringError(RuntimeError):
    """A model that cannot score a Spark DataFrame."""


def is_spark_frame(frame: Any) -> bool:
    """Whether ``frame`` is a Spark DataFrame (classic or Spark Connect), without
    importing pyspark."""
    return type(frame).__module__.startswith("pyspark.") and hasattr(
        frame, "mapInPandas"
    )


class ScoringModel:
    """An MLflow model that scores pandas and Spark DataFrames.

    Args:
        model: the loaded MLflow model (``mlflow.pyfunc.PyFuncModel``).
        path: the local folder it was loaded from (shipped to the executors).

    Other attributes (``metadata``, ``unwrap_python_model``...) are the model's.
    """

    def __init__(self, model: Any, path: str) -> None:
        self.model = model
        self.path = str(path)
        self._shipped: str | None = None
        #: What each partition of the last Spark ``predict`` reported: its
        #: number, rows, the worker's process id and whether it loaded the model.
        self.reports: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        if name == "model":  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.model, name)

    def predict(self, frame: Any, params: dict[str, Any] | None = None) -> Any:
        """Score ``frame``: a pandas DataFrame with the model's ``predict``, a
        Spark DataFrame partition by partition (see the module's docstring)."""
        if not is_spark_frame(frame):
            return self.model.predict(frame, params=params)
        if params:
            raise ScoringError(
                "Scoring a Spark DataFrame takes no params: the model runs as it "
                "was registered."
            )
        return self._predict_spark(frame)

    # ---- Spark ------------------------------------------------------------------

    def output_schema(self, frame: Any) -> Any:
        """The Spark schema of the scores of ``frame``."""
        from pyspark.sql.types import (
            DoubleType,
            LongType,
            StringType,
            StructField,
            StructType,
        )

        signature = getattr(self.model.metadata, "signature", None)
        outputs = getattr(signature, "outputs", None)
        if outputs is not None:
            fields = outputs.as_spark_schema().fields
            return StructType([StructField(f.name, f.dataType, True) for f in fields])
        schema = self.table_schema()
        if schema is None:
            raise ScoringError(
                "The model declares no output columns: it has no output signature "
                "and no table schema (params:schema) in its inference pipeline. "
                "Log it with an output signature to score Spark DataFrames."
            )
        id_type = (
            frame.schema[schema.id_column].dataType
            if schema.id_column in frame.columns
            else StringType()
        )
        return StructType(
            [
                StructField(schema.id_column, id_type, True),
                StructField(schema.probability_column, DoubleType(), True),
                StructField(schema.prediction_column, LongType(), True),
            ]
        )

    def table_schema(self) -> Any:
        """The table schema the bundled inference pipeline validates with, or None."""
        from kedro_mlops.schema import parse_schema

        try:
            python_model = self.model.unwrap_python_model()
        except Exception:  # not a Python model
            return None
        catalog = getattr(python_model, "loaded_catalog", None)
        if catalog is None or "params:schema" not in catalog:
            return None
        return parse_schema(catalog.load("params:schema"))

    def input_columns(self, frame: Any) -> list[str]:
        """The columns of ``frame`` the model reads: its signature's inputs that
        ``frame`` has (a missing one is the model's own error, per batch), or
        every column."""
        signature = getattr(self.model.metadata, "signature", None)
        inputs = getattr(signature, "inputs", None)
        if inputs is None or not inputs.has_input_names():
            return list(frame.columns)
        return [name for name in inputs.input_names() if name in frame.columns]

    def ship(self, session: Any) -> str:
        """The model's folder on every executor (``SparkFiles``), added once,
        as a copy under a name of its own (Spark names added files by their
        last path component, and workers keep models by that name)."""
        if self._shipped is None:
            import shutil
            import tempfile
            import weakref

            copy = tempfile.mkdtemp(prefix="kedro-mlops-model-")
            weakref.finalize(self, shutil.rmtree, copy, True)
            shutil.copytree(self.path, copy, dirs_exist_ok=True)
            session.sparkContext.addFile(copy, recursive=True)
            self._shipped = os.path.basename(copy)
        return self._shipped

    def _predict_spark(self, frame: Any) -> Any:
        from pyspark.sql import functions as F
        from pyspark.sql.types import (
            BinaryType,
            BooleanType,
            IntegerType,
            LongType,
            StructField,
            StructType,
        )

        output = self.output_schema(frame)
        names = output.fieldNames()
        report = [
            StructField(PARTITION, IntegerType(), True),
            StructField(ROWS, LongType(), True),
            StructField(PROCESS, IntegerType(), True),
            StructField(LOADED, BooleanType(), True),
            StructField(FAILURES, BinaryType(), True),
        ]
        inputs = frame.select(*self.input_columns(frame))
        score = functools.partial(
            score_partitions, self.ship(frame.sparkSession), names
        )
        scored = inputs.mapInPandas(score, StructType([*output.fields, *report]))
        scored = scored.persist()
        try:
            reports = sorted(
                scored.where(F.col(ROWS).isNotNull()).select(*REPORT).collect()
            )
            self.reports = [
                {k: v for k, v in row.asDict().items() if k != FAILURES}
                for row in reports
            ]
            scores = scored.where(F.col(ROWS).isNull()).select(*names)
            failure = self._failure(frame, inputs, scores, reports)
        except BaseException:
            scored.unpersist()
            raise
        if failure is not None:
            scored.unpersist()
            raise failure
        return scores

    def _failure(
        self, frame: Any, inputs: Any, scores: Any, reports: list[Any]
    ) -> BaseException | None:
        """The error of the whole frame, as the pandas run gives it, or None."""
        offsets, total = {}, 0
        for row in reports:
            offsets[row[PARTITION]] = total
            total += row[ROWS]
        failures = [
            (offsets[row[PARTITION]] + offset, error, schema_error)
            for row in reports
            if row[FAILURES] is not None
            for offset, error, schema_error in pickle.loads(row[FAILURES])
        ]
        refusals = [f for f in failures if f[2] is not None]
        if failures and not refusals:
            return failures[0][1]  # no schema problem: the first failure as it is
        if total == 0:
            return self._refusal(frame.limit(0))  # the model's answer to no rows
        schema = self.table_schema()
        repeated = None
        if schema is not None and schema.id_column in inputs.columns:
            # in the scores (in memory), unless batches were refused
            in_scores = not refusals and schema.id_column in scores.columns
            checked = scores if in_scores else inputs
            repeated = _repeated_ids(inputs, checked, schema.id_column, offsets)
        if not refusals and repeated is None:
            return None
        merged = _merged(refusals, repeated)
        if refusals:  # the first refusal, with every problem of the frame
            return _as_refusal(merged, refusals[0][1], refusals[0][2])
        # ids repeated across batches only: the model's refusal of two of them
        assert schema is not None and repeated is not None
        sample = inputs.join(repeated[1], schema.id_column, "left_semi").limit(2)
        refused = self._refusal(sample)
        found = None if refused is None else schema_error_of(refused)
        if refused is None or found is None:
            return merged
        return _as_refusal(merged, refused, found)

    def _refusal(self, rows: Any) -> BaseException | None:
        """What the model raises for ``rows`` (a few rows, or none), or None."""
        try:
            self.model.predict(rows.toPandas())
        except Exception as error:
            return error
        return None


def _as_refusal(merged: Any, error: BaseException, found: Any) -> BaseException:
    """The whole frame's schema error as the model raised a batch's: ``error``
    (what the model raised) worded with ``merged`` instead of ``found`` (the
    schema error inside it)."""
    return merged if error is found else reworded(error, str(found), str(merged))


def _merged(refusals: list[Any], repeated: Any) -> Any:
    from kedro_mlops.schema.validate import merge_schema_errors, schema_error

    merged = merge_schema_errors((offset, found) for offset, _, found in refusals)
    if repeated is None:
        return merged
    problems = [p for p in merged.found if p.key != repeated[0].key]
    return schema_error([*problems, repeated[0]])


def _repeated_ids(
    inputs: Any, checked: Any, id_column: str, offsets: dict[int, int]
) -> tuple[Any, Any] | None:
    """Ids that repeat in the frame (across batches, which no batch sees):
    ``(the schema problem, the repeated ids)``, or None. Looked for in
    ``checked``; their rows are then found in ``inputs``."""
    from pyspark.sql import functions as F

    from kedro_mlops.schema.validate import MAX_ROWS_SHOWN, repeated_ids

    def repeated(frame: Any) -> Any:
        return (
            frame.where(F.col(id_column).isNotNull())
            .groupBy(id_column)
            .count()
            .where(F.col("count") > 1)
            .select(id_column)
        )

    # ids of equal hash first (a shuffle of longs, not of text): none, no repeat
    hashes = checked.where(F.col(id_column).isNotNull()).groupBy(
        F.xxhash64(id_column).alias("hash")
    )
    if hashes.count().where(F.col("count") > 1).limit(1).count() == 0:
        return None
    if repeated(checked).limit(1).count() == 0:  # only hashes collided
        return None
    repeated_in_inputs = repeated(inputs)
    record = F.monotonically_increasing_id()
    rows = inputs.select(id_column, record.alias("record")).join(
        repeated_in_inputs, id_column, "left_semi"
    )
    count = rows.count()
    mask = (1 << _RECORD_BITS) - 1
    first = [
        offsets[r["record"] >> _RECORD_BITS] + (r["record"] & mask) + 1
        for r in rows.orderBy("record").limit(MAX_ROWS_SHOWN).collect()
    ]
    return repeated_ids(id_column, first, count), repeated_in_inputs


def reworded(error: BaseException, old: str, new: str) -> BaseException:
    """``error`` with ``old`` replaced by ``new`` in its message (the same type,
    error code and other attributes).

    Example:
        >>> str(reworded(ValueError("Refused: row 2"), "row 2", "row 10002"))
        'Refused: row 10002'
    """
    if str(error) == old:
        text = new
    else:
        text = str(error).replace(old, new)
    clone = copy.copy(error)
    clone.args = (text,)
    if isinstance(getattr(clone, "message", None), str):
        clone.message = text  # type: ignore[attr-defined]
    return clone


def schema_error_of(error: BaseException) -> Any:
    """The :class:`~kedro_mlops.schema.validate.SchemaError` that ``error`` is,
    or that it was raised from or while handling; None if there is none."""
    from kedro_mlops.schema.validate import SchemaError

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, SchemaError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


# ---- on the executors ---------------------------------------------------------------


def score_partitions(
    shipped: str, columns: list[str], batches: Iterator[Any]
) -> Iterator[Any]:
    """Score one partition's Arrow batches (``mapInPandas``), then report.

    Every batch is scored, so that every refusal is reported; after another
    failure the remaining batches are only counted.
    """
    import pandas as pd
    from pyspark import TaskContext

    model, loaded = worker_model(shipped)
    rows, failures, failed = 0, [], False
    for batch in batches:
        if len(batch) == 0:
            continue
        if not failed:
            try:
                yield _scored(model.predict(batch), columns)
            except Exception as error:
                found = schema_error_of(error)
                failures.append((rows, *_portable(error, found)))
                failed = found is None
        rows += len(batch)
    context = TaskContext.get()
    report = {
        PARTITION: context.partitionId() if context is not None else 0,
        ROWS: rows,
        PROCESS: os.getpid(),
        LOADED: loaded,
        FAILURES: pickle.dumps(failures) if failures else None,
    }
    yield pd.DataFrame({**dict.fromkeys(columns), **report}, index=[0])


def _scored(scores: Any, columns: list[str]) -> Any:
    if list(scores.columns) != columns:
        if set(columns) - set(scores.columns):
            raise ScoringError(
                f"The model returned the columns {list(scores.columns)}; scoring "
                f"a Spark DataFrame expects {columns} (the model's output "
                "signature, or the id, probability and prediction columns of its "
                "table schema). Log the model with an output signature."
            )
        scores = scores[columns]
    return scores.assign(**dict.fromkeys(REPORT))


def _portable(error: BaseException, found: Any) -> tuple[BaseException, Any]:
    """``error`` and its schema error as they can travel to the driver."""
    try:
        pickle.dumps((error, found))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}"), None
    return error, found


def worker_model(shipped: str) -> tuple[Any, bool]:
    """The model of the shipped folder, loaded once per process: ``(model,
    whether this call loaded it)``."""
    model = _MODELS.get(shipped)
    if model is not None:
        return model, False
    import mlflow
    from pyspark import SparkFiles

    from kedro_mlops import patches

    patches.install("serving")  # as a server: quiet, no new hook manager per batch
    _quiet_loading()
    model = _MODELS[shipped] = mlflow.pyfunc.load_model(SparkFiles.get(shipped))
    return model, True


def _quiet_loading() -> None:
    """Kedro's catalog logs each artifact the model loads, MLflow a hint per
    batch about the model class, the bundled runner each refused batch: worth
    nothing on each worker."""
    import warnings

    logging.getLogger("kedro.io").setLevel(logging.WARNING)
    # a refused batch: the driver tells the whole frame's problems, once
    logging.getLogger("kedro_mlops.serving.runner").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*Add type hints to the `predict`")
