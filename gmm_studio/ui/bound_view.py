"""The bound view: L(θ) and the Jensen bound B(θ; q⁽ᵗ⁾) as functions along a slice.

The textbook picture of EM on the real data: after the E-step at θ⁽ᵗ⁾ the bound touches the
log-likelihood (s = 0); the M-step moves to the bound's maximum (s = 1 on the default line);
there L lies above B by the gap L − B = KL(q ‖ posterior), which the next E-step closes.
The numbers come from :func:`gmm_studio.core.bound.bound_slice`; this module only draws.
GUI thread only.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gmm_studio.core.bound import BoundSlice, SliceSpec, bound_slice, slice_choices
from gmm_studio.core.em import EMData, Snapshot
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.legend_strip import LegendStrip

__all__ = ["BoundPanel", "BoundView"]

_L_COLOUR = QColor(20, 20, 20)
_B_COLOUR = QColor(0, 114, 178)
_GAP_COLOUR = QColor(213, 94, 0)


class BoundView(pg.PlotWidget):
    """The plot: two curves, the E-step and M-step markers and the gap.  Items are made once."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("boundView")
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("left", "mean log-likelihood per point")
        plot.layout.setContentsMargins(2, 2, 12, 2)  # room for the last tick label, s = 1.5
        self.likelihood_curve = pg.PlotDataItem(name="log-likelihood", antialias=True,
                                                pen=pg.mkPen(_L_COLOUR, width=2))
        self.bound_curve = pg.PlotDataItem(
            name="lower bound", antialias=True,
            pen=pg.mkPen(_B_COLOUR, width=2, style=Qt.PenStyle.DashLine))
        self.touch_marker = pg.ScatterPlotItem(
            symbol="o", size=10, pxMode=True, brush=pg.mkBrush(_L_COLOUR), pen=pg.mkPen("w"))
        self.max_marker = pg.ScatterPlotItem(
            symbol="t1", size=12, pxMode=True, brush=pg.mkBrush(_B_COLOUR), pen=pg.mkPen("w"))
        self.gap_line = pg.PlotDataItem(pen=pg.mkPen(_GAP_COLOUR, width=3))
        self.gap_label = pg.TextItem(color=_GAP_COLOUR, anchor=(-0.05, 0.5))
        self.current = pg.InfiniteLine(angle=90, movable=False,
                                       pen=pg.mkPen(QColor(150, 150, 150), width=1,
                                                    style=Qt.PenStyle.DotLine))
        for item in (self.current, self.likelihood_curve, self.bound_curve, self.gap_line,
                     self.touch_marker, self.max_marker, self.gap_label):
            plot.addItem(item)
        # Above the data, in as many rows as the dock's width needs (a legend floating over the
        # ViewBox covered the curves; a title widened the plot beyond its 340 px dock).
        self.legend_strip = LegendStrip(plot, labelTextSize="8pt", labelTextColor=(60, 60, 60))
        self.legend_strip.set_groups([
            [(self.likelihood_curve, "log-likelihood L"), (self.bound_curve, "lower bound B")],
            [(self.touch_marker, "E-step: B touches L"), (self.max_marker, "M-step: max of B"),
             (self.gap_line, "gap L − B = KL")]])
        self.show_slice(None)

    def legend_texts(self) -> list[str]:
        """The legend's entries, in order."""
        return self.legend_strip.texts()

    def _items(self):
        return (self.likelihood_curve, self.bound_curve, self.touch_marker, self.max_marker,
                self.gap_line, self.gap_label, self.current)

    def show_slice(self, result: BoundSlice | None, after: str = "E", axis_label: str = "") -> None:
        """Draw ``result`` (None hides everything); ``after`` 'E' or 'M' says where EM is."""
        for item in self._items():
            item.setVisible(result is not None)
        plot = self.getPlotItem()
        if result is None:
            return
        s, low, high = result.s, result.lower_bound, result.log_likelihood
        self.likelihood_curve.setData(s, high)
        self.bound_curve.setData(s, low)
        touch_l = result.marks_log_likelihood[0]
        self.touch_marker.setData([result.s_touch], [touch_l])
        s_max = result.s_max
        b_max, l_at_max = result.marks_lower_bound[2], result.marks_log_likelihood[2]
        self.max_marker.setData([s_max], [b_max])
        self.gap_line.setData([s_max, s_max], [b_max, l_at_max])
        gap = float(result.gap[2])
        self.gap_label.setText(f"L − B = {gap:.4g}")
        # on the side of the gap with room for the text (the M-step lands right of the middle)
        self.gap_label.setAnchor((1.05, 0.5) if s_max > 0.5 * (s[0] + s[-1]) else (-0.05, 0.5))
        self.gap_label.setPos(s_max, 0.5 * (b_max + l_at_max))
        self.current.setValue(result.s_touch if after == "E" else result.s_next)
        plot.setLabel("bottom", axis_label)
        # Far from θ⁽ᵗ⁾ the bound falls steeply; frame L and the top of B.
        span = float(high.max() - high.min()) or max(1e-6, abs(float(high.max())) * 1e-6)
        lo = max(float(min(high.min(), low.min())), float(high.min()) - span)
        plot.getViewBox().setRange(xRange=(float(s[0]), float(s[-1])),
                                   yRange=(lo, float(high.max()) + 0.08 * span), padding=0.04)


class BoundPanel(QWidget):
    """The bound view with its slice chooser and a status line.  GUI thread only.

    Use :meth:`show_state` after every E- or M-step and when scrubbing.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("boundPanel")
        self.slice_combo = QComboBox(objectName="boundSliceCombo")
        self.slice_combo.setToolTip("Which one-dimensional slice through parameter space to draw")
        self.headline = QLabel(objectName="boundHeadline")  # short: the dock is ~340 px wide
        self.headline.setWordWrap(True)
        self.headline.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.status = QLabel(objectName="boundStatus")
        self.status.setWordWrap(True)
        self.view = BoundView(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Slice:"))
        top.addWidget(self.slice_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.headline)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self._specs: list[SliceSpec] = []
        self._state: tuple | None = None
        self._runner = None
        self._waiting = False  # a newer state waits for the slice being computed
        self.result: BoundSlice | None = None
        self.slice_combo.currentIndexChanged.connect(self._on_slice_combo_changed)
        self.show_state(None, None)

    def show_state(
        self,
        data: EMData | None,
        e_snapshot: Snapshot | None,
        next_params: MixtureParams | None = None,
        *,
        after: str = "E",
        reg_covar: float = 1e-6,
        names: tuple[str, ...] | None = None,
    ) -> None:
        """Draw L and B for the E-step ``e_snapshot`` of ``data`` and the M-step after it.

        ``next_params`` is θ⁽ᵗ⁺¹⁾ (the 'M' snapshot's params; one M-step with ``reg_covar``
        is taken when it is None, e.g. when paused after an E-step).  ``after`` is 'E' or 'M':
        which of the two half-steps the program is showing.  A snapshot without
        responsibilities (from the history) has them recomputed.  ``None`` or an 'init'
        snapshot shows a hint instead.  The computation takes some 50–100 ms at N = 1e5.
        """
        if data is None or e_snapshot is None or e_snapshot.half_step == "init":
            self._state = None
            self.result = None
            self.view.show_slice(None)
            self.headline.setText("")
            self.status.setText("The bound appears after the first E-step: step EM once.")
            return
        self._state = (data, e_snapshot, next_params, after, reg_covar, names)
        specs = slice_choices(e_snapshot.params)
        if specs != self._specs:
            current = self._specs[self.slice_combo.currentIndex()] if self._specs else None
            self._specs = specs
            self.slice_combo.blockSignals(True)
            self.slice_combo.clear()
            covariance_type = e_snapshot.params.covariance_type
            self.slice_combo.addItems([_menu_text(s, names, covariance_type) for s in specs])
            self.slice_combo.setCurrentIndex(specs.index(current) if current in specs else 0)
            self.slice_combo.blockSignals(False)
        self._redraw()

    def _on_slice_combo_changed(self, index: int) -> None:
        if self._state is not None and index >= 0:
            self._redraw()

    def set_runner(self, runner) -> None:
        """Compute slices as "bound" tasks on ``runner`` (newest replaces older) instead of on
        the GUI thread; :attr:`result` and the curves change when a task finishes."""
        self._runner = runner

    def _redraw(self) -> None:
        state = self._state
        data, snapshot, next_params, after, reg_covar, names = state
        spec = self._specs[max(self.slice_combo.currentIndex(), 0)]

        def work(cancel=None):
            try:
                return bound_slice(data, snapshot.params, next_params,
                                   responsibilities=snapshot.responsibilities, reg_covar=reg_covar,
                                   spec=spec)
            except ValueError as exc:
                return exc

        if self._runner is None:
            self._show_result(state, spec, work())
        elif self._runner.is_running("bound"):
            # One slice at a time (bound_slice cannot be interrupted): while a fit runs, the
            # newest request waits for the one in flight and replaces any older waiting one.
            self._waiting = True
        else:
            # Whatever way the task ends, the waiting request follows (a slice that fails in
            # an unforeseen way must not leave the view waiting for good).
            self._runner.start("bound", work,
                               on_finished=lambda result: self._show_result(state, spec, result),
                               on_failed=lambda exc: self._show_result(state, spec, ValueError(
                                   f"The bound could not be computed: {exc}")),
                               on_cancelled=lambda: self._show_result(state, spec, None))

    def _show_result(self, state: tuple, spec: SliceSpec, result) -> None:
        if self._waiting:
            self._waiting = False
            if self._state is not None:
                self._redraw()
        current = self._specs[max(self.slice_combo.currentIndex(), 0)] if self._specs else None
        if result is None or state is not self._state or spec != current:
            return  # a slice of a state (or a slice choice) no longer shown
        data, snapshot, next_params, after, reg_covar, names = state
        if isinstance(result, ValueError):
            self.result = None
            self.view.show_slice(None)
            self.headline.setText("")
            self.status.setText(str(result))
            return
        self.result = result
        self.view.show_slice(result, after, spec.label(names, snapshot.params.covariance_type))
        self.headline.setText(_HEADLINES[after])
        self.status.setText(_explanation(snapshot.iteration, result, after, spec.kind == "line"))


_HEADLINES = {"E": "After the E-step: B touches L", "M": "After the M-step: at the maximum of B"}


def _explanation(iteration: int, result: BoundSlice, after: str, line: bool) -> str:
    """The sentences under the plot: what the E-step and the M-step did on this slice."""
    touch = "s = 0, at θ⁽ᵗ⁾" if line else f"{result.s_touch:.4g}, at θ⁽ᵗ⁾"
    top = "s = 1" if line and abs(result.s_max - 1.0) < 1e-3 else f"{result.s_max:.4g}"
    gap = f"{result.gap[2]:.4g}"
    if after == "E":
        return (f"Iteration {iteration}: the E-step's responsibilities q⁽ᵗ⁾ make B = L at {touch}. "
                f"B is largest at {top}, where the M-step lands; there L − B = {gap}, the KL "
                "divergence between q⁽ᵗ⁾ and the new posterior, which the next E-step closes.")
    return (f"Iteration {iteration}: B = L at {touch} (E-step); the M-step moved to B's maximum "
            f"at {top}, and there L rose {gap} above B: L − B, the KL divergence between q⁽ᵗ⁾ "
            "and the new posterior, which the next E-step closes.")


def _menu_text(spec: SliceSpec, names: tuple[str, ...] | None, covariance_type: str) -> str:
    if spec.kind == "line":
        return "Straight line from θ⁽ᵗ⁾ to θ⁽ᵗ⁺¹⁾ (the M-step)"
    return spec.label(names, covariance_type)
