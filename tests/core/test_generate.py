"""Tests for the synthetic data generator and the comparison with the truth.

Statistical checks use a fixed seed, so they are deterministic; their tolerances
are still derived from standard errors at a small false-alarm rate ``ALPHA``
(Bonferroni-corrected over the quantities checked), so a different seed would
pass as well with overwhelming probability.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import pdist

from gmm_studio.core.generate import (
    BLOCK_ROWS,
    GAUSSIAN_SHAPES,
    MAX_SEPARATION,
    MIN_SEPARATION,
    PLANAR_SHAPES,
    SHAPES,
    ComponentError,
    GeneratorSettings,
    SyntheticData,
    adjusted_rand_index,
    compare_to_truth,
    generate,
    match_components,
    sample_mixture,
    stream,
)
from gmm_studio.core.params import MixtureParams

ALPHA = 1e-6
N_LARGE = 20_000
NON_GAUSSIAN_SHAPES = tuple(s for s in SHAPES if s not in GAUSSIAN_SHAPES)


def _z(n_tests: int) -> float:
    """Two-sided normal quantile for ``n_tests`` simultaneous checks at level ALPHA."""
    return float(stats.norm.isf(ALPHA / (2 * n_tests)))


# --------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("shape", SHAPES)
def test_same_seed_gives_identical_data(shape):
    s = GeneratorSettings(n_components=4, n_samples=500, n_features=3, shape=shape, outlier_fraction=0.1, seed=7)
    a, b = generate(s), generate(s)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.description == b.description
    if a.truth is None:
        assert b.truth is None
    else:
        np.testing.assert_array_equal(a.truth.means, b.truth.means)
        np.testing.assert_array_equal(a.truth.covariances, b.truth.covariances)
        np.testing.assert_array_equal(a.truth.weights, b.truth.weights)


@pytest.mark.parametrize("shape", SHAPES)
def test_different_seed_gives_different_data(shape):
    a = generate(GeneratorSettings(n_samples=200, shape=shape, seed=1))
    b = generate(GeneratorSettings(n_samples=200, shape=shape, seed=2))
    assert not np.array_equal(a.values, b.values)
    if a.truth is not None:
        assert not np.array_equal(a.truth.means, b.truth.means)


def test_result_is_read_only_and_typed():
    data = generate(GeneratorSettings(n_samples=100))
    assert data.values.dtype == np.float64 and data.values.shape == (100, 2)
    assert data.labels.dtype == np.int64 and data.labels.shape == (100,)
    with pytest.raises(ValueError):
        data.values[0, 0] = 1.0
    with pytest.raises(ValueError):
        data.labels[0] = 1
    assert isinstance(data, SyntheticData)
    assert data.settings == GeneratorSettings(n_samples=100)


# --------------------------------------------------------------------------- statistics


def test_label_frequencies_match_requested_weights():
    weights = (5.0, 1.0, 2.0, 0.5)
    s = GeneratorSettings(n_components=4, n_samples=N_LARGE, weights=weights, seed=3)
    data = generate(s)
    expected = np.asarray(weights) / sum(weights)
    np.testing.assert_allclose(data.truth.weights, expected)
    counts = np.bincount(data.labels, minlength=4)
    assert stats.chisquare(counts, N_LARGE * expected).pvalue > ALPHA


@pytest.mark.parametrize("k", [1, 2, 5, 20])
def test_imbalanced_weights_are_geometric_from_ten_to_one(k):
    w = GeneratorSettings(n_components=k, n_samples=100, weights="imbalanced").mixing_weights()
    assert w.sum() == pytest.approx(1.0)
    assert np.all(np.diff(w) <= 0)
    if k > 1:
        assert w[0] / w[-1] == pytest.approx(10.0)
        assert np.allclose(w[1:] / w[:-1], w[1] / w[0])


@pytest.mark.parametrize("shape", GAUSSIAN_SHAPES)
def test_sample_means_and_covariances_match_truth(shape):
    k, d = 3, 3
    data = generate(GeneratorSettings(n_components=k, n_samples=N_LARGE, n_features=d, shape=shape, seed=11))
    truth = data.truth
    covs = truth.full_covariances()
    z_cov = _z(k * d * (d + 1) // 2)
    chi2_limit = stats.chi2.isf(ALPHA / k, d)
    for j in range(k):
        x = data.values[data.labels == j]
        n = len(x)
        # Mean: n (x̄ - μ)ᵀ Σ⁻¹ (x̄ - μ) ~ χ²_D exactly for Gaussian data.
        diff = x.mean(axis=0) - truth.means[j]
        assert n * diff @ np.linalg.solve(covs[j], diff) < chi2_limit
        # Covariance, entry by entry: Var(S_ij) = (Σ_ij² + Σ_ii Σ_jj) / (n - 1).
        sample = np.cov(x, rowvar=False)
        se = np.sqrt((covs[j] ** 2 + np.outer(np.diag(covs[j]), np.diag(covs[j]))) / (n - 1))
        iu = np.triu_indices(d)
        assert np.all(np.abs(sample - covs[j])[iu] <= z_cov * se[iu])


def test_labels_are_consistent_with_truth():
    # Squared Mahalanobis distances of a component's points to its own true
    # parameters are χ²_D: a mislabelled point would break this.
    k, d = 4, 2
    data = generate(GeneratorSettings(n_components=k, n_samples=N_LARGE, n_features=d, separation=2.0, seed=5))
    covs = data.truth.full_covariances()
    for j in range(k):
        r = data.values[data.labels == j] - data.truth.means[j]
        m2 = np.einsum("ni,ni->n", r, np.linalg.solve(covs[j], r.T).T)
        assert stats.kstest(m2, stats.chi2(d).cdf).pvalue > ALPHA / k


def test_sample_mixture_draws_component_then_point():
    params = MixtureParams(
        "diag",
        weights=[0.2, 0.8],
        means=[[-10.0, 0.0], [10.0, 0.0]],
        covariances=[[1.0, 4.0], [0.25, 1.0]],
    )
    values, labels = sample_mixture(params, N_LARGE, np.random.default_rng(0))
    assert values.shape == (N_LARGE, 2) and labels.shape == (N_LARGE,)
    # Binomial check of the categorical draw.
    assert stats.binomtest(int(np.sum(labels == 0)), N_LARGE, 0.2).pvalue > ALPHA
    # Far-apart means: each point lies on the side of the component that drew it.
    assert np.all((values[:, 0] > 0) == (labels == 1))
    again = sample_mixture(params, N_LARGE, np.random.default_rng(0))
    np.testing.assert_array_equal(values, again[0])
    np.testing.assert_array_equal(labels, again[1])


def test_sample_mixture_accepts_singular_covariance_and_zero_samples():
    params = MixtureParams("full", [1.0], [[1.0, 2.0]], [[[1.0, 1.0], [1.0, 1.0]]])
    values, labels = sample_mixture(params, 1000, np.random.default_rng(0))
    # All mass on the line x - y = -1.
    np.testing.assert_allclose(values[:, 0] - values[:, 1], -1.0, atol=1e-9)
    empty_values, empty_labels = sample_mixture(params, 0, np.random.default_rng(0))
    assert empty_values.shape == (0, 2) and empty_labels.shape == (0,)


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("shape", GAUSSIAN_SHAPES)
@pytest.mark.parametrize("d", [2, 3, 10])
def test_separation_is_closest_mean_distance_in_largest_std_units(shape, d):
    separation = 4.0
    data = generate(GeneratorSettings(n_components=6, n_samples=100, n_features=d, shape=shape, separation=separation))
    truth = data.truth
    assert truth.covariance_type == "full"
    largest_std = np.sqrt(np.linalg.eigvalsh(truth.covariances).max())
    assert largest_std == pytest.approx(1.0)
    assert pdist(truth.means).min() == pytest.approx(separation * largest_std)


@pytest.mark.parametrize("d", [2, 5])
def test_rotated_components_have_aspect_ratio_three_to_six(d):
    data = generate(GeneratorSettings(n_components=8, n_samples=100, n_features=d, shape="rotated"))
    eig = np.linalg.eigvalsh(data.truth.covariances)
    aspect = np.sqrt(eig[:, -1] / eig[:, 0])
    assert np.all((aspect >= 3.0 - 1e-9) & (aspect <= 6.0 + 1e-9))
    if d == 2:
        # Orientations differ between components (not all axis-aligned).
        assert np.any(np.abs(data.truth.covariances[:, 0, 1]) > 1e-3)


def test_covariance_families():
    spherical = generate(GeneratorSettings(n_components=5, n_features=3, shape="spherical")).truth.covariances
    for cov in spherical:
        np.testing.assert_allclose(cov, cov[0, 0] * np.eye(3))
    assert np.ptp(spherical[:, 0, 0]) > 0  # sizes vary
    diag = generate(GeneratorSettings(n_components=5, n_features=3, shape="axis_aligned")).truth.covariances
    np.testing.assert_array_equal(diag * (1 - np.eye(3)), 0.0)
    aniso = generate(GeneratorSettings(n_components=5, n_features=3, shape="anisotropic")).truth.covariances
    np.testing.assert_allclose(aniso, np.broadcast_to(aniso[0], aniso.shape))
    assert np.abs(aniso[0] - np.diag(np.diag(aniso[0]))).max() > 0.1  # sheared


def test_moons_rings_and_square():
    moons = generate(GeneratorSettings(n_components=7, n_samples=2000, shape="moons", separation=5.0))
    assert moons.truth is None
    assert set(np.unique(moons.labels)) == {0, 1}

    k = 4
    rings = generate(GeneratorSettings(n_components=k, n_samples=4000, n_features=4, shape="rings", separation=10.0))
    assert rings.truth is None
    assert set(np.unique(rings.labels)) == set(range(k))
    radius = np.linalg.norm(rings.values[:, :2], axis=1)
    for j in range(k):
        assert np.median(radius[rings.labels == j]) == pytest.approx(j + 1, abs=0.05)
    assert rings.values[:, 2:].std() == pytest.approx(0.1, rel=0.1)  # padding noise = 1 / separation

    square = generate(GeneratorSettings(n_samples=1000, shape="uniform_square"))
    assert square.truth is None
    np.testing.assert_array_equal(square.labels, 0)
    assert np.all(np.abs(square.values) <= 1.0)


# --------------------------------------------------------------------------- outliers


@pytest.mark.parametrize("shape", ["rotated", "moons"])
def test_outlier_fraction_is_respected_and_outliers_fill_the_padded_box(shape):
    n, fraction = 5000, 0.2
    data = generate(GeneratorSettings(n_samples=n, outlier_fraction=fraction, shape=shape, seed=4))
    outlier = data.labels == -1
    assert outlier.sum() == round(fraction * n)
    inliers, outliers = data.values[~outlier], data.values[outlier]
    low, high = inliers.min(axis=0), inliers.max(axis=0)
    pad = 0.1 * (high - low)
    assert np.all(outliers >= low - pad) and np.all(outliers <= high + pad)
    # Uniform over the padded box: each coordinate passes a KS test.
    for axis in range(2):
        u = stats.uniform(low[axis] - pad[axis], high[axis] - low[axis] + 2 * pad[axis])
        assert stats.kstest(outliers[:, axis], u.cdf).pvalue > ALPHA
    # Mixed in, not appended.
    assert not np.all(outlier[-outlier.sum() :])


def test_outliers_never_take_every_point():
    data = generate(GeneratorSettings(n_components=1, n_samples=1, outlier_fraction=0.5))
    assert data.labels.tolist() == [0]


# --------------------------------------------------------------------------- description


def test_description_is_one_readable_sentence():
    assert generate(GeneratorSettings()).description == "3 rotated, elongated Gaussian components, 1000 points, seed 0"
    text = generate(
        GeneratorSettings(n_components=1, n_samples=50, n_features=4, shape="spherical", outlier_fraction=0.1, seed=9)
    ).description
    assert text == "1 spherical Gaussian component, in 4 dimensions, 10% uniform outliers, 50 points, seed 9"
    text = generate(GeneratorSettings(n_components=4, weights="imbalanced", outlier_fraction=0.025)).description
    assert text == "4 rotated, elongated Gaussian components, imbalanced weights, 2.5% uniform outliers, 1000 points, seed 0"
    assert "moons" in generate(GeneratorSettings(shape="moons")).description


# --------------------------------------------------------------------------- matching and ARI


def test_match_components_recovers_a_known_permutation():
    rng = np.random.default_rng(0)
    true_means = rng.normal(scale=10.0, size=(6, 3))
    permutation = rng.permutation(6)
    fitted = true_means[permutation] + rng.normal(scale=0.1, size=(6, 3))
    result = match_components(true_means, fitted)
    # fitted[p] came from true component permutation[p].
    np.testing.assert_array_equal(permutation[result], np.arange(6))


def test_match_components_with_different_counts():
    true_means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    fewer = np.array([[0.1, 9.9], [0.2, 0.1]])
    np.testing.assert_array_equal(match_components(true_means, fewer), [1, -1, 0])
    more = np.array([[50.0, 50.0], [0.0, 10.1], [9.8, 0.0], [0.0, 0.3]])
    np.testing.assert_array_equal(match_components(true_means, more), [3, 2, 1])
    with pytest.raises(ValueError, match="same D"):
        match_components(true_means, np.zeros((3, 3)))


label_arrays = st.integers(min_value=1, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(-1, 5), min_size=n, max_size=n),
        st.lists(st.integers(0, 8), min_size=n, max_size=n),
    )
)


@settings(max_examples=60, deadline=None)
@given(label_arrays)
def test_adjusted_rand_index_equals_sklearn(pair):
    metrics = pytest.importorskip("sklearn.metrics")
    a, b = pair
    assert adjusted_rand_index(a, b) == pytest.approx(metrics.adjusted_rand_score(a, b), abs=1e-12)


def test_adjusted_rand_index_equals_sklearn_on_large_random_labelings():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    for n, ka, kb in [(10_000, 3, 3), (5000, 20, 7), (3000, 3000, 2), (2, 1, 2)]:
        a, b = rng.integers(0, ka, n), rng.integers(0, kb, n)
        assert adjusted_rand_index(a, b) == pytest.approx(metrics.adjusted_rand_score(a, b), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=2, max_size=80), st.randoms(use_true_random=False))
def test_adjusted_rand_index_is_one_up_to_relabelling(labels, random):
    names = list(range(7))
    random.shuffle(names)
    relabelled = [f"c{names[x]}" for x in labels]
    assert adjusted_rand_index(labels, relabelled) == 1.0


def test_adjusted_rand_index_edge_cases():
    assert adjusted_rand_index([], []) == 1.0
    assert adjusted_rand_index([3], [7]) == 1.0
    assert adjusted_rand_index([0, 0, 0], [1, 1, 1]) == 1.0
    assert adjusted_rand_index([0, 1, 2], [5, 6, 7]) == 1.0
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) < 0
    with pytest.raises(ValueError, match="same length"):
        adjusted_rand_index([0, 1], [0, 1, 2])


def test_compare_to_truth_with_a_relabelled_perturbed_fit():
    data = generate(GeneratorSettings(n_components=3, n_samples=600, outlier_fraction=0.05, seed=2))
    truth = data.truth
    order = np.array([2, 0, 1])  # fitted component p is true component order[p]
    means = truth.means[order] + np.array([[0.3, 0.4], [0.0, 0.0], [0.0, 0.0]])
    covs = truth.covariances[order] * np.array([1.1, 1.0, 1.0])[:, None, None]
    weights = truth.weights[order] + np.array([0.05, -0.05, 0.0])
    fitted = MixtureParams("full", weights, means, covs)
    inverse = np.argsort(order)
    fitted_labels = np.where(data.labels >= 0, inverse[data.labels], -1)

    errors, ari = compare_to_truth(truth, fitted, data.labels, fitted_labels)
    assert [e.true_index for e in errors] == [0, 1, 2]
    assert [e.fitted_index for e in errors] == list(inverse)
    by_true = {e.true_index: e for e in errors}
    assert by_true[2] == ComponentError(2, 0, pytest.approx(0.5), pytest.approx(0.05), pytest.approx(0.1))
    assert by_true[0].mean_error == 0.0 and by_true[0].covariance_error == 0.0
    assert ari == 1.0

    # Outliers are a class of their own: calling them component 0 lowers the ARI.
    merged = np.where(fitted_labels == -1, 0, fitted_labels)
    assert compare_to_truth(truth, fitted, data.labels, merged)[1] < 1.0
    assert compare_to_truth(truth, fitted)[1] is None


def test_compare_to_truth_with_fewer_fitted_components_and_other_covariance_type():
    truth = MixtureParams("full", [0.5, 0.5], [[0.0, 0.0], [10.0, 0.0]], np.stack([np.eye(2), 2 * np.eye(2)]))
    fitted = MixtureParams("spherical", [1.0], [[9.0, 0.0]], [2.0])
    errors, ari = compare_to_truth(truth, fitted)
    assert len(errors) == 1
    assert (errors[0].true_index, errors[0].fitted_index) == (1, 0)
    assert errors[0].covariance_error == pytest.approx(0.0)
    assert ari is None
    with pytest.raises(ValueError, match="both"):
        compare_to_truth(truth, fitted, true_labels=[0, 1])


# --------------------------------------------------------------------------- invariants


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 20),
    d=st.integers(1, 10),
    shape=st.sampled_from(SHAPES),
    weights=st.sampled_from(["equal", "imbalanced"]),
    separation=st.one_of(st.floats(MIN_SEPARATION, MAX_SEPARATION),
                         st.sampled_from([MIN_SEPARATION, MAX_SEPARATION])),
    outlier_fraction=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_generated_data_invariants(k, d, shape, weights, separation, outlier_fraction, seed):
    n = 200
    if d == 1 and shape in PLANAR_SHAPES:
        with pytest.raises(ValueError, match="needs at least 2 dimensions"):
            GeneratorSettings(k, n, d, weights, separation, shape, outlier_fraction, seed)
        return
    s = GeneratorSettings(k, n, d, weights, separation, shape, outlier_fraction, seed)
    data = generate(s)
    assert data.values.shape == (n, d) and np.all(np.isfinite(data.values))
    assert (data.labels == -1).sum() == s.n_outliers
    inlier_labels = data.labels[data.labels >= 0]
    if shape in GAUSSIAN_SHAPES:
        truth = data.truth
        assert truth.covariance_type == "full" and truth.means.shape == (k, d)
        assert truth.weights.sum() == pytest.approx(1.0)
        covs = truth.covariances
        np.testing.assert_allclose(covs, np.swapaxes(covs, 1, 2))
        assert np.all(np.linalg.eigvalsh(covs) > 0)
        assert np.all(inlier_labels < k)
        if k > 1:
            assert pdist(truth.means).min() == pytest.approx(separation)
    else:
        assert data.truth is None
        n_labels = {"moons": 2, "rings": k, "uniform_square": 1}[shape]
        assert np.all(inlier_labels < n_labels)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_components": 0}, r"n_components must be between 1 and 20; got 0"),
        ({"n_components": 21}, r"n_components must be between 1 and 20; got 21"),
        ({"n_components": 2.5}, r"n_components must be an integer"),
        ({"n_components": 5, "n_samples": 4}, r"n_samples \(4\) is smaller than n_components \(5\).*more samples"),
        ({"n_features": 0}, r"n_features must be between 1 and 10; got 0"),
        ({"n_features": 11}, r"n_features must be between 1 and 10; got 11"),
        ({"n_samples": 10**8 + 1}, r"n_samples must be at most 100,000,000"),
        ({"n_features": 1, "shape": "moons"}, r"'moons' is drawn in a plane and needs at least 2"),
        ({"n_features": 1, "shape": "rings"}, r"'rings' .* needs at least 2 dimensions"),
        ({"weights": (1e308, 1e308, 1.0)}, r"too large to add up"),
        ({"weights": (1.0, 2.0)}, r"weights has 2 entries but n_components is 3"),
        ({"weights": (1.0, 0.0, 2.0)}, r"weights must all be positive"),
        ({"weights": (1.0, -1.0, 2.0)}, r"weights must all be positive"),
        ({"weights": "skewed"}, r"Unknown weights 'skewed'.*'equal', 'imbalanced'"),
        ({"outlier_fraction": 0.6}, r"outlier_fraction must be between 0 and 0.5"),
        ({"outlier_fraction": -0.1}, r"outlier_fraction must be between 0 and 0.5"),
        ({"separation": 0.0}, r"separation must be a positive number from 0.01 to 1000"),
        ({"separation": float("nan")}, r"separation must be a positive"),
        ({"separation": 1e-200}, r"separation must be a positive number from 0.01 to 1000"),
        ({"separation": 1e4}, r"separation must be a positive number from 0.01 to 1000"),
        ({"separation": "far"}, r"separation must be a positive"),
        ({"shape": "blobs"}, r"Unknown shape 'blobs': choose one of 'spherical', .*'anisotropic'"),
        ({"seed": -1}, r"seed must be a non-negative integer"),
    ],
)
def test_invalid_settings_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GeneratorSettings(**kwargs)


def test_settings_normalise_types():
    s = GeneratorSettings(n_components=np.int64(3), weights=[1, 2, 3], separation=2)
    assert type(s.n_components) is int and s.weights == (1.0, 2.0, 3.0) and s.separation == 2.0
    assert hash(s) == hash(GeneratorSettings(weights=(1.0, 2.0, 3.0), separation=2.0))


# --------------------------------------------------------------------------- layering


def test_generate_imports_no_sklearn_and_no_qt():
    code = (
        "import sys, gmm_studio.core.generate; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sklearn', 'PySide6', 'pyqtgraph')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- one dimension


@pytest.mark.parametrize("shape", GAUSSIAN_SHAPES)
def test_one_dimensional_gaussian_mixtures(shape):
    s = GeneratorSettings(n_components=3, n_samples=N_LARGE, n_features=1, shape=shape,
                          separation=6.0, seed=2)
    data = generate(s)
    assert data.values.shape == (N_LARGE, 1) and np.all(np.isfinite(data.values))
    truth = data.truth
    assert truth.means.shape == (3, 1) and truth.covariances.shape == (3, 1, 1)
    assert pdist(truth.means).min() == pytest.approx(6.0)
    assert truth.covariances.max() == pytest.approx(1.0)  # the widest has standard deviation 1
    for j in range(3):
        members = data.values[data.labels == j, 0]
        se = np.sqrt(truth.covariances[j, 0, 0] / members.size)
        assert abs(members.mean() - truth.means[j, 0]) < _z(9) * se
    if shape == "anisotropic":
        np.testing.assert_allclose(truth.covariances, 1.0)  # nothing to shear: one width
    words = "of one width" if shape == "anisotropic" else "of different widths"
    assert data.description == f"3 Gaussian components {words}, in 1 dimension, {N_LARGE} points, seed 2"


def test_one_dimensional_uniform_interval():
    data = generate(GeneratorSettings(n_samples=500, n_features=1, shape="uniform_square",
                                      outlier_fraction=0.1))
    assert data.values.shape == (500, 1) and data.truth is None
    assert np.all(np.abs(data.values[data.labels == 0]) <= 1.0)
    assert data.description.startswith("a uniform interval (no clusters), in 1 dimension")


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("shape, fraction", [("rotated", 0.0), ("random", 0.1), ("moons", 0.3)])
def test_stream_blocks_are_the_generated_data(shape, fraction):
    n = 2 * BLOCK_ROWS + 123
    s = GeneratorSettings(n_components=4, n_samples=n, n_features=3, shape=shape,
                          outlier_fraction=fraction, seed=5)
    source = stream(s)
    blocks = list(source.blocks())
    assert [len(labels) for _, labels in blocks] == [BLOCK_ROWS, BLOCK_ROWS, 123]
    values = np.vstack([v for v, _ in blocks])
    labels = np.concatenate([lab for _, lab in blocks])
    data = generate(s)
    np.testing.assert_array_equal(values, data.values)
    np.testing.assert_array_equal(labels, data.labels)
    assert source.description == data.description
    again = np.vstack([v for v, _ in source.blocks()])  # every pass draws the same blocks
    np.testing.assert_array_equal(again, values)
    assert (labels == -1).sum() == s.n_outliers
    if fraction:
        outlier = labels == -1
        low, high = values[~outlier].min(axis=0), values[~outlier].max(axis=0)
        pad = 0.1 * (high - low)
        assert np.all(values[outlier] >= low - pad) and np.all(values[outlier] <= high + pad)
        # every block holds its share of outliers: mixed in, not gathered at one end
        shares = [(lab == -1).mean() for _, lab in blocks[:2]]
        assert all(abs(share - fraction) < 0.02 for share in shares)
