"""Project settings.

kedro-mlops, kedro-mlflow and kedro-viz register their hooks through entry
points: installing them is enough, nothing has to be listed here.
"""

import os
import warnings

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Spark's settings (conf/spark/spark.yml): kedro-mlops starts the session
    # with them in `kedro run --env spark`.
    "config_patterns": {"spark": ["spark*", "spark*/**"]},
}

# Quiet library chatter that a run cannot act upon. Remove a line to see it again.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
for message in (
    r"register_new_resolver\(\) is deprecated",  # OmegaConf 2.4, raised inside Kedro
    r".*Add type hints to the `predict` method",  # MLflow, about kedro-mlflow's model class
    r".*An input example was not provided",  # MLflow; the signature is logged instead
):
    warnings.filterwarnings("ignore", message=message)
