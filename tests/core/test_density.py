"""Mixture densities on grids: 2-D log p, the projected density for D > 2, 1-D curves."""

import numpy as np
import pytest
from scipy.integrate import trapezoid
from scipy.stats import multivariate_normal, norm

from gmm_studio.core.density import density_1d, density_grid, project_mixture
from gmm_studio.core.geometry import Projection
from gmm_studio.core.params import MixtureParams


def mixture_2d():
    return MixtureParams("full", [0.3, 0.7], [[0.0, 0.0], [3.0, 1.0]],
                         [[[1.0, 0.4], [0.4, 0.5]], [[0.3, 0.0], [0.0, 2.0]]])


def reference_log_density(params, points):
    full = params.full_covariances()
    total = sum(w * multivariate_normal(m, c).pdf(points)
                for w, m, c in zip(params.weights, params.means, full))
    return np.atleast_1d(np.log(total))


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_grid_matches_scipy_and_integrates_to_one(covariance_type):
    base = mixture_2d()
    covariances = {"full": base.covariances, "tied": base.covariances[0],
                   "diag": np.array([[1.0, 0.5], [0.3, 2.0]]), "spherical": np.array([1.0, 0.6])}
    params = MixtureParams(covariance_type, base.weights, base.means, covariances[covariance_type])
    grid = density_grid(params, (-6, 9, -7, 8), shape=(150, 200))
    assert grid.log_density.shape == (150, 200) and not grid.projected
    assert grid.bounds == (-6.0, 9.0, -7.0, 8.0)
    i, j = 40, 130  # row i is y[i], column j is x[j]
    point = np.array([[grid.x[j], grid.y[i]]])
    assert grid.log_density[i, j] == pytest.approx(reference_log_density(params, point)[0], rel=1e-10)
    mass = trapezoid(trapezoid(np.exp(grid.log_density), grid.x, axis=1), grid.y)
    assert mass == pytest.approx(1.0, abs=2e-3)


def test_higher_dimensions_draw_the_projected_mixture():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4, 4))
    params = MixtureParams("full", [0.2, 0.3, 0.5], rng.normal(size=(3, 4)) * 3,
                           a @ a.transpose(0, 2, 1) + np.eye(4))
    x = rng.normal(size=(200, 4))
    projection = Projection.pca(x)
    grid = density_grid(params, (-8, 8, -8, 8), shape=(60, 70), projection=projection)
    assert grid.projected
    flat = project_mixture(params, projection)
    # The projected mixture is the distribution of P x: P μ_k (and P Σ_k Pᵀ, see geometry).
    np.testing.assert_allclose(flat.means, (params.means - projection.offset) @ projection.matrix.T)
    point = np.array([[grid.x[10], grid.y[20]]])
    assert grid.log_density[20, 10] == pytest.approx(reference_log_density(flat, point)[0], rel=1e-10)


def test_bad_requests_get_clear_messages():
    params = mixture_2d()
    with pytest.raises(ValueError, match="min < max"):
        density_grid(params, (1, 1, 0, 2))
    three = MixtureParams("spherical", [1.0], [[0.0, 0.0, 0.0]], [1.0])
    with pytest.raises(ValueError, match="projection"):
        density_grid(three, (0, 1, 0, 1))
    singular = MixtureParams("full", [1.0], [[0.0, 0.0]], [[[1.0, 1.0], [1.0, 1.0]]])
    with pytest.raises(ValueError, match="not positive definite"):
        density_grid(singular, (0, 1, 0, 1))


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_1d_component_densities_sum_to_the_mixture(covariance_type):
    covariances = {"full": [[[0.5]], [[2.0]]], "tied": [[1.5]], "diag": [[0.5], [2.0]],
                   "spherical": [0.5, 2.0]}[covariance_type]
    params = MixtureParams(covariance_type, [0.4, 0.6], [[-1.0], [2.0]], covariances)
    x = np.linspace(-8, 10, 2001)
    d = density_1d(params, x)
    variances = params.full_covariances()[:, 0, 0]
    for k in range(2):
        expected = params.weights[k] * norm(params.means[k, 0], np.sqrt(variances[k])).pdf(x)
        np.testing.assert_allclose(d.weighted[k], expected, rtol=1e-12)
    np.testing.assert_allclose(d.mixture, d.weighted.sum(axis=0))
    assert trapezoid(d.mixture, x) == pytest.approx(1.0, abs=1e-4)
    assert trapezoid(d.weighted[0], x) == pytest.approx(0.4, abs=1e-4)


def test_1d_refuses_other_dimensions():
    with pytest.raises(ValueError, match="1-D"):
        density_1d(mixture_2d(), [0.0])


def test_freedman_diaconis_bins_and_their_fallbacks():
    from gmm_studio.core.density import MAX_BINS, freedman_diaconis_bins, histogram_edges

    x = np.random.default_rng(0).normal(size=1000)
    q75, q25 = np.percentile(x, [75, 25])
    width = 2 * (q75 - q25) / 1000 ** (1 / 3)
    assert freedman_diaconis_bins(x) == int(np.ceil((x.max() - x.min()) / width))
    ties = np.array([0.0] * 50 + [1.0] * 3)  # IQR 0: Sturges
    assert freedman_diaconis_bins(ties) == int(np.ceil(np.log2(53) + 1))
    assert freedman_diaconis_bins(np.full(10, 3.0)) == 1
    edges = histogram_edges(np.full(10, 3.0))
    assert edges[0] < 3.0 < edges[-1]
    assert len(histogram_edges(x, 7)) == 8
    with pytest.raises(ValueError, match="bins"):
        histogram_edges(x, MAX_BINS + 1)


def test_stacked_histogram_parts_add_up_to_an_area_one_histogram():
    from gmm_studio.core.density import histogram_edges, stacked_histogram

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(-2, 1, 300), rng.normal(3, 0.5, 200)])
    resp = rng.dirichlet([1, 1, 1], size=len(x))
    edges = histogram_edges(x)
    heights, parts = stacked_histogram(x, edges, resp)
    assert (heights * np.diff(edges)).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(parts.sum(axis=0), heights, atol=1e-12)
    # the maximum lands in the last bin, as numpy.histogram counts it
    assert parts[:, -1].sum() == pytest.approx(heights[-1])
    assert stacked_histogram(x, edges)[1] is None
