"""Long random sequences of commands and runner advances keep the session consistent."""

from __future__ import annotations

import pytest
from app_helpers import blobs, collapsed_session, make_session
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_studio.core.generate import adjusted_rand_index
from gmm_studio.session import COMMANDS, CommandRefused, ManualRunner, RunState

ACTIONS = COMMANDS + ("advance", "advance", "advance", "run_all")


def check_consistent(session):
    h = session.history
    n = len(h)
    assert h.cursor is None or 0 <= h.cursor < n - 1
    assert (session.shown.snapshot is None) == (n == 0)
    if n:
        assert session.shown.snapshot is h[h.shown_index]
    if session.state.busy:
        assert session.shown.comparison is None
    for r in {s.restart for s in h}:
        steps = [(s.iteration, s.half_step) for s in h if s.restart == r]
        for (i0, a), (i1, b) in zip(steps, steps[1:]):
            # E follows a start or an M and belongs to the next iteration; M follows its E
            assert (b == "E" and i1 == i0 + 1 and a in ("init", "M")) or \
                   (b == "M" and i1 == i0 and a == "E") or b == "init"
    gamma = session.shown.responsibilities
    assert gamma is None or gamma.shape == (session.x.shape[0], h.shown.params.n_components)


@pytest.mark.parametrize("start", ["blobs", "collapsed", "singular"])
@settings(max_examples=25, deadline=None)
@given(actions=st.lists(st.sampled_from(ACTIONS), min_size=5, max_size=40),
       scrub_to=st.integers(0, 30))
def test_random_sequences_keep_every_invariant(start, actions, scrub_to):
    if start == "blobs":
        session = make_session()
    else:  # remedies are possible here
        session = collapsed_session(ManualRunner(), reg_covar=1e-6 if start == "collapsed" else 0.0)
    runner = session.runner
    truth = blobs().truth
    for action in actions:
        if action == "advance":
            runner.advance()
        elif action == "run_all":
            runner.run_all()
        else:
            args = {"scrub": (min(scrub_to, max(len(session.history) - 1, 0)),),
                    "place_mean": ((0.0, 0.0),), "show_model": (truth,)}.get(action, ())
            reason = session.why_not(action)
            before = (session.state, len(session.history), session.history.cursor)
            try:
                getattr(session, action)(*args)
            except CommandRefused as refused:
                assert reason is not None and str(refused) == reason
                assert (session.state, len(session.history), session.history.cursor) == before
            else:
                assert reason is None
        assert isinstance(session.state, RunState)
        check_consistent(session)
    runner.run_all()
    check_consistent(session)
    assert not session.state.busy
    shown = session.shown
    if shown.snapshot is not None and session.dataset.labels is not None:
        # the figures are those of the state shown, whatever happened before
        params = session.history.gamma_params(shown.index) or shown.snapshot.params
        gamma = session.emdata(params.covariance_type).responsibilities(params) \
            if shown.responsibilities is None else shown.responsibilities
        assert shown.comparison.labels.ari == adjusted_rand_index(session.dataset.labels, gamma.argmax(axis=1))
