"""1-D data in the window: the central view becomes a histogram of the one feature.

:class:`DataStack` holds the 2-D data view and the :class:`~gmm_studio.ui.histogram_view.HistogramPanel`
and shows the one that fits the session's data (D = 1: the histogram).  :class:`HistogramDrawing`
draws the session's shown model into the histogram — each component's weighted density, the
mixture density, the ±1σ/±2σ intervals, and the bins split by the shown responsibilities — or
an :class:`~gmm_studio.ui.editing_binder.EditPreview` while a component is dragged.  Like
:class:`~gmm_studio.ui.session_view.SessionDrawing` it only marks what is stale on the
session's signals and draws from a ~30 Hz timer.  Means placed by clicking are drawn as crosses
on the axis.  The split of the bins by γ is made on the
runner (kind "histogram", the newest replacing the old; ~0.16 s at 1e6 points and K = 4), and
the bars keep the previous split until it arrives.  GUI thread only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QStackedWidget, QWidget

from gmm_studio.core.density import stacked_histogram
from gmm_studio.session import Session
from gmm_studio.ui.data_view import DataView
from gmm_studio.ui.histogram_view import HistogramPanel

__all__ = ["DataStack", "HistogramDrawing"]

_REDRAW_MS = 33


class DataStack(QStackedWidget):
    """The central plot: the data view for D ≥ 2, the histogram panel for D = 1.

    The histogram panel is built the first time it is asked for (a plot costs ~12 ms of
    start-up, and most data are not 1-D); ``histogram_built`` then announces it, so whoever
    listens to its signals connects there.
    """

    histogram_built = Signal(object)

    def __init__(self, data_view: DataView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataStack")
        self.data_view = data_view
        self._histogram_panel: HistogramPanel | None = None
        self.addWidget(data_view)

    @property
    def histogram_panel(self) -> HistogramPanel:
        """The histogram panel, built now if it was not yet."""
        if self._histogram_panel is None:
            self._histogram_panel = HistogramPanel()
            self.addWidget(self._histogram_panel)
            self.histogram_built.emit(self._histogram_panel)
        return self._histogram_panel

    def built_histogram_panel(self) -> HistogramPanel | None:
        """The histogram panel if it was built, else None (without building it)."""
        return self._histogram_panel

    def show_histogram(self, histogram: bool) -> None:
        self.setCurrentWidget(self.histogram_panel if histogram else self.data_view)

    def showing_histogram(self) -> bool:
        return self._histogram_panel is not None and self.currentWidget() is self._histogram_panel

    def plot_widget(self) -> pg.PlotWidget:
        """The plot shown (what a figure export draws)."""
        return self.histogram_panel.view if self.showing_histogram() else self.data_view


class HistogramDrawing(QObject):
    """Draws a session with 1-D data into the histogram; see the module docstring.  GUI thread."""

    def __init__(self, session: Session, stack: DataStack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.stack = session, stack
        self.preview = None
        self._dirty = False
        self._parts: tuple | None = None  # (γ, edges, parts): the latest split made
        self._pending: tuple | None = None  # (γ, edges) of the split being made
        stack.histogram_built.connect(self._on_stack_histogram_built)
        session.dataset_changed.connect(self._on_session_dataset_changed)
        session.placed_changed.connect(self._on_session_placed_changed)
        for signal in self._marking():
            signal.connect(self._on_session_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(_REDRAW_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    def _marking(self):
        s = self.session
        return (s.shown_changed, s.responsibilities_changed, s.history_changed, s.state_changed)

    def stop(self) -> None:
        """Stop drawing (the window is closing)."""
        self._timer.stop()
        self.session.dataset_changed.disconnect(self._on_session_dataset_changed)
        self.session.placed_changed.disconnect(self._on_session_placed_changed)
        for signal in self._marking():
            signal.disconnect(self._on_session_changed)

    @property
    def panel(self) -> HistogramPanel:
        return self.stack.histogram_panel

    def _on_stack_histogram_built(self, panel: HistogramPanel) -> None:
        panel.bins_spin.valueChanged.connect(self._on_session_changed)
        panel.auto_button.clicked.connect(self._on_session_changed)

    def set_preview(self, preview) -> None:
        """Draw this EditPreview instead of the shown state (None: the shown state)."""
        self.preview = preview
        self._dirty = True

    def _on_session_dataset_changed(self, dataset) -> None:
        one_d = self.session.x.shape[1] == 1
        if one_d:
            self.panel.set_data(self.session.x[:, 0], str(dataset.columns[0]))
        self.stack.show_histogram(one_d)
        self._dirty = one_d

    def _on_session_changed(self, *_) -> None:
        self._dirty = True

    def _on_session_placed_changed(self, placed: np.ndarray) -> None:
        one_d = placed.ndim == 2 and placed.shape[1] == 1
        if one_d or self.stack.built_histogram_panel() is not None:
            self.panel.view.set_placed_means(placed[:, 0] if one_d else np.zeros(0))

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._dirty:
            self.redraw()

    def redraw(self) -> None:
        """Draw the shown state (or the preview) now, if the data are 1-D."""
        self._dirty = False
        if not self.stack.showing_histogram():
            return
        shown = self.session.shown
        snap = shown.snapshot
        preview = self.preview
        params = None if snap is None else snap.params
        gamma = shown.responsibilities
        if preview is not None:
            params = preview.params
            if preview.responsibilities is not None:
                gamma = preview.responsibilities
        if params is None or params.n_features != 1:
            self.panel.show_params(None)
            return
        if gamma is not None and gamma.shape != (self.session.x.shape[0], params.n_components):
            gamma = None  # γ of another model: grey bins until the shown one's arrives
        edges = self.panel.view.edges
        if gamma is not None and (self._parts is None or self._parts[0] is not gamma
                                  or self._parts[1] is not edges):
            self._split(gamma, edges)
        parts = None if self._parts is None or gamma is None else (self._parts[1], self._parts[2])
        self.panel.view.show_params(params, bin_parts=parts)

    def _split(self, gamma: np.ndarray, edges: np.ndarray) -> None:
        if self._pending is not None and self._pending[0] is gamma and self._pending[1] is edges:
            return
        self._pending = (gamma, edges)
        x = self.session.x[:, 0]
        self.session.runner.start("histogram", lambda cancel: stacked_histogram(x, edges, gamma)[1],
                                  on_finished=lambda parts: self._on_split(gamma, edges, parts),
                                  on_failed=lambda exc: self._on_split(gamma, edges, None))

    def _on_split(self, gamma: np.ndarray, edges: np.ndarray, parts: np.ndarray | None) -> None:
        if parts is not None:
            self._parts = (gamma, edges, parts)
        if self._pending is not None and self._pending[0] is gamma:
            self._pending = None
        self._dirty = True

    def up_to_date(self) -> bool:
        """Whether no split of the bins is being made (the bars show the latest γ once redrawn)."""
        return self._pending is None
