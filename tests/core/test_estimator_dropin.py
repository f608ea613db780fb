"""The core estimator behaves as scikit-learn's does without importing it: verbose output,
float32 kept, the error and warning classes, and a clear message for sparse input."""

import re
import warnings

import numpy as np
import pytest
from scipy import sparse

from gmm_studio.core import (
    ConvergenceWarning,
    DegenerateMixtureError,
    GaussianMixture,
    NotFittedError,
)


def blobs(seed=0, n=150):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(size=(n, 2)) + c for c in ((0, 0), (7, 0), (0, 7))])


def test_verbose_1_prints_each_initialisation_and_every_interval(capsys):
    with pytest.warns(ConvergenceWarning):
        GaussianMixture(3, n_init=2, max_iter=4, tol=0, verbose=1, verbose_interval=2,
                        random_state=0).fit(blobs())
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["Initialization 0", "  Iteration 2", "  Iteration 4",
                     "Initialization did not converge.",
                     "Initialization 1", "  Iteration 2", "  Iteration 4",
                     "Initialization did not converge."]


def test_verbose_2_adds_timings_and_the_likelihood(capsys):
    gm = GaussianMixture(3, verbose=2, verbose_interval=1, random_state=0).fit(blobs())
    out = capsys.readouterr().out
    assert re.search(r"^  Iteration 2\t time lapse \d+\.\d{5}s\t ll change -?\d+\.\d{5}$", out, re.M)
    assert out.rstrip().endswith(f"lower bound {gm.lower_bound_:.5f}.")
    assert "Initialization converged. time lapse" in out


def test_silent_by_default(capsys):
    GaussianMixture(3, random_state=0).fit(blobs())
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name, value", [("verbose", -1), ("verbose_interval", 0)])
def test_bad_verbosity_is_refused(name, value):
    with pytest.raises(ValueError, match=name):
        GaussianMixture(3, **{name: value}).fit(blobs())


def test_float32_model_on_float64_data_answers_in_float64():
    x = blobs().astype(np.float32)
    gm = GaussianMixture(3, random_state=0).fit(x)
    assert gm.weights_.dtype == gm.precisions_cholesky_.dtype == np.float32
    assert gm.predict_proba(x.astype(np.float64)).dtype == np.float64
    assert GaussianMixture(3, random_state=0).fit(x.astype(np.float64)).means_.dtype == np.float64


def test_not_fitted_error_is_both_a_value_and_an_attribute_error():
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    with pytest.raises(AttributeError, match="not fitted"):
        GaussianMixture(2).predict(blobs())


def test_convergence_warning_is_the_cores_own_user_warning():
    assert issubclass(ConvergenceWarning, UserWarning)
    assert ConvergenceWarning.__module__ == "gmm_studio.core.mixture"


@pytest.mark.parametrize("make", [sparse.csr_matrix, sparse.csr_array, sparse.coo_matrix])
def test_sparse_input_is_refused_with_what_to_do(make):
    x = make(blobs())
    with pytest.raises(TypeError, match=r"dense array: pass X\.toarray\(\)"):
        GaussianMixture(3).fit(x)
    gm = GaussianMixture(3, random_state=0).fit(blobs())
    with pytest.raises(TypeError, match=r"X\.toarray\(\)"):
        gm.predict(x)


def test_a_fit_no_restart_survives_says_what_failed_and_what_to_do():
    x = np.vstack([np.ones((5, 3)), np.zeros((5, 3))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DegenerateMixtureError) as caught:
            GaussianMixture(4, reg_covar=0, random_state=0).fit(x)
    message = str(caught.value)
    assert message.startswith("Fitting the mixture model failed because some components")
    assert "increase reg_covar" in message and "not positive definite" in message
