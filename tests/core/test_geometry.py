"""Ellipses, coverage, projections and colour matching (Qt-free)."""

import numpy as np
import pytest

from gmm_studio.core.geometry import (
    Projection,
    coverage_of_radius,
    ellipse_outline,
    match_colors,
    permute_params,
    radius_for_coverage,
)
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings


def test_coverage_of_one_and_two_sigma_in_the_plane():
    assert coverage_of_radius(1.0) == pytest.approx(1 - np.exp(-0.5))
    assert coverage_of_radius(2.0) == pytest.approx(1 - np.exp(-2.0))
    assert round(100 * coverage_of_radius(1.0), 1) == 39.3
    assert round(100 * coverage_of_radius(2.0), 1) == 86.5


@pytest.mark.parametrize("coverage", [0.1, 0.5, 0.95, 0.99])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_radius_for_coverage_inverts_coverage_of_radius(coverage, dim):
    assert coverage_of_radius(radius_for_coverage(coverage, dim), dim) == pytest.approx(coverage)


def test_radius_for_coverage_rejects_bounds():
    with pytest.raises(ValueError):
        radius_for_coverage(1.0)


def test_ellipse_outline_points_lie_on_the_mahalanobis_contour():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 2))
    cov = a @ a.T + 0.1 * np.eye(2)
    mean = np.array([3.0, -1.0])
    pts = ellipse_outline(mean, cov, 2.0, n=64)
    assert pts.shape == (65, 2)
    np.testing.assert_allclose(pts[0], pts[-1])
    d = pts - mean
    m2 = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
    np.testing.assert_allclose(m2, 4.0, rtol=1e-9)


def test_ellipse_outline_of_a_singular_covariance_is_flat_not_nan():
    pts = ellipse_outline([0, 0], [[1.0, 1.0], [1.0, 1.0 - 1e-17]], 1.0)
    assert np.all(np.isfinite(pts))
    np.testing.assert_allclose(pts[:, 0], pts[:, 1], atol=1e-7)


def test_pca_projection_titles_and_exact_projected_covariances():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 4)) * np.array([5.0, 2.0, 1.0, 0.5])
    proj = Projection.pca(x)
    assert proj.axis_titles[0].startswith("PC1 (") and "% of variance" in proj.axis_titles[0]
    np.testing.assert_allclose(proj.matrix @ proj.matrix.T, np.eye(2), atol=1e-12)
    pts = proj.project_points(x)
    assert pts.var(axis=0)[0] >= pts.var(axis=0)[1]
    cov = np.cov(x, rowvar=False)
    params = MixtureParams("full", [1.0], x.mean(axis=0)[None], cov[None])
    means2, covs2 = proj.project_params(params)
    np.testing.assert_allclose(means2[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(covs2[0], np.cov(pts, rowvar=False), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cov_type", ["full", "tied", "diag", "spherical"])
def test_column_projection_picks_the_columns(cov_type):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 3))
    proj = Projection.columns(3, 2, 0, names=["a", "b", "c"])
    assert proj.axis_titles == ("c", "a")
    np.testing.assert_array_equal(proj.project_points(x), x[:, [2, 0]])
    full = np.stack([np.diag([1.0, 2.0, 3.0]), np.diag([4.0, 5.0, 6.0])])
    covs = {"full": full, "tied": full[0], "diag": np.array([[1.0, 2, 3], [4, 5, 6]]),
            "spherical": np.array([1.0, 4.0])}[cov_type]
    params = MixtureParams(cov_type, [0.5, 0.5], x[:2], covs)
    means2, covs2 = proj.project_params(params)
    np.testing.assert_array_equal(means2, x[:2][:, [2, 0]])
    f = params.full_covariances()
    np.testing.assert_allclose(covs2, f[:, [2, 0]][:, :, [2, 0]])


def test_default_projection_is_identity_in_2d_and_pca_above():
    x = np.random.default_rng(3).normal(size=(20, 2))
    assert Projection.default_for(x).kind == "columns"
    assert Projection.default_for(np.hstack([x, x])).kind == "pca"


def test_match_colors_recovers_a_shuffle():
    rng = np.random.default_rng(4)
    prev = rng.normal(size=(6, 2)) * 10
    perm_true = rng.permutation(6)
    new = prev[perm_true] + 0.01
    perm = match_colors(prev, new)
    np.testing.assert_allclose(new[perm], prev + 0.01)


def test_match_colors_with_different_k():
    prev = np.array([[0.0, 0], [10, 10]])
    new = np.array([[5.0, 5], [10, 9], [0, 1]])
    perm = match_colors(prev, new)
    assert list(perm[:2]) == [2, 1] and sorted(perm) == [0, 1, 2]
    perm = match_colors(new, prev)
    assert sorted(perm) == [0, 1]


def test_permute_params_reorders_components():
    p = MixtureParams("diag", [0.2, 0.8], [[0, 0], [1, 1]], [[1, 1], [2, 2]])
    q = permute_params(p, [1, 0])
    np.testing.assert_array_equal(q.weights, [0.8, 0.2])
    np.testing.assert_array_equal(q.covariances, [[2, 2], [1, 1]])


def test_fit_settings_validate_and_round_trip():
    s = FitSettings(n_components=3, init_params="click")
    assert FitSettings.from_dict(s.to_dict()) == s
    assert FitSettings.from_dict({"n_components": "99", "tol": "x", "junk": 1}) == FitSettings()
    with pytest.raises(ValueError):
        FitSettings(n_components=0)
