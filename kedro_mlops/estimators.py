"""Old path of :mod:`kedro_mlops.serving.estimators`, kept for logged models.

Models logged by kedro-mlops 0.1 pickled their fitted estimators as
``kedro_mlops.estimators.SharedEstimator``; they still load. Imports
scikit-learn.
"""

from kedro_mlops.serving.estimators import SharedEstimator, share

__all__ = ["SharedEstimator", "share"]
