"""Fixtures and exclusions for scikit-learn's own GaussianMixture tests (test_gaussian_mixture.py).

That file is scikit-learn 1.9.1's, with only the import of GaussianMixture changed.  It
needs two of scikit-learn's conftest fixtures, reproduced here:

* ``global_dtype``: float32 and float64.  scikit-learn runs float32 only when
  SKLEARN_RUN_FLOAT32_TESTS=1; here always, because keeping float32 is promised.
* ``global_random_seed``: 42, or the seeds SKLEARN_TESTS_GLOBAL_RANDOM_SEED names
  ("7", "0-9" or "all"), as in scikit-learn.

The file runs under scikit-learn's own warning policy rather than this project's "every
warning is an error": scikit-learn's suite does not make ConvergenceWarning an error, and
test_gaussian_mixture_setting_best_params fits with max_iter=1, which warns (scikit-learn's
estimator warns there too).  Every other warning is still an error.

Excluded tests (:data:`PRIVATE_HELPER_TESTS`) exercise scikit-learn's private helpers or
the private protocol of its ``BaseMixture`` class, not the estimator's public behaviour.
"""

import os

import numpy as np
import pytest

#: test name -> why it does not apply to GMM Studio's estimator.
PRIVATE_HELPER_TESTS = {
    "test_suffstat_sk_full": "tests scikit-learn's private _estimate_gaussian_covariances_full "
                             "and _compute_precision_cholesky, not the estimator",
    "test_suffstat_sk_tied": "tests scikit-learn's private _estimate_gaussian_covariances_tied "
                             "and _compute_precision_cholesky, not the estimator",
    "test_suffstat_sk_diag": "tests scikit-learn's private _estimate_gaussian_covariances_diag "
                             "and _compute_precision_cholesky, not the estimator",
    "test_gaussian_suffstat_sk_spherical": "tests scikit-learn's private "
                                           "_estimate_gaussian_covariances_spherical, not the "
                                           "estimator",
    "test_compute_log_det_cholesky": "tests scikit-learn's private _compute_log_det_cholesky",
    "test_gaussian_mixture_log_probabilities": "tests scikit-learn's private "
                                               "_estimate_log_gaussian_prob",
    "test_gaussian_mixture_precisions_init": "drives BaseMixture's private _set_parameters and "
                                             "_initialize(X, resp) methods",
    "test_gaussian_mixture_all_init_does_not_estimate_gaussian_parameters":
        "counts calls of scikit-learn's private _estimate_gaussian_parameters (the engine never "
        "calls it; tests/core checks that given parameters skip the initialiser)",
}


#: Tests of what scikit-learn's own implementation cannot do; they only run when
#: SCIPY_ARRAY_API=1 (scikit-learn's decorator skips them otherwise).
SKLEARN_LIMITATION_TESTS = {
    "test_gaussian_mixture_raises_where_array_api_not_implemented":
        "asserts scikit-learn's limitation that kmeans and k-means++ initialisation are not "
        "implemented under array_api_dispatch; GMM Studio's engine fits NumPy input with every "
        "initialisation, so it does not raise",
}


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def global_dtype(request):
    return request.param


def _seeds():
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    first, _, last = value.partition("-")
    return list(range(int(first), int(last or first) + 1))


def pytest_generate_tests(metafunc):
    if "global_random_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_random_seed", _seeds())


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name == "test_gaussian_mixture.py":
            item.add_marker(pytest.mark.filterwarnings(
                "ignore::sklearn.exceptions.ConvergenceWarning"))
            reason = PRIVATE_HELPER_TESTS.get(item.originalname)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=f"private helper: {reason}"))
            reason = SKLEARN_LIMITATION_TESTS.get(item.originalname)
            if reason is not None:
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
