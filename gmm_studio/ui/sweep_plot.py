"""The sweep's criterion plot: a criterion against K, one curve per covariance type.

:class:`CriterionPlot` draws the cells it is given (best value, and the min–max over restarts
as error bars) and stars the best cell; it decides nothing.  GUI thread only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from gmm_studio.core.params import COVARIANCE_TYPES
from gmm_studio.core.sweep import CRITERION_LABELS, LOWER_IS_BETTER, CellResult

__all__ = ["CriterionPlot"]

_TYPE_COLOURS = {"full": "#0072B2", "tied": "#D55E00", "diag": "#009E73", "spherical": "#CC79A7"}
# Curves of different types sit side by side at each K so their error bars do not overlap.
_TYPE_OFFSETS = {"full": -0.12, "tied": -0.04, "diag": 0.04, "spherical": 0.12}


class CriterionPlot(pg.PlotWidget):
    """``curves`` and ``error_bars`` per covariance type, and ``best_marker``, the star."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, background="w")  # white like the data and likelihood views
        self.setToolTip(
            "The criterion against K, one curve per covariance type; bars span the restarts' "
            "min to max. The star marks the best cell."
        )
        self.setLabel("bottom", "K")
        self.showGrid(x=True, y=True, alpha=0.2)
        legend = self.addLegend(offset=(-10, 10), brush=pg.mkBrush(255, 255, 255, 200),
                                labelTextColor="k")
        legend.setToolTip("Covariance types.")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.error_bars: dict[str, pg.ErrorBarItem] = {}
        for t in COVARIANCE_TYPES:
            colour = pg.mkColor(_TYPE_COLOURS[t])
            curve = pg.PlotDataItem(
                [], [], name=t, pen=pg.mkPen(colour, width=1), symbol="o", symbolSize=6,
                symbolBrush=colour, symbolPen=pg.mkPen(colour),
            )
            bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), top=np.zeros(0),
                                   bottom=np.zeros(0), beam=0.06, pen=pg.mkPen(colour, width=1))
            self.addItem(bars)
            self.addItem(curve)
            self.curves[t], self.error_bars[t] = curve, bars
        self.best_marker = pg.ScatterPlotItem(
            [], [], symbol="star", size=18, brush=pg.mkBrush(255, 200, 0),
            pen=pg.mkPen("k", width=1),
        )
        self.best_marker.setZValue(10)
        self.addItem(self.best_marker)
        # K is a count: never "K (x0.001)".  Without cells the plot says so over a plain frame,
        # instead of autoranging nothing into axes from -400 to 400 in thousandths.
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.placeholder = pg.TextItem("No sweep yet: press Run.",
                                       color=(110, 110, 110), anchor=(0.5, 0.5))
        self.addItem(self.placeholder, ignoreBounds=True)
        self._show_placeholder(True)

    def _show_placeholder(self, empty: bool) -> None:
        self.placeholder.setVisible(empty)
        self.getAxis("left").setStyle(showValues=not empty)
        if empty:
            self.disableAutoRange()
            self.setRange(xRange=(0.5, 8.5), yRange=(0.0, 1.0), padding=0)
            self.placeholder.setPos(4.5, 0.5)
        else:
            self.enableAutoRange()
            self.getPlotItem().getViewBox().updateAutoRange()

    def set_criterion(self, criterion: str) -> None:
        """Name ``criterion`` on the vertical axis, and which way is better."""
        better = "lower" if LOWER_IS_BETTER[criterion] else "higher"
        self.setLabel("left", f"{CRITERION_LABELS[criterion]} ({better} is better)")

    def show_type(self, covariance_type: str, cells: Iterable[CellResult], criterion: str) -> None:
        """Draw the curve of ``covariance_type`` through those of ``cells`` that have a value."""
        t = covariance_type
        cells = sorted((c for c in cells if c.covariance_type == t and math.isfinite(c.value(criterion))),
                       key=lambda c: c.n_components)
        x = np.array([c.n_components for c in cells], dtype=np.float64) + _TYPE_OFFSETS[t]
        y = np.array([c.value(criterion) for c in cells], dtype=np.float64)
        spread = np.array([c.spread(criterion) for c in cells], dtype=np.float64).reshape(-1, 2)
        self.curves[t].setData(x, y)
        self.error_bars[t].setData(x=x, y=y, top=spread[:, 1] - y, bottom=y - spread[:, 0])
        self._show_placeholder(all(len(curve.xData if curve.xData is not None else ()) == 0
                                   for curve in self.curves.values()))

    def show_best(self, cell: CellResult | None, criterion: str) -> None:
        """Put the star on ``cell``, or nowhere."""
        if cell is None:
            self.best_marker.setData([], [])
        else:
            self.best_marker.setData([cell.n_components + _TYPE_OFFSETS[cell.covariance_type]],
                                     [cell.value(criterion)])
