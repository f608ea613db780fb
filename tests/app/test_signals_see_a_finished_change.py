"""A slot always reads a finished change: every signal is emitted after the command (or the
runner's callback) has changed everything, and a slot that raises cannot leave the session
half-changed nor keep the other signals from their subscribers."""

from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SIGNALS, STATES, Journal, blobs, in_state

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.session import RunState


def assert_consistent(s) -> None:
    """What every view relies on: the shown entry is in the history, of the data's dimension."""
    h, shown = s.history, s.shown
    assert (shown.index is None) == (len(h) == 0)
    if shown.index is not None:
        assert shown.snapshot is h[shown.index]
        assert shown.snapshot.params.n_features == s.x.shape[1]
    if shown.responsibilities is not None:
        assert shown.responsibilities.shape == (s.x.shape[0], shown.snapshot.params.n_components)
    if s.projection is not None:
        assert s.projection.matrix.shape[1] == s.x.shape[1]


def watch(session) -> list[str]:
    """Check consistency in a slot of every signal; returns the names heard, in order."""
    heard = []
    for name in SIGNALS:
        def slot(*_, n=name):
            assert_consistent(session)
            heard.append(n)
        getattr(session, name).connect(slot)
    return heard


def one_d():
    x = np.random.default_rng(1).normal(size=(50, 1))
    return dataset_from_array(x, columns=("x",))


@pytest.mark.parametrize("state", STATES)
def test_new_data_reach_slots_as_a_whole(state):
    s = in_state(state)
    heard = watch(s)
    s.set_dataset(one_d())
    s.runner.run_all()
    assert s.state is RunState.IDLE and len(s.history) == 0 and s.x.shape == (50, 1)
    assert heard[:2] == ["dataset_changed", "projection_changed"]
    s.update_settings(init_params="kmeans", n_components=2)
    s.step()
    s.runner.run_all()
    assert s.shown.snapshot.params.n_features == 1


@pytest.mark.parametrize("command", ["reset", "run", "go_live", "step"])
def test_commands_that_clear_or_cut_the_history_reach_slots_as_a_whole(command):
    s = in_state("scrubbed")
    watch(s)
    if s.can(command):
        getattr(s, command)()
        s.runner.run_all()


def test_an_edit_and_a_given_model_reach_slots_as_a_whole():
    s = in_state("scrubbed")
    watch(s)
    s.show_model(s.history.shown.params, keep_history=True)
    s.runner.run_all()
    s.show_model(blobs().truth)
    s.runner.run_all()


def test_a_failing_slot_does_not_leave_the_session_half_changed():
    s = in_state("finished")
    journal = Journal(s)

    def broken(_projection):
        raise IndexError("a view's bug")

    s.projection_changed.connect(broken)
    with pytest.raises(Exception, match="a view's bug"):
        s.set_dataset(one_d())
    # the change is complete, and every other signal still reached its subscribers
    assert s.state is RunState.IDLE and len(s.history) == 0 and s.shown.snapshot is None
    assert s.x.shape == (50, 1) and s.projection.matrix.shape[1] == 1
    heard = [name for name, _ in journal.events]
    for name in ("dataset_changed", "projection_changed", "state_changed", "history_changed",
                 "shown_changed", "placed_changed", "selection_changed"):
        assert name in heard
    assert journal.of("shown_changed")[-1] is None
    s.projection_changed.disconnect(broken)
    s.step()  # and the session works on
    s.runner.run_all()
    assert s.shown.snapshot.params.n_features == 1


def test_a_command_called_from_a_slot_runs_after_the_change_and_its_signals_follow():
    s = in_state("finished")
    journal = Journal(s)
    s.dataset_changed.connect(lambda _d: s.update_settings(n_components=2))
    s.set_dataset(one_d())
    names = [n for n, _ in journal.events]
    assert names.index("settings_changed") > names.index("selection_changed")  # after set_dataset's own
    assert s.settings.n_components == 2 and s.state is RunState.IDLE
