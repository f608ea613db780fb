"""The window's one task runner: callbacks on the GUI thread, stale runs dropped, cooperative
cancel, join_all, and the leak registry the other UI tests rely on."""

import threading

from PySide6.QtCore import QCoreApplication

from gmm_studio.session.tasks import Runner
from gmm_studio.ui.tasks import QtRunner, running_tasks


class Recorder:
    """Collects callbacks and the thread each ran on."""

    def __init__(self):
        self.events = []
        self.threads = set()
        self.ended = threading.Event()

    def callbacks(self):
        def note(name):
            def callback(*payload):
                self.threads.add(threading.get_ident())
                self.events.append((name, *payload))
                if name != "yielded":
                    self.ended.set()
            return callback
        return dict(on_yielded=note("yielded"), on_finished=note("finished"),
                    on_failed=note("failed"), on_cancelled=note("cancelled"))


def _wait_end(qtbot, rec):
    qtbot.waitUntil(rec.ended.is_set, timeout=5000)


def test_runner_satisfies_the_session_contract(runner):
    assert isinstance(runner, QtRunner)
    for name in ("start", "cancel", "is_running", "join_all"):
        assert callable(getattr(runner, name)) and hasattr(Runner, name)


def test_generator_work_yields_then_finishes_on_the_gui_thread(qtbot, runner):
    rec = Recorder()

    def work(cancel):
        for i in range(3):
            yield i
        return "done"

    runner.start("fit", work, **rec.callbacks())
    assert runner.is_running("fit")
    _wait_end(qtbot, rec)
    assert rec.events == [("yielded", 0), ("yielded", 1), ("yielded", 2), ("finished", "done")]
    assert rec.threads == {threading.get_ident()}
    assert not runner.is_running("fit")
    assert running_tasks() == []


def test_plain_function_work_finishes_with_its_value(qtbot, runner):
    rec = Recorder()
    runner.start("load", lambda cancel: 42, **rec.callbacks())
    _wait_end(qtbot, rec)
    assert rec.events == [("finished", 42)]


def test_an_exception_reaches_on_failed(qtbot, runner):
    rec = Recorder()

    def work(cancel):
        raise ValueError("bad file")

    runner.start("load", work, **rec.callbacks())
    _wait_end(qtbot, rec)
    (name, exc), = rec.events
    assert name == "failed" and isinstance(exc, ValueError) and str(exc) == "bad file"


def test_cancel_is_cooperative_and_reports_cancelled(qtbot, runner):
    rec = Recorder()
    started = threading.Event()

    def work(cancel):
        started.set()
        cancel.wait(10)  # stands for a long computation that checks the flag
        return "too late"

    runner.start("sweep", work, **rec.callbacks())
    started.wait(5)
    runner.cancel("sweep")
    _wait_end(qtbot, rec)
    assert rec.events == [("cancelled",)]


def test_a_new_task_of_the_same_kind_makes_the_old_one_stale(qtbot, runner):
    old, new = Recorder(), Recorder()
    release = threading.Event()

    def slow(cancel):
        yield "old"
        release.wait(5)
        return "old result"

    runner.start("fit", slow, **old.callbacks())
    runner.start("fit", lambda cancel: "new result", **new.callbacks())
    release.set()
    _wait_end(qtbot, new)
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=5000)
    assert new.events == [("finished", "new result")]
    assert old.events == []  # nothing of the stale task arrives, not even its first yield


def test_other_kinds_run_side_by_side(qtbot, runner):
    a, b = Recorder(), Recorder()
    runner.start("load", lambda cancel: "a", **a.callbacks())
    runner.start("sweep", lambda cancel: "b", **b.callbacks())
    _wait_end(qtbot, a)
    _wait_end(qtbot, b)
    assert a.events == [("finished", "a")] and b.events == [("finished", "b")]


def test_join_all_stops_every_task_and_calls_nothing_back(qtbot):
    runner = QtRunner()
    rec = Recorder()

    def forever(cancel):
        while not cancel.is_set():
            yield 1
            cancel.wait(0.01)

    runner.start("fit", forever, **rec.callbacks())
    qtbot.waitUntil(lambda: bool(rec.events), timeout=5000)
    assert running_tasks() == ["fit"]
    assert runner.join_all(timeout=5)
    assert running_tasks() == []
    seen = len(rec.events)
    QCoreApplication.processEvents()  # deliver whatever the thread queued (it must be dropped)
    assert len(rec.events) == seen and not rec.ended.is_set()


def test_running_tasks_lists_a_task_left_running(qtbot, runner):
    release = threading.Event()
    runner.start("generate", lambda cancel: release.wait(5))
    assert running_tasks() == ["generate"]
    release.set()
    qtbot.waitUntil(lambda: not runner.is_running("generate"), timeout=5000)
    assert running_tasks() == []


def test_reporting_turns_a_progress_callback_into_yields(qtbot, runner):
    from gmm_studio.ui.tasks import reporting

    def read(cancel, report):
        for fraction in (0.25, 0.5, 1.0):
            report(fraction)
        return "table"

    rec = Recorder()
    runner.start("load", reporting(read), **rec.callbacks())
    _wait_end(qtbot, rec)
    assert rec.events == [("yielded", 0.25), ("yielded", 0.5), ("yielded", 1.0), ("finished", "table")]


def test_reporting_work_is_cancelled_and_its_helper_joined(qtbot, runner):
    from gmm_studio.ui.tasks import reporting

    def read(cancel, report):
        while not cancel.is_set():
            report(0.5)
            cancel.wait(0.005)
        return "partial"

    rec = Recorder()
    runner.start("load", reporting(read), **rec.callbacks())
    qtbot.waitUntil(lambda: bool(rec.events), timeout=5000)
    runner.cancel("load")
    _wait_end(qtbot, rec)
    assert rec.events[-1] == ("cancelled",)
    assert not any(t.name == "gmm-reporting" for t in threading.enumerate())
