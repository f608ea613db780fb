"""Direct manipulation in the window: dragging a component edits the shown model.

:class:`EditingBinder` connects the edit signals of the data view (2-D plane) and of the
histogram view (1-D line) to the session.  While no fit runs (idle, paused, finished, failed,
scrubbed) and a mixture (not K-means centres) is shown, the views allow drags under the shown
model's covariance type.

* A drag starts from the shown model; every (throttled) ``component_dragged`` applies the
  plane's geometry to *that* model (:func:`gmm_studio.core.editing.edit_component`, with the
  session's projection in 2-D and none in 1-D), and γ, the log-likelihood and the effective
  counts of the edited model are computed on the runner (kind "edit": a newer drag position
  makes the older one stale).  Each result is an :class:`EditPreview`, announced by
  ``preview_changed``: the drawings show it instead of the shown state.
* Releasing makes the edit one history entry (``session.show_model(edited, keep_history=True)``);
  Run or Step continue EM from it.  The preview stays (settled, with the final figures) until the
  session shows another state, so the colours do not flash grey while the session recomputes γ.

GUI thread only; the work runs on the runner's threads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from gmm_studio.core.editing import edit_component
from gmm_studio.core.em import EMData
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.core.params import MixtureParams
from gmm_studio.session import CommandRefused, Session

__all__ = ["EditPreview", "EditingBinder", "edit_figures"]

_KIND = "edit"


@dataclass(frozen=True, eq=False)
class EditPreview:
    """A model being edited by hand and what the drawings need of it.

    Attributes
    ----------
    component : int
        The component dragged.
    params : MixtureParams
        The edited model.
    responsibilities : ndarray (N, K) or None
        γ of ``params`` (None until computed; the drawings keep the shown γ meanwhile).
    log_likelihood : float
        Mean log-likelihood per point of ``params`` (NaN until computed).
    base_log_likelihood : float
        The shown model's, before the drag (NaN when unknown).
    settled : bool
        The drag has ended and the edit is in the history.
    """

    component: int
    params: MixtureParams
    responsibilities: np.ndarray | None = None
    log_likelihood: float = float("nan")
    base_log_likelihood: float = float("nan")
    settled: bool = False

    def status_text(self) -> str:
        """The status line while (or just after) editing."""
        what = "edited" if self.settled else "editing"
        parts = [f"{what} component {self.component + 1}"]
        if np.isfinite(self.log_likelihood):
            parts.append(f"log-likelihood {self.log_likelihood:.5f} per point")
            if np.isfinite(self.base_log_likelihood):
                parts.append(f"Δ {self.log_likelihood - self.base_log_likelihood:+.2e} against the model before")
        parts.append("Step or Run continues EM from this model" if self.settled
                     else "release to keep the edit")
        return " · ".join(parts)


def edit_figures(data: EMData, params: MixtureParams) -> tuple[np.ndarray, float]:
    """γ (N, K) and the mean log-likelihood of ``params``.  Any thread.

    Two of the engine's fused E-passes: 35 ms at N = 1e6, K = 4, against 170 ms for one
    unfused pass through the (N, K) log densities and a log-sum-exp.
    """
    return data.responsibilities(params), data.mean_log_likelihood(params)


class EditingBinder(QObject):
    """Binds the views' drags to the session; see the module docstring.  GUI thread.

    Signals
    -------
    preview_changed(object)
        The :class:`EditPreview` to draw instead of the shown state, or None.
    edit_kept(int)
        A drag of component k ended and the edit is the shown history entry.
    """

    preview_changed = Signal(object)
    edit_kept = Signal(int)

    def __init__(self, session: Session, data_view, histogram_view, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.data_view, self.histogram_view = data_view, histogram_view
        self.preview: EditPreview | None = None
        self._base: MixtureParams | None = None  # the model the drag started from
        self._base_ll = float("nan")
        self._edit_entry = None  # the snapshot show_model made of the last edit
        for view in (data_view, histogram_view):
            view.component_edit_started.connect(self._on_view_edit_started)
            view.component_dragged.connect(self._on_view_component_dragged)
            view.component_edit_finished.connect(self._on_view_edit_finished)
        for signal in (session.state_changed, session.shown_changed, session.dataset_changed):
            signal.connect(self._on_session_changed)
        self._on_session_changed()

    def disconnect_session(self) -> None:
        """Stop following the session (the window is closing)."""
        for signal in (self.session.state_changed, self.session.shown_changed, self.session.dataset_changed):
            signal.disconnect(self._on_session_changed)

    @property
    def one_d(self) -> bool:
        return self.session.dataset is not None and self.session.x.shape[1] == 1

    # ------------------------------------------------------------------ session events
    def _on_session_changed(self, *_) -> None:
        s = self.session
        snap = s.shown.snapshot
        if self.preview is not None and self.preview.settled and snap is not self._edit_entry:
            self._set_preview(None)  # the session shows another state now
        # K-means centres are not a mixture: an edit there would silently turn the run into EM
        editable = snap is not None and not isinstance(snap, KMeansSnapshot) and not s.state.busy \
            and s.can("show_model")
        kind = snap.params.covariance_type if editable else None
        self.data_view.set_editing(None if self.one_d else kind)
        self.histogram_view.set_editing(kind if self.one_d else None)

    # ------------------------------------------------------------------ drags
    def _on_view_edit_started(self, k: int) -> None:
        snap = self.session.shown.snapshot
        if snap is None:
            return
        self._base = snap.params
        self._base_ll = snap.log_likelihood if np.isfinite(snap.log_likelihood) else (
            self.preview.log_likelihood if self.preview is not None and self.preview.settled else float("nan"))
        self._edit_entry = None

    def _edited(self, k: int, mean, cov) -> MixtureParams | None:
        if self._base is None:
            return None
        projection = None if self.one_d else self.session.projection
        try:
            return edit_component(self._base, k, mean, cov, projection)
        except ValueError:
            return None  # a component the shown model lost, or a degenerate pointer position

    def _on_view_component_dragged(self, k: int, mean, cov) -> None:
        edited = self._edited(k, mean, cov)
        if edited is None:
            return
        previous = self.preview
        gamma = previous.responsibilities if previous is not None else None
        self._set_preview(EditPreview(k, edited, gamma, float("nan"), self._base_ll))
        self._compute(edited)

    def _on_view_edit_finished(self, k: int, mean, cov) -> None:
        if self._base is None:  # a finish without a start (sent by a script): edit the shown model
            self._on_view_edit_started(k)
        edited = self._edited(k, mean, cov)
        self._base = None
        if edited is None:
            self._set_preview(None)
            return
        try:
            self.session.show_model(edited, keep_history=True)
        except CommandRefused:
            self.session.runner.cancel(_KIND)
            self._set_preview(None)
            return
        self._edit_entry = self.session.shown.snapshot
        previous = self.preview
        gamma = previous.responsibilities if previous is not None else None
        self._set_preview(EditPreview(k, edited, gamma, float("nan"), self._base_ll, settled=True))
        self._compute(edited)
        # show_model announced the new state before the preview was settled: editing follows it
        self._on_session_changed()
        self.edit_kept.emit(k)

    def _compute(self, params: MixtureParams) -> None:
        data = self.session.emdata(params.covariance_type)
        self.session.runner.start(_KIND, lambda cancel: edit_figures(data, params),
                                  on_finished=lambda result: self._on_figures(params, *result))

    def _on_figures(self, params: MixtureParams, gamma: np.ndarray, log_likelihood: float) -> None:
        preview = self.preview
        if preview is None or preview.params is not params:
            # a newer position's work replaced this one; its γ still beats the shown model's
            if preview is not None and preview.responsibilities is None:
                self._set_preview(replace(preview, responsibilities=gamma))
            return
        self._set_preview(replace(preview, responsibilities=gamma, log_likelihood=log_likelihood))

    def _set_preview(self, preview: EditPreview | None) -> None:
        self.preview = preview
        self.preview_changed.emit(preview)
