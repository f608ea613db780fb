"""The fit history: one light snapshot per half-step, the live γ, and the scrub cursor.

Only the live state (the last entry) keeps its N×K responsibilities; every entry is a
:meth:`~gmm_studio.core.em.Snapshot.without_responsibilities` copy, so a long fit at 1e7 points
costs K·D² numbers per half-step, not N·K.  γ of an older entry is recomputed on demand from
:meth:`History.gamma_params`.  Owner thread only.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from gmm_studio.core.em import DegeneracyEvent, Snapshot

__all__ = ["ORIGINS", "History"]

#: How an entry came to be: the fit produced it, a model was given (imported, sweep cell), or the
#: shown state was edited by hand (its figure — log-likelihood, or −J/N for K-means centres —
#: is NaN until the session has computed it, see :mod:`gmm_studio.session.edits`).
ORIGINS = ("fit", "model", "edit")


class History:
    """Light snapshots oldest first, the live γ, and a cursor (None = live, or an index)."""

    def __init__(self) -> None:
        self._entries: list[Snapshot] = []
        self._origins: list[str] = []
        self._live_gamma: np.ndarray | None = None
        self._cursor: int | None = None

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Snapshot]:
        return iter(self._entries)

    def __getitem__(self, index: int) -> Snapshot:
        return self._entries[index]

    @property
    def entries(self) -> tuple[Snapshot, ...]:
        return tuple(self._entries)

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(self._origins)

    @property
    def cursor(self) -> int | None:
        """None when the live state is shown, else the index of the scrubbed entry."""
        return self._cursor

    @property
    def shown_index(self) -> int | None:
        """Index of the entry shown (the cursor, or the last one); None when empty."""
        if not self._entries:
            return None
        return self._cursor if self._cursor is not None else len(self._entries) - 1

    @property
    def shown(self) -> Snapshot | None:
        i = self.shown_index
        return None if i is None else self._entries[i]

    @property
    def live_gamma(self) -> np.ndarray | None:
        """γ of the live state when EM handed it over (None for an 'init' entry)."""
        return self._live_gamma

    def gamma_params(self, index: int):
        """The parameters whose E-step gives the γ drawn for entry ``index``, or None.

        An E entry's γ belongs to its own parameters; an M entry's to those of the E-step
        before it (the M-step only moved θ); a given or edited model shows its own γ; a fresh
        initialisation has none yet.
        """
        snap = self._entries[index]
        if snap.half_step == "E" or self._origins[index] != "fit":
            return snap.params
        if snap.half_step == "M":
            if index > 0 and self._entries[index - 1].half_step == "E":
                return self._entries[index - 1].params
            return snap.params
        return None

    def events_at(self, index: int) -> tuple[DegeneracyEvent, ...]:
        """Degeneracy events in force at entry ``index`` (an E-step carries those of the M before)."""
        for i in range(index, -1, -1):
            if self._entries[i].half_step != "E":
                return self._entries[i].events
        return ()

    def previous_log_likelihood(self, index: int) -> float:
        """The log-likelihood EM compares with when it continues from entry ``index``.

        After an M entry: its own (the E-step of that iteration).  After an E entry: the one of
        the M entry before it.  Otherwise -inf (nothing to compare with yet).
        """
        snap = self._entries[index]
        if snap.half_step == "M":
            return snap.log_likelihood
        if snap.half_step == "E" and index > 0 and self._entries[index - 1].half_step == "M":
            return self._entries[index - 1].log_likelihood
        return -np.inf

    def finals(self) -> dict[int, Snapshot]:
        """The last entry of each restart, by restart index."""
        return {s.restart: s for s in self._entries}

    # ------------------------------------------------------------------ changing
    def append(self, snapshot: Snapshot, origin: str = "fit") -> None:
        """Add a half-step as the new live state (the cursor returns to live)."""
        self._entries.append(snapshot.without_responsibilities())
        self._origins.append(origin)
        self._live_gamma = snapshot.responsibilities
        self._cursor = None

    def replace(self, old: Snapshot, new: Snapshot) -> bool:
        """Put ``new`` (light) where the entry ``old`` (by identity) is, keeping its origin, the cursor and
        the live γ (an edit's figure filled in: the parameters are the same).  False when
        ``old`` is no longer in the history."""
        for i, entry in enumerate(self._entries):
            if entry is old:
                self._entries[i] = new
                return True
        return False

    def set_live_gamma(self, gamma: np.ndarray | None) -> None:
        self._live_gamma = gamma

    def clear(self) -> None:
        self._entries.clear()
        self._origins.clear()
        self._live_gamma = None
        self._cursor = None

    def scrub(self, index: int) -> None:
        """Show entry ``index``; the last index means live.  Raises IndexError outside the history."""
        n = len(self._entries)
        if not 0 <= index < n:
            raise IndexError(f"No half-step {index} in a history of {n} (0 to {n - 1}).")
        self._cursor = None if index == n - 1 else int(index)

    def go_live(self) -> None:
        self._cursor = None

    def truncate_to_shown(self) -> bool:
        """Forget every entry after the cursor, which becomes live; True when any was dropped.

        The γ of the new live state is not known here (the caller recomputes it).
        """
        if self._cursor is None:
            return False
        del self._entries[self._cursor + 1:]
        del self._origins[self._cursor + 1:]
        self._cursor = None
        self._live_gamma = None
        return True

    def move_restart_last(self, restart: int) -> bool:
        """Put restart ``restart``'s entries after all others (order within each kept).

        After ``n_init`` restarts the best one is continued and shown live, so it goes last;
        every entry keeps its restart index.  True when the order changed.
        """
        if not self._entries or self._entries[-1].restart == restart:
            return False
        order = sorted(range(len(self._entries)), key=lambda i: self._entries[i].restart == restart)
        self._entries = [self._entries[i] for i in order]
        self._origins = [self._origins[i] for i in order]
        self._cursor = None
        self._live_gamma = None
        return True

    def restore(self, entries: list[Snapshot], origins: list[str], cursor: int | None) -> None:
        """Replace everything (opening a session file); γ is recomputed by the caller."""
        if len(entries) != len(origins):
            raise ValueError("every history entry needs an origin.")
        if cursor is not None and not 0 <= cursor < len(entries):
            raise ValueError(f"cursor {cursor} outside a history of {len(entries)}.")
        self._entries = [s.without_responsibilities() for s in entries]
        self._origins = list(origins)
        self._cursor = cursor
        self._live_gamma = None
