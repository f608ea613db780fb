"""Every initialisation starts EM from a sensible model, not from needle-thin components.

A first E-step a million nats per point below the fit makes the likelihood plot and the bound
view useless for a teacher stepping from the start (tryout finding 2).
"""

import numpy as np
import pytest

from gmm_studio.core import EMData, em_steps
from gmm_studio.core.generate import GeneratorSettings, generate
from gmm_studio.core.init import INIT_METHODS, initialize


def _demo_values(dim):
    # the window's File > Load the demo data (2-D) and a 1-D generated mixture
    if dim == 2:
        return generate(GeneratorSettings(n_components=4, n_samples=3000, shape="rotated",
                                          seed=9)).values
    return generate(GeneratorSettings(n_components=3, n_samples=1000, n_features=1,
                                      seed=7)).values


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("method", INIT_METHODS)
def test_first_e_step_is_within_a_few_nats_of_the_fit(method, dim):
    x = _demo_values(dim)
    data = EMData(x, "full")
    start = initialize(data, x, 4, method, np.random.default_rng(0), 1e-6)
    snapshots = list(em_steps(data, start, tol=1e-6, max_iter=300, keep_responsibilities=False))
    first = next(s.log_likelihood for s in snapshots if s.half_step == "E")
    assert first > snapshots[-1].log_likelihood - 10.0


@pytest.mark.parametrize("method", INIT_METHODS)
def test_a_seeded_start_is_the_same_every_time(method):
    x = _demo_values(2)
    data = EMData(x, "full")
    a, b = (initialize(data, x, 4, method, np.random.default_rng(3), 1e-6) for _ in range(2))
    np.testing.assert_array_equal(a.means, b.means)
    np.testing.assert_array_equal(a.covariances, b.covariances)


@pytest.mark.parametrize("method", ["k-means++", "random_from_data"])
def test_a_seed_point_stays_the_mean_and_gets_its_neighbours_spread(method):
    x = _demo_values(2)
    data = EMData(x, "full")
    start = initialize(data, x, 4, method, np.random.default_rng(1), 1e-6)
    # the means are data points, as in scikit-learn; the covariances are far from reg_covar
    assert all((x == m).all(axis=1).any() for m in start.means)
    assert np.linalg.det(start.covariances).min() > 1e-4 * np.linalg.det(np.cov(x.T))


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("n_features", [1, 2, 60])  # 60: the per-component path (wide data)
def test_hard_labels_give_the_m_step_of_their_one_hot_responsibilities(covariance_type, n_features):
    # Initialisers pass hard assignments as labels (no N x K array); the M-step must be the
    # one their one-hot responsibilities give, bit for bit on the quadratic path.
    rng = np.random.default_rng(5)
    n, k = 20_000 if n_features < 60 else 600, 4
    x = rng.normal(size=(n, n_features)) + 3.0 * rng.integers(0, 3, size=(n, 1))
    labels = rng.integers(0, k, size=n)
    labels[:k] = np.arange(k)  # every component has a point
    one_hot = np.zeros((n, k))
    one_hot[np.arange(n), labels] = 1.0
    data = EMData(x, covariance_type)
    got = data.params_from_labels(labels, k, 1e-6)
    want = data.params_from_responsibilities(one_hot, 1e-6)
    for name in ("weights", "means", "covariances"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-12, atol=0)


def test_labels_for_other_data_are_refused():
    data = EMData(np.zeros((10, 2)) + np.arange(10)[:, None], "full")
    with pytest.raises(ValueError, match="9 labels for 10 points"):
        data.params_from_labels(np.zeros(9, dtype=int), 2, 1e-6)
