"""Spark: the session of a project's ``spark`` settings, and scoring partitions.

* :mod:`~kedro_mlops.spark.session`: the SparkSession that the plugin's
  ``after_context_created`` hook starts where the run's configuration has
  ``spark`` settings (``conf/spark/spark.yml``): Java checked first, the
  Python workers on this interpreter, one-line errors;
* :mod:`~kedro_mlops.spark.scoring`: :class:`ScoringModel`, a registered model
  whose ``predict`` scores a pandas DataFrame, or a Spark DataFrame partition
  by partition (the model loaded once per Python worker);
* :mod:`~kedro_mlops.spark.dataset`: ``SparkModelRegistryDataset``, the
  catalog dataset that loads a :class:`ScoringModel` (catalog type
  ``kedro_mlops.datasets.SparkModelRegistryDataset``).

Importing this package imports no pyspark, pandas or MLflow.
"""

from kedro_mlops.spark.scoring import ScoringModel, is_spark_frame

__all__ = ["ScoringModel", "is_spark_frame"]
