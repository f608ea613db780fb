"""The restart policy: how restarts start, which one wins, and that the estimator follows it."""

import dataclasses
import threading

import numpy as np
import pytest

from gmm_studio.core import EMData, GaussianMixture
from gmm_studio.core.em import DegeneracyEvent
from gmm_studio.core.init import check_random_state
from gmm_studio.core.restarts import (
    RestartPolicy,
    Start,
    best_restart,
    finals_of,
    fit_restarts,
    initial_params,
)
from gmm_studio.core.settings import FitSettings


def blobs(seed=0, n=200):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(size=(n, 2)) + c for c in ((0, 0), (6, 0), (0, 6))])


def fit(x, policy, seed=0, **kw):
    data = EMData(x, "full")
    return [s.without_responsibilities()
            for s in fit_restarts(data, x, policy, check_random_state(seed), **kw)]


def final(snapshot, ll, kinds=()):
    events = tuple(DegeneracyEvent(0, kind, kind) for kind in kinds)
    return dataclasses.replace(snapshot, log_likelihood=ll, events=events)


@pytest.fixture(scope="module")
def a_snapshot():
    return fit(blobs(), RestartPolicy(3, max_iter=1))[-1]


def test_every_restart_runs_in_order_and_finals_are_their_last_snapshots():
    snaps = fit(blobs(), RestartPolicy(3, n_init=3, max_iter=4, tol=0))
    assert [s.restart for s in snaps] == [r for r in range(3) for _ in range(9)]
    finals = finals_of(snaps)
    assert [f.restart for f in finals] == [0, 1, 2]
    assert all(f.half_step == "M" and f.iteration == 4 for f in finals)


def test_finals_of_an_init_only_fit_are_the_init_snapshots():
    finals = finals_of(fit(blobs(), RestartPolicy(3, n_init=2, max_iter=0)))
    assert [(f.restart, f.half_step) for f in finals] == [(0, "init"), (1, "init")]


def test_clean_restarts_beat_degenerate_ones_whatever_their_likelihood(a_snapshot):
    finals = [final(a_snapshot, -1.0, ["collapsed"]), final(a_snapshot, -5.0),
              final(a_snapshot, -3.0), final(a_snapshot, 0.0, ["empty"])]
    assert best_restart(finals) == 2


def test_degenerate_restarts_win_only_when_nothing_is_clean_and_fatal_ones_never(a_snapshot):
    finals = [final(a_snapshot, -4.0, ["collapsed"]), final(a_snapshot, 9.0, ["singular"]),
              None, final(a_snapshot, -2.0, ["empty"])]
    assert best_restart(finals) == 3
    assert best_restart([final(a_snapshot, 1.0, ["singular"]), None]) is None
    assert best_restart([]) is None


def test_ties_go_to_the_earlier_restart_and_nan_never_wins(a_snapshot):
    finals = [final(a_snapshot, np.nan), final(a_snapshot, -2.0), final(a_snapshot, -2.0)]
    assert best_restart(finals) == 1


def test_scores_replace_the_log_likelihood_as_the_ranking(a_snapshot):
    finals = [final(a_snapshot, -1.0), final(a_snapshot, -2.0)]
    assert best_restart(finals, scores=[0.0, 5.0]) == 1


def test_a_start_from_params_runs_one_restart_that_continues_the_history():
    x = blobs()
    first = fit(x, RestartPolicy(3, max_iter=3, tol=0))[-1]
    start = Start.from_params(first.params, start_iteration=3,
                              previous_log_likelihood=first.log_likelihood)
    snaps = fit(x, RestartPolicy(3, n_init=5, max_iter=2, tol=0), start=start)
    assert snaps[0].params is first.params
    assert [s.iteration for s in snaps] == [3, 4, 4, 5, 5]
    assert {s.restart for s in snaps} == {0}


def test_placed_means_start_restart_zero_and_later_restarts_are_fresh():
    x = blobs()
    means = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    snaps = fit(x, RestartPolicy(3, n_init=2, max_iter=1), start=Start.from_means(means))
    inits = [s for s in snaps if s.half_step == "init"]
    np.testing.assert_array_equal(inits[0].params.means, means)
    assert not np.allclose(inits[1].params.means, means)


def test_reseed_moves_only_the_named_component():
    x = blobs()
    params = fit(x, RestartPolicy(3, max_iter=5))[-1].params
    moved = initial_params(EMData(x, "full"), x, RestartPolicy(3), 0, check_random_state(1),
                           Start.reseed(params, 1))
    np.testing.assert_array_equal(moved.means[[0, 2]], params.means[[0, 2]])
    assert not np.allclose(moved.means[1], params.means[1])


def test_given_means_apply_to_every_fresh_restart_and_arrange_sees_each():
    x = blobs()
    means = np.array([[1.0, 1.0], [6.0, 1.0], [1.0, 6.0]])
    seen = []

    def arrange(restart, params):
        seen.append(restart)
        return params.with_means(params.means[::-1])

    snaps = fit(x, RestartPolicy(3, n_init=2, max_iter=1, means_init=means), arrange=arrange)
    assert seen == [0, 1]
    for s in snaps:
        if s.half_step == "init":
            np.testing.assert_array_equal(s.params.means, means[::-1])


def test_stop_ends_the_fit_before_the_next_restart():
    stop = threading.Event()
    seen = []
    data = EMData(blobs(), "full")
    for s in fit_restarts(data, blobs(), RestartPolicy(3, n_init=4), check_random_state(0),
                          stop=stop):
        seen.append(s.restart)
        stop.set()
    assert seen == [0]


def test_policy_from_window_settings_uses_kmeans_after_clicked_means():
    settings = FitSettings(n_components=5, init_params="click", n_init=3, tol=1e-4, max_iter=7)
    policy = RestartPolicy.from_settings(settings)
    assert (policy.n_components, policy.init_params, policy.n_init, policy.tol, policy.max_iter) == (
        5, "kmeans", 3, 1e-4, 7)


def test_the_estimator_keeps_the_restart_the_policy_picks():
    x = blobs(seed=3)
    gm = GaussianMixture(3, n_init=4, random_state=2).fit(x)
    policy = RestartPolicy(3, n_init=4)
    finals = finals_of(fit(x, policy, seed=2))
    best = finals[best_restart(finals)]
    np.testing.assert_array_equal(gm.means_, best.params.means)
    assert gm.lower_bound_ == best.log_likelihood
