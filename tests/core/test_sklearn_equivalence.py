"""Given the same initial parameters, our EM follows scikit-learn's trajectory to 1e-8."""

import warnings

import numpy as np
import pytest

from gmm_studio.core import GaussianMixture
from gmm_studio.core.params import COVARIANCE_TYPES

sklearn_mixture = pytest.importorskip("sklearn.mixture")


def _data(n_features: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(3, n_features))
    blocks = [rng.normal(size=(200, n_features)) @ rng.normal(size=(n_features, n_features)) * 0.5 + c
              for c in centers]
    return np.concatenate(blocks) + 7.0  # away from the origin on purpose


def _initial(x: np.ndarray, covariance_type: str, seed: int):
    rng = np.random.default_rng(seed)
    k, d = 3, x.shape[1]
    means = x[rng.choice(len(x), k, replace=False)]
    weights = rng.dirichlet(np.full(k, 5.0))
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    precisions = {
        "full": np.stack([np.linalg.inv(cov * s) for s in (0.5, 1.0, 2.0)]),
        "tied": np.linalg.inv(cov),
        "diag": 1.0 / (np.diag(cov) * np.array([[0.5], [1.0], [2.0]])),
        "spherical": 1.0 / (np.trace(cov) / d * np.array([0.5, 1.0, 2.0])),
    }[covariance_type]
    return dict(weights_init=weights, means_init=means, precisions_init=precisions)


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("n_features", [1, 2, 5])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_initial_parameters_give_sklearns_fit(covariance_type, n_features):
    x = _data(n_features, seed=n_features)
    init = _initial(x, covariance_type, seed=1)
    options = dict(n_components=3, covariance_type=covariance_type, tol=1e-9, max_iter=300, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # either may warn about convergence; we compare anyway
        ours = GaussianMixture(**options).fit(x)
        ref = sklearn_mixture.GaussianMixture(**options).fit(x)

    assert ours.n_iter_ == ref.n_iter_
    assert ours.converged_ == ref.converged_
    assert _rel(ours.lower_bounds_, ref.lower_bounds_) < 1e-8
    assert _rel(ours.lower_bound_, ref.lower_bound_) < 1e-8
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(ours, name).shape == getattr(ref, name).shape, name
        assert _rel(getattr(ours, name), getattr(ref, name)) < 1e-8, name
    assert _rel(ours.score_samples(x), ref.score_samples(x)) < 1e-8
    assert _rel(ours.predict_proba(x), ref.predict_proba(x)) < 1e-6
    np.testing.assert_array_equal(ours.predict(x), ref.predict(x))
    assert _rel(ours.bic(x), ref.bic(x)) < 1e-8
    assert _rel(ours.aic(x), ref.aic(x)) < 1e-8


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_warm_start_continues_like_sklearn(covariance_type):
    x = _data(2, seed=3)
    init = _initial(x, covariance_type, seed=2)
    options = dict(n_components=3, covariance_type=covariance_type, tol=1e-12, max_iter=3,
                   warm_start=True, **init)
    ours = GaussianMixture(**options)
    ref = sklearn_mixture.GaussianMixture(**options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            ours.fit(x)
            ref.fit(x)
    assert _rel(ours.lower_bounds_, ref.lower_bounds_) < 1e-8
    assert _rel(ours.means_, ref.means_) < 1e-8


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_wide_data_take_sklearns_path_and_give_its_fit(covariance_type):
    # wider than the quadratic features pay for: the per-component path
    x = _data(90, seed=4)
    init = _initial(x, covariance_type, seed=1)
    options = dict(n_components=3, covariance_type=covariance_type, tol=1e-9, max_iter=30,
                   reg_covar=1e-3, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a start this rough may collapse a component
        ours = GaussianMixture(**options).fit(x)
        ref = sklearn_mixture.GaussianMixture(**options).fit(x)
    assert ours.n_iter_ == ref.n_iter_
    assert _rel(ours.lower_bounds_, ref.lower_bounds_) < 1e-8
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert _rel(getattr(ours, name), getattr(ref, name)) < 1e-8, name
    assert _rel(ours.score_samples(x), ref.score_samples(x)) < 1e-8
