"""The data view's pointer: which point is under it, and the read-out beside that point.

:class:`PointReadout` follows the mouse over a plot whose points a
:class:`~gmm_studio.ui.point_cloud.PointCloud` draws, says which point the pointer rests on
(``point_hovered``) and shows a text beside it for as long as it rests there.  The read-out is
an item in the view, not a QToolTip, which hides itself after a few seconds and flickers on
every move; it is left out of exported figures.  GUI thread only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Signal, Slot

from gmm_studio.ui.point_cloud import PointCloud

__all__ = ["PointReadout"]


class _ReadoutItem(pg.TextItem):
    """The read-out; left out of exported figures (it is about the pointer, not the data)."""

    def setExportMode(self, export, opts=None):
        super().setExportMode(export, opts)
        self.setOpacity(0.0 if export else 1.0)  # opacity, unlike visibility, needs no memory


class PointReadout(QObject):
    """The point under the pointer in ``plot_item`` and its read-out.

    Signals
    -------
    point_hovered(int)
        Index of the data point under the mouse (-1 when none).

    Attributes
    ----------
    item : pg.TextItem
        The read-out drawn in the view (hidden when the pointer rests on no point).
    """

    point_hovered = Signal(int)

    def __init__(self, plot_item: pg.PlotItem, cloud: PointCloud) -> None:
        super().__init__(plot_item)
        self.plot_item, self.cloud = plot_item, cloud
        self._points2 = np.zeros((0, 2))
        self._hovered: int | None = None
        self.item = _ReadoutItem("", color=(20, 20, 20), fill=pg.mkBrush(255, 255, 255, 235),
                                 border=pg.mkPen(120, 120, 120))
        self.item.setZValue(40)
        self.item.setVisible(False)
        plot_item.addItem(self.item, ignoreBounds=True)
        plot_item.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    def set_points(self, points2: np.ndarray) -> None:
        """The points drawn now (float64, (N, 2)); nothing is hovered."""
        self._points2 = points2
        self._set_hovered(None)

    def data_point(self, scene_pos: QPointF) -> tuple[float, float] | None:
        """Scene position → data coordinates, or None outside the plot's view box."""
        vb = self.plot_item.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        return float(p.x()), float(p.y())

    def hover_at(self, x: float, y: float) -> int | None:
        """The point near (x, y) in data coordinates; emits ``point_hovered``.

        Leaving every point hides the read-out; resting on the same point keeps it.
        """
        index = self.cloud.nearest_point(x, y, max_pixels=6)
        self._set_hovered(index)
        self.point_hovered.emit(-1 if index is None else int(index))
        return index

    def show_text(self, text: str) -> None:
        """Show ``text`` beside the hovered point until the pointer leaves it.

        Call it from a ``point_hovered`` slot (the window knows what to say about a point).
        The read-out sits on the side of the point that faces the middle of the view, so it
        is not cut off at an edge.
        """
        if self._hovered is None or not text:
            self.item.setVisible(False)
            return
        x, y = self._points2[self._hovered]
        (x0, x1), (y0, y1) = self.plot_item.getViewBox().viewRange()
        # anchor (0, 1): text above-right of the point; flip towards the middle near the edges.
        self.item.setAnchor((0.0 if x < 0.5 * (x0 + x1) else 1.0, 1.0 if y < 0.5 * (y0 + y1) else 0.0))
        self.item.setText(text)
        self.item.setPos(float(x), float(y))
        self.item.setVisible(True)

    @property
    def hovered_point(self) -> int | None:
        """The index of the point under the pointer, or None."""
        return self._hovered

    def _set_hovered(self, index: int | None) -> None:
        if index != self._hovered:
            self._hovered = index
            if index is None:
                self.item.setVisible(False)

    @Slot(object)
    def _on_scene_mouse_moved(self, scene_pos) -> None:
        xy = self.data_point(scene_pos)
        if xy is None:
            self._set_hovered(None)
            self.point_hovered.emit(-1)
            return
        self.hover_at(*xy)
