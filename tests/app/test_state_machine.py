"""Every command in every state: allowed ones do what they say, refused ones change nothing."""

from __future__ import annotations

import re

import numpy as np
import pytest
from app_helpers import STATES, Journal, blobs, in_state, make_session

from gmm_studio.session import COMMANDS, CommandRefused, ManualRunner, RunState

# The state each allowed command leads to (None: the state it was in).
AFTER = {
    "run": RunState.RUNNING, "resume": RunState.RUNNING, "pause": RunState.PAUSED,
    "step": RunState.STEPPING, "step_e": RunState.STEPPING, "step_m": RunState.STEPPING,
    "stop": RunState.FINISHED, "reset": RunState.IDLE, "scrub": None, "go_live": None,
    "place_mean": RunState.IDLE, "clear_placed": RunState.IDLE, "raise_reg_covar": RunState.RUNNING,
    "lower_k": RunState.RUNNING, "reseed": RunState.RUNNING, "show_model": RunState.IDLE,
}


def call(session, command):
    args = {"scrub": (1,), "place_mean": ((1.0, 2.0),), "show_model": (blobs().truth,)}
    getattr(session, command)(*args.get(command, ()))


def observable(session):
    """What a person can see of the session (no private fields)."""
    return (session.state, len(session.history), session.history.cursor,
            session.placed_means.tobytes(), session.settings,
            tuple(id(s) for s in session.history), session.shown.snapshot)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_every_state(state, command):
    session = in_state(state)
    reason = session.why_not(command)
    assert session.can(command) == (reason is None)
    before = observable(session)
    journal = Journal(session)
    if reason is not None:
        assert isinstance(reason, str) and reason.endswith(".") and len(reason) < 120
        with pytest.raises(CommandRefused, match="^" + re.escape(reason) + "$") as refused:
            call(session, command)
        assert refused.value.command == command
        assert observable(session) == before
        assert journal.events == []
        return
    was = session.state
    call(session, command)
    expected = AFTER[command] or was
    if command == "show_model" and was is not RunState.IDLE:
        expected = RunState.IDLE
    assert session.state is expected
    if command == "reset":
        assert len(session.history) == 0 and len(session.placed_means) == 0
    if command == "scrub":
        assert session.history.cursor == 1 and session.shown.snapshot is session.history[1]
    if command == "go_live":
        assert session.history.cursor is None
        assert session.shown.snapshot is session.history[len(session.history) - 1]
    if command == "place_mean":
        assert len(session.placed_means) == len(np.frombuffer(before[3])) // 2 + 1
        assert session.settings.n_components == len(session.placed_means)
    if command == "show_model":
        assert len(session.history) == 1 and session.history.origins == ("model",)
    if expected is not was:
        assert journal.of("state_changed")[-1] is expected
    if isinstance(session.runner, ManualRunner):
        session.runner.run_all()  # whatever was started can finish
        assert session.state in (RunState.PAUSED, RunState.FINISHED, RunState.IDLE, RunState.FAILED)


def test_unknown_command_is_a_clear_error(session):
    with pytest.raises(ValueError, match="Unknown command 'jump'"):
        session.why_not("jump")


@pytest.mark.parametrize("state", STATES)
def test_no_command_is_disabled_without_a_reason(state):
    session = in_state(state)
    allowed = [c for c in COMMANDS if session.can(c)]
    for command in set(COMMANDS) - set(allowed):
        assert session.why_not(command)
    if state != "no data":
        assert "show_model" in allowed  # there is always something a person can do


def test_space_toggles_run_pause_resume(session):
    runner = session.runner
    session.toggle()
    assert session.state is RunState.RUNNING
    runner.advance("fit")
    session.toggle()
    assert session.state is RunState.PAUSED
    n = len(session.history)
    session.toggle()
    assert session.state is RunState.RUNNING
    runner.run_all()
    assert session.state is RunState.FINISHED and len(session.history) > n
    session.toggle()  # after a finished fit, Space runs a new one
    assert session.state is RunState.RUNNING and len(session.history) == 0


def test_k_larger_than_n_is_a_sentence_not_numpy():
    from gmm_studio.core.dataio import dataset_from_array

    session = make_session()
    session.set_dataset(dataset_from_array(np.arange(8.0).reshape(4, 2)))
    with pytest.raises(ValueError, match=r"^K = 5 components need at least 5 points, but the data "
                                         r"have 4: lower K or load more data\.$"):
        session.update_settings(n_components=5)
    assert session.settings.n_components == 3


def test_k_larger_than_n_refuses_run_with_the_reason():
    from gmm_studio.core.dataio import dataset_from_array

    session = make_session()
    session.update_settings(n_components=5)
    session.set_dataset(dataset_from_array(np.arange(8.0).reshape(4, 2)))
    reason = session.why_not("run")
    assert reason == "K = 5 components need at least 5 points, but the data have 4: lower K or load more data."
    assert session.why_not("step") == reason
    with pytest.raises(CommandRefused, match="lower K"):
        session.run()
    assert session.state is RunState.IDLE and len(session.history) == 0


def test_bad_settings_say_what_is_wrong(session):
    with pytest.raises(ValueError, match="tol must be a non-negative number"):
        session.update_settings(tol=-1.0)
    with pytest.raises(ValueError, match="n_components must be between 1 and 20"):
        session.update_settings(n_components=0)
