"""The one module that owns threads (DESIGN.md, "The thread bridge").

A worker is a parentless ``QObject`` with a ``run`` slot that emits exactly one of its
finishing signals (past tense, with a run id) and returns.  :func:`start_worker` moves it to a
new ``QThread`` and wires the bridge::

    thread.started       → worker.run
    each finishing signal → thread.quit      (direct: quit() is thread-safe, so the thread's
                                              loop ends as soon as the worker is done)
    thread.finished      → worker.deleteLater, thread.deleteLater

Every thread started here stays in one registry, with a reference to its worker (so Python
cannot collect a worker while its thread runs), until it has ended; :func:`running_threads`
lists the ones still running, which the UI tests check is empty after every test.

Cancellation is cooperative: the caller owns the worker's ``threading.Event`` and sets it
before :func:`join`.  Nothing here calls ``QThread.terminate()``.  All functions run on the GUI
thread.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, QThread, SignalInstance

__all__ = ["is_running", "join", "running_threads", "start_worker"]

# id(thread) → (thread, worker) for every thread started and not yet seen to have ended.
_LIVE: dict[int, tuple[QThread, QObject]] = {}


def start_worker(worker: QObject, name: str, finished_signals: Sequence[SignalInstance]) -> QThread:
    """Move ``worker`` (no parent) to a new thread named ``name``, wire it, register it and
    start it; returns the thread.  GUI thread.

    Connect the worker's signals to your slots before calling this: the worker may emit as
    soon as the thread starts.
    """
    _prune()
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    for signal in finished_signals:
        signal.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.finished.connect(worker.deleteLater)
    thread.finished.connect(thread.deleteLater)
    _LIVE[id(thread)] = (thread, worker)
    thread.start()
    return thread


def join(thread: QThread | None, timeout_ms: int | None = None) -> bool:
    """Quit ``thread``'s event loop and wait for it to end (``None``: as long as it takes).
    GUI thread.

    Returns True once the thread has ended.  Safe on ``None`` and on a thread Qt has already
    deleted (it had ended).  It does not stop a worker that is still busy: set its cancel
    ``Event`` first.
    """
    if thread is None:
        return True
    try:
        thread.quit()
        ended = thread.wait() if timeout_ms is None else thread.wait(timeout_ms)
    except RuntimeError:  # already deleted by Qt (thread.finished → deleteLater): it ended
        ended = True
    if ended:
        _LIVE.pop(id(thread), None)
    return ended


def is_running(thread: QThread | None) -> bool:
    """Whether ``thread`` has been started and has not ended; False for ``None`` and for a
    thread Qt has already deleted.  Any thread."""
    if thread is None:
        return False
    try:
        return thread.isRunning()
    except RuntimeError:  # already deleted by Qt
        return False


def running_threads() -> list[QThread]:
    """Every thread :func:`start_worker` started that is still running.  GUI thread."""
    _prune()
    return [thread for thread, _ in _LIVE.values()]


def _prune() -> None:
    """Drop the registry's references to threads that have ended.  GUI thread.

    A thread that is only finishing (``finished`` emitted, the worker's ``deleteLater`` maybe
    not yet run) is waited for first, which takes a moment; only then may the worker's Python
    wrapper go.
    """
    for key, (thread, _) in list(_LIVE.items()):
        try:
            if not thread.isFinished():
                continue
            thread.wait()
        except RuntimeError:  # already deleted by Qt
            pass
        del _LIVE[key]
