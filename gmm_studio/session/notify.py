"""Signals that go out when a change is finished, never in the middle of it.

A session command changes several things (data, projection, history, the shown state, the run
state).  Emitted as each is changed, a slot ran while the rest was still old: the bound dock read
a shown index into a history already cleared, raised, and psygnal passed the error up into the
command, which stopped half-way (new points coloured by the old fit, the run state never reset).
:class:`Notifier` holds a change's signals until its outermost :meth:`~Notifier.changing` block
ends, then emits them in order:

* a *state* signal (``state_changed``, ``shown_changed``, …) goes out once per change and carries
  the value the session holds when it is emitted, so no slot is handed a stale value, even when
  a slot's own command changed it again meanwhile;
* an *event* signal (``snapshot_added``, ``fit_ended``) goes out once per event with its payload,
  except where a pending signal covers it (a whole-history redraw includes the new snapshot);
* every waiting signal is emitted even when a slot raises; the first error (several: an
  ExceptionGroup) is raised afterwards, to the caller of the command.

A command that a slot calls while the signals go out is a change of its own: its signals join
the queue after the ones waiting.  Owner thread only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

__all__ = ["Notifier"]


class Notifier:
    """The queue of one owner's signals; see the module docstring.

    Parameters
    ----------
    current : mapping of signal name to a function returning its arguments now
        The state signals.
    covered : mapping of event signal name to the name of a state signal
        The event is dropped while that state signal is waiting.
    """

    def __init__(self, current: Mapping[str, Callable[[], tuple]],
                 covered: Mapping[str, str] | None = None) -> None:
        self._current = dict(current)
        self._covered = dict(covered or {})
        self._queue: deque = deque()  # (signal, args; None for a state signal)
        self._waiting: set[str] = set()  # state signals in the queue
        self._depth = 0
        self._flushing = False

    @contextmanager
    def changing(self) -> Iterator[None]:
        """Group changes: the signals they emit wait until the outermost group ends."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            self._flush()

    def emit(self, signal, *args) -> None:
        """Emit ``signal`` (a psygnal SignalInstance) when the change under way is finished."""
        name = signal.name
        if name in self._current:
            if name not in self._waiting:
                self._waiting.add(name)
                self._queue.append((signal, None))
        elif self._covered.get(name) not in self._waiting:
            self._queue.append((signal, args))
        self._flush()

    def _flush(self) -> None:
        if self._depth or self._flushing:
            return  # the change goes on, or the signals are already going out
        errors = []
        self._flushing = True
        try:
            while self._queue:
                signal, args = self._queue.popleft()
                if args is None:
                    self._waiting.discard(signal.name)
                    args = self._current[signal.name]()
                try:
                    signal.emit(*args)
                except Exception as exc:  # noqa: BLE001 - raised below, after the others
                    errors.append(exc)
        finally:
            self._flushing = False
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ExceptionGroup("several slots of the session's signals failed", errors)
