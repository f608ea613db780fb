"""Direct manipulation in the window: dragging a component edits the shown model.

:class:`EditingBinder` connects the edit signals of the data view (2-D plane) and of the
histogram view (1-D line, once the data stack has built it) to the session.  While no fit runs (idle, paused, finished, failed,
scrubbed) and a model is shown, the views allow drags: under the shown mixture's covariance
type, or of the centres alone (:data:`~gmm_studio.ui.component_handles.CENTRES`) when the shown
state is K-means'.

* A drag starts from the shown model; every (throttled) ``component_dragged`` applies the
  plane's geometry to *that* model (:func:`gmm_studio.core.editing.edit_component`, with the
  session's projection in 2-D and none in 1-D), and γ and the figure of the edited model are
  computed on the runner (kind "edit": a newer drag position makes the older one stale) — the
  mean log-likelihood (:func:`~gmm_studio.core.editing.model_figures`), or for K-means centres
  the hard r_nk of the nearest centre and −J/N (:func:`~gmm_studio.core.editing.centre_figures`).
  Each result is an :class:`EditPreview`, announced by ``preview_changed``: the drawings show
  it instead of the shown state.
* Releasing makes the edit one history entry (``session.show_model(edited, keep_history=True)``,
  whose figure the session computes); Run or Step continue EM — or K-means — from it.  The
  preview stays (settled) until the session has γ and the figure of the edit or shows another
  state, so the colours do not flash grey meanwhile.

GUI thread only; the work runs on the runner's threads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from gmm_studio.core.editing import centre_figures, edit_component, model_figures
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.core.params import MixtureParams
from gmm_studio.session import CommandRefused, Session
from gmm_studio.ui.component_handles import CENTRES

__all__ = ["EditPreview", "EditingBinder"]

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
        Mean log-likelihood per point of ``params`` — for K-means centres −J/N, the figure
        the likelihood view plots — NaN until computed.
    base_log_likelihood : float
        The shown model's, before the drag (NaN when unknown).
    settled : bool
        The drag has ended and the edit is in the history.
    kmeans : bool
        K-means centres are edited (hard r_nk, the within-cluster sum of squares).
    """

    component: int
    params: MixtureParams
    responsibilities: np.ndarray | None = None
    log_likelihood: float = float("nan")
    base_log_likelihood: float = float("nan")
    settled: bool = False
    kmeans: bool = False

    def status_text(self) -> str:
        """The status line while (or just after) editing."""
        what = "edited" if self.settled else "editing"
        parts = [f"{what} {'centre' if self.kmeans else 'component'} {self.component + 1}"]
        if np.isfinite(self.log_likelihood):
            sign = -1.0 if self.kmeans else 1.0  # K-means' figure is −WCSS/N: say WCSS/N
            parts.append(f"WCSS/N {-self.log_likelihood:.5f}" if self.kmeans
                         else f"log-likelihood {self.log_likelihood:.5f} per point")
            if np.isfinite(self.base_log_likelihood):
                delta = sign * (self.log_likelihood - self.base_log_likelihood)
                parts.append(f"Δ {delta:+.2e} against the model before")
        algorithm = "K-means" if self.kmeans else "EM"
        parts.append(f"Step or Run continues {algorithm} from this model" if self.settled
                     else "release to keep the edit")
        return " · ".join(parts)


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

    def __init__(self, session: Session, data_view, stack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.data_view, self.stack = data_view, stack
        self.preview: EditPreview | None = None
        self._base: MixtureParams | None = None  # the model the drag started from
        self._kmeans = False  # the drag moves K-means centres
        self._base_ll = float("nan")
        self._connect_view(data_view)
        stack.histogram_built.connect(self._on_stack_histogram_built)
        for signal in self._signals():
            signal.connect(self._on_session_changed)
        self._on_session_changed()

    def _connect_view(self, view) -> None:
        view.component_edit_started.connect(self._on_view_edit_started)
        view.component_dragged.connect(self._on_view_component_dragged)
        view.component_edit_finished.connect(self._on_view_edit_finished)

    def _on_stack_histogram_built(self, panel) -> None:
        self._connect_view(panel.view)
        self._on_session_changed()

    def _signals(self):
        s = self.session
        return (s.state_changed, s.shown_changed, s.responsibilities_changed, s.dataset_changed)

    def disconnect_session(self) -> None:
        """Stop following the session (the window is closing)."""
        for signal in self._signals():
            signal.disconnect(self._on_session_changed)

    @property
    def one_d(self) -> bool:
        return self.session.dataset is not None and self.session.x.shape[1] == 1

    # ------------------------------------------------------------------ session events
    def _on_session_changed(self, *_) -> None:
        s = self.session
        snap = s.shown.snapshot
        preview = self.preview
        if preview is not None and preview.settled and (
                snap is None or snap.params is not preview.params
                or (s.shown.responsibilities is not None and np.isfinite(snap.log_likelihood))):
            self._set_preview(None)  # the session has the edit's figures, or shows another state
        editable = snap is not None and not s.state.busy and s.can("show_model")
        kind = None if not editable else CENTRES if isinstance(snap, KMeansSnapshot) \
            else snap.params.covariance_type
        self.data_view.set_editing(None if self.one_d else kind)
        histogram = self.stack.built_histogram_panel()
        if histogram is not None:
            histogram.view.set_editing(kind if self.one_d else None)

    # ------------------------------------------------------------------ drags
    def _on_view_edit_started(self, k: int) -> None:
        snap = self.session.shown.snapshot
        if snap is None:
            return
        self._base = snap.params
        self._kmeans = isinstance(snap, KMeansSnapshot)
        self._base_ll = snap.log_likelihood if np.isfinite(snap.log_likelihood) else (
            self.preview.log_likelihood if self.preview is not None and self.preview.settled else float("nan"))

    def _edited(self, k: int, mean, cov) -> MixtureParams | None:
        if self._base is None:
            return None
        projection = None if self.one_d else self.session.projection
        try:
            return edit_component(self._base, k, mean, cov, projection)
        except ValueError:
            return None  # a component the shown model lost, or a degenerate pointer position

    def _preview(self, k: int, edited: MixtureParams, settled: bool = False) -> EditPreview:
        """The preview of ``edited``, drawn with the latest γ known until its own arrives."""
        gamma = self.preview.responsibilities if self.preview is not None else None
        return EditPreview(k, edited, gamma, float("nan"), self._base_ll, settled, self._kmeans)

    def _on_view_component_dragged(self, k: int, mean, cov) -> None:
        edited = self._edited(k, mean, cov)
        if edited is None:
            return
        self._set_preview(self._preview(k, edited))
        self._compute(edited)

    def _on_view_edit_finished(self, k: int, mean, cov) -> None:
        if self._base is None:  # a finish without a start (sent by a script): edit the shown model
            self._on_view_edit_started(k)
        edited = self._edited(k, mean, cov)
        self._base = None
        self.session.runner.cancel(_KIND)  # the session computes the kept edit's figures
        if edited is None:
            self._set_preview(None)
            return
        settled = self._preview(k, edited, settled=True)
        try:
            self.session.show_model(edited, keep_history=True)
        except CommandRefused:
            self._set_preview(None)
            return
        self._set_preview(settled)
        self._on_session_changed()  # the session may already have the figures (an inline runner)
        self.edit_kept.emit(k)

    def kept_text(self, k: int) -> str:
        """What the info line says when the edit of component ``k`` has been kept."""
        if self._kmeans:
            return (f"Centre {k + 1} moved by hand. Step (S) shows what K-means makes of it: the "
                    "points join their nearest centre; Run (Space) runs on.")
        return f"Component {k + 1} edited by hand. Step (S) shows what EM makes of it; Run (Space) runs on."

    def _compute(self, params: MixtureParams) -> None:
        if self._kmeans:
            x = self.session.x
            work = lambda cancel: centre_figures(x, params.means)  # noqa: E731
        else:
            data = self.session.emdata(params.covariance_type)
            work = lambda cancel: model_figures(data, params)  # noqa: E731
        self.session.runner.start(_KIND, work, on_finished=lambda result: self._on_figures(params, *result))

    def _on_figures(self, params: MixtureParams, gamma: np.ndarray, figure: float, *_) -> None:
        preview = self.preview
        value = -figure / len(gamma) if self._kmeans else figure  # the curve plots −J/N for K-means
        if preview is None or preview.params is not params:
            # a newer position's work replaced this one; its γ still beats the shown model's
            if preview is not None and preview.responsibilities is None:
                self._set_preview(replace(preview, responsibilities=gamma))
            return
        self._set_preview(replace(preview, responsibilities=gamma, log_likelihood=value))

    def _set_preview(self, preview: EditPreview | None) -> None:
        self.preview = preview
        self.preview_changed.emit(preview)
