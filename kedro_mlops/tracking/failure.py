"""Why a run failed, written into its MLflow run.

kedro-mlflow ends the run of a failed pipeline with the status ``FAILED`` and
nothing else; the plugin's ``on_pipeline_error`` hook adds the error as the
run's ``mlops.error`` tag (``DriftDetectedError: Data drift: ...``), so that
the tracking UI says why, next to what the run logged before it stopped.
"""

from __future__ import annotations

import logging

ERROR_TAG = "mlops.error"
#: MLflow stores tag values of up to 8,000 characters; a message is cut well below.
MAX_LENGTH = 5000

logger = logging.getLogger(__name__)


def record_failure(run_id: str, error: BaseException) -> None:
    """Tag ``run_id`` with ``error``'s type and message.

    Never raises: the pipeline's own error is what the user must see.
    """
    message = f"{type(error).__name__}: {error}".strip()
    if len(message) > MAX_LENGTH:
        message = message[: MAX_LENGTH - 3] + "..."
    try:
        from mlflow import MlflowClient

        MlflowClient().set_tag(run_id, ERROR_TAG, message)
    except Exception as exc:  # a store that is gone must not hide the error
        logger.warning("Could not record the error in MLflow run %s: %s", run_id, exc)
