"""Direct manipulation in the plane: drag a component's mean marker or an axis handle of its ellipse.

:class:`ComponentHandles` owns the mean markers (the data view styles them) and two square
handles per component at the tips of the principal axes of its first (1σ) ellipse.  Dragging a
mean moves the component; dragging a handle sets that axis's length to the pointer's distance
and turns it towards the pointer (:func:`gmm_studio.core.editing.drag_axis` applies the
covariance type's constraint: diag cannot rotate, spherical stays round).  K-means centres
(:data:`CENTRES`) have no shape to stretch: only the markers move.  A press that does not hit a
marker or handle falls through to the plot, which pans as before.  GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal, Slot

from gmm_studio.core.editing import drag_axis, principal_axes

__all__ = ["CENTRES", "ComponentHandles", "DraggableScatter", "EDIT_TIPS", "EditSession", "THROTTLE_MS",
           "mean_tip"]

#: ``component_dragged`` is emitted at most every this many ms (about 30 a second): the window
#: recomputes responsibilities, the density and the log-likelihood on each.
THROTTLE_MS = 33

#: What dragging does, per covariance type (shown as the handles' tooltip).
EDIT_TIPS = {
    "full": "Drag to stretch and turn this axis of the ellipse.",
    "tied": "Tied covariance: every component shares one shape, so reshaping this one reshapes them all.",
    "diag": "Diagonal covariance: the axes stay parallel to the data axes; drag to stretch, not turn.",
    "spherical": "Spherical covariance: one radius; drag to grow or shrink the circle.",
}
#: The editing mode of K-means centres: the markers move, there are no axis handles.
CENTRES = "centres"


def mean_tip(mode: str) -> str:
    """The mean markers' tooltip under an editing mode (a covariance type or :data:`CENTRES`)."""
    if mode == CENTRES:
        return "Drag to move this centre: every point joins its nearest centre."
    return "Drag to move this component's mean."


class DraggableScatter(pg.ScatterPlotItem):
    """A scatter whose spots can be dragged; presses beside every spot are left to the plot.

    ``on_drag(phase, index, press, pos)`` is called with phase 'start', 'move' or 'finish',
    the spot's index, and the press and current pointer positions in data coordinates.
    With ``in_figures`` False the spots are left out of exported figures (handles to drag are
    for the hand, not part of the picture).
    """

    def __init__(self, on_drag: Callable[[str, int, np.ndarray, np.ndarray], None],
                 in_figures: bool = True, **options) -> None:
        super().__init__(**options)
        self._on_drag = on_drag
        self._in_figures = in_figures
        self._index: int | None = None
        self.draggable = False

    def setExportMode(self, export, opts=None):
        super().setExportMode(export, opts)
        if not self._in_figures:
            self.setOpacity(0.0 if export else 1.0)  # opacity, unlike visibility, needs no memory

    def mouseDragEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or not self.draggable:
            ev.ignore()
            return
        if ev.isStart():
            spots = self.pointsAt(ev.buttonDownPos())
            if len(spots) == 0:
                ev.ignore()  # not on a spot: the view box pans
                return
            self._index = int(spots[0].index())
        elif self._index is None:
            ev.ignore()
            return
        ev.accept()
        press, pos = ev.buttonDownPos(), ev.pos()
        phase = "start" if ev.isStart() else "finish" if ev.isFinish() else "move"
        index = self._index
        if phase == "finish":
            self._index = None
        self._on_drag(phase, index, np.array([press.x(), press.y()]), np.array([pos.x(), pos.y()]))


class EditSession(QObject):
    """The signals of a drag on one component at a time (2-D plane or 1-D line alike).

    Signals
    -------
    edit_started(int)
        A drag on component k began.
    dragged(int, object, object)
        k, the mean ``(p,)`` and covariance ``(p, p)`` while dragging, at most one per
        :data:`THROTTLE_MS` (the first at once, the last pending one when the timer runs out).
    edit_finished(int, object, object)
        The drag ended; the final mean and covariance.  No ``dragged`` follows it.
    """

    edit_started = Signal(int)
    dragged = Signal(int, object, object)
    edit_finished = Signal(int, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._component: int | None = None
        self._latest: tuple[np.ndarray, np.ndarray] | None = None
        self._throttler = None  # made at the first drag: importing superqt costs ~80 ms at start-up

    def _throttle(self):
        if self._throttler is None:
            from superqt.utils import QSignalThrottler

            self._throttler = QSignalThrottler(parent=self)
            self._throttler.setTimeout(THROTTLE_MS)
            self._throttler.triggered.connect(self._on_throttler_triggered)
        return self._throttler

    @property
    def dragging(self) -> int | None:
        """The component being dragged, or None."""
        return self._component

    def dragged_geometry(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The mean and covariance of the component being dragged, as last moved (None: no drag)."""
        return None if self._component is None else self._latest

    def begin(self, k: int) -> None:
        self._component, self._latest = int(k), None
        self.edit_started.emit(int(k))

    def update(self, mean: np.ndarray, cov: np.ndarray) -> None:
        """The dragged component's new geometry; ``dragged`` follows, throttled."""
        self._latest = (np.array(mean, dtype=np.float64), np.array(cov, dtype=np.float64))
        self._throttle().throttle()

    def finish(self) -> None:
        """End the drag: ``edit_finished`` with the last geometry (nothing if it never moved)."""
        if self._throttler is not None:
            self._throttler.cancel()  # no late 'dragged' after 'finished'
        k, latest = self._component, self._latest
        self._component = self._latest = None
        if k is not None and latest is not None:
            self.edit_finished.emit(k, latest[0].copy(), latest[1].copy())

    @Slot()
    def _on_throttler_triggered(self) -> None:
        if self._component is not None and self._latest is not None:
            self.dragged.emit(self._component, self._latest[0].copy(), self._latest[1].copy())


class ComponentHandles(EditSession):
    """Mean markers and axis handles of the components in the plane, and the drags on them.

    Signals (besides :class:`EditSession`'s, with a mean ``(2,)`` and covariance ``(2, 2)``)
    -------
    moved(int, object, object)
        Every pointer move of a drag, unthrottled: the data view redraws k's outline from it.
    """

    moved = Signal(int, object, object)

    def __init__(self, plot_item: pg.PlotItem) -> None:
        super().__init__(plot_item)
        self.means_item = DraggableScatter(self._on_means_drag, size=13, pxMode=True,
                                            hoverable=True, tip=None)
        self.means_item.setZValue(20)
        plot_item.addItem(self.means_item)
        self.axis_item = DraggableScatter(self._on_axis_drag, in_figures=False, size=9, pxMode=True, symbol="s",
                                           pen=pg.mkPen(40, 40, 40, width=1.2),
                                           brush=pg.mkBrush(255, 255, 255, 230), hoverable=True)
        self.axis_item.setZValue(22)
        plot_item.addItem(self.axis_item)
        self._covariance_type: str | None = None
        self._means2 = np.zeros((0, 2))
        self._covs2 = np.zeros((0, 2, 2))
        self._radius = 1.0
        self._axis_spots = np.zeros(0, dtype=np.intp)
        self._handles = np.zeros((0, 2, 2))
        # (k, 'mean' or the handle's start position, start mean, start covariance, grab offset)
        self._drag: tuple[int, object, np.ndarray, np.ndarray, np.ndarray] | None = None
        self.set_editing(None)

    # ------------------------------------------------------------------ state
    @property
    def covariance_type(self) -> str | None:
        """The covariance type whose constraints drags obey; None when editing is off."""
        return self._covariance_type

    def set_editing(self, covariance_type: str | None) -> None:
        """Allow drags under ``covariance_type``'s constraints, of the markers alone
        (:data:`CENTRES`), or none (None: markers only)."""
        if covariance_type is not None and covariance_type not in EDIT_TIPS and covariance_type != CENTRES:
            raise ValueError(f"Unknown covariance type {covariance_type!r}: choose one of "
                             + ", ".join((*EDIT_TIPS, CENTRES)) + ".")
        self._covariance_type = covariance_type
        editable = covariance_type is not None
        shaped = editable and covariance_type != CENTRES
        self.means_item.draggable = editable
        self.axis_item.draggable = shaped
        tip = mean_tip(covariance_type) if editable else None
        self.means_item.opts["tip"] = (lambda **_: tip) if editable else None
        axis_tip = EDIT_TIPS.get(covariance_type or "")
        self.axis_item.opts["tip"] = (lambda **_: axis_tip) if shaped else None
        self.axis_item.setVisible(shaped)
        if shaped:
            self._place_handles()
        if not editable and self._drag is not None:
            self._drag = None
            self.finish()

    def set_components(self, means2: np.ndarray, covs2: np.ndarray, radius: float) -> None:
        """The components as drawn; the handles sit on their ``radius``-σ ellipses."""
        self._means2 = np.array(means2, dtype=np.float64).reshape(-1, 2)
        self._covs2 = np.array(covs2, dtype=np.float64).reshape(-1, 2, 2)
        self._radius = float(radius)
        if self._drag is not None and self._drag[0] >= len(self._means2):
            self._drag = None  # a model without the dragged component ends the drag
            self.finish()
        if self.axis_item.draggable:  # hidden handles are placed when editing starts
            self._place_handles()

    def handle_positions(self) -> np.ndarray:
        """``(K, 2, 2)``: the two axis handles of each component (NaN where it has no ellipse)."""
        return self._handles.copy()

    def _place_handles(self) -> None:
        """Put each component's handles at the tips of its principal axes.

        At first the longest axis comes first, each on its positive-x side; afterwards each
        handle stays on the end nearest to where it was, so a handle dragged past upright or
        past the other axis's length stays under the pointer instead of jumping to the other end.
        """
        previous = self._handles if len(self._handles) == len(self._means2) else None
        handles = np.full((len(self._means2), 2, 2), np.nan)
        for k, (mean, cov) in enumerate(zip(self._means2, self._covs2)):
            if not (np.all(np.isfinite(cov)) and np.all(np.isfinite(mean))):
                continue
            lengths, directions = principal_axes(cov)
            if previous is not None and np.all(np.isfinite(previous[k])):
                before = previous[k] - mean
                if abs(directions[1] @ before[0]) > abs(directions[0] @ before[0]):
                    lengths, directions = lengths[::-1], directions[::-1]
                directions = directions * np.where(np.einsum("ai,ai->a", directions, before) < 0, -1.0, 1.0)[:, None]
            handles[k] = mean + self._radius * lengths[:, None] * directions
        self._handles = handles
        positions = handles.reshape(-1, 2)
        finite = np.all(np.isfinite(positions), axis=1)
        self._axis_spots = np.arange(len(positions))[finite]  # spot -> 2·k + axis
        self.axis_item.setData(pos=positions[finite])

    # ------------------------------------------------------------------ drags
    def _on_means_drag(self, phase: str, k: int, press: np.ndarray, pos: np.ndarray) -> None:
        if phase == "start":
            self._begin(k, "mean", press)
        if self._drag is None:
            return
        _, _, mean, cov, _ = self._drag
        self._move(phase, mean + (pos - press), cov)

    def _on_axis_drag(self, phase: str, index: int, press: np.ndarray, pos: np.ndarray) -> None:
        if phase == "start":
            k, axis = divmod(int(self._axis_spots[index]), 2)
            handle = self._handles[k, axis].copy()
            self._begin(k, handle, press - handle)
        if self._drag is None:
            return
        _, handle, mean, cov, grab = self._drag
        pixel = max(self.axis_item.pixelWidth(), self.axis_item.pixelHeight())
        self._move(phase, mean, drag_axis(mean, cov, handle, pos - grab, self._radius, self._covariance_type, pixel))

    def _begin(self, k: int, what, grab: np.ndarray) -> None:
        if not 0 <= k < len(self._means2):
            return
        self._drag = (k, what, self._means2[k].copy(), self._covs2[k].copy(), np.asarray(grab))
        self.begin(k)

    def _move(self, phase: str, mean: np.ndarray, cov: np.ndarray) -> None:
        k = self._drag[0]
        self._means2[k], self._covs2[k] = mean, cov
        self._place_handles()
        self.update(mean, cov)
        self.moved.emit(k, mean.copy(), cov.copy())
        if phase == "finish":
            self._drag = None
            self.finish()
