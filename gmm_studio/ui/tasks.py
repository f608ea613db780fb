"""The one task runner of the window: every background task (fit, load, sweep, generate, large
saves) runs through :class:`QtRunner`, an implementation of
:class:`gmm_studio.session.tasks.Runner`.

*Work* is a callable ``work(cancel)`` that gets a :class:`threading.Event`, checks it between
steps, and returns a result or is a generator whose yielded values are progress and whose
return value is the result.  It runs on a plain Python thread of its own; what it yields, returns
or raises comes back to the GUI thread through one queued Qt signal, and the task's callbacks
(``on_yielded``, then exactly one of ``on_finished`` / ``on_failed`` / ``on_cancelled``) are
called there.

* One current task per *kind*: starting a new one cancels the old one and makes it stale; a
  stale task's payloads are dropped on arrival, so no callback of it is ever called again.
* Cancellation is cooperative (the ``Event``).  A task whose ``Event`` is set reports
  ``on_cancelled`` (also when its work managed to finish first) and its queued yields are
  dropped.  No thread is ever killed.
* :meth:`QtRunner.join_all` (closing the window) cancels every task, makes them stale, and
  waits for their threads.
* :func:`running_tasks` lists every task of every runner whose thread has not ended; the UI
  tests' leak check asserts it is empty after each test.

BLAS: the first task started sets every BLAS library of the process to one thread
(threadpoolctl), since OpenBLAS's thread count is global, not per thread: the fit's own worker
threads and the GUI thread would otherwise oversubscribe the cores (the GUI process already
asks for one thread through the environment, see :mod:`gmm_studio.app`; this covers a window
built by a test or a script that imported numpy first).
"""

from __future__ import annotations

import inspect
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from gmm_studio.core import parallel

from gmm_studio.session.tasks import TaskRecord, Work

__all__ = ["QtRunner", "reporting", "running_tasks"]

_YIELDED, _FINISHED, _FAILED, _CANCELLED = "yielded", "finished", "failed", "cancelled"


@dataclass(eq=False)
class _Task(TaskRecord):
    """One started piece of work on its own thread (``stale`` is set on the GUI thread only)."""

    runner: object = None
    thread: threading.Thread | None = None
    returned: bool = False  # set by the worker thread just before it reports its end


# Every task whose thread is running its work; the thread itself removes it as it leaves.
_LIVE: set[_Task] = set()
_LIVE_LOCK = threading.Lock()
_blas_limited = False
_DONE = object()


def reporting(fn: Callable[[threading.Event, Callable[[Any], None]], Any]) -> Work:
    """Work from ``fn(cancel, report)``, a function that reports progress through a callback
    (``read_table``'s ``progress``, ``run_sweep``'s ``on_cell``): each value it reports is
    yielded, and its return value is the work's result.

    ``fn`` runs on a helper thread that the work's own thread joins before it ends, so a runner
    (and the leak check) sees the task running until ``fn`` has returned.  Any thread.
    """

    def work(cancel: threading.Event):
        reports: queue.SimpleQueue = queue.SimpleQueue()
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["result"] = fn(cancel, reports.put)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the work's thread
                outcome["error"] = exc
            finally:
                reports.put(_DONE)

        helper = threading.Thread(target=target, name="gmm-reporting", daemon=True)
        helper.start()
        try:
            while (item := reports.get()) is not _DONE:
                yield item
        finally:
            helper.join()  # closed early only after a cancel, which fn sees and ends on
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")

    return work


def _limit_blas() -> None:
    """One BLAS thread for the whole process (see the module docstring).  GUI thread."""
    global _blas_limited
    if _blas_limited:
        return
    _blas_limited = True
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def running_tasks() -> list[str]:
    """``kind`` of every task of any runner whose thread is still running.  GUI thread.

    A task that has delivered its ending and is only leaving its thread is waited for (a
    moment) rather than listed.
    """
    with _LIVE_LOCK:
        tasks = list(_LIVE)
    for task in tasks:
        if task.returned:
            task.thread.join()
    with _LIVE_LOCK:
        return [task.kind for task in _LIVE]


class QtRunner(QObject):
    """Runs work on Python threads and reports back on the GUI thread (the ``Runner`` contract).

    Create it on the GUI thread; every public method runs there.
    """

    # (task, what, payload), emitted on a worker thread, received queued on the GUI thread
    _reported = Signal(object, str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[str, _Task] = {}
        self._reported.connect(self._on_reported)

    # ------------------------------------------------------------------ the Runner contract
    def start(
        self,
        kind: str,
        work: Work,
        *,
        on_yielded: Callable[[Any], None] | None = None,
        on_finished: Callable[[Any], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> None:
        """Start ``work`` as the current task of ``kind``; a running one of that kind goes stale."""
        _limit_blas()
        old = self._tasks.pop(kind, None)
        if old is not None:
            old.stale = True
            old.cancel.set()
        task = _Task(kind, work, on_yielded, on_finished, on_failed, on_cancelled, runner=self)
        task.thread = threading.Thread(target=self._run, args=(task,), name=f"gmm-{kind}",
                                       daemon=True)
        self._tasks[kind] = task
        with _LIVE_LOCK:
            _LIVE.add(task)
        task.thread.start()

    def cancel(self, kind: str) -> None:
        """Ask the current task of ``kind`` to stop; its ``on_cancelled`` follows."""
        task = self._tasks.get(kind)
        if task is not None:
            task.cancel.set()

    def is_running(self, kind: str) -> bool:
        """Whether a task of ``kind`` was started and has not yet reported its end."""
        return kind in self._tasks

    def join_all(self, timeout: float | None = None) -> bool:
        """Cancel every task, drop whatever they still report, and wait for their threads.

        Returns True when every thread has ended (within ``timeout`` seconds each, if given).
        Nothing of these tasks is called back afterwards: the window is going away.
        """
        self._tasks.clear()
        with _LIVE_LOCK:  # stale tasks still leaving their threads included
            tasks = [t for t in _LIVE if t.runner is self]
        for task in tasks:
            task.stale = True
            task.cancel.set()
        ended = True
        for task in tasks:
            task.thread.join(timeout)
            ended = ended and not task.thread.is_alive()
        return ended

    # ------------------------------------------------------------------ queries
    def running_kinds(self) -> tuple[str, ...]:
        """Kinds of this runner's tasks that have not reported their end yet."""
        return tuple(self._tasks)

    # ------------------------------------------------------------------ worker thread
    def _run(self, task: _Task) -> None:
        """Worker thread: run the work, forward each yield, then report exactly one end."""
        parallel.lower_this_thread()  # the GUI thread comes first (app sets the priority)
        emit = self._reported.emit
        try:
            try:
                result = task.work(task.cancel)
                if inspect.isgenerator(result):
                    generator = result
                    while True:
                        if task.cancel.is_set():
                            generator.close()
                            break
                        try:
                            value = next(generator)
                        except StopIteration as stop:
                            result = stop.value
                            break
                        emit(task, _YIELDED, value)
            except Exception as exc:  # noqa: BLE001 - reported to the GUI thread, never lost
                what, payload = (_CANCELLED, None) if task.cancel.is_set() else (_FAILED, exc)
            else:
                what, payload = (_CANCELLED, None) if task.cancel.is_set() else (_FINISHED, result)
            task.returned = True
            emit(task, what, payload)
        except RuntimeError:
            # The runner was deleted with the window (its C++ half is gone): nobody listens.
            task.returned = True
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(task)

    # ------------------------------------------------------------------ GUI thread
    @Slot(object, str, object)
    def _on_reported(self, task: _Task, what: str, payload: Any) -> None:
        if task.stale:
            return
        if what == _YIELDED:
            if not task.cancel.is_set() and task.on_yielded is not None:
                task.on_yielded(payload)
            return
        if self._tasks.get(task.kind) is task:
            del self._tasks[task.kind]
        if task.cancel.is_set():
            what = _CANCELLED  # cancelled after the work ended but before this arrived
        callback = {_FINISHED: task.on_finished, _FAILED: task.on_failed,
                    _CANCELLED: task.on_cancelled}[what]
        if callback is None:
            return
        if what == _CANCELLED:
            callback()
        else:
            callback(payload)
