"""GMM Studio's estimator as a real scikit-learn estimator: ``from gmm_studio.sklearn import GaussianMixture``.

A thin adapter: it imports scikit-learn (which :mod:`gmm_studio.core` never
does) and puts scikit-learn's own machinery around the core estimator —
``BaseEstimator`` (``get_params``/``set_params``/``clone``/repr),
``DensityMixin``, tags, ``validate_data`` and ``check_is_fitted``,
scikit-learn's parameter constraints, ``sklearn.exceptions.NotFittedError``
and ``sklearn.exceptions.ConvergenceWarning``.  Fitting and every answer come
from the core engine, so it works in ``Pipeline``, ``GridSearchCV`` and
``clone`` and passes ``check_estimator`` and scikit-learn's own
``GaussianMixture`` tests (``tests/sklearn``).

What differs from :class:`gmm_studio.core.GaussianMixture`: exceptions and
warnings are scikit-learn's classes, messages for bad parameters are
scikit-learn's, and degeneracies (collapsed or empty components) do not warn —
scikit-learn's estimator does not, and code that treats warnings as errors
must keep working; they are listed in ``events_`` and the best restart is
still chosen clean-first.
"""

from __future__ import annotations

import numpy as np

try:
    import sklearn.mixture
    from sklearn.base import BaseEstimator, DensityMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # absent, or older than 1.6 (no validate_data)
    raise ImportError(
        "gmm_studio.sklearn needs scikit-learn 1.6 or newer: pip install 'scikit-learn>=1.6'. "
        f"({exc}) Without it, use gmm_studio.core.GaussianMixture, which has the same API."
    ) from exc

from gmm_studio.core import mixture

__all__ = ["GaussianMixture"]


class GaussianMixture(DensityMixin, BaseEstimator, mixture.GaussianMixture):
    """Gaussian mixture fitted by GMM Studio's EM engine, as a scikit-learn estimator.

    Same parameters, defaults, methods and fitted attributes as
    ``sklearn.mixture.GaussianMixture``; see
    :class:`gmm_studio.core.GaussianMixture` for the extras (``restarts_``,
    ``events_``, ``icl``, ``fit_steps``).
    """

    _parameter_constraints: dict = dict(sklearn.mixture.GaussianMixture._parameter_constraints)
    _convergence_warning = ConvergenceWarning
    _degeneracy_warning = None

    # DensityMixin.score is a stub; the engine's is the real one.
    score = mixture.GaussianMixture.score

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Dense, finite, 2-D numbers only (validate_data enforces it); fitting needs no y.
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False
        return tags

    def _check_fitted(self) -> None:
        check_is_fitted(self)

    def _as_data(self, X: object, reset: bool) -> tuple[np.ndarray, np.dtype]:
        if reset:
            self._validate_params()
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                          ensure_min_samples=2 if reset else 1)
        return super()._as_data(X, reset)
