"""The log-likelihood view: EM's staircase of E- and M-steps, one curve per restart.

Iteration t's E-step is plotted at x = t − ½ (the log-likelihood of θ_{t−1}; the Jensen bound
is tight there) and its M-step at x = t (the bound raised by the new θ_t).  Joined in order the
points climb like a staircase: E makes the bound touch the log-likelihood, M pushes it up, the
next E lifts it to the log-likelihood of the new parameters.  A model edited by hand is a
diamond at the iteration it was edited at, at its own log-likelihood, so the curve goes on
through the edit.  For K-means (:meth:`LikelihoodView.set_algorithm`) the same places hold −J/N,
the within-cluster sum of squares per point negated (so it climbs too), after each assignment and
each update, and the legend, axis title and tooltip say so.  GUI thread only; every value is
stored as it arrives and drawn on :meth:`LikelihoodView.refresh` (the window's redraw timer).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics

from gmm_studio.core.em import Snapshot
from gmm_studio.ui.legend_strip import LegendStrip
from gmm_studio.ui.plot_items import cache_axes

__all__ = ["EM_AXIS_TITLE", "KMEANS_AXIS_TITLE", "LikelihoodView", "half_step_x"]

EM_AXIS_TITLE = "mean log-likelihood"
KMEANS_AXIS_TITLE = "−WCSS / N (K-means)"
#: Per algorithm: the axis titles (y, x), the legend's labels (E / assign, M / update, edit), the tooltip.
_NAMES = {
    "em": (EM_AXIS_TITLE, "iteration (E-step at t − ½, M-step at t)", "after E: log-likelihood (bound tight)", "after M: Jensen lower bound (raised)",
           "edited by hand: its log-likelihood",
           "EM raises a lower bound on the log-likelihood: the E-step makes it tight, the M-step "
           "pushes it up."),
    "kmeans": (KMEANS_AXIS_TITLE, "iteration (assign at t − ½, update at t)", "after assign: −WCSS/N (WCSS: within-cluster sum of squares)",
               "after update: −WCSS/N (centres moved to their points' mean)",
               "edited by hand: its −WCSS/N",
               "K-means lowers the within-cluster sum of squares WCSS = Σ‖x − μ‖² at every half-step; "
               "drawn as −WCSS/N per point so it climbs like EM's log-likelihood."),
}


def half_step_x(snapshot: Snapshot) -> float:
    """Where a snapshot sits on the iteration axis: E at t − ½, M and init at t."""
    return snapshot.iteration - 0.5 if snapshot.half_step == "E" else float(snapshot.iteration)


def half_step_value(snapshot: Snapshot) -> float:
    """The value plotted: log-likelihood after E, the (raised) lower bound after M."""
    return snapshot.log_likelihood if snapshot.half_step == "E" else snapshot.lower_bound


class _RestartCurve:
    """One restart's values and the three items drawing them, made once and kept in the plot."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.line = pg.PlotDataItem(antialias=True)
        self.e_points = pg.ScatterPlotItem(symbol="o", size=7, pxMode=True)
        self.m_points = pg.ScatterPlotItem(symbol="t1", size=9, pxMode=True)
        self.edit_points = pg.ScatterPlotItem(symbol="d", size=12, pxMode=True)
        for item in self.items:
            plot.addItem(item)
        self.forget()

    @property
    def items(self):
        return (self.line, self.e_points, self.m_points, self.edit_points)

    def forget(self) -> None:
        """Drop the values; the items stay in the plot, emptied and hidden on the next refresh."""
        self.x: list[float] = []
        self.y: list[float] = []
        self.kind: list[str] = []
        self.dirty = True

    def set_visible(self, visible: bool) -> None:
        for item in self.items:
            item.setVisible(visible)


class LikelihoodView(pg.PlotWidget):
    """Log-likelihood (E) and lower bound (M) per half-step; convergence and scrub cursor.

    Every item (curves per restart, the convergence line, the cursor) is created once and
    updated with ``setData`` / ``setValue``.  Start a new fit with :meth:`reset`, never
    ``clear()``: ``PlotWidget`` forwards ``clear`` to its ``PlotItem``, which would take every
    item out of the plot for good.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("likelihoodView")
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.plot_item.showGrid(x=True, y=True, alpha=0.2)
        cache_axes(self.plot_item)
        # The left axis keeps its values shown (an empty view has no ticks instead) and
        # room for six characters (−0.000) from the start, and its width only grows: the first
        # values of a fit neither widen nor narrow it, so the plot is not laid out and painted
        # twice in that frame (the longest GUI stall of a 1e6-point fit, bench_stall.py).
        left = self.plot_item.getAxis("left")
        left.setStyle(autoReduceTextSpace=False)
        left.textWidth = QFontMetrics(left.style["tickFont"] or self.font()).horizontalAdvance("−0.000")
        left.setWidth(None)  # recompute the width from that room
        self._values_shown = True
        self._curves: list[_RestartCurve] = []
        self._best: int | None = None
        self.converged_line = pg.InfiniteLine(angle=90, movable=False,
                                              pen=pg.mkPen(QColor(0, 140, 0), width=1.5, style=Qt.PenStyle.DashLine),
                                              label="converged", labelOpts={"position": 0.12, "color": (0, 120, 0)})
        self.converged_line.setVisible(False)
        self.plot_item.addItem(self.converged_line)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(QColor(120, 120, 120), width=1))
        self.cursor.setVisible(False)
        self.plot_item.addItem(self.cursor)
        self.legend_strip = LegendStrip(self.plot_item, labelTextSize="8pt", labelTextColor=(60, 60, 60))
        self._legend_e = pg.ScatterPlotItem(symbol="o", size=7, brush=pg.mkBrush(30, 30, 30), pen=None)
        self._legend_m = pg.ScatterPlotItem(symbol="t1", size=9, brush=pg.mkBrush(255, 255, 255),
                                            pen=pg.mkPen(30, 30, 30))
        self._legend_edit = pg.ScatterPlotItem(symbol="d", size=11, brush=pg.mkBrush(*_EDIT_RGB), pen=None)
        self._algorithm = None
        self._legend_key: tuple | None = None
        self.set_algorithm("em")
        self.plot_item.disableAutoRange()
        # An empty view says so over a plain frame (not axes of 0.1 … 0.9 with nothing drawn).
        self.placeholder = pg.TextItem("No iterations yet: Step (S) or Run (Space).",
                                       color=(110, 110, 110), anchor=(0.5, 0.5))
        self.plot_item.addItem(self.placeholder, ignoreBounds=True)
        self._fit_range()
        # main_window (until it calls reset) still says clear(); as an instance attribute this
        # also hides the PlotItem.clear that PlotWidget.__init__ put there.
        self.clear = self.reset

    # ------------------------------------------------------------------ data
    def set_algorithm(self, algorithm: str) -> None:
        """Name the curve for 'em' (log-likelihood and bound) or 'kmeans' (−WCSS/N)."""
        if algorithm == self._algorithm:
            return
        self._algorithm = algorithm
        axis, bottom, *_, tip = _NAMES[algorithm]
        self.plot_item.setLabel("left", axis)
        self.plot_item.setLabel("bottom", bottom)
        self._set_legend()
        self.setToolTip(tip)

    def _set_legend(self) -> None:
        """E and M entries; the edit's only while the curve holds an edit (else it explains nothing)."""
        edited = any("edit" in curve.kind for curve in self._curves)
        key = (self._algorithm, edited)
        if key == self._legend_key:
            return
        self._legend_key = key
        _, _, e_label, m_label, edit_label, _ = _NAMES[self._algorithm]
        entries = [(self._legend_e, e_label), (self._legend_m, m_label)]
        self.legend_strip.set_groups([entries + ([(self._legend_edit, edit_label)] if edited else [])])

    def legend_texts(self) -> list[str]:
        """The legend's entries, in order."""
        return self.legend_strip.texts()

    def reset(self) -> None:
        """Forget every curve (new fit, new K, new data); hide convergence and cursor."""
        for curve in self._curves:
            curve.forget()
        self._best = None
        self.converged_line.setVisible(False)
        self.cursor.setVisible(False)

    def truncate_after(self, restart: int, x: float) -> None:
        """Forget points of ``restart`` beyond ``x`` (continuing EM from a scrubbed state)."""
        if restart < len(self._curves):
            c = self._curves[restart]
            keep = [i for i, xi in enumerate(c.x) if xi <= x]
            c.x, c.y, c.kind = [c.x[i] for i in keep], [c.y[i] for i in keep], [c.kind[i] for i in keep]
            c.dirty = True

    def append(self, snapshot: Snapshot, origin: str = "fit") -> None:
        """Record one history entry: E and M half-steps, and edits (origin 'edit') once their
        figure is known; a fresh 'init' or a given model has no log-likelihood yet."""
        edit = origin == "edit"
        if snapshot.half_step == "init" and not edit:
            return
        value = snapshot.log_likelihood if edit else half_step_value(snapshot)
        if not math.isfinite(value):
            return
        while len(self._curves) <= snapshot.restart:
            self._curves.append(_RestartCurve(self.plot_item))
        curve = self._curves[snapshot.restart]
        curve.x.append(half_step_x(snapshot))
        curve.y.append(value)
        curve.kind.append("edit" if edit else snapshot.half_step)
        curve.dirty = True

    def set_converged(self, x: float | None) -> None:
        """Mark where the fit converged (None hides the line)."""
        _place(self.converged_line, x)

    def set_cursor(self, x: float | None) -> None:
        """Mark the scrubbed half-step (None hides the cursor)."""
        _place(self.cursor, x)

    def set_best(self, restart: int | None) -> None:
        """Emphasise the chosen restart, dim the others."""
        self._best = restart
        for curve in self._curves:
            curve.dirty = True

    # ------------------------------------------------------------------ what is drawn
    def curve_data(self, restart: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """x, y and kind ('E'/'M'/'edit') of the curve drawn for ``restart`` (empty when none is shown).

        Read from the plot's own items, so it reports what a person sees after the last
        :meth:`refresh`: E-steps sit at half-integers, edits are the diamonds.
        """
        if restart >= len(self._curves) or not self._curves[restart].line.isVisible():
            return np.zeros(0), np.zeros(0), []
        line = self._curves[restart].line
        if line not in self.plot_item.listDataItems():
            return np.zeros(0), np.zeros(0), []
        x, y = line.getData()
        if x is None:
            return np.zeros(0), np.zeros(0), []
        ex, ey = self._curves[restart].edit_points.getData()
        edits = set(zip(np.asarray(ex, dtype=float).tolist(), np.asarray(ey, dtype=float).tolist()))
        kinds = ["edit" if (xi, yi) in edits else "E" if xi % 1.0 == 0.5 else "M"
                 for xi, yi in zip(np.asarray(x, dtype=float).tolist(), np.asarray(y, dtype=float).tolist())]
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float), kinds

    @property
    def n_restarts(self) -> int:
        """How many restarts have a curve drawn."""
        return sum(1 for r in range(len(self._curves)) if len(self.curve_data(r)[0]))

    @property
    def converged_x(self) -> float | None:
        """Where the convergence line is drawn, or None when it is hidden."""
        return _drawn_at(self.converged_line)

    @property
    def cursor_x(self) -> float | None:
        """Where the scrub cursor is drawn, or None when it is hidden."""
        return _drawn_at(self.cursor)

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """setData on curves that changed, then fit the range to what matters."""
        changed = False
        for r, curve in enumerate(self._curves):
            if not curve.dirty:
                continue
            changed = True
            curve.dirty = False
            if not curve.x:
                for item in curve.items:
                    item.setData([], [])
                curve.set_visible(False)
                continue
            curve.set_visible(True)
            dim = self._best is not None and r != self._best
            shade = QColor(170, 170, 170) if dim else QColor(*_restart_rgb(r))
            x, y = np.array(curve.x), np.array(curve.y)
            kind = np.array(curve.kind)
            curve.line.setData(x, y, pen=pg.mkPen(shade, width=1.2 if dim else 2), skipFiniteCheck=True)
            e, m, edit = kind == "E", kind == "M", kind == "edit"
            curve.e_points.setData(x[e], y[e], brush=pg.mkBrush(shade), pen=None)
            curve.m_points.setData(x[m], y[m], brush=pg.mkBrush(255, 255, 255), pen=pg.mkPen(shade, width=1.5))
            curve.edit_points.setData(x[edit], y[edit], brush=pg.mkBrush(*_EDIT_RGB), pen=pg.mkPen(shade, width=1))
        if changed:
            self._set_legend()
            self._fit_range()

    def _fit_range(self) -> None:
        xs = [np.array(c.x) for c in self._curves if c.x]
        ys = [np.array(c.y) for c in self._curves if c.y]
        view = self.plot_item.getViewBox()
        self.placeholder.setVisible(not xs)
        if self._values_shown != bool(xs):  # new ticks redraw the axis, so only on a change
            self._values_shown = bool(xs)
            self.plot_item.getAxis("left").setTicks(None if xs else [[], []])
        if not xs:  # a new fit or a given model (a sweep cell): not the last fit's 0–65
            view.setRange(xRange=(0.0, 4.0), yRange=(0.0, 1.0), padding=0)
            self.placeholder.setPos(2.0, 0.5)
            return
        x_max = max(float(x.max()) for x in xs)
        lo = min(float(y.min()) for y in ys)
        hi = max(float(y.max()) for y in ys)
        # A flat curve (converged at once) must not zoom into its rounding: the axis would tick
        # "-2.5048142005".  Frame at least a few thousandths of a nat, more for large values.
        span = max(hi - lo, 2e-3, abs(hi) * 1e-4)
        if sum(len(x) for x in xs) < 2:  # a fit's first value: no zoom onto one dot (ticks -4.0545)
            span = max(span, 1.0, abs(hi) * 0.05)
        # The range moves in steps, not at every half-step: each move redraws both axes and
        # their tick labels, the most expensive paint of the window during a fit.  x doubles;
        # y keeps its range while the curve fits in it and fills at least a third of it.
        x_hi = 4.0  # the empty view's range: whole iterations, not ticks of 0.1
        while x_hi < x_max + 0.5:
            x_hi *= 2
        (x0, x1), (y0, y1) = view.viewRange()
        y_fits = y0 <= lo - 0.02 * span and hi + 0.02 * span <= y1 and (y1 - y0) <= 3 * span
        middle = 0.5 * (lo + hi) if hi - lo < span else None
        y_range = (y0, y1) if y_fits else (
            (middle - 0.6 * span, middle + 0.6 * span) if middle is not None
            else (lo - 0.08 * span, hi + 0.25 * span))
        if (x0, x1) != (0.0, x_hi) or not y_fits:
            view.setRange(xRange=(0.0, x_hi), yRange=y_range, padding=0)


def _place(line: pg.InfiniteLine, x: float | None) -> None:
    if x is None:
        line.setVisible(False)
    else:
        line.setValue(x)
        line.setVisible(True)


def _drawn_at(line: pg.InfiniteLine) -> float | None:
    return float(line.value()) if line.isVisible() and line.getViewBox() is not None else None


#: The edits' diamonds: a purple no restart's curve is drawn in.
_EDIT_RGB = (150, 60, 200)


def _restart_rgb(r: int) -> tuple[int, int, int]:
    palette = ((20, 20, 20), (0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167),
               (230, 159, 0), (86, 180, 233))
    return palette[r % len(palette)]
