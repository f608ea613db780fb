"""Every mistake a person can make gets a ValueError that says what to do."""

import numpy as np
import pytest

from gmm_studio.core import GaussianMixture, NotFittedError

X = np.random.default_rng(0).normal(size=(50, 2))


@pytest.mark.parametrize(
    "data, pattern",
    [
        (np.empty((0, 2)), "empty"),
        (np.ones(5), "1-D"),
        (np.ones((2, 2, 2)), "2-D"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "NaN or infinite"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), "NaN or infinite"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
        (np.array([[1e200, 1.0], [2.0, 3.0]]), "standardise"),
    ],
)
def test_bad_data(data, pattern):
    with pytest.raises(ValueError, match=pattern):
        GaussianMixture(1).fit(data)


def test_more_components_than_points():
    with pytest.raises(ValueError, match="lower K"):
        GaussianMixture(5).fit(X[:3])


@pytest.mark.parametrize(
    "options, pattern",
    [
        (dict(covariance_type="fulll"), "Unknown covariance_type 'fulll'.*'full'"),
        (dict(init_params="kmean"), "Unknown init_params 'kmean'.*'kmeans'"),
        (dict(n_components=0), "n_components must be an integer >= 1"),
        (dict(n_init=0), "n_init"),
        (dict(tol=-1.0), "tol must be a non-negative"),
        (dict(reg_covar=float("nan")), "reg_covar"),
        (dict(n_components=2, weights_init=[0.5, 0.6]), "sum to 1"),
        (dict(n_components=2, means_init=np.zeros((3, 2))), r"means_init must have shape \(2, 2\)"),
        (dict(n_components=2, precisions_init=np.ones((2, 2))), "precisions_init .* shape"),
        (dict(n_components=1, precisions_init=-np.eye(2)[None]), "positive definite"),
    ],
)
def test_bad_options(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        GaussianMixture(**options).fit(X)


def test_unknown_option_name_in_set_params():
    with pytest.raises(ValueError, match="Unknown parameter 'n_component'"):
        GaussianMixture().set_params(n_component=3)


def test_unknown_option_name_in_constructor_is_a_type_error_like_sklearn():
    with pytest.raises(TypeError):
        GaussianMixture(n_component=3)


def test_use_before_fit():
    with pytest.raises(NotFittedError, match="call fit"):
        GaussianMixture().predict(X)


def test_wrong_number_of_features_after_fit():
    model = GaussianMixture(1).fit(X)
    with pytest.raises(ValueError, match="3 features"):
        model.predict(np.ones((2, 3)))


def test_complex_data_are_refused():
    with pytest.raises(ValueError, match="complex"):
        GaussianMixture(1).fit(X + 1j)


@pytest.mark.parametrize("name, value", [
    ("means_init", [[np.nan, 0.0], [1.0, 1.0]]),
    ("weights_init", [np.nan, 0.5]),
    ("precisions_init", np.full((2, 2), np.inf)),
])
def test_non_finite_initial_parameters_are_refused(name, value):
    options = dict(n_components=2, covariance_type="diag", **{name: value})
    with pytest.raises(ValueError, match=f"{name} contains NaN or infinite"):
        GaussianMixture(**options).fit(X)


def test_warm_start_with_another_k_says_what_to_do():
    model = GaussianMixture(2, warm_start=True, random_state=0).fit(X)
    model.set_params(n_components=3)
    with pytest.raises(ValueError, match="warm_start=False"):
        model.fit(X)


def test_non_numeric_tolerance():
    with pytest.raises(ValueError, match="tol must be a non-negative number"):
        GaussianMixture(1, tol="a").fit(X)


def test_initialize_refuses_more_components_than_points():
    from gmm_studio.core import EMData
    from gmm_studio.core.init import check_random_state, initialize

    data = EMData(X[:3], "full")
    for method in ("kmeans", "k-means++", "random", "random_from_data"):
        with pytest.raises(ValueError, match="n_components = 5, n_samples = 3: lower K"):
            initialize(data, X[:3], 5, method, check_random_state(0), 1e-6)


def test_clicking_more_means_than_points_is_refused():
    from gmm_studio.core import EMData
    from gmm_studio.core.init import params_from_means

    with pytest.raises(ValueError, match="lower K"):
        params_from_means(EMData(X[:2], "full"), X[:2], np.zeros((3, 2)), 1e-6)


@pytest.mark.parametrize("options, pattern", [
    (dict(reg_covar=-1.0), "reg_covar must be a non-negative"),
    (dict(reg_covar=float("nan")), "reg_covar must be a non-negative"),
    (dict(tol=-1e-3), "tol must be a non-negative"),
    (dict(max_iter=-1), "max_iter must be an integer"),
])
def test_em_steps_refuses_impossible_options_at_once(options, pattern):
    from gmm_studio.core import EMData, MixtureParams, em_steps

    p = MixtureParams("diag", [0.5, 0.5], [[0, 0], [1, 1]], np.ones((2, 2)))
    with pytest.raises(ValueError, match=pattern):
        em_steps(EMData(X, "diag"), p, **options)  # before the first snapshot is asked for


def test_em_steps_refuses_more_components_than_points():
    from gmm_studio.core import EMData, MixtureParams, em_steps

    p = MixtureParams("diag", np.full(4, 0.25), np.zeros((4, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="lower K"):
        em_steps(EMData(X[:3], "diag"), p)


def test_unknown_covariance_type_for_prepared_data():
    from gmm_studio.core import EMData

    with pytest.raises(ValueError, match="Unknown covariance_type 'ful'"):
        EMData(X, "ful")


def test_counts_in_sentences_agree_in_number():
    from gmm_studio.core.words import counted

    assert counted(1, "feature") == "1 feature" and counted(2, "feature") == "2 features"
    assert counted(0, "iteration") == "0 iterations" and counted(3, "child", "children") == "3 children"
