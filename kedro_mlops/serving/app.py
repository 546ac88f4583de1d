"""The ASGI app that ``kedro mlops serve`` runs in each server process.

MLflow's own scoring app (``/ping``, ``/health``, ``/version``) for the model
in the local folder named by :data:`MODEL_VARIABLE`, behind
:class:`~kedro_mlops.serving.endpoint.ScoringApp`, which answers
``/invocations`` (size limit, one-line refusals, CSV with the bundled model's
signature), ``/metrics`` (Prometheus), captures the scored requests when
:data:`~kedro_mlops.serving.capture.CAPTURE_VARIABLE` is set, and removes the
health check's marker when the server stops. The
serving patches of :mod:`kedro_mlops.patches` are installed first (explicitly,
here: loading a model never patches a process). ``mlflow models serve`` runs
the same model without any of this.

Run by ``uvicorn kedro_mlops.serving.app:app``; importing it loads the model.
"""

from __future__ import annotations

import gc
import os

from mlflow.environment_variables import MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT
from mlflow.pyfunc import scoring_server

from kedro_mlops import patches
from kedro_mlops.docker.health import remove_marker
from kedro_mlops.serving import MODEL_VARIABLE, PORT_VARIABLE
from kedro_mlops.serving.capture import Capture, CaptureSettings, served_model
from kedro_mlops.serving.endpoint import ScoringApp, max_request_bytes
from kedro_mlops.serving.metrics import Metrics


def _stopped() -> None:
    remove_marker(os.environ.get(PORT_VARIABLE))


try:
    patches.install("serving")
    limit = max_request_bytes()
    capture_settings = CaptureSettings.from_environ()
    model_name, model_version = served_model()
    model = scoring_server.load_model_with_mlflow_config(os.environ[MODEL_VARIABLE])
    metrics = Metrics(model_name, model_version)
    capture = (
        Capture(
            capture_settings,
            model_name,
            model_version,
            on_captured=metrics.captured.inc,
            on_dropped=metrics.dropped.inc,
        )
        if capture_settings is not None
        else None
    )
except BaseException:
    _stopped()  # this server will not answer: the health check must not wait for it
    raise
app = ScoringApp(
    scoring_server.init(model),
    model,
    limit,
    timeout=MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT.get(),
    on_shutdown=_stopped,
    metrics=metrics,
    capture=capture,
)
# The model, its libraries and this app live as long as the process. Frozen out
# of the garbage collector's view, a full collection walks only what requests
# made since (the queued captured requests among them), not the whole heap.
gc.collect()
gc.freeze()
