"""The two errors of the drift package.

Example:
    >>> issubclass(DriftInputError, ValueError), issubclass(DriftDetectedError, RuntimeError)
    (True, True)
"""


class DriftInputError(ValueError):
    """The data or settings cannot be compared: the message names the column and the fix."""


class DriftDetectedError(RuntimeError):
    """Raised by :func:`kedro_mlops.drift.check_drift` when drift is found and ``on_drift`` is ``fail``."""
