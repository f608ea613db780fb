"""Run, pause, resume, step, stop, reset, scrub: what the history and the shown state become."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from app_helpers import SETTINGS, Journal, make_session
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_studio.session import ManualRunner, RunState, Session, SyncRunner


def labels_of(session):
    return [(s.restart, s.iteration, s.half_step) for s in session.history]


def lls(session):
    return np.array([s.log_likelihood for s in session.history])


def follow_the_curve(session) -> list:
    """A subscriber drawing the history as documented: whole on history_changed, then appending
    each snapshot_added.  Returns the list it keeps drawn."""
    drawn = []

    def redraw():
        drawn[:] = list(session.history)
    session.history_changed.connect(redraw)
    session.snapshot_added.connect(drawn.append)
    return drawn


def reference(fit_settings=SETTINGS):
    """The same fit run straight through, for comparison."""
    session = make_session(SyncRunner(), settings=fit_settings)
    session.run()
    return session


def assert_same_history(a, b):
    assert labels_of(a) == labels_of(b)
    np.testing.assert_allclose(lls(a), lls(b), rtol=0, atol=1e-12)
    for x, y in zip(a.history, b.history):
        np.testing.assert_allclose(x.params.means, y.params.means, rtol=0, atol=1e-12)


def test_run_to_the_end_shows_the_live_state_with_its_responsibilities():
    session = make_session(SyncRunner())
    journal = Journal(session)
    drawn = follow_the_curve(session)
    session.run()
    assert session.state is RunState.FINISHED
    assert session.last_outcome.reason == "converged"
    assert journal.of("fit_ended") == [session.last_outcome]
    assert labels_of(session)[:3] == [(0, 0, "init"), (0, 1, "E"), (0, 1, "M")]
    assert all(s.responsibilities is None for s in session.history)  # light history
    gamma = session.shown.responsibilities
    assert gamma.shape == (240, 3)
    np.testing.assert_allclose(gamma, session.emdata("full").responsibilities(session.history[-2].params))
    assert drawn == list(session.history)  # what a curve following the signals draws


def test_stop_after_an_e_step_then_step_m_does_the_m_step():
    session = make_session()
    runner = session.runner
    session.run()
    runner.advance("fit")  # init
    runner.advance("fit")  # E of iteration 1
    assert labels_of(session)[-1] == (0, 1, "E")
    session.stop()
    assert session.state is RunState.FINISHED and session.last_outcome.reason == "stopped"
    runner.run_all()
    session.step_m()
    assert session.state is RunState.STEPPING
    runner.run_all()
    assert labels_of(session) == [(0, 0, "init"), (0, 1, "E"), (0, 1, "M")]
    assert session.state is RunState.PAUSED
    straight = reference()
    np.testing.assert_allclose(session.history[2].params.means, straight.history[2].params.means,
                               rtol=0, atol=1e-12)
    assert session.history[2].lower_bound == pytest.approx(straight.history[2].lower_bound, abs=1e-12)


@pytest.mark.parametrize("command, added", [("step", ["init", "E", "M"]), ("step_e", ["init", "E"]),
                                            ("step_m", ["init", "E", "M"])])
def test_step_from_idle_initialises_then_steps(command, added):
    session = make_session()
    getattr(session, command)()
    session.runner.run_all()
    assert [s.half_step for s in session.history] == added
    assert session.state is RunState.PAUSED
    assert session.can("resume") and session.can("step")


def test_step_e_then_step_m_then_step_walks_half_steps():
    session = make_session()
    for command in ("step_e", "step_m", "step_e", "step"):
        getattr(session, command)()
        session.runner.run_all()
    assert labels_of(session) == [(0, 0, "init"), (0, 1, "E"), (0, 1, "M"), (0, 2, "E"), (0, 2, "M")]
    assert_same_history(session, _prefix(reference(), 5))


def _prefix(session, n):
    class Prefix:
        history = list(session.history)[:n]
    return Prefix


def test_reset_then_step_works():
    session = make_session()
    session.run()
    session.runner.advance("fit")
    session.reset()
    assert session.state is RunState.IDLE and len(session.history) == 0
    assert session.shown.snapshot is None and session.shown.comparison is None
    session.step()
    session.runner.run_all()
    assert [s.half_step for s in session.history] == ["init", "E", "M"]
    assert session.state is RunState.PAUSED


def test_reset_then_run_twice_gives_the_same_new_fit_each_time():
    session = make_session(SyncRunner())
    session.run()
    first = labels_of(session), lls(session)
    session.reset()
    session.run()
    assert labels_of(session) == first[0]
    session.run()  # a second Run after a finished fit starts a new one
    assert session.state is RunState.FINISHED
    assert labels_of(session) == first[0]
    np.testing.assert_allclose(lls(session), first[1], rtol=0, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(pauses=st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_pause_and_resume_continue_exactly_where_the_fit_was(pauses):
    session = make_session()
    runner = session.runner
    session.run()
    for advances in pauses:
        for _ in range(advances):
            if session.state is RunState.RUNNING:
                runner.advance("fit")
        if session.state is not RunState.RUNNING:
            break
        n = len(session.history)
        session.pause()
        assert session.state is RunState.PAUSED
        runner.run_all()
        assert len(session.history) == n  # nothing arrives after Pause
        session.resume()
    runner.run_all()
    assert session.state is RunState.FINISHED
    assert_same_history(session, reference())


def paused_by(how):
    """A session paused by Pause, by one Step from idle, or by an edit by hand after a Step."""
    session = make_session()
    runner = session.runner
    if how == "pause":
        session.run()
        for _ in range(4):
            runner.advance("fit")
        session.pause()
    else:
        session.step()
        runner.run_all()
        if how == "edit":
            params = session.history.shown.params
            session.show_model(dataclasses.replace(params, means=params.means + 0.5), keep_history=True)
    runner.run_all()
    assert session.state is RunState.PAUSED
    return session


@pytest.mark.parametrize("how", ["pause", "one step", "edit"])
def test_run_while_paused_continues_from_the_shown_model_like_resume(how):
    by_run, by_resume = paused_by(how), paused_by(how)
    assert by_run.why_not("run") is None and by_run.why_not("resume") is None
    kept = list(by_run.history)
    by_run.run()
    by_resume.resume()
    assert by_run.state is RunState.RUNNING
    by_run.runner.run_all()
    by_resume.runner.run_all()
    assert by_run.state is RunState.FINISHED
    assert list(by_run.history)[:len(kept)] == kept  # continued, not started afresh
    assert_same_history(by_run, by_resume)
    if how != "edit":
        assert_same_history(by_run, reference())


def test_restarts_keep_their_index_and_the_best_is_shown_live():
    fit_settings = SETTINGS.replace(n_init=3, init_params="random_from_data", seed=4)
    session = make_session(SyncRunner(), settings=fit_settings)
    journal = Journal(session)
    session.run()
    outcome = session.last_outcome
    assert outcome.n_restarts == 3
    finals = session.history.finals()
    assert sorted(finals) == [0, 1, 2]
    best = max(finals, key=lambda r: finals[r].log_likelihood)
    assert outcome.best_restart == best
    assert session.history[len(session.history) - 1].restart == best  # continued and shown live
    assert session.shown.snapshot is finals[best]
    np.testing.assert_allclose(session.shown.responsibilities,
                               session.emdata("full").responsibilities(session.history[-2].params))
    assert journal.of("history_changed")  # reordered: the views redraw
    # every restart's entries stay together, in iteration order
    for r in range(3):
        its = [s.iteration for s in session.history if s.restart == r]
        assert its == sorted(its)


def test_pausing_between_restarts_resumes_the_remaining_ones():
    fit_settings = SETTINGS.replace(n_init=2, init_params="random_from_data", seed=4)
    session = make_session(settings=fit_settings)
    runner = session.runner
    session.run()
    while not session.history or session.history[len(session.history) - 1].restart == 0:
        runner.advance("fit")
    session.pause()
    runner.run_all()
    session.resume()
    runner.run_all()
    straight = reference(fit_settings)
    assert session.last_outcome.best_restart == straight.last_outcome.best_restart
    assert_same_history(session, straight)


def test_running_from_a_scrubbed_state_truncates_and_continues_from_there():
    session = make_session(SyncRunner())
    session.run()
    straight = labels_of(session), lls(session)
    kept = list(session.history)[:6]  # up to (0, 2, 'E'): continuing after an E-step
    session.scrub(5)
    journal = Journal(session)
    session.run()
    assert list(session.history)[:6] == kept  # the same objects: nothing before the cursor changes
    assert journal.of("history_changed")
    assert labels_of(session) == straight[0]
    np.testing.assert_allclose(lls(session), straight[1], rtol=0, atol=1e-12)


def test_stepping_from_a_scrubbed_state_drops_the_later_history():
    session = make_session(SyncRunner())
    session.run()
    session.scrub(2)  # (0, 1, 'M')
    session.step()
    assert labels_of(session) == [(0, 0, "init"), (0, 1, "E"), (0, 1, "M"), (0, 2, "E"), (0, 2, "M")]
    assert session.state is RunState.PAUSED and session.history.cursor is None


def test_scrubbing_shows_that_state_and_its_responsibilities():
    session = make_session(SyncRunner())
    session.run()
    live_gamma = session.shown.responsibilities
    journal = Journal(session)
    session.scrub(1)  # E of iteration 1: γ of its own parameters
    assert session.shown.snapshot is session.history[1] and session.history.cursor == 1
    e_gamma = session.emdata("full").responsibilities(session.history[1].params)
    np.testing.assert_allclose(session.shown.responsibilities, e_gamma)
    session.scrub(2)  # M of iteration 1: still the γ of the E-step before it
    np.testing.assert_allclose(session.shown.responsibilities, e_gamma)
    session.scrub(0)  # the initial state has no responsibilities yet
    assert session.shown.responsibilities is None
    assert [type(p).__name__ for p in journal.of("shown_changed")] == ["Snapshot"] * 3
    session.go_live()
    assert session.shown.responsibilities is live_gamma
    assert session.history.cursor is None


def test_scrubbing_a_big_dataset_computes_gamma_as_scrub_work():
    session = make_session()
    runner = session.runner
    session.run()
    runner.run_all()
    session.scrub(1)
    assert "scrub" in runner.pending()
    assert session.shown.comparison is None  # withdrawn, not stale
    assert session.shown.responsibilities is None  # not the live state's γ
    runner.run_all()
    assert session.shown.responsibilities is not None and session.shown.comparison is not None


def test_scrub_outside_the_history_is_refused():
    session = make_session(SyncRunner())
    session.run()
    n = len(session.history)
    with pytest.raises(ValueError, match=f"No half-step {n} in a history of {n}"):
        session.scrub(n)
    assert session.history.cursor is None


def test_teaching_delay_waits_inside_the_work():
    import threading

    from gmm_studio.session.fitting import FitPlan, fit_work

    session = make_session()
    waits = []

    class Recorder(threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            return False

    plan = FitPlan(session.emdata("full"), session.x, SETTINGS.replace(max_iter=2), delay=lambda: 0.25)
    work = fit_work(plan)(Recorder())
    snapshots = list(work)
    assert len(snapshots) == 5 and waits == [0.25] * 5


def test_stop_interrupts_a_delay_between_half_steps():
    session = make_session(ManualRunner())
    session.set_delay(30.0)  # the runner's cancel event ends the wait at once
    session.run()
    session.runner.advance("fit")
    session.stop()
    session.runner.run_all()
    assert session.state is RunState.FINISHED and len(session.history) == 1


def test_a_failed_fit_says_why_and_run_starts_again():
    session = make_session()
    session.run()
    session.runner.advance("fit")
    session.runner.fail("fit", MemoryError("no room for γ"))
    assert session.state is RunState.FAILED
    assert session.last_outcome.reason == "failed"
    assert "no room for γ" in session.last_outcome.message
    session.run()
    session.runner.run_all()
    assert session.state is RunState.FINISHED


def test_a_stale_task_reports_nothing():
    session = make_session()
    runner = session.runner
    session.run()
    runner.advance("fit")
    session.reset()
    session.step()
    runner.run_all()
    assert [s.half_step for s in session.history] == ["init", "E", "M"]


@pytest.mark.parametrize("how", ["finished", "paused"])
def test_step_continues_a_paused_or_finished_fit(how):
    session = make_session()
    runner = session.runner
    session.run()
    if how == "paused":
        for _ in range(3):
            runner.advance("fit")
        session.pause()
    runner.run_all()
    last = session.history[len(session.history) - 1]
    n = len(session.history)
    session.step()
    runner.run_all()
    assert labels_of(session)[n:] == [(0, last.iteration + 1, "E"), (0, last.iteration + 1, "M")]
    assert session.history[n].params is last.params  # E continues from exactly that state


def test_raise_reg_covar_stops_at_its_largest():
    from app_helpers import collapsed_session

    session = collapsed_session(reg_covar=0.0)
    session.update_settings(reg_covar=1e3)
    assert session.why_not("raise_reg_covar") == "reg_covar is already at its largest (1000)."


def test_one_dimensional_data_fit_scrub_and_place_means():
    from gmm_studio.core.dataio import Dataset
    from gmm_studio.core.settings import FitSettings

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 200), rng.normal(6, 1, 200)])[:, None]
    session = Session(SyncRunner(), FitSettings(n_components=2, init_params="click"))
    session.set_dataset(Dataset(x, ("eruptions",), None, "array", None, None, np.arange(400)))
    for xy in ((0.5, 0.0), (5.0, 0.0)):  # the plane's vertical axis is empty for one feature
        session.place_mean(xy)
    np.testing.assert_array_equal(session.placed_means, [[0.5], [5.0]])
    session.run()
    assert session.last_outcome.reason == "converged"
    np.testing.assert_allclose(np.sort(session.shown.snapshot.params.means.ravel()), [0, 6], atol=0.2)
    session.scrub(1)
    assert session.shown.responsibilities.shape == (400, 2)


def test_best_restart_prefers_clean_fits_then_the_likelihood():
    from gmm_studio.core.em import DegeneracyEvent
    from gmm_studio.session.fitting import best_restart

    session = make_session(SyncRunner())
    session.run()
    final = session.history[len(session.history) - 1]
    collapsed = (DegeneracyEvent(0, "collapsed", "…"),)
    singular = (DegeneracyEvent(0, "singular", "…"),)

    def at(ll, events=()):
        return dataclasses.replace(final, log_likelihood=ll, events=events)

    assert best_restart({0: at(-2.0), 1: at(5.0, collapsed), 2: at(-1.0)}) == 2
    assert best_restart({0: at(-1.0), 1: at(-1.0)}) == 0  # ties: the earlier restart
    assert best_restart({0: at(9.0, singular), 1: at(-3.0, collapsed)}) == 1
    assert best_restart({0: at(9.0, singular)}) is None
