"""gmm_studio.sklearn.GaussianMixture is a real scikit-learn estimator.

scikit-learn's own estimator checks, the meta-estimators people use (Pipeline,
GridSearchCV, clone), scikit-learn's exception and warning classes, and the README's
example.  scikit-learn's GaussianMixture test file runs beside this one.
"""

import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from gmm_studio import core
from gmm_studio.sklearn import GaussianMixture

ROOT = Path(__file__).resolve().parents[2]


def blobs(seed=0, n=120):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(size=(n, 2)) + c for c in ((0, 0), (8, 0), (0, 8))])


@parametrize_with_checks([
    GaussianMixture(),
    GaussianMixture(n_components=2, covariance_type="diag", init_params="random_from_data",
                    random_state=0),
])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_scales_then_fits():
    x = blobs() * [1.0, 1000.0]
    pipe = make_pipeline(StandardScaler(), GaussianMixture(3, random_state=0)).fit(x)
    labels = pipe.predict(x)
    assert sorted(np.bincount(labels)) == [120, 120, 120]
    assert pipe.score(x) == pytest.approx(pipe[-1].score(pipe[0].transform(x)))


def test_grid_search_picks_the_true_number_of_components_by_likelihood():
    search = GridSearchCV(GaussianMixture(random_state=0),
                          {"n_components": [1, 2, 3], "covariance_type": ["full", "spherical"]},
                          cv=KFold(3, shuffle=True, random_state=0)).fit(blobs())
    assert search.best_params_["n_components"] == 3
    assert isinstance(search.best_estimator_, GaussianMixture)


def test_clone_copies_parameters_not_the_fit():
    fitted = GaussianMixture(3, covariance_type="tied", n_init=2, verbose_interval=5,
                             random_state=1).fit(blobs())
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "means_")
    np.testing.assert_array_equal(copy.fit(blobs()).means_, fitted.means_)


def test_a_pickled_model_answers_the_same():
    gm = GaussianMixture(3, random_state=0).fit(blobs())
    again = pickle.loads(pickle.dumps(gm))
    np.testing.assert_array_equal(again.predict_proba(blobs()), gm.predict_proba(blobs()))


def test_same_answers_as_the_core_estimator():
    ours = GaussianMixture(3, n_init=2, random_state=4).fit(blobs())
    theirs = core.GaussianMixture(3, n_init=2, random_state=4).fit(blobs())
    np.testing.assert_array_equal(ours.means_, theirs.means_)
    assert ours.score(blobs(1)) == theirs.score(blobs(1))
    assert ours.bic(blobs()) == theirs.bic(blobs())


def test_matches_scikit_learn_from_the_same_start():
    x = blobs(2)
    start = dict(weights_init=[0.2, 0.3, 0.5], means_init=[[0, 1], [7, 0], [1, 7]],
                 precisions_init=np.stack([np.eye(2)] * 3))
    ours = GaussianMixture(3, tol=1e-10, max_iter=300, **start).fit(x)
    theirs = SklearnGaussianMixture(3, tol=1e-10, max_iter=300, **start).fit(x)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-8)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-7)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=1e-10)


def test_not_fitted_raises_scikit_learns_error():
    with pytest.raises(NotFittedError, match="This GaussianMixture instance is not fitted yet"):
        GaussianMixture().predict(blobs())
    with pytest.raises(NotFittedError):
        GaussianMixture().sample(3)


def test_too_few_iterations_warn_with_scikit_learns_convergence_warning():
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        GaussianMixture(3, max_iter=1, random_state=0).fit(blobs())


def test_collapse_is_listed_in_events_without_a_warning_as_in_scikit_learn():
    x = np.vstack([np.ones((5, 3)), np.zeros((5, 3)), np.random.default_rng(0).normal(size=(20, 3))])
    gm = GaussianMixture(3, random_state=0).fit(x)  # warnings are errors in this suite
    assert {e.kind for e in gm.events_} <= {"collapsed", "empty"}


def test_bad_parameters_get_scikit_learns_messages():
    with pytest.raises(ValueError, match=re.escape("The 'covariance_type' parameter of "
                                                   "GaussianMixture must be a str among")):
        GaussianMixture(covariance_type="round").fit(blobs())
    with pytest.raises(ValueError, match="n_components = 5, n_samples = 3"):
        GaussianMixture(5).fit(blobs()[:3])


@pytest.mark.parametrize("make", [sparse.csr_matrix, sparse.csc_array])
def test_sparse_input_says_to_pass_a_dense_array(make):
    with pytest.raises(TypeError, match=r"dense data is required\. Use '\.toarray\(\)'"):
        GaussianMixture(2).fit(make(blobs()))


def test_float32_stays_float32():
    x = blobs().astype(np.float32)
    gm = GaussianMixture(3, random_state=0).fit(x)
    assert {a.dtype for a in (gm.weights_, gm.means_, gm.covariances_, gm.precisions_,
                              gm.precisions_cholesky_)} == {np.dtype(np.float32)}
    assert gm.score_samples(x).dtype == gm.predict_proba(x).dtype == np.float32


def test_verbose_prints_as_scikit_learn_does(capsys):
    GaussianMixture(3, verbose=1, random_state=0).fit(blobs())
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Initialization 0" and out[-1] == "Initialization converged."


def test_array_api_dispatch_with_numpy_matches_the_plain_fit():
    """scikit-learn's array-API checks need SCIPY_ARRAY_API=1 before SciPy is imported: a
    fresh interpreter runs them (with NumPy, the one namespace installed)."""
    code = (
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from gmm_studio.sklearn import GaussianMixture\n"
        "check_array_api_input('GaussianMixture', GaussianMixture(), array_namespace='numpy',"
        " expect_only_array_outputs=False)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "SCIPY_ARRAY_API": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Using GMM Studio in scikit-learn", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {"X": blobs()}
    exec(snippet, namespace)
    assert namespace["search"].best_params_["gaussianmixture__n_components"] == 3


def test_without_scikit_learn_the_import_says_what_to_install():
    code = (
        "import sys\n"
        "sys.modules['sklearn'] = None\n"  # as if it were not installed
        "try:\n"
        "    import gmm_studio.sklearn\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "import gmm_studio.core\n"
        "print(gmm_studio.core.GaussianMixture(2).fit([[0.0], [1.0], [5.0], [6.0]]).n_iter_ > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    message, works = out.stdout.strip().splitlines()
    assert "pip install 'scikit-learn>=1.6'" in message and works == "True"
