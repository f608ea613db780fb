"""Two runners of the :class:`~gmm_studio.session.tasks.Runner` contract that start no thread.

:class:`SyncRunner` runs each task inline, to the end, when it is started (the CLI, scripts,
simple tests).  :class:`ManualRunner` only remembers the tasks it is given; a test moves them on
one yield at a time with :meth:`ManualRunner.advance`, so "Run, then Pause while running" or
"Stop after the E-step, then Step M" happen at exactly the half-step the test chooses.
Both call every callback on the thread that drives them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gmm_studio.session.tasks import TaskRecord, Work

__all__ = ["ManualRunner", "SyncRunner"]


@dataclass(eq=False)
class _Task(TaskRecord):
    """One started piece of work, driven by the caller's thread."""

    generator: Any = None
    started: bool = False

    def step(self) -> bool:
        """Run the work up to its next yield or its end; False once the task has ended.

        A cancelled task reports ``on_cancelled`` instead of its result; a stale one reports
        nothing.
        """
        try:
            if not self.started:
                self.started = True
                if self.cancel.is_set():
                    raise _Cancelled
                result = self.work(self.cancel)
                if not inspect.isgenerator(result):
                    self._end(self.on_finished, result)
                    return False
                self.generator = result
            if self.cancel.is_set():
                self.generator.close()
                raise _Cancelled
            value = next(self.generator)
        except StopIteration as stop:
            self._end(self.on_finished, stop.value)
            return False
        except _Cancelled:
            self._end(None, None)
            return False
        except Exception as exc:  # noqa: BLE001 - reported through on_failed, as a threaded runner would
            if not self.stale:
                if self.cancel.is_set():
                    self._end(None, None)
                elif self.on_failed is not None:
                    self.on_failed(exc)
            return False
        if not self.stale and not self.cancel.is_set() and self.on_yielded is not None:
            self.on_yielded(value)
        return True

    def _end(self, on_finished: Callable[[Any], None] | None, result: Any) -> None:
        if self.stale:
            return
        if self.cancel.is_set():
            if self.on_cancelled is not None:
                self.on_cancelled()
        elif on_finished is not None:
            on_finished(result)


class _Cancelled(Exception):
    pass


class _RunnerBase:
    """What both runners share: one current task per kind, stale on replacement."""

    def __init__(self) -> None:
        self._tasks: dict[str, _Task] = {}

    def start(self, kind: str, work: Work, *, on_yielded=None, on_finished=None, on_failed=None,
              on_cancelled=None) -> None:
        old = self._tasks.get(kind)
        if old is not None:
            old.stale = True
            old.cancel.set()
        task = _Task(kind, work, on_yielded, on_finished, on_failed, on_cancelled)
        self._tasks[kind] = task
        self._started(task)

    def _started(self, task: _Task) -> None:
        raise NotImplementedError

    def cancel(self, kind: str) -> None:
        task = self._tasks.get(kind)
        if task is not None:
            task.cancel.set()

    def is_running(self, kind: str) -> bool:
        return kind in self._tasks

    def _forget(self, task: _Task) -> None:
        if self._tasks.get(task.kind) is task:
            del self._tasks[task.kind]


class SyncRunner(_RunnerBase):
    """Runs each task to its end inside :meth:`start`, on the calling thread.

    A callback may start or cancel tasks: a cancel is seen at the next yield, and a new task of
    the same kind makes the running one stale (it stops at its next yield, silently).
    """

    def _started(self, task: _Task) -> None:
        while task.step():
            pass
        self._forget(task)

    def join_all(self, timeout: float | None = None) -> bool:
        for task in list(self._tasks.values()):
            task.cancel.set()
        return True


class ManualRunner(_RunnerBase):
    """Keeps started tasks until a test advances them; for deterministic tests.

    Nothing runs in :meth:`start`.  :meth:`advance` runs one task to its next yield (or its
    end, delivering ``on_finished`` / ``on_failed`` / ``on_cancelled``); a cancelled task
    reports ``on_cancelled`` at its next :meth:`advance`, as a threaded runner reports it a
    moment later.
    """

    def _started(self, task: _Task) -> None:
        pass

    def pending(self) -> tuple[str, ...]:
        """Kinds of the tasks started and not yet ended, oldest first."""
        return tuple(self._tasks)

    def advance(self, kind: str | None = None) -> bool:
        """Move the task of ``kind`` (default: the oldest) one yield on; False when none is left.

        Raises ``LookupError`` when ``kind`` is given and no such task is pending.
        """
        if kind is None:
            if not self._tasks:
                return False
            kind = next(iter(self._tasks))
        task = self._tasks.get(kind)
        if task is None:
            raise LookupError(f"No task of kind {kind!r} is pending (pending: {self.pending()}).")
        if not task.step():
            self._forget(task)
        return True

    def fail(self, kind: str, error: BaseException) -> None:
        """End the pending task of ``kind`` as if its work had raised ``error`` (a test's way to
        reach a failed fit, e.g. a ``MemoryError`` at 1e7 points)."""
        task = self._tasks.pop(kind, None)
        if task is None:
            raise LookupError(f"No task of kind {kind!r} is pending (pending: {self.pending()}).")
        if task.generator is not None:
            task.generator.close()
        if not task.stale and task.on_failed is not None:
            task.on_failed(error)

    def run_all(self, kind: str | None = None, limit: int = 100_000) -> int:
        """Advance until no task (of ``kind``, or at all) is left; returns the number of advances."""
        count = 0
        while (kind in self._tasks) if kind is not None else self._tasks:
            if count >= limit:
                raise RuntimeError(f"Tasks still pending after {limit} advances: {self.pending()}.")
            self.advance(kind)
            count += 1
        return count

    def join_all(self, timeout: float | None = None) -> bool:
        """Cancel every task and deliver their endings now."""
        for task in list(self._tasks.values()):
            task.cancel.set()
        self.run_all()
        return True
