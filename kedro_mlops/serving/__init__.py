"""Serving: the model bundled with its inference pipeline, and what it needs at predict time.

* :mod:`~kedro_mlops.serving.bundle`: :func:`bundle_model` (kedro-mlflow's
  ``pipeline_ml_factory`` with the serving defaults) and the sharing of fitted
  estimators between requests;
* :mod:`~kedro_mlops.serving.runner`: :class:`ServingRunner`, the runner the
  model runs each request with;
* :mod:`~kedro_mlops.serving.estimators`: :func:`share` (imports scikit-learn);
* :mod:`~kedro_mlops.serving.endpoint`: what the server answers on
  ``/invocations`` (size limit, one-line refusals, CSV);
* :mod:`~kedro_mlops.serving.app`: the ASGI app ``kedro mlops serve`` starts.

Importing this package is cheap: MLflow and scikit-learn are imported when used.
"""

from kedro_mlops.serving.bundle import bundle_model
from kedro_mlops.serving.runner import ServingRunner

#: Names the local folder of the model that :mod:`kedro_mlops.serving.app` serves.
MODEL_VARIABLE = "KEDRO_MLOPS_SERVE_MODEL"
#: The port the server listens on (``kedro mlops serve --port``).
PORT_VARIABLE = "KEDRO_MLOPS_SERVE_PORT"

__all__ = ["MODEL_VARIABLE", "PORT_VARIABLE", "ServingRunner", "bundle_model"]
