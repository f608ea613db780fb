"""The two thread-free runners keep the Runner contract the session is built to."""

from __future__ import annotations

import pytest

from gmm_studio.session import ManualRunner, SyncRunner


class Log:
    def __init__(self):
        self.calls = []

    def callbacks(self, tag):
        return dict(
            on_yielded=lambda v: self.calls.append((tag, "yielded", v)),
            on_finished=lambda v: self.calls.append((tag, "finished", v)),
            on_failed=lambda e: self.calls.append((tag, "failed", str(e))),
            on_cancelled=lambda: self.calls.append((tag, "cancelled", None)),
        )


def counting(n, fail_at=None):
    def work(cancel):
        for i in range(n):
            if i == fail_at:
                raise RuntimeError(f"broke at {i}")
            yield i
        return "done"
    return work


def drive(runner):
    if isinstance(runner, ManualRunner):
        runner.run_all()


@pytest.mark.parametrize("runner_type", [SyncRunner, ManualRunner])
def test_yields_in_order_then_exactly_one_ending(runner_type):
    runner, log = runner_type(), Log()
    runner.start("fit", counting(3), **log.callbacks("a"))
    drive(runner)
    assert log.calls == [("a", "yielded", 0), ("a", "yielded", 1), ("a", "yielded", 2), ("a", "finished", "done")]
    assert not runner.is_running("fit")


@pytest.mark.parametrize("runner_type", [SyncRunner, ManualRunner])
def test_plain_functions_finish_with_their_value(runner_type):
    runner, log = runner_type(), Log()
    runner.start("load", lambda cancel: 42, **log.callbacks("a"))
    drive(runner)
    assert log.calls == [("a", "finished", 42)]


@pytest.mark.parametrize("runner_type", [SyncRunner, ManualRunner])
def test_an_error_is_reported_once(runner_type):
    runner, log = runner_type(), Log()
    runner.start("fit", counting(3, fail_at=1), **log.callbacks("a"))
    drive(runner)
    assert log.calls == [("a", "yielded", 0), ("a", "failed", "broke at 1")]


def test_cancel_reports_cancelled_at_the_next_advance_and_nothing_else():
    runner, log = ManualRunner(), Log()
    runner.start("fit", counting(5), **log.callbacks("a"))
    runner.advance()
    runner.cancel("fit")
    assert runner.is_running("fit")  # until it has reported its end
    runner.run_all()
    assert log.calls == [("a", "yielded", 0), ("a", "cancelled", None)]


def test_a_new_task_of_a_kind_makes_the_old_one_stale():
    runner, log = ManualRunner(), Log()
    runner.start("fit", counting(5), **log.callbacks("old"))
    runner.advance()
    runner.start("fit", counting(2), **log.callbacks("new"))
    runner.start("scrub", lambda cancel: "γ", **log.callbacks("other kind"))
    assert runner.pending() == ("fit", "scrub")
    runner.run_all()
    assert [c for c in log.calls if c[0] == "old"] == [("old", "yielded", 0)]
    assert ("new", "finished", "done") in log.calls and ("other kind", "finished", "γ") in log.calls


def test_sync_runner_sees_a_cancel_made_from_a_callback():
    runner, log = SyncRunner(), Log()
    calls = log.callbacks("a")
    yielded = calls["on_yielded"]

    def on_yielded(v):
        yielded(v)
        runner.cancel("fit")

    calls["on_yielded"] = on_yielded
    runner.start("fit", counting(5), **calls)
    assert log.calls == [("a", "yielded", 0), ("a", "cancelled", None)]


def test_manual_runner_says_what_is_not_pending():
    runner = ManualRunner()
    assert runner.advance() is False
    with pytest.raises(LookupError, match="No task of kind 'fit' is pending"):
        runner.advance("fit")
    with pytest.raises(LookupError, match="No task of kind 'fit'"):
        runner.fail("fit", RuntimeError())


@pytest.mark.parametrize("runner_type", [SyncRunner, ManualRunner])
def test_join_all_cancels_everything(runner_type):
    runner, log = runner_type(), Log()
    if runner_type is ManualRunner:
        runner.start("fit", counting(5), **log.callbacks("a"))
    assert runner.join_all() is True
    assert not runner.is_running("fit")
    assert log.calls in ([], [("a", "cancelled", None)])
