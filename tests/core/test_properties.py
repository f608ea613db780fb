"""Invariants of EM that must hold for any data (hypothesis)."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmm_studio.core import EMData, GaussianMixture, em_steps
from gmm_studio.core.init import check_random_state, initialize
from gmm_studio.core.params import COVARIANCE_TYPES

covariance_types = st.sampled_from(COVARIANCE_TYPES)


@st.composite
def mixtures(draw, max_components=4):
    """Data drawn from a random mixture, with the K to fit."""
    seed = draw(st.integers(0, 2**32 - 1))
    d = draw(st.integers(1, 4))
    k_true = draw(st.integers(1, 4))
    n = draw(st.integers(20, 200))
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=draw(st.floats(0.5, 20)), size=(k_true, d))
    scales = rng.uniform(0.1, 3.0, size=k_true)
    labels = rng.integers(k_true, size=n)
    x = centers[labels] + rng.normal(size=(n, d)) * scales[labels, None]
    x = x * draw(st.floats(1e-2, 1e3)) + draw(st.floats(-1e3, 1e3))
    k = draw(st.integers(1, max_components))
    return x, k, seed


common = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(x, k, covariance_type, seed, iterations=15, reg_covar=1e-6):
    data = EMData(x, covariance_type)
    p0 = initialize(data, x, k, "kmeans", check_random_state(seed), reg_covar)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(em_steps(data, p0, tol=0, max_iter=iterations, reg_covar=reg_covar))


@common
@given(mixtures(), covariance_types)
def test_responsibilities_and_weights_sum_to_one(case, covariance_type):
    x, k, seed = case
    for snap in run(x, k, covariance_type, seed)[1:]:
        np.testing.assert_allclose(snap.responsibilities.sum(axis=1), 1.0, rtol=1e-12)
        assert np.all(snap.responsibilities >= 0)
        assert abs(snap.params.weights.sum() - 1.0) < 1e-12


@common
@given(mixtures(), covariance_types)
def test_covariances_stay_symmetric_positive_definite(case, covariance_type):
    x, k, seed = case
    for snap in run(x, k, covariance_type, seed):
        full = snap.params.full_covariances()
        np.testing.assert_allclose(full, np.swapaxes(full, 1, 2), rtol=0, atol=1e-12 * np.abs(full).max())
        assert np.all(np.linalg.eigvalsh(full) > 0)


@common
@given(mixtures(), covariance_types)
def test_log_likelihood_never_decreases(case, covariance_type):
    x, k, seed = case
    # reg_covar moves the M-step away from the exact maximiser by about reg_covar / variance
    # (scikit-learn's log-likelihood dips the same way on data of scale 1e-2 with the
    # default 1e-6), so monotonicity is a property of EM with a negligible reg_covar.
    reg_covar = 1e-10 * float(np.var(x, axis=0).min())
    snaps = run(x, k, covariance_type, seed, 25, reg_covar=reg_covar)
    e_steps = [s for s in snaps if s.half_step == "E"]
    lls = np.array([s.log_likelihood for s in e_steps])
    # Float noise of the expanded quadratic forms (see em.py) is about eps·(R/σ)², with R
    # the data's radius and σ the narrowest component's smallest standard deviation: tiny
    # unless a component is collapsing onto a few points, where it can reach 1e-6.
    radius2 = float(np.max(np.sum((x - x.mean(axis=0)) ** 2, axis=1)))
    sigma2 = np.array([np.linalg.eigvalsh(s.params.full_covariances()).min() for s in e_steps[1:]])
    noise = 64 * np.finfo(float).eps * radius2 / sigma2
    assert np.all(np.diff(lls) >= -(1e-9 * np.maximum(1.0, np.abs(lls[1:])) + noise))


@common
@given(mixtures(), covariance_types, st.integers(0, 2**32 - 1))
def test_permuting_rows_changes_nothing(case, covariance_type, perm_seed):
    x, k, seed = case
    order = np.random.default_rng(perm_seed).permutation(len(x))
    data, data_perm = EMData(x, covariance_type), EMData(x[order], covariance_type)
    p0 = initialize(data, x, k, "kmeans", check_random_state(seed), 1e-6)
    a = list(em_steps(data, p0, tol=0, max_iter=10))[-1]
    b = list(em_steps(data_perm, p0, tol=0, max_iter=10))[-1]
    scale = max(1.0, np.abs(x).max())
    np.testing.assert_allclose(a.params.means, b.params.means, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(a.params.weights, b.params.weights, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.responsibilities[order], b.responsibilities, atol=1e-7)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 5), st.integers(1, 4), covariance_types)
def test_recovers_the_true_means_of_well_separated_mixtures(seed, k, d, covariance_type):
    rng = np.random.default_rng(seed)
    centers = np.zeros((k, d))
    centers[:, 0] = 12.0 * np.arange(k)  # 12 standard deviations apart
    centers += rng.normal(size=(k, d))
    x = np.concatenate([c + rng.normal(size=(200, d)) for c in centers])
    model = GaussianMixture(k, covariance_type=covariance_type, n_init=3, random_state=seed).fit(x)
    found = model.means_[np.argsort(model.means_[:, 0])]
    np.testing.assert_allclose(found, centers, atol=0.35)
