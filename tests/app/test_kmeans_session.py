"""K-means through the session: the same commands, history and scrubbing as EM, hard r_nk."""

from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SETTINGS, make_session

from gmm_studio.core.kmeans import KMeansSnapshot, initial_centres, kmeans_steps
from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState, SyncRunner
from gmm_studio.session.fitting import restart_rng

KMEANS = SETTINGS.replace(algorithm="kmeans", init_params="random_from_data", seed=5)


def direct(session, settings=KMEANS):
    x = session.x
    start = initial_centres(x, settings.n_components, settings.init_params, restart_rng(settings.seed, 0))
    return list(kmeans_steps(x, start, tol=settings.tol, max_iter=settings.max_iter))


def test_the_algorithm_is_validated():
    with pytest.raises(ValueError, match="algorithm must be one of"):
        FitSettings(algorithm="lloyd")
    assert FitSettings.from_dict({"algorithm": "lloyd"}).algorithm == "em"
    assert FitSettings.from_dict({"algorithm": "kmeans"}).algorithm == "kmeans"


def test_a_kmeans_run_is_core_kmeans_half_step_by_half_step():
    session = make_session(SyncRunner(), settings=KMEANS)
    session.run()
    steps = direct(session)
    assert [(s.iteration, s.half_step) for s in session.history] == \
        [(s.iteration, {"init": "init", "assign": "E", "update": "M"}[s.half_step]) for s in steps]
    assert all(isinstance(s, KMeansSnapshot) for s in session.history)
    np.testing.assert_allclose(session.history.shown.params.means, steps[-1].centres)
    assert session.last_outcome.message.startswith("K-means converged")


def test_stepping_and_resuming_kmeans_reach_the_same_partition():
    session = make_session(SyncRunner(), settings=KMEANS)
    session.step_e()
    assert session.history.shown.half_step == "E" and session.state is RunState.PAUSED
    session.step_m()
    while session.state is RunState.PAUSED:  # one iteration at a time to K-means' fixed point
        session.step()
    final = direct(session)[-1]
    assert session.state is RunState.FINISHED
    np.testing.assert_array_equal(session.shown.responsibilities.argmax(axis=1), final.labels)


def test_scrubbed_kmeans_states_have_hard_responsibilities():
    session = make_session(SyncRunner(), settings=KMEANS)
    session.run()
    steps = direct(session)
    session.scrub(1)  # iteration 1's assignment
    gamma = session.shown.responsibilities
    assert gamma is not None
    np.testing.assert_array_equal(np.unique(gamma), [0.0, 1.0])
    np.testing.assert_array_equal(gamma.argmax(axis=1), steps[1].labels)
