"""Fitted scikit-learn estimators that a served model shares between requests.

:func:`share` wraps a fitted estimator in :class:`SharedEstimator`, a
scikit-learn ``FrozenEstimator`` (fitting it again does nothing, its
parameters cannot be set, and ``sklearn.clone`` returns it as it is) whose
deep copy is itself, as for any immutable value. Everything else is delegated
to the wrapped estimator. :mod:`kedro_mlops.serving.bundle` applies it to the
bundled model's inputs; this module imports scikit-learn.

Example:
    >>> import copy
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = share(LogisticRegression().fit([[0.0], [1.0]], [0, 1]))
    >>> copy.deepcopy(model) is model, model.predict([[0.9]]).tolist()
    (True, [1])
"""

from __future__ import annotations

from typing import Any

from sklearn.frozen import FrozenEstimator


class SharedEstimator(FrozenEstimator):
    """A fitted, frozen estimator that deep copies share instead of copying."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedEstimator:
        return self


def share(estimator: Any) -> SharedEstimator:
    """Freeze a *fitted* estimator for sharing; a shared one is returned as is."""
    if isinstance(estimator, SharedEstimator):
        return estimator
    return SharedEstimator(estimator)
