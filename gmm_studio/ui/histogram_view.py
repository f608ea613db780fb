"""The data view for one feature: a histogram with the mixture drawn over it.

The most common picture of a mixture: the data's histogram (as a density, Freedman–Diaconis
bins, adjustable), each component's weighted density π_k N(x | μ_k, σ_k²) and their sum in the
component colours, each bin split by the responsibilities of its points (stacked colours), and
beneath the axis every component's mean with its ±1σ (thick) and ±2σ (thin) interval, the 1-D
counterpart of the ellipses.  The numbers come from :mod:`gmm_studio.core.density`.
GUI thread only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from gmm_studio.core.density import (
    MAX_BINS,
    density_1d,
    freedman_diaconis_bins,
    histogram_edges,
    stacked_histogram,
)
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.colors import component_palette

__all__ = ["HistogramPanel", "HistogramView"]

_CURVE_POINTS = 400
_GREY = QColor(120, 120, 120)


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(round(255 * c)) for c in colour)


class _Component:
    """The items of one component: its stacked bars, density curve, intervals and mean."""

    def __init__(self, plot: pg.PlotItem, k: int, colour: np.ndarray) -> None:
        rgb = _rgb(colour)
        self.bars = pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None,
                                    brush=pg.mkBrush(*rgb, 110))
        self.curve = pg.PlotDataItem(name=f"component {k + 1}", pen=pg.mkPen(rgb, width=2),
                                     antialias=True)
        self.two_sigma = pg.PlotDataItem(pen=pg.mkPen(rgb, width=1.5))
        self.one_sigma = pg.PlotDataItem(pen=pg.mkPen(rgb, width=5))
        self.mean = pg.ScatterPlotItem(symbol="o", size=9, brush=pg.mkBrush(*rgb), pen=pg.mkPen("w"))
        for item in self.items:
            plot.addItem(item)

    @property
    def items(self):
        return (self.bars, self.curve, self.two_sigma, self.one_sigma, self.mean)

    def remove(self, plot: pg.PlotItem) -> None:
        for item in self.items:
            plot.removeItem(item)


class HistogramView(pg.PlotWidget):
    """The plot.  Items are made once per dataset and per K, then updated with setData."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("histogramView")
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("left", "density")
        plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 210))
        self.histogram = pg.BarGraphItem(x0=[], width=[], height=[], pen=pg.mkPen(_GREY, width=1),
                                         brush=pg.mkBrush(200, 200, 200, 120))
        plot.addItem(self.histogram)
        # Dashed and on top: where one component is the whole mixture both stay visible.
        self.mixture_curve = pg.PlotDataItem(
            name="mixture", antialias=True,
            pen=pg.mkPen(20, 20, 20, width=2, style=Qt.PenStyle.DashLine))
        self.mixture_curve.setZValue(10)
        plot.addItem(self.mixture_curve)
        self.components: list[_Component] = []
        self.x = np.zeros(0)
        self.edges = np.zeros(0)
        self._params: MixtureParams | None = None
        self._resp: np.ndarray | None = None

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
        self.show_params(None)  # the previous data's model does not describe these
        self._frame()

    def set_bins(self, bins: int | None) -> None:
        """Rebin (None: Freedman–Diaconis) and redraw the bars."""
        self.edges = histogram_edges(self.x, bins)
        self._draw_bars()
        self._frame()

    def show_params(self, params: MixtureParams | None, responsibilities: np.ndarray | None = None) -> None:
        """Draw this 1-D mixture over the histogram; γ (N, K) splits each bin (None: grey bins)."""
        if params is not None and params.n_features != 1:
            raise ValueError(f"The histogram view draws 1-D mixtures; got {params.n_features}-D.")
        self._params, self._resp = params, responsibilities
        k = 0 if params is None else params.n_components
        if len(self.components) != k:
            plot = self.getPlotItem()
            for component in self.components:
                component.remove(plot)
                self.legend.removeItem(component.curve)
            palette = component_palette(k)
            self.components = [_Component(plot, j, palette[j]) for j in range(k)]
            changed = True
        else:
            changed = False
        self.mixture_curve.setVisible(params is not None)
        if params is not None:
            self._draw_curves(params)
        self._draw_bars()
        view_top = self.getPlotItem().getViewBox().viewRange()[1][1]
        if len(self.x) and (changed or self._top() > view_top):
            self._frame()

    # ------------------------------------------------------------------ drawing
    def _draw_bars(self) -> None:
        if not len(self.x):
            return
        x0, widths = self.edges[:-1], np.diff(self.edges)
        heights, parts = stacked_histogram(self.x, self.edges, self._resp)
        self.histogram.setOpts(x0=x0, width=widths, height=heights)
        bottom = np.zeros_like(heights)
        for j, component in enumerate(self.components):
            part = parts[j] if parts is not None else np.zeros_like(heights)
            component.bars.setOpts(x0=x0, width=widths, y0=bottom.copy(), height=part)
            component.bars.setVisible(parts is not None)
            bottom += part

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

    def _bar_top(self) -> float:
        heights, _ = stacked_histogram(self.x, self.edges)
        return float(heights.max()) if len(heights) else 1.0

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
