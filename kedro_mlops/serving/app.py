"""The ASGI app that ``kedro mlops serve`` runs in each server process.

MLflow's own scoring app, for the model in the local folder named by
:data:`MODEL_VARIABLE`, in a process where the serving patches of
:mod:`kedro_mlops.patches` are installed first (explicitly, here: loading a
model never patches a process). ``mlflow models serve`` runs the same model
without them, only slower and chattier.

Run by ``uvicorn kedro_mlops.serving.app:app``; importing it loads the model.
"""

from __future__ import annotations

import os

from mlflow.pyfunc import scoring_server

from kedro_mlops import patches
from kedro_mlops.serving import MODEL_VARIABLE

patches.install("serving")
app = scoring_server.init(
    scoring_server.load_model_with_mlflow_config(os.environ[MODEL_VARIABLE])
)
