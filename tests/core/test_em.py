"""The EM engine: snapshots, the Jensen bound, stopping, degeneracy, restarts."""

import threading

import numpy as np
import pytest

from gmm_studio.core import (
    DegeneracyWarning,
    DegenerateMixtureError,
    EMData,
    GaussianMixture,
    MixtureParams,
    em_steps,
)
from gmm_studio.core import parallel
from gmm_studio.core.init import (
    check_random_state,
    initialize,
    params_from_means,
    reseed_component,
)


def blobs(seed=0, n=300, centers=((0, 0), (6, 0), (0, 6))):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(size=(n, 2)) + c for c in centers])


def start(x, covariance_type="full", k=3, seed=0):
    data = EMData(x, covariance_type)
    return data, initialize(data, x, k, "kmeans", check_random_state(seed), 1e-6)


def test_snapshots_alternate_e_and_m_after_init():
    x = blobs()
    data, p0 = start(x)
    snaps = list(em_steps(data, p0, max_iter=5, tol=0))
    assert [s.half_step for s in snaps] == ["init"] + ["E", "M"] * 5
    assert [s.iteration for s in snaps] == [0] + [i for i in range(1, 6) for _ in "EM"]
    e, m = snaps[1], snaps[2]
    assert e.params is p0  # an E-step leaves the parameters alone
    assert m.responsibilities is e.responsibilities  # the M-step used those responsibilities
    assert not np.array_equal(m.params.means, p0.means)


def test_snapshots_are_immutable():
    x = blobs()
    data, p0 = start(x)
    snap = list(em_steps(data, p0, max_iter=1))[1]
    with pytest.raises(ValueError):
        snap.responsibilities[0, 0] = 1.0
    with pytest.raises(ValueError):
        snap.params.means[0, 0] = 1.0
    with pytest.raises(AttributeError):
        snap.iteration = 3


def test_a_snapshot_held_by_its_consumer_keeps_its_responsibilities():
    # The engine writes an E-step into a γ array nobody holds any more: never into one a
    # consumer still has, and a consumer who lets them go gets the very same values.
    x = blobs(seed=3)
    data, p0 = start(x, k=4)
    held = [(s, s.responsibilities.copy()) for s in em_steps(data, p0, max_iter=6, tol=0)
            if s.responsibilities is not None]
    for snapshot, copy in held:
        np.testing.assert_array_equal(snapshot.responsibilities, copy)
    dropped = [s.responsibilities.copy() for s in em_steps(data, p0, max_iter=6, tol=0)
               if s.responsibilities is not None]
    assert len(dropped) == len(held) == 12
    for (_, copy), again in zip(held, dropped):
        np.testing.assert_array_equal(again, copy)
    # a view of a γ keeps it as well
    views = [s.responsibilities[::2] for s in em_steps(data, p0, max_iter=4, tol=0)
             if s.half_step == "E"]
    np.testing.assert_array_equal(views[0], held[0][1][::2])


def test_e_step_makes_the_bound_tight_and_m_step_raises_it():
    x = blobs(seed=4)
    data, p0 = start(x, k=4)
    snaps = list(em_steps(data, p0, max_iter=30, tol=0))[1:]
    for e, m, next_e in zip(snaps[0::2], snaps[1::2], snaps[2::2]):
        assert e.lower_bound == e.log_likelihood
        assert m.lower_bound >= e.log_likelihood - 1e-12  # M raises the bound
        assert next_e.log_likelihood >= m.lower_bound - 1e-12  # the bound is below log-lik


def test_lower_bound_after_m_step_matches_its_definition():
    x = blobs(seed=5)
    data, p0 = start(x)
    e, m = list(em_steps(data, p0, max_iter=1))[1:3]
    gamma = e.responsibilities
    wlp = data.weighted_log_prob(m.params)
    direct = np.sum(gamma * (wlp - np.log(np.clip(gamma, 1e-300, None)))) / len(x)
    assert m.lower_bound == pytest.approx(direct, rel=1e-10)


def test_converged_flag_ends_the_run():
    x = blobs()
    data, p0 = start(x)
    snaps = list(em_steps(data, p0, tol=1e-3, max_iter=500))
    assert snaps[-1].converged and snaps[-1].half_step == "M"
    assert not any(s.converged for s in snaps[:-1])


def test_stop_event_ends_the_run_between_half_steps():
    x = blobs()
    data, p0 = start(x)
    stop = threading.Event()
    seen = []
    for snap in em_steps(data, p0, tol=0, max_iter=1000, stop=stop):
        seen.append(snap)
        if snap.half_step == "E" and snap.iteration == 3:
            stop.set()
    assert seen[-1].half_step == "E" and seen[-1].iteration == 3


def test_can_start_from_clicked_means():
    x = blobs()
    data = EMData(x, "full")
    clicked = np.array([[0.5, 0.5], [5.0, 1.0], [1.0, 5.0]])
    p0 = params_from_means(data, x, clicked, 1e-6)
    np.testing.assert_array_equal(p0.means, clicked)
    assert p0.weights.sum() == pytest.approx(1.0)
    final = list(em_steps(data, p0))[-1]
    np.testing.assert_allclose(np.sort(final.params.means[:, 0]), [0, 0, 6], atol=0.3)


def test_continuing_a_history_numbers_iterations_on():
    x = blobs()
    data, p0 = start(x)
    first = list(em_steps(data, p0, max_iter=3, tol=0))
    more = list(em_steps(data, first[-1].params, max_iter=2, tol=0, start_iteration=3,
                         previous_log_likelihood=first[-1].log_likelihood))
    assert [s.iteration for s in more] == [3, 4, 4, 5, 5]


def collapsing_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    return np.concatenate([x, np.repeat([[8.0, 8.0]], 5, axis=0)])


def test_component_on_repeated_points_is_a_diagnosed_collapse():
    x = collapsing_data()
    data = EMData(x, "full")
    p0 = params_from_means(data, x, np.array([[0.0, 0.0], [1.0, 1.0], [8.0, 8.0]]), 1e-6)
    snaps = list(em_steps(data, p0, max_iter=5, tol=0))
    events = [e for s in snaps for e in s.events]
    assert events, "the collapse was not diagnosed"
    event = events[0]
    assert event.component == 2 and event.kind == "collapsed" and not event.fatal
    assert "Component 3" in event.message and "reg_covar" in event.message
    assert "re-seed" in event.message and "lower K" in event.message
    assert all(np.isfinite(s.log_likelihood) for s in snaps[1:])


def test_singular_covariance_without_regularisation_is_an_error_not_linalgerror():
    x = collapsing_data()
    model = GaussianMixture(3, reg_covar=0.0, means_init=[[0, 0], [1, 1], [8, 8]])
    with pytest.raises(DegenerateMixtureError, match="Component [123] .* not positive definite") as info:
        model.fit(x)
    assert isinstance(info.value, ValueError)
    assert info.value.events[0].fatal


def test_reseeding_lets_the_live_run_continue():
    x = collapsing_data()
    data = EMData(x, "full")
    p0 = params_from_means(data, x, np.array([[0.0, 0.0], [1.0, 1.0], [8.0, 8.0]]), 0.0)
    snaps = list(em_steps(data, p0, reg_covar=0.0))
    assert snaps[-1].events[0].fatal  # the 5 repeated points give a zero covariance at once
    k = snaps[-1].events[0].component
    assert k == 2
    reseeded = reseed_component(data, x, snaps[-1].params, k, np.random.default_rng(0))
    assert np.all(np.isfinite(reseeded.covariances))
    rest = list(em_steps(data, reseeded, reg_covar=1e-6, max_iter=20))
    assert np.isfinite(rest[-1].log_likelihood)


def test_restarts_all_keep_their_history():
    x = blobs()
    model = GaussianMixture(3, n_init=4, random_state=0).fit(x)
    assert [h.restart for h in model.restarts_] == [0, 1, 2, 3]
    for history in model.restarts_:
        assert history.snapshots[0].half_step == "init"
        assert all(s.responsibilities is None for s in history.snapshots)
    best = max(model.restarts_, key=lambda h: h.final.log_likelihood)
    assert model.lower_bounds_ == best.lower_bounds


def test_fit_steps_yields_every_restart_and_ends_fitted():
    x = blobs()
    model = GaussianMixture(3, n_init=2, random_state=1)
    restarts = {s.restart for s in model.fit_steps(x)}
    assert restarts == {0, 1}
    assert model.means_.shape == (3, 2)


def test_float32_input_is_accepted_and_kept_float32_as_in_scikit_learn():
    x = blobs().astype(np.float32)
    model = GaussianMixture(3, random_state=0).fit(x)
    assert model.means_.dtype == model.covariances_.dtype == model.precisions_.dtype == np.float32
    assert model.predict_proba(x).dtype == model.score_samples(x).dtype == np.float32
    assert model.score(x) == pytest.approx(GaussianMixture(3, random_state=0).fit(
        x.astype(np.float64)).score(x), rel=1e-6)


def test_parameters_for_other_data_are_refused():
    x = blobs()
    data = EMData(x, "full")
    p = MixtureParams("diag", np.ones(2) / 2, np.zeros((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="do not fit"):
        list(em_steps(data, p))


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
@pytest.mark.parametrize("wide", [False, True])
def test_parallel_pass_agrees_with_the_serial_one(covariance_type, wide):
    # Large enough (N·K work) that a pass is split over the workers.
    rng = np.random.default_rng(0)
    if wide:  # the per-component path: wider than the quadratic features pay for
        x = np.concatenate([rng.normal(size=(2000, 80)), rng.normal(size=(2000, 80)) + 4])
    else:
        x = blobs(n=60_000)
    data = EMData(x, covariance_type)
    p0 = initialize(data, x, 3, "random_from_data", check_random_state(0), 1e-6)
    try:
        parallel.set_worker_count(3)
        threaded = list(em_steps(data, p0, max_iter=4, tol=0))[-1]
        parallel.set_worker_count(1)
        serial = list(em_steps(data, p0, max_iter=4, tol=0))[-1]
    finally:
        parallel.set_worker_count(None)
    assert threaded.log_likelihood == pytest.approx(serial.log_likelihood, rel=1e-13)
    np.testing.assert_allclose(threaded.params.covariances, serial.params.covariances,
                               rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(threaded.responsibilities, serial.responsibilities, atol=1e-12)


def test_engine_workers_run_a_single_threaded_blas():
    from threadpoolctl import threadpool_info

    def blas_threads(_):
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    before = blas_threads(None)
    with parallel.single_threaded_blas():  # set and restored by this thread first
        assert blas_threads(None) == {1}
    try:
        parallel.set_worker_count(2)
        inside = parallel.map_blocks(blas_threads, [0, 1, 2])
    finally:
        parallel.set_worker_count(None)
    assert inside == [{1}, {1}, {1}]
    assert blas_threads(None) == before  # restored once the last worker finished


def test_serial_passes_keep_a_pass_on_its_thread():
    here = threading.get_ident()
    try:
        parallel.set_worker_count(2)
        blocks = parallel.row_blocks(10**6, 10, 1)
        assert len(blocks) > 1 and blocks[0][0] == 0 and blocks[-1][1] == 10**6
        seen: set[int] = set()
        parallel.map_blocks(lambda block: seen.add(threading.get_ident()), blocks)
        assert here not in seen  # on the engine's workers
        seen.clear()
        with parallel.serial_passes():
            assert parallel.row_blocks(10**6, 10, 1) == blocks  # the same cut...
            parallel.map_blocks(lambda block: seen.add(threading.get_ident()), blocks)
        assert seen == {here}  # ...run on the calling thread
    finally:
        parallel.set_worker_count(None)


def test_a_fit_is_the_same_to_the_last_bit_on_one_worker_or_two():
    x = np.random.default_rng(3).normal(size=(200_000, 2)) * [1.0, 3.0]
    x[:100_000] += 5.0
    data = EMData(x, "full")
    start = initialize(data, x, 3, "random_from_data", np.random.default_rng(0), 1e-6)
    runs = []
    try:
        for workers in (1, 2):
            parallel.set_worker_count(workers)
            runs.append([s for s in em_steps(data, start, max_iter=5, tol=0.0,
                                              keep_responsibilities=False)])
    finally:
        parallel.set_worker_count(None)
    for a, b in zip(*runs, strict=True):
        assert a.log_likelihood == b.log_likelihood or (np.isinf(a.log_likelihood) and np.isinf(b.log_likelihood))
        np.testing.assert_array_equal(a.params.covariances, b.params.covariances)


def test_worker_count_is_a_setting():
    try:
        parallel.set_worker_count(1)
        assert parallel.worker_count() == 1
        parallel.set_worker_count(None)
        assert parallel.worker_count() == parallel.available_cores()
        with pytest.raises(ValueError, match="integer >= 1"):
            parallel.set_worker_count(0)
    finally:
        parallel.set_worker_count(None)


def test_columns_in_very_different_units_are_not_a_collapse():
    rng = np.random.default_rng(0)
    income = np.concatenate([rng.normal(40_000, 8_000, 400), rng.normal(90_000, 15_000, 400)])
    share = np.concatenate([rng.normal(0.3, 0.05, 400), rng.normal(0.6, 0.05, 400)])
    model = GaussianMixture(2, random_state=0).fit(np.column_stack([income, share]))
    assert model.events_ == ()


def test_a_zero_starting_weight_keeps_the_bound_finite():
    x = blobs()
    data = EMData(x, "full")
    p0 = MixtureParams("full", [0.0, 0.5, 0.5], [[0, 0], [6, 0], [0, 6]], np.tile(np.eye(2), (3, 1, 1)))
    snaps = list(em_steps(data, p0, max_iter=3, tol=0))
    assert all(np.isfinite(s.lower_bound) for s in snaps[1:])


def test_stopping_a_fit_is_not_a_convergence_failure():
    x = blobs()
    stop = threading.Event()
    model = GaussianMixture(3, tol=0, max_iter=1000, random_state=0)
    for snap in model.fit_steps(x, stop=stop):  # would warn ConvergenceWarning if it complained
        if snap.iteration == 2:
            stop.set()
    assert model.n_iter_ == 2 and not model.converged_


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_entropy_from_the_statistics_equals_the_direct_sum(covariance_type):
    from gmm_studio.core.selection import entropy

    x = blobs(seed=7)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(x)
    data = EMData(x, covariance_type)
    total, en = data.log_likelihood_and_entropy(model.params())
    gamma = model.predict_proba(x)
    assert total == pytest.approx(model.score(x) * len(x), rel=1e-12)
    assert en == pytest.approx(entropy(gamma), rel=1e-6, abs=1e-6)
    assert model.icl(x) == pytest.approx(model.bic(x) + 2 * entropy(gamma), rel=1e-9)


# --------------------------------------------------------------------------- collapse judged fairly


def far_apart(distance, d=2, n=200, seed=0):
    """Two compact unit clusters ``distance`` apart (along the first axis)."""
    rng = np.random.default_rng(seed)
    shift = np.zeros(d)
    shift[0] = distance
    return np.concatenate([rng.normal(size=(n, d)), rng.normal(size=(n, d)) + shift])


@pytest.mark.parametrize("distance", [1e5, 1e8])
def test_compact_clusters_far_apart_fit_like_sklearn(distance):
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    x = far_apart(distance)
    init = dict(weights_init=[0.4, 0.6], means_init=x[[0, 250]] + 0.5,
                precisions_init=np.tile(np.eye(2) * 0.5, (2, 1, 1)))
    options = dict(n_components=2, covariance_type="full", tol=1e-9, max_iter=50, **init)
    ours = GaussianMixture(**options).fit(x)
    ref = sklearn_mixture.GaussianMixture(**options).fit(x)
    assert ours.events_ == ()
    assert ours.n_iter_ == ref.n_iter_
    for name in ("weights_", "means_", "covariances_", "lower_bound_"):
        a, b = np.asarray(getattr(ours, name)), np.asarray(getattr(ref, name))
        assert np.max(np.abs(a - b)) <= 1e-8 * np.max(np.abs(b)), name
    np.testing.assert_allclose(ours.covariances_[0], np.cov(x[:200].T, bias=True) + 1e-6 * np.eye(2),
                               rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("distance", [1e5, 1e8])
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_compact_clusters_far_apart_are_not_collapsed(distance, covariance_type):
    x = far_apart(distance)
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(x)
    assert model.events_ == ()
    order = np.argsort(model.means_[:, 0])
    np.testing.assert_allclose(model.means_[order], [x[:200].mean(0), x[200:].mean(0)],
                               rtol=1e-12, atol=1e-9)
    full = model.params().full_covariances()
    # each cluster's own sample variance (per feature), to the float resolution of its data
    expected = {
        "full": np.var(x[:200], axis=0),
        "diag": np.var(x[:200], axis=0),
        "spherical": np.full(2, np.var(x[:200], axis=0).mean()),
        "tied": (np.var(x[:200], axis=0) + np.var(x[200:], axis=0)) / 2,
    }[covariance_type]
    np.testing.assert_allclose(np.diagonal(full[order[0]]), expected + 1e-6, rtol=1e-8)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("k", [1, 2])
def test_a_constant_column_is_not_a_collapse(covariance_type, k):
    rng = np.random.default_rng(1)
    x = np.column_stack([np.concatenate([rng.normal(size=300), rng.normal(size=300) + 8]),
                         np.full(600, 2.0), rng.normal(size=600)])
    model = GaussianMixture(k, covariance_type=covariance_type, random_state=0).fit(x)
    assert model.events_ == ()
    assert np.all(np.isfinite(model.covariances_))


def test_tiny_reg_covar_on_repeated_points_is_still_a_collapse():
    x = collapsing_data()
    data = EMData(x, "full")
    p0 = params_from_means(data, x, np.array([[0.0, 0.0], [1.0, 1.0], [8.0, 8.0]]), 1e-12)
    snaps = list(em_steps(data, p0, max_iter=5, tol=0, reg_covar=1e-12))
    events = [e for s in snaps for e in s.events]
    assert events and events[0].component == 2 and events[0].kind in ("collapsed", "singular")


def test_far_from_the_origin_a_collapse_is_still_diagnosed():
    x = collapsing_data() + 1e8
    data = EMData(x, "full")
    p0 = params_from_means(data, x, np.array([[0.0, 0.0], [1.0, 1.0], [8.0, 8.0]]) + 1e8, 1e-6)
    snaps = list(em_steps(data, p0, max_iter=5, tol=0))
    kinds = {(e.component, e.kind) for s in snaps for e in s.events}
    assert (2, "collapsed") in kinds and all(c == 2 for c, _ in kinds)


# --------------------------------------------------------------------------- wide data


def test_wide_data_fit_like_sklearn_in_bounded_memory():
    import tracemalloc

    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    rng = np.random.default_rng(0)
    n, d = 300, 200  # more points than features per cluster: no component is degenerate
    x = np.concatenate([rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 3.0])
    options = dict(n_components=2, tol=1e-9, max_iter=20, weights_init=[0.5, 0.5],
                   means_init=x[[0, n]], precisions_init=np.tile(np.eye(d), (2, 1, 1)))
    peaks = []
    models = []
    for cls in (GaussianMixture, sklearn_mixture.GaussianMixture):
        tracemalloc.start()
        models.append(cls(**options).fit(x))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    ours, ref = models
    for name in ("means_", "covariances_", "precisions_cholesky_", "lower_bound_"):
        a, b = np.asarray(getattr(ours, name)), np.asarray(getattr(ref, name))
        assert np.max(np.abs(a - b)) <= 1e-8 * np.max(np.abs(b)), name
    assert peaks[0] <= 2 * peaks[1], f"ours {peaks[0] / 2**20:.1f} MB, sklearn {peaks[1] / 2**20:.1f} MB"
