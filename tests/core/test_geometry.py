"""Ellipses, coverage, projections and colour matching (Qt-free)."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_studio.core.geometry import (
    Projection,
    coverage_of_radius,
    ellipse_outline,
    label_classes,
    match_colors,
    match_labels,
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


@pytest.mark.parametrize("dim", [1, 2, 3, 5])
@pytest.mark.parametrize("radius", [0.0, 0.5, 1.0, 2.0, 3.5])
def test_coverage_is_the_chi_square_probability(radius, dim):
    from scipy.stats import chi2  # the reference; the program itself does not import it

    assert coverage_of_radius(radius, dim) == pytest.approx(chi2.cdf(radius**2, dim), abs=1e-12)
    if 0 < radius:
        p = chi2.cdf(radius**2, dim)
        assert radius_for_coverage(p, dim) == pytest.approx(radius, rel=1e-9)


def test_geometry_does_not_import_scipy_stats():
    # scipy.stats cost about a second of start-up; the window imports geometry at once.
    code = "import sys, gmm_studio.core.geometry; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


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


def test_two_columns_shown_as_they_are_are_not_copied():
    x = np.random.default_rng(3).normal(size=(40, 2))
    pts = Projection.default_for(x).project_points(x)
    np.testing.assert_array_equal(pts, x)
    assert np.shares_memory(pts, x)  # 160 MB saved at 1e7 points


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


def test_pca_of_unscaled_columns_names_the_dominant_column_and_says_to_standardise():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 3)) * np.array([1.0, 2000.0, 1.5])
    proj = Projection.pca(x, names=["height", "income", "age"])
    assert proj.axis_titles[0].startswith("PC1 (100.0 %")
    assert "dominated by income" in proj.axis_titles[0]
    assert "standardise to compare shapes" in proj.axis_titles[0]
    assert "PC1 is mostly column income" in proj.note and "Standardise" in proj.note
    # default_for passes the names on
    assert "income" in Projection.default_for(x, ["height", "income", "age"]).axis_titles[0]


def test_pca_of_comparable_columns_has_no_warning():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(400, 3)) * np.array([1.0, 5.0, 2.0])  # 5× apart: fine
    proj = Projection.pca(x, names=["a", "b", "c"])
    assert "dominated" not in " ".join(proj.axis_titles)
    assert proj.note == ""
    standardised = (x * [1, 1000, 1] - 0) / (x * [1, 1000, 1]).std(axis=0)
    assert Projection.pca(standardised).note == ""


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


def test_label_classes_orders_numbers_as_numbers():
    classes, codes = label_classes(np.array(["10", "2", "1", "2"], dtype=object))
    assert list(classes) == ["1", "2", "10"]
    assert list(classes[codes]) == ["10", "2", "1", "2"]
    classes, _ = label_classes(["b", "a", "10"])
    assert list(classes) == ["10", "a", "b"]


def test_match_labels_pairs_each_class_with_the_component_it_overlaps():
    labels = np.array(["setosa"] * 5 + ["versicolor"] * 5 + ["virginica"] * 5)
    # components are numbered differently from the classes, with one mistake
    assignments = np.array([2] * 5 + [0] * 4 + [1] + [1] * 5)
    classes, component = match_labels(labels, assignments, 3)
    assert list(classes) == ["setosa", "versicolor", "virginica"]
    assert list(component) == [2, 0, 1]


def test_match_labels_leaves_extra_classes_unmatched_and_uses_each_component_once():
    labels = np.array(list("aaabbbccd"))
    assignments = np.array([0, 0, 0, 1, 1, 1, 1, 1, 0])
    classes, component = match_labels(labels, assignments, 2)
    assert list(component[:2]) == [0, 1]
    assert sorted(component[2:]) == [-1, -1]


def test_match_labels_rejects_bad_assignments():
    with pytest.raises(ValueError, match="one per point"):
        match_labels(["a", "b"], [0], 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        match_labels(["a", "b"], [0, 2], 2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60),
       st.integers(1, 5))
def test_match_labels_is_one_to_one_and_maximises_the_overlap(pairs, k):
    from itertools import permutations

    labels = np.array([str(c) for c, _ in pairs])
    assignments = np.array([a % k for _, a in pairs])
    classes, component = match_labels(labels, assignments, k)
    matched = component[component >= 0]
    assert len(set(matched.tolist())) == len(matched) == min(len(classes), k)

    table = [[int(np.sum((labels == c) & (assignments == j))) for j in range(k)] for c in classes]

    def overlap(comp):
        return sum(table[i][j] for i, j in enumerate(comp) if j >= 0)

    # Brute force over every distinct one-to-one pairing of classes with components
    # (-1: the class is left unmatched).
    pairings = set(permutations(list(range(k)) + [-1] * len(classes), len(classes)))
    best = max(overlap(perm) for perm in pairings)
    assert overlap(component) == best


def test_nearest_centres_in_blocks_is_scipys_vq(monkeypatch):
    from scipy.cluster.vq import vq

    from gmm_studio.core import geometry

    rng = np.random.default_rng(3)
    x, centres = rng.normal(size=(1000, 3)), rng.normal(size=(5, 3))
    monkeypatch.setattr(geometry, "_NEAREST_ROWS", 64)  # many blocks, and a short last one
    labels, distances = geometry.nearest_centres(x, centres)
    expected_labels, expected_distances = vq(x, centres)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(distances, expected_distances)
    assert labels.dtype == np.intp
