"""The data view for one feature: a histogram with the mixture drawn over it.

The most common picture of a mixture: the data's histogram (as a density, Freedman–Diaconis
bins, adjustable), each component's weighted density π_k N(x | μ_k, σ_k²) and their sum in the
component colours, each bin split by the responsibilities of its points (stacked colours; or
by what the Points box asks for, :class:`BinSplit`: hard labels, the unsure share, the data's
true classes), the mixture that generated the data dotted when known, and beneath the axis every component's mean with its ±1σ (thick) and ±2σ (thin) interval, the 1-D
counterpart of the ellipses.  The numbers come from :mod:`gmm_studio.core.density`.
After :meth:`HistogramView.set_editing` the person drags a mean marker to move the component
and an end of its ±1σ interval to change σ (K-means centres, :data:`CENTRES`: the marker only);
the curves follow the pointer and the view emits the same edit signals as the 2-D data view,
with a mean ``(1,)`` and variance ``(1, 1)``.  A click says where (``clicked``), as in the data
view: before a fit with "click to place means" it places a mean there, drawn as a cross on the
axis (:meth:`HistogramView.set_placed_means`).  GUI thread only.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from gmm_studio.core.density import (
    MAX_BINS,
    density_1d,
    freedman_diaconis_bins,
    histogram_edges,
    stacked_histogram,
)
from gmm_studio.core.editing import edit_component
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.colors import component_palette
from gmm_studio.ui.component_handles import CENTRES, DraggableScatter, EditSession, mean_tip
from gmm_studio.ui.legend_strip import LegendStrip
from gmm_studio.ui.plot_items import nearest_marker

__all__ = ["BinSplit", "HistogramPanel", "HistogramView"]

_CURVE_POINTS = 400
_GREY = QColor(120, 120, 120)
_END_TIPS = {
    "tied": "Tied variance: every component shares it, so widening this interval widens them all.",
}
_END_TIP = "Drag to widen or narrow the ±1σ interval (σ is its half-width)."


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(round(255 * c)) for c in colour)


class BinSplit(NamedTuple):
    """How the bins are split into stacked coloured parts (made off the GUI thread).

    ``parts`` (G, B) are :func:`~gmm_studio.core.density.stacked_histogram`'s parts for the
    view's ``edges``; ``rgb`` (G, 3) their colours in [0, 1] (None: the components' colours,
    G = K); ``names`` the legend text per part (empty: the component curves name them).
    """

    edges: np.ndarray
    parts: np.ndarray
    rgb: np.ndarray | None = None
    names: tuple[str, ...] = ()


class _Component:
    """The items of one component: its density curve, intervals and mean."""

    def __init__(self, plot: pg.PlotItem, k: int, colour: np.ndarray, on_mean_drag, on_end_drag) -> None:
        rgb = _rgb(colour)
        self.curve = pg.PlotDataItem(name=f"component {k + 1}", pen=pg.mkPen(rgb, width=2),
                                     antialias=True)
        self.two_sigma = pg.PlotDataItem(pen=pg.mkPen(rgb, width=1.5))
        self.one_sigma = pg.PlotDataItem(pen=pg.mkPen(rgb, width=5))
        self.mean = DraggableScatter(on_mean_drag, symbol="o", size=11, brush=pg.mkBrush(*rgb),
                                     pen=pg.mkPen("w"), hoverable=True)
        self.ends = DraggableScatter(on_end_drag, symbol="|", size=16, pen=pg.mkPen(40, 40, 40, width=2.5),
                                     hoverable=True)
        self.mean.setZValue(20)
        self.ends.setZValue(19)
        for item in self.items:
            plot.addItem(item)

    @property
    def items(self):
        return (self.curve, self.two_sigma, self.one_sigma, self.mean, self.ends)

    def set_editing(self, marker_tip: str | None, end_tip: str | None) -> None:
        """The mean marker and the interval ends draggable with these tooltips, or not (None)."""
        self.mean.draggable = marker_tip is not None
        self.ends.draggable = end_tip is not None
        self.mean.opts["tip"] = (lambda **_: marker_tip) if marker_tip is not None else None
        self.ends.opts["tip"] = (lambda **_: end_tip) if end_tip is not None else None
        self.ends.setVisible(end_tip is not None)

    def remove(self, plot: pg.PlotItem) -> None:
        for item in self.items:
            plot.removeItem(item)


class HistogramView(pg.PlotWidget):
    """The plot.  Items are made once per dataset and per K, then updated with setData.

    Signals
    -------
    clicked(float, float)
        A left click on the plot, in data coordinates (x is where along the feature).
    component_edit_started(int), component_dragged(int, object, object),
    component_edit_finished(int, object, object)
        As the 2-D data view's, with the mean ``(1,)`` and the variance ``(1, 1)``: a drag of
        component k's mean marker or of an end of its ±1σ interval (``dragged`` throttled).
    """

    clicked = Signal(float, float)
    component_edit_started = Signal(int)
    component_dragged = Signal(int, object, object)
    component_edit_finished = Signal(int, object, object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("histogramView")
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("left", "density")
        plot.getAxis("left").enableAutoSIPrefix(False)
        # Above the data area: a legend over the plot covered the tallest peak.
        self.legend_strip = LegendStrip(plot, labelTextSize="8pt", labelTextColor=(30, 30, 30))
        self.histogram = pg.BarGraphItem(x0=[], width=[], height=[], pen=pg.mkPen(_GREY, width=1),
                                         brush=pg.mkBrush(200, 200, 200, 120))
        plot.addItem(self.histogram)
        # Dashed and on top: where one component is the whole mixture both stay visible.
        self.mixture_curve = pg.PlotDataItem(
            name="mixture", antialias=True,
            pen=pg.mkPen(20, 20, 20, width=2, style=Qt.PenStyle.DashLine))
        self.mixture_curve.setZValue(10)
        plot.addItem(self.mixture_curve)
        self.truth_curve = pg.PlotDataItem(
            name="true mixture", antialias=True,
            pen=pg.mkPen(0, 0, 0, 190, width=1.6, style=Qt.PenStyle.DotLine))
        self.truth_curve.setZValue(9)
        self.truth_curve.setVisible(False)
        plot.addItem(self.truth_curve)
        self._truth: MixtureParams | None = None
        self._truth_wanted = True
        self._centres_only = False
        #: The stacked parts of the bins, bottom to top (one per component, class, or unsure share).
        self.split_bars: list[pg.BarGraphItem] = []
        self._split_key: tuple = ()
        self.placed_item = pg.ScatterPlotItem(size=16, symbol="x", pen=pg.mkPen("k", width=2),
                                              brush=pg.mkBrush(0, 0, 0))
        self.placed_item.setZValue(21)
        plot.addItem(self.placed_item)
        plot.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self.components: list[_Component] = []
        self.x = np.zeros(0)
        self.edges = np.zeros(0)
        self._params: MixtureParams | None = None
        self._resp: np.ndarray | None = None
        self._bin_split: BinSplit | None = None  # the split made off the GUI thread
        self._heights = np.zeros(0)  # the plain histogram of the current bins
        self._covariance_type: str | None = None
        # (k, 'mean' or 'end', start mean, start σ, grab offset) of the drag under way
        self._drag: tuple[int, str, float, float, float] | None = None
        self.edits = EditSession(self)
        self.edits.edit_started.connect(self.component_edit_started)
        self.edits.dragged.connect(self.component_dragged)
        self.edits.edit_finished.connect(self.component_edit_finished)
        self._rebuild_legend()

    # ------------------------------------------------------------------ data
    def set_data(self, values: np.ndarray, name: str = "x", bins: int | None = None) -> None:
        """Show these values (N,) or (N, 1); ``bins`` None uses Freedman–Diaconis.  Forgets the model."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1 or len(values) == 0 or not np.all(np.isfinite(values)):
            raise ValueError(
                f"The histogram view shows one feature: pass N finite values as (N,) or (N, 1); "
                f"got shape {values.shape}."
            )
        self.x = values
        self.getPlotItem().setLabel("bottom", name)
        self.edges = histogram_edges(self.x, bins)
        self._heights = stacked_histogram(self.x, self.edges)[0]
        self.show_params(None)  # the previous data's model does not describe these
        self._draw_truth()
        self._frame()

    def set_bins(self, bins: int | None) -> None:
        """Rebin (None: Freedman–Diaconis) and redraw the bars."""
        self.edges = histogram_edges(self.x, bins)
        self._heights = stacked_histogram(self.x, self.edges)[0]
        self._draw_bars()
        self._frame()

    def show_params(self, params: MixtureParams | None, responsibilities: np.ndarray | None = None,
                    bin_split: BinSplit | None = None) -> None:
        """Draw this 1-D mixture over the histogram; γ (N, K) splits each bin (None: grey bins).

        ``bin_split`` instead of γ: the split already made (:class:`BinSplit`); used while its
        edges are the view's bins (and, in the components' colours, K matches), else the bins
        are grey.
        """
        if params is not None and params.n_features != 1:
            raise ValueError(f"The histogram view draws 1-D mixtures; got {params.n_features}-D.")
        self._params, self._resp, self._bin_split = params, responsibilities, bin_split
        k = 0 if params is None else params.n_components
        if self._drag is not None and self._drag[0] >= k:
            self._drag = None  # a model without the dragged component ends the drag
            self.edits.finish()
        if len(self.components) != k:
            plot = self.getPlotItem()
            for component in self.components:
                component.remove(plot)
            palette = component_palette(k)
            self.components = [_Component(plot, j, palette[j], partial(self._on_mean_drag, j),
                                          partial(self._on_end_drag, j)) for j in range(k)]
            for component in self.components:
                component.set_editing(*self._tips())
            changed = True
        else:
            changed = False
        self.mixture_curve.setVisible(params is not None and not self._centres_only)
        for component in self.components:
            for item in (component.curve, component.two_sigma, component.one_sigma):
                item.setVisible(not self._centres_only)
        if params is not None:
            self._draw_curves(self._shown_params())
        self._draw_bars()
        if changed:
            self._rebuild_legend()
        view_top = self.getPlotItem().getViewBox().viewRange()[1][1]
        # grow for a taller curve; shrink back once it falls far below (a narrow start's spike)
        top = self._top()
        if len(self.x) and (changed or top > view_top or top < 0.4 * view_top):
            self._frame()

    def set_truth(self, truth: MixtureParams | None) -> None:
        """Draw the density of the mixture that generated the data, dotted (None: none)."""
        if truth is not None and truth.n_features != 1:
            raise ValueError(f"The histogram view draws 1-D mixtures; got {truth.n_features}-D.")
        self._truth = truth
        self._draw_truth()
        self._rebuild_legend()

    def set_truth_visible(self, visible: bool) -> None:
        """View › true mixture: show or hide the dotted curve."""
        self._truth_wanted = bool(visible)
        self.truth_curve.setVisible(self._truth_wanted and self._truth is not None)

    def set_centres_only(self, on: bool) -> None:
        """K-means: its centres (the markers) and the bins, no densities or intervals (it has
        no σ); call before :meth:`show_params`."""
        if bool(on) != self._centres_only:
            self._centres_only = bool(on)
            self._rebuild_legend()

    def legend_texts(self) -> list[str]:
        """The legend's entries, in order."""
        return self.legend_strip.texts()

    def _rebuild_legend(self) -> None:
        if self._centres_only:
            centre = pg.ScatterPlotItem(symbol="o", size=10, pen=pg.mkPen("w"), brush=pg.mkBrush(90, 90, 90))
            curves = [(centre, "K-means centre: each point joins its nearest (no σ)")]
        else:
            curves = [(self.mixture_curve, "mixture p(x)")] if self.components else []
        if self._truth is not None:
            curves.append((self.truth_curve, "true mixture (dotted)"))
        if not self._centres_only:
            curves += [(c.curve, f"component {j + 1}") for j, c in enumerate(self.components)]
        parts = [(pg.ScatterPlotItem(symbol="s", size=10, pen=None, brush=bar.opts["brush"]), name)
                 for bar, name in zip(self.split_bars, self._split_key[1] if self._split_key else ())]
        self.legend_strip.set_groups([curves, parts])

    def _draw_truth(self) -> None:
        if self._truth is None or not len(self.x):
            self.truth_curve.setVisible(False)
            return
        lo, hi = float(self.edges[0]), float(self.edges[-1])
        pad = 0.05 * (hi - lo or 1.0)
        grid = np.linspace(lo - pad, hi + pad, _CURVE_POINTS)
        self.truth_curve.setData(grid, density_1d(self._truth, grid).mixture)
        self.truth_curve.setVisible(self._truth_wanted)

    # ------------------------------------------------------------------ editing
    def set_editing(self, covariance_type: str | None) -> None:
        """Let the person drag means and interval ends (None: not; :data:`CENTRES`: the markers
        only).  'tied' says in the ends' tooltip that every component's σ changes with the one
        dragged."""
        self._covariance_type = covariance_type
        for component in self.components:
            component.set_editing(*self._tips())
        if covariance_type is None and self._drag is not None:
            self._drag = None
            self.edits.finish()

    def _tips(self) -> tuple[str | None, str | None]:
        """The tooltips of the mean markers and of the interval ends (None: not draggable)."""
        kind = self._covariance_type
        if kind is None:
            return None, None
        return mean_tip(kind), None if kind == CENTRES else _END_TIPS.get(kind, _END_TIP)

    # ------------------------------------------------------------------ clicks
    def set_placed_means(self, xs: np.ndarray) -> None:
        """Crosses on the axis where means have been placed by clicking (x values)."""
        xs = np.asarray(xs, dtype=np.float64).ravel()
        self.placed_item.setData(xs, np.zeros_like(xs))

    def nearest_component(self, x: float, y: float, max_pixels: float = 15.0) -> int | None:
        """The component whose mean marker is within ``max_pixels`` of (x, y), if any."""
        marks = [(c.mean.data["x"][0], c.mean.data["y"][0]) if len(c.mean.data) else (np.nan, np.nan)
                 for c in self.components]
        return nearest_marker(self.getPlotItem(), np.array(marks).reshape(-1, 2), x, y, max_pixels)

    @Slot(object)
    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        vb = self.getPlotItem().getViewBox()
        if vb.sceneBoundingRect().contains(event.scenePos()):
            p = vb.mapSceneToView(event.scenePos())
            self.clicked.emit(float(p.x()), float(p.y()))

    def _shown_params(self) -> MixtureParams:
        """The model as drawn: the one shown, with the dragged component where the pointer has it."""
        geometry = self.edits.dragged_geometry()
        k = self.edits.dragging
        if geometry is None or k is None or k >= self._params.n_components:
            return self._params
        return edit_component(self._params, k, *geometry)

    def _on_mean_drag(self, k: int, phase: str, _index: int, press: np.ndarray, pos: np.ndarray) -> None:
        if phase == "start":
            self._begin(k, "mean", 0.0)
        if self._drag is not None:
            _, _, mean, sigma, _ = self._drag
            self._move(phase, mean + float(pos[0] - press[0]), sigma)

    def _on_end_drag(self, k: int, phase: str, index: int, press: np.ndarray, pos: np.ndarray) -> None:
        if phase == "start" and self._params is not None:
            mean, sigma = self._geometry(k)
            end = mean + (sigma if index == 1 else -sigma)
            self._begin(k, "end", float(press[0]) - end)
        if self._drag is not None:
            _, _, mean, _, grab = self._drag
            pixel = self.components[k].ends.pixelWidth()  # σ of at least a pixel: never a spike
            self._move(phase, mean, max(abs(float(pos[0]) - grab - mean), pixel))

    def _geometry(self, k: int) -> tuple[float, float]:
        params = self._shown_params()
        return float(params.means[k, 0]), float(np.sqrt(params.full_covariances()[k, 0, 0]))

    def _begin(self, k: int, what: str, grab: float) -> None:
        if self._params is None or k >= self._params.n_components:
            return
        self._drag = (k, what, *self._geometry(k), grab)
        self.edits.begin(k)

    def _move(self, phase: str, mean: float, sigma: float) -> None:
        self.edits.update(np.array([mean]), np.array([[sigma**2]]))
        self._draw_curves(self._shown_params())
        if phase == "finish":
            self._drag = None
            self.edits.finish()

    # ------------------------------------------------------------------ drawing
    def _draw_bars(self) -> None:
        if not len(self.x):
            return
        x0, widths = self.edges[:-1], np.diff(self.edges)
        heights, parts = stacked_histogram(self.x, self.edges, self._resp) if self._resp is not None \
            else (self._heights, None)
        rgb, names = None, ()
        given = self._bin_split
        if self._resp is None and given is not None and given.edges is self.edges \
                and given.parts.shape[1] == len(widths) \
                and (given.rgb is not None or given.parts.shape[0] == len(self.components)):
            parts, rgb, names = given.parts, given.rgb, given.names
        self.histogram.setOpts(x0=x0, width=widths, height=heights)
        colours = component_palette(len(self.components)) if rgb is None else np.asarray(rgb)
        self._set_split_bars(colours if parts is not None else np.zeros((0, 3)), names)
        bottom = np.zeros_like(heights)
        for bar, part in zip(self.split_bars, parts if parts is not None else ()):
            bar.setOpts(x0=x0, width=widths, y0=bottom.copy(), height=part)
            bottom += part

    def _set_split_bars(self, colours: np.ndarray, names: tuple[str, ...]) -> None:
        """One bar item per part, in these colours (rebuilt only when they or the names change)."""
        key = (tuple(_rgb(c) for c in colours), tuple(names))
        if key == self._split_key:
            return
        plot = self.getPlotItem()
        for bar in self.split_bars:
            plot.removeItem(bar)
        self.split_bars = [pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None,
                                           brush=pg.mkBrush(*rgb, 110)) for rgb in key[0]]
        for bar in self.split_bars:
            plot.addItem(bar)
        self._split_key = key
        self._rebuild_legend()

    def _draw_curves(self, params: MixtureParams) -> None:
        lo, hi = float(self.x.min()), float(self.x.max())
        sigmas = np.sqrt(params.full_covariances()[:, 0, 0])
        means = params.means[:, 0]
        lo, hi = min(lo, float((means - 3 * sigmas).min())), max(hi, float((means + 3 * sigmas).max()))
        pad = 0.05 * (hi - lo or 1.0)
        grid = np.linspace(lo - pad, hi + pad, _CURVE_POINTS)
        density = density_1d(params, grid)
        self.mixture_curve.setData(grid, density.mixture)
        # The intervals sit in a strip below zero, one row per component.
        row = 0.05 * max(float(density.mixture.max()), float(self._bar_top()))
        for j, component in enumerate(self.components):
            component.curve.setData(grid, density.weighted[j])
            y = -(j + 1) * row
            m, s = means[j], sigmas[j]
            component.two_sigma.setData([m - 2 * s, m + 2 * s], [y, y])
            component.one_sigma.setData([m - s, m + s], [y, y])
            component.mean.setData([m], [y])
            component.ends.setData([m - s, m + s], [y, y])

    def _bar_top(self) -> float:
        return float(self._heights.max()) if len(self._heights) else 1.0

    def _top(self) -> float:
        """The highest bar or density curve."""
        top = self._bar_top()
        if self._params is not None and self.mixture_curve.yData is not None:
            top = max(top, float(np.max(self.mixture_curve.yData)))
        return top

    def _frame(self) -> None:
        top = self._top()
        k = max(len(self.components), 1)
        lo, hi = float(self.edges[0]), float(self.edges[-1])
        self.getPlotItem().getViewBox().setRange(
            xRange=(lo, hi), yRange=(-0.05 * top * (k + 1), 1.15 * top), padding=0.02)


class HistogramPanel(QWidget):
    """The histogram view with its bin control.  GUI thread only."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("histogramPanel")
        self.view = HistogramView(self)
        self.bins_spin = QSpinBox(objectName="histogramBinsSpin")
        self.bins_spin.setRange(1, MAX_BINS)
        self.bins_spin.setToolTip("Number of equal-width bins")
        self.auto_button = QPushButton("Freedman–Diaconis", objectName="histogramAutoBins")
        self.auto_button.setToolTip("Bins of width 2·IQR·N^(−1/3), the rule the view starts with")
        row = QHBoxLayout()
        row.addWidget(QLabel("Bins:"))
        row.addWidget(self.bins_spin)
        row.addWidget(self.auto_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self.bins_spin.valueChanged.connect(self._on_bins_spin_changed)
        self.auto_button.clicked.connect(self._on_auto_button_clicked)
        self.setEnabled(False)

    def set_data(self, values: np.ndarray, name: str = "x") -> None:
        """Show one feature's values with Freedman–Diaconis bins (forgets the model)."""
        self.view.set_data(values, name)
        self.setEnabled(True)
        self._show_bin_count(freedman_diaconis_bins(self.view.x))

    def show_params(self, params: MixtureParams | None, responsibilities: np.ndarray | None = None) -> None:
        """Draw a 1-D mixture and (optionally) the responsibilities per bin."""
        self.view.show_params(params, responsibilities)

    def _show_bin_count(self, bins: int) -> None:
        self.bins_spin.blockSignals(True)
        self.bins_spin.setValue(bins)
        self.bins_spin.blockSignals(False)

    def _on_bins_spin_changed(self, value: int) -> None:
        self.view.set_bins(value)

    def _on_auto_button_clicked(self) -> None:
        self.view.set_bins(None)
        self._show_bin_count(len(self.view.edges) - 1)
