"""Every demo builds valid data and settings, and shows what its explanation promises."""

import warnings

import numpy as np
import pytest

from gmm_studio.core import EMData, GaussianMixture, em_steps
from gmm_studio.core.demos import DEMO_TITLES, build_demo
from gmm_studio.core.init import initialize
from gmm_studio.core.kmeans import compare_with_em, kmeans_steps
from gmm_studio.core.settings import FitSettings


@pytest.mark.parametrize("key", list(DEMO_TITLES))
def test_every_demo_builds_valid_data_and_settings(key):
    demo = build_demo(key)
    assert demo.key == key and demo.title == DEMO_TITLES[key]
    n, d = demo.values.shape
    assert n >= 100 and d == len(demo.columns) and np.all(np.isfinite(demo.values))
    assert demo.labels is None or demo.labels.shape == (n,)
    assert isinstance(demo.settings, FitSettings)
    assert demo.algorithm in ("em", "kmeans", "compare")
    sentences = demo.explanation.count(". ") + 1
    assert 2 <= sentences <= 3, demo.explanation
    if demo.initial is not None:
        assert demo.initial.n_features == d
        assert demo.initial.n_components == demo.settings.n_components
    if demo.truth is not None:
        assert demo.truth.n_features == d
    # deterministic: a lecture sees the same picture every time
    np.testing.assert_array_equal(build_demo(key).values, demo.values)


def test_unknown_demo_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="well_separated"):
        build_demo("nope")


def test_singularity_demo_collapses_and_is_diagnosed():
    demo = build_demo("singularity")
    assert demo.settings.reg_covar == 0.0
    snapshots = list(em_steps(demo.values, demo.initial, reg_covar=0.0, tol=0.0,
                              max_iter=demo.settings.max_iter))
    kinds = {e.kind for s in snapshots for e in s.events}
    # With reg_covar 0 the engine judges collapse against rounding only (issue 10), so
    # the component on one point is diagnosed when its covariance stops being positive
    # definite: a fatal 'singular' event that names reg_covar as the remedy.
    last = snapshots[-1].events[-1]
    assert kinds <= {"collapsed", "singular"} and last.fatal and "reg_covar" in last.message
    values = [s.log_likelihood for s in snapshots if s.half_step == "E"]
    assert all(b > a for a, b in zip(values, values[1:]))


def test_kmeans_vs_em_demo_is_won_by_em_from_the_same_means():
    demo = build_demo("kmeans_vs_em")
    x, s = demo.values, demo.settings
    data = EMData(x, s.covariance_type)
    start = initialize(data, x, s.n_components, s.init_params, np.random.default_rng(s.seed),
                       s.reg_covar)
    result = compare_with_em(x, start, demo.labels, max_iter=s.max_iter)
    np.testing.assert_array_equal(result.kmeans.params.means,
                                  list(kmeans_steps(x, start.means, tol=0.0))[-1].centres)
    assert result.em.half_step == "M"
    assert result.em_ari > 0.8 and result.kmeans_ari < 0.6


def test_choosing_k_demo_has_its_bic_minimum_at_the_true_k():
    demo = build_demo("choosing_k")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bic = {k: GaussianMixture(k, random_state=0).fit(demo.values).bic(demo.values)
               for k in demo.k_values[:5]}
    assert min(bic, key=bic.get) == 4
