"""What the views show: the shown snapshot, its γ, its degeneracy events and its comparisons.

Whatever the shown state is — live, scrubbed, an imported model, a sweep cell — its γ and its
comparisons belong to it: a new shown state first withdraws the old γ and comparison (None),
then the runner computes the new ones ("scrub" work for γ, "compare" work for the figures).
Owner thread; the work runs wherever the runner runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gmm_studio.core.compare import ModelComparison, compare_model, label_codes
from gmm_studio.core.em import DegeneracyEvent, EMData, Snapshot
from gmm_studio.core.geometry import nearest_centres
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.core.params import MixtureParams

if TYPE_CHECKING:
    from gmm_studio.session.session import Session

__all__ = ["ShownModel"]

def _gamma_work(data: EMData, params: MixtureParams, hard_x: np.ndarray | None):
    """γ of ``params``; with ``hard_x`` (a K-means state's data): one-hot r_nk of the nearest centre."""
    if hard_x is not None:
        return lambda cancel: np.eye(params.n_components)[nearest_centres(hard_x, params.means)[0]]
    return lambda cancel: data.responsibilities(params)


def _compare_work(data: EMData, params: MixtureParams, gamma: np.ndarray | None, labels, codes,
                  truth, truth_labels):
    """Returns the comparison and the label codes (made here once: sorting 1e7 strings takes seconds)."""
    def work(cancel):
        g = gamma if gamma is not None else data.responsibilities(params)
        c = codes if codes is not None or labels is None else label_codes(labels)
        return compare_model(params, np.argmax(g, axis=1), c, truth, truth_labels), c
    return work


class ShownModel:
    """The shown state of a :class:`~gmm_studio.session.session.Session`; read by the views.

    Attributes (read-only for others): ``snapshot``, ``index`` (in the history),
    ``responsibilities``, ``events``, ``comparison``.  The session emits the matching signals.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._key = 0  # the current shown state; results for an older one are dropped
        self.snapshot: Snapshot | None = None
        self.index: int | None = None
        self.responsibilities: np.ndarray | None = None
        self.events: tuple[DegeneracyEvent, ...] = ()
        self.comparison: ModelComparison | None = None
        self._compared: tuple | None = None  # (snapshot, γ) the comparison is of
        self._labels: np.ndarray | None = None
        self._codes: np.ndarray | None = None
        self._wanted: tuple | None = None  # (key, live, work) of the γ waiting for its task

    def set_labels(self, labels: np.ndarray | None) -> None:
        """The dataset's label column (None without one)."""
        self._labels, self._codes = labels, None

    def refresh(self) -> None:
        """The history, cursor or run state changed: bring everything shown up to date."""
        s, h = self._session, self._session.history
        self._key += 1
        key = self._key
        snap, index = h.shown, h.shown_index
        if snap is not self.snapshot or index != self.index:
            self.snapshot, self.index = snap, index
            s._emit(s.shown_changed, snap)
        events = () if index is None else h.events_at(index)
        if events != self.events:
            self.events = events
            s._emit(s.events_changed, events)
        if snap is None:
            self.cancel()
            self._set_gamma(None)
            self._set_comparison(None, None)
            return
        params = h.gamma_params(index)
        live = h.cursor is None
        if params is None or (live and h.live_gamma is not None):
            self._wanted = None
            s.runner.cancel("scrub")
            self._set_gamma(h.live_gamma if live else None)
            self._compare()
            return
        # γ of another state must not pass for this one's (a view may keep drawing the old
        # colours until the new γ arrives; that is its choice).
        self._set_gamma(None)
        self._set_comparison(None, None)
        self._wanted = (key, live, _gamma_work(s.emdata(params.covariance_type), params,
                                               s.x if isinstance(snap, KMeansSnapshot) else None))
        if not s.runner.is_running("scrub"):
            self._start_wanted()

    def _start_wanted(self) -> None:
        """Start the γ waited for.  One "scrub" task at a time: an E-pass cannot be interrupted,
        and at 1e7 points each holds 800 MB (keys held down on the scrub bar started one per
        press: 9.8 GB); a newer request waits for the one in flight, replacing an older one."""
        wanted, self._wanted = self._wanted, None
        if wanted is None:
            return
        key, live, work = wanted
        self._session.runner.start(
            "scrub", work,
            on_finished=lambda g: self._on_scrub_ended(key, live, g),
            on_failed=lambda exc: self._on_scrub_ended(key, live, None),
            on_cancelled=lambda: self._on_scrub_ended(key, live, None))

    def _on_scrub_ended(self, key: int, live: bool, gamma: np.ndarray | None) -> None:
        if self._wanted is not None:
            self._start_wanted()  # a newer state waits: this γ is of an older one
        else:
            self._on_gamma(key, live, gamma)

    def replaced(self, old: Snapshot, new: Snapshot) -> None:
        """History entry ``old`` became ``new`` (same parameters, a figure filled in): show it
        without recomputing γ (a γ still being computed for those parameters is kept)."""
        if self.snapshot is old:
            self.snapshot = new
            self._session._emit(self._session.shown_changed, new)

    def status_text(self) -> str:
        """The status line for the shown state (:func:`gmm_studio.session.status.status_text`)."""
        from gmm_studio.session.status import status_text

        return status_text(self._session)

    def point_responsibilities(self, index: int) -> np.ndarray | None:
        """γ of point ``index`` under the shown state (K,), for the hover readout; None if unknown."""
        h = self._session.history
        if self.snapshot is None:
            return None
        if self.responsibilities is not None:
            return self.responsibilities[index]
        params = h.gamma_params(self.index) or self.snapshot.params
        try:
            return EMData(self._session.x[index:index + 1], params.covariance_type).responsibilities(params)[0]
        except (np.linalg.LinAlgError, ValueError):
            return None

    def cancel(self) -> None:
        """Stop computing anything for the shown state."""
        self._key += 1
        self._wanted = None
        self._session.runner.cancel("scrub")
        self._session.runner.cancel("compare")

    def _on_gamma(self, key: int, live: bool, gamma: np.ndarray | None) -> None:
        if key != self._key:
            return
        with self._session._changing():  # a change of the session like its commands
            if live:
                self._session.history.set_live_gamma(gamma)
            self._set_gamma(gamma)
            self._compare()

    def _compare(self) -> None:
        s = self._session
        target = (self.snapshot, self.responsibilities)
        if s.state.busy or (self._labels is None and s.truth is None and s.truth_labels is None):
            self._set_comparison(None, None)
            return
        if self._compared is not None and all(a is b for a, b in zip(self._compared, target)):
            return
        self._set_comparison(None, None)
        key, labels = self._key, self._labels
        params = self.snapshot.params
        s.runner.start(
            "compare",
            _compare_work(s.emdata(params.covariance_type), params, self.responsibilities,
                          self._labels, self._codes, s.truth, s.truth_labels),
            on_finished=lambda result: self._on_compared(key, target, labels, *result),
            on_failed=lambda exc: self._on_compared(key, target, labels, None, None))

    def _on_compared(self, key: int, target: tuple, labels, comparison: ModelComparison | None,
                     codes: np.ndarray | None) -> None:
        if codes is not None and labels is self._labels:  # the same dataset's labels
            self._codes = codes
        if key == self._key:
            self._set_comparison(comparison, target if comparison is not None else None)

    def _set_gamma(self, gamma: np.ndarray | None) -> None:
        if gamma is not self.responsibilities:
            self.responsibilities = gamma
            self._session._emit(self._session.responsibilities_changed, gamma)

    def _set_comparison(self, comparison: ModelComparison | None, target: tuple | None) -> None:
        self._compared = target
        if comparison is not self.comparison:
            self.comparison = comparison
            self._session._emit(self._session.comparison_changed, comparison)
