"""The Jensen bound along slices: B ≤ L, B = L at the E-step, B's maximum at the M-step."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import xlogy

from gmm_studio.core.bound import LINE, SliceSpec, bound_slice, slice_choices
from gmm_studio.core.em import EMData, em_steps
from gmm_studio.core.init import initialize
from gmm_studio.core.params import COVARIANCE_TYPES, MixtureParams


def clusters(d, seed=0, n=400):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(3, d))
    labels = rng.integers(3, size=n)
    return centres[labels] + rng.normal(size=(n, d)) * rng.uniform(0.4, 1.2, size=(3, 1))[labels]


def first_steps(x, covariance_type, k=3, seed=1, reg_covar=1e-6):
    """The data, the second E snapshot and the M snapshot after it (EM still moving)."""
    data = EMData(x, covariance_type)
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    unit = {"full": np.tile(np.eye(d), (k, 1, 1)), "tied": np.eye(d), "diag": np.ones((k, d)),
            "spherical": np.ones(k)}[covariance_type]
    start = MixtureParams(covariance_type, np.full(k, 1.0 / k), x[rng.choice(len(x), k, replace=False)],
                          unit)
    *_, e, m = list(em_steps(data, start, max_iter=2, tol=0.0, reg_covar=reg_covar))
    return data, e, m


def tolerance(values):
    return 1e-9 * (1.0 + np.abs(values))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("d", [1, 2, 5])
def test_default_line_touches_at_the_e_step_and_peaks_at_the_m_step(covariance_type, d):
    data, e, m = first_steps(clusters(d), covariance_type)
    r = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities)
    assert r.s[0] == pytest.approx(-0.5) and r.s[-1] == pytest.approx(1.5) and len(r.s) == 200
    assert np.all(r.lower_bound <= r.log_likelihood + tolerance(r.log_likelihood))
    touch, at_next, at_max = r.gap
    assert abs(touch) < tolerance(e.log_likelihood) / 100  # the E-step makes the bound tight
    assert r.marks_log_likelihood[0] == pytest.approx(e.log_likelihood, abs=1e-12)
    # θ(1) is the M-step: the engine's raised bound, and the maximiser of B on the line.
    assert r.marks_lower_bound[1] == pytest.approx(m.lower_bound, abs=1e-10)
    assert r.s_max == pytest.approx(1.0, abs=1e-3)
    assert r.lower_bound.max() <= r.marks_lower_bound[1] + 1e-12
    assert at_next > 1e-6  # after the M-step L rose beyond B: q is no longer the posterior


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_gap_is_the_kl_divergence_from_q_to_the_new_posterior(covariance_type):
    data, e, m = first_steps(clusters(2), covariance_type)
    r = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities)
    q = e.responsibilities
    posterior = data.responsibilities(m.params)
    kl = (xlogy(q, q) - xlogy(q, posterior)).sum() / data.n_samples
    assert r.gap[1] == pytest.approx(kl, rel=1e-7, abs=1e-12)


def test_missing_responsibilities_and_next_params_are_computed():
    data, e, m = first_steps(clusters(2), "full")
    given_all = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities)
    computed = bound_slice(data, e.params)
    np.testing.assert_allclose(computed.log_likelihood, given_all.log_likelihood, rtol=1e-12)
    np.testing.assert_allclose(computed.lower_bound, given_all.lower_bound, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_every_one_parameter_slice_keeps_b_below_l_and_touches_at_the_current_value(covariance_type):
    data, e, m = first_steps(clusters(3), covariance_type)
    specs = slice_choices(e.params)
    assert specs[0] == LINE and {s.kind for s in specs} == {"line", "mean", "weight", "log_variance"}
    for spec in specs[1:]:
        r = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities, spec=spec,
                        n_points=41)
        assert np.all(r.lower_bound <= r.log_likelihood + tolerance(r.log_likelihood)), spec
        assert abs(r.gap[0]) < tolerance(e.log_likelihood) / 100, spec
        assert r.s[0] < r.s_touch < r.s[-1], spec


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_weight_slice_peaks_at_the_m_step_weight(covariance_type):
    # B's weight part Σ_j N_j log π_j with the others rescaled peaks at π_k = N_k / N.
    data, e, m = first_steps(clusters(2), covariance_type)
    r = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities,
                    spec=SliceSpec("weight", 1))
    assert r.s_max == pytest.approx(m.params.weights[1], abs=1e-5)
    assert r.s_next == pytest.approx(m.params.weights[1])


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_a_mean_slice_peaks_at_the_weighted_mean_when_coordinates_decouple(covariance_type):
    data, e, m = first_steps(clusters(2), covariance_type)
    r = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities,
                    spec=SliceSpec("mean", 2, 1))
    assert r.s_max == pytest.approx(m.params.means[2, 1], abs=1e-5)


def test_log_variance_slice_sets_that_variance_and_keeps_correlations():
    data, e, m = first_steps(clusters(2), "full")
    spec = SliceSpec("log_variance", 0, 1)
    r = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities, spec=spec)
    assert r.s_touch == pytest.approx(np.log(e.params.covariances[0, 1, 1]))
    assert r.s_next == pytest.approx(np.log(m.params.covariances[0, 1, 1]))
    assert np.all(np.isfinite(r.log_likelihood)) and np.all(np.isfinite(r.lower_bound))


def test_wrong_inputs_get_clear_messages():
    data, e, m = first_steps(clusters(2), "full")
    with pytest.raises(ValueError, match="do not fit"):
        bound_slice(EMData(clusters(3), "full"), e.params, m.params)
    with pytest.raises(ValueError, match="No slice"):
        bound_slice(data, e.params, m.params, spec=SliceSpec("mean", 5, 0))
    one = MixtureParams("full", [1.0], [[0.0, 0.0]], [np.eye(2)])
    with pytest.raises(ValueError, match="No slice"):
        bound_slice(data, one, spec=SliceSpec("weight", 0))


@st.composite
def problems(draw):
    seed = draw(st.integers(0, 2**31))
    d = draw(st.integers(1, 4))
    n = draw(st.integers(15, 150))
    k = draw(st.integers(1, 4))
    covariance_type = draw(st.sampled_from(COVARIANCE_TYPES))
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=draw(st.floats(0.5, 10)), size=(3, d))[rng.integers(3, size=n)]
    x = (x + rng.normal(size=(n, d))) * draw(st.floats(1e-2, 1e2)) + draw(st.floats(-1e2, 1e2))
    return x, k, covariance_type, seed, draw(st.integers(1, 4))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_bound_never_exceeds_the_log_likelihood(problem, pick):
    x, k, covariance_type, seed, iteration = problem
    data = EMData(x, covariance_type)
    start = initialize(data, x, k, "kmeans", np.random.default_rng(seed), 1e-3)
    snapshots = list(em_steps(data, start, max_iter=iteration, tol=0.0, reg_covar=1e-3))
    e_steps = [s for s in snapshots if s.half_step == "E"]
    m_steps = [s for s in snapshots if s.half_step == "M"]
    if not m_steps or any(ev.fatal for s in snapshots for ev in s.events):
        return
    e, m = e_steps[-1], m_steps[-1]
    spec = pick.draw(st.sampled_from(slice_choices(e.params)))
    r = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities, spec=spec,
                    n_points=25)
    # "To rounding": the engine's quadratic features lose about eps·(|x − x̄| / σ)² per point
    # (see core/em.py), large for a component collapsed far from the data's mean.
    smallest = min(np.linalg.eigvalsh(p.full_covariances()).min() for p in (e.params, m.params))
    spread = ((x - x.mean(axis=0)) ** 2).sum(axis=1).max()
    scale = 1e-13 * (1.0 + np.abs(r.log_likelihood)) * (1.0 + 10 * spread / smallest)
    assert np.all(r.lower_bound <= r.log_likelihood + scale)
    assert abs(r.gap[0]) <= scale.max()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_l_along_the_slice_is_the_engines_log_likelihood_of_theta_s(covariance_type):
    from gmm_studio.core.bound import params_at

    x = clusters(2)
    x[0] = [400.0, -300.0]  # far from every component: its density underflows, the repair runs
    data, e, m = first_steps(x, covariance_type)
    variance = SliceSpec("log_variance", 0, 0 if covariance_type == "spherical" else 1)
    for spec in (LINE, SliceSpec("mean", 1, 0), SliceSpec("weight", 2), variance):
        r = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities, spec=spec,
                        n_points=9)
        for value, drawn in zip(r.s, r.log_likelihood):
            theta = params_at(e.params, m.params, spec, value)
            assert theta.weights.sum() == pytest.approx(1.0)
            assert drawn == pytest.approx(data.mean_log_likelihood(theta), rel=1e-11)
    line_end = params_at(e.params, m.params, LINE, 1.0)
    np.testing.assert_allclose(line_end.means, m.params.means, atol=1e-12)
    np.testing.assert_allclose(line_end.covariances, m.params.covariances, rtol=1e-10)


def test_a_converged_step_keeps_the_maximum_at_the_m_step():
    data, e, m = first_steps(clusters(2), "full")
    r = bound_slice(data, e.params, e.params, responsibilities=e.responsibilities)
    assert r.s_max == 1.0
    np.testing.assert_allclose(r.lower_bound, r.lower_bound[0], rtol=1e-13)


def direct_mean_log_likelihood(x, theta):
    """(1/N) Σ_n log Σ_k π_k N(x_n | μ_k, Σ_k), one component at a time, centred on its own mean."""
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    columns = [np.log(w) + multivariate_normal(mean, cov).logpdf(x).reshape(len(x))
               for w, mean, cov in zip(theta.weights, theta.means, theta.full_covariances())]
    return float(logsumexp(np.stack(columns, axis=1), axis=1).mean())


def random_params(rng, covariance_type, k, d, spread, scale):
    means = rng.normal(scale=spread, size=(k, d))
    if covariance_type == "full":
        a = rng.normal(size=(k, d, d))
        covariances = scale * (a @ np.swapaxes(a, 1, 2) + 0.5 * np.eye(d))
    elif covariance_type == "tied":
        a = rng.normal(size=(d, d))
        covariances = scale * (a @ a.T + 0.5 * np.eye(d))
    elif covariance_type == "diag":
        covariances = scale * rng.uniform(0.3, 2.0, size=(k, d))
    else:
        covariances = scale * rng.uniform(0.3, 2.0, size=k)
    return MixtureParams(covariance_type, rng.dirichlet(np.ones(k)), means, covariances)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), d=st.integers(1, 3), k=st.integers(1, 4),
       covariance_type=st.sampled_from(COVARIANCE_TYPES), spread=st.floats(0.5, 60.0),
       posterior_q=st.booleans(), pick=st.data())
def test_l_is_the_straightforward_log_sum_exp_at_random_parameters(
        seed, d, k, covariance_type, spread, posterior_q, pick):
    # Far-apart components (spread ≫ 1) make exp underflow; q unrelated to θ pivots points on
    # components far from them, which makes exp overflow: both must still give L exactly.
    from gmm_studio.core.bound import params_at

    rng = np.random.default_rng(seed)
    theta = random_params(rng, covariance_type, k, d, spread, 1.0)
    x = theta.means[rng.integers(k, size=60)] + rng.normal(size=(60, d))
    data = EMData(x, covariance_type)
    q = data.responsibilities(theta) if posterior_q else rng.dirichlet(np.ones(k), size=len(x))
    following = random_params(rng, covariance_type, k, d, spread, rng.uniform(0.5, 2.0))
    spec = pick.draw(st.sampled_from(slice_choices(theta)))
    r = bound_slice(data, theta, following, responsibilities=q, spec=spec, n_points=7)
    expected = [direct_mean_log_likelihood(x, params_at(theta, following, spec, v)) for v in r.s]
    # The engine's quadratic features lose about eps·(|x − x̄|² + |μ − x̄|²)/σ² (core/em.py).
    smallest = min(np.linalg.eigvalsh(p.full_covariances()).min() for p in (theta, following))
    reach = ((x - x.mean(axis=0)) ** 2).sum(axis=1).max() + 4 * spread**2 * d
    np.testing.assert_allclose(r.log_likelihood, expected, rtol=1e-12,
                               atol=1e-13 * (1.0 + 10 * reach / smallest))
    assert np.all(r.lower_bound <= r.log_likelihood + 1e-13 * (1.0 + 10 * reach / smallest))


@pytest.mark.parametrize("swap", [False, True])
def test_l_is_exact_for_components_far_apart(swap):
    # 200 widths apart: log densities differ by ~2·10⁴.  With q the posterior, each point's
    # other component is e^-20000 below it; with q swapped, e^+20000 above it.
    rng = np.random.default_rng(3)
    theta = MixtureParams("full", [0.4, 0.6], [[0.0, 0.0], [200.0, 0.0]], [np.eye(2), np.eye(2)])
    x = theta.means[rng.integers(2, size=300)] + rng.normal(size=(300, 2))
    data = EMData(x, "full")
    q = data.responsibilities(theta)
    q = q[:, ::-1] if swap else q
    following = MixtureParams("full", [0.5, 0.5], [[1.0, 0.0], [199.0, 1.0]],
                              [np.eye(2) * 1.5, np.eye(2) * 0.7])
    r = bound_slice(data, theta, following, responsibilities=np.ascontiguousarray(q), n_points=5)
    from gmm_studio.core.bound import params_at

    expected = [direct_mean_log_likelihood(x, params_at(theta, following, LINE, v)) for v in r.s]
    # Swapped, each point's own term is found as the pivot's plus a difference of 2·10⁴, which
    # costs eps·2·10⁴ of cancellation.
    np.testing.assert_allclose(r.log_likelihood, expected, rtol=1e-11 if swap else 1e-12)
    assert np.all(r.lower_bound <= r.log_likelihood + 1e-9)
