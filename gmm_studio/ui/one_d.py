"""1-D data in the window: the central view becomes a histogram of the one feature.

:class:`DataStack` holds the 2-D data view and the :class:`~gmm_studio.ui.histogram_view.HistogramPanel`
and shows the one that fits the session's data (D = 1: the histogram).  :class:`HistogramDrawing`
draws the session's shown model into the histogram — each component's weighted density, the
mixture density, the ±1σ/±2σ intervals, and the bins split by the shown responsibilities — or
an :class:`~gmm_studio.ui.editing_binder.EditPreview` while a component is dragged.  Like
:class:`~gmm_studio.ui.session_view.SessionDrawing` it only marks what is stale on the
session's signals and draws from a ~30 Hz timer.  Means placed by clicking are drawn as crosses
on the axis.  The bins are split as the Points box says (:func:`bin_split`: by γ, by hard
label, by max γ with the unsure rest grey, or by the data's true classes), on the runner (kind
"histogram", the newest replacing the old; ~0.16 s at 1e6 points and K = 4); the bars keep the
previous split until it arrives.  GUI thread only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QStackedWidget, QWidget

from gmm_studio.core.density import stacked_histogram
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.session import Session
from gmm_studio.ui.data_view import DataView
from gmm_studio.ui.colors import component_palette, true_label_colours
from gmm_studio.ui.histogram_view import BinSplit, HistogramPanel

__all__ = ["DataStack", "HistogramDrawing", "bin_split"]

_UNSURE_RGB = np.array([0.55, 0.55, 0.55])


def _same(a: tuple | None, b: tuple) -> bool:
    return a is not None and a[0] == b[0] and a[1] is b[1] and a[2] is b[2]


def bin_split(x: np.ndarray, edges: np.ndarray, gamma: np.ndarray | None, mode: str,
              labels=None) -> BinSplit:
    """The bins of ``x`` split as the Points box says (see :meth:`HistogramDrawing.set_color_mode`).

    ``gamma`` (N, K) or None (only 'truth' works without it: the classes in palette order).
    Any thread (the runner's).
    """
    k = 0 if gamma is None else gamma.shape[1]
    rgb, names = None, ()
    if mode == "truth":
        palette = None if gamma is None else component_palette(k)
        colours = true_label_colours(labels, palette, None if gamma is None else gamma.argmax(axis=1))
        index = {name: i for i, name in enumerate(colours.classes)}
        codes = np.array([index[v] for v in np.asarray(labels).astype(str).ravel()])
        weights = np.zeros((len(x), len(colours.classes)))
        weights[np.arange(len(x)), codes] = 1.0
        rgb, names = colours.rgb, colours.names
    elif mode in ("hard", "uncertainty"):
        top = gamma.max(axis=1)
        weights = np.zeros_like(gamma)
        weights[np.arange(len(x)), gamma.argmax(axis=1)] = top if mode == "uncertainty" else 1.0
        if mode == "uncertainty":
            weights = np.column_stack([weights, 1.0 - top])
            rgb = np.vstack([component_palette(k), _UNSURE_RGB])
            names = tuple(f"max γ of the points of {j + 1}" for j in range(k)) + ("unsure: 1 − max γ",)
    else:
        weights = gamma
    return BinSplit(edges, stacked_histogram(x, edges, weights)[1], rgb, names)

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
        self.color_mode = "blend"
        # (mode, γ, edges) of the latest split made and of the one being made (compared by identity)
        self._split_key: tuple | None = None
        self._split_made: BinSplit | None = None
        self._pending: tuple | None = None
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
            self.panel.view.set_truth(self.session.truth)
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
        if params is not None and params.n_features != 1:
            params = None
        if params is None or (gamma is not None and gamma.shape != (self.session.x.shape[0], params.n_components)):
            gamma = None  # γ of another model: grey bins until the shown one's arrives
        labels = getattr(self.session.dataset, "labels", None)
        mode = self.color_mode if self.color_mode != "truth" or labels is not None else "blend"
        edges = self.panel.view.edges
        key = (mode, gamma, edges)
        if (gamma is not None or mode == "truth") and not _same(self._split_key, key):
            self._split(key, labels)
        # until the split asked for arrives, the previous one (the view checks its bins and K)
        split = self._split_made if gamma is not None or mode == "truth" else None
        self.panel.view.set_centres_only(preview.kmeans if preview is not None
                                         else isinstance(snap, KMeansSnapshot))
        self.panel.view.show_params(params, bin_split=split)

    def set_color_mode(self, mode: str) -> None:
        """What splits the bins: 'blend' (γ), 'hard' (argmax γ), 'uncertainty' (max γ by hard
        label, and the unsure rest in grey) or 'truth' (the data's classes)."""
        self.color_mode = mode
        self._dirty = True

    def _split(self, key: tuple, labels) -> None:
        if self._pending is not None and _same(self._pending, key):
            return
        self._pending = key
        mode, gamma, edges = key
        x = self.session.x[:, 0]
        self.session.runner.start("histogram", lambda cancel: bin_split(x, edges, gamma, mode, labels),
                                  on_finished=lambda split: self._on_split(key, split),
                                  on_failed=lambda exc: self._on_split(key, None))

    def _on_split(self, key: tuple, split: BinSplit | None) -> None:
        if split is not None:
            self._split_key, self._split_made = key, split
        if self._pending is not None and _same(self._pending, key):
            self._pending = None
        self._dirty = True

    def up_to_date(self) -> bool:
        """Whether no split of the bins is being made (the bars show the latest γ once redrawn)."""
        return self._pending is None
