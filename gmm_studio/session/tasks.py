"""The contract between the session layer and whoever runs its background work.

The session never starts a thread itself.  It is given a :class:`Runner` and hands it *work*:
a callable ``work(cancel)`` that receives a :class:`threading.Event`, checks it between steps
(cooperative cancellation) and either returns a value or is a generator whose yielded values
are progress (snapshots, rows, fractions) and whose return value is the result.

A runner calls the callbacks it was given on the session's own thread (the GUI thread in the
window, see ``gmm_studio.ui.tasks``; the calling thread in the tests' synchronous runner), at
most one of ``on_finished`` / ``on_failed`` / ``on_cancelled`` per task, after every
``on_yielded`` of that task.  Starting a task of a ``kind`` that is already running cancels the
old one and makes it *stale*: none of its callbacks are called any more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Runner", "TaskRecord", "Work"]

#: ``work(cancel)``: returns a result, or is a generator yielding progress and returning one.
Work = Callable[[threading.Event], Any]


@dataclass(eq=False)
class TaskRecord:
    """What every runner keeps of a started task: the work, its callbacks, its cancel flag and
    whether a newer task of its kind made it stale.  Runners add their own fields."""

    kind: str
    work: Work
    on_yielded: Callable[[Any], None] | None
    on_finished: Callable[[Any], None] | None
    on_failed: Callable[[BaseException], None] | None
    on_cancelled: Callable[[], None] | None
    cancel: threading.Event = field(default_factory=threading.Event)
    stale: bool = False


class Runner(Protocol):
    """Runs work off the session's thread and reports back on it."""

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
        """Start ``work`` as the current task of ``kind`` (a running one of that kind goes stale)."""

    def cancel(self, kind: str) -> None:
        """Ask the current task of ``kind`` to stop (its ``on_cancelled`` follows)."""

    def is_running(self, kind: str) -> bool:
        """Whether a task of ``kind`` has been started and not yet reported its end."""

    def join_all(self, timeout: float | None = None) -> bool:
        """Cancel every task and wait for all to end; True when none is left running."""
