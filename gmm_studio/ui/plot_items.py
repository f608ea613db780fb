"""Small settings every plot of the program shares.  GUI thread."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

__all__ = ["cache_axes"]


def cache_axes(plot_item: pg.PlotItem) -> None:
    """Keep each axis (with its grid lines) as a cached pixmap.

    An axis draws its grid across the whole data area, so every repaint of the points or the
    ellipses repainted the axes too: replaying their text and tick pictures took ~12 ms per
    axis per frame at 30 frames a second during a fit.  Cached, a repaint is a pixmap copy;
    the cache is rebuilt when the axis changes (range, ticks, size), which calls ``update``.
    """
    for name in ("left", "bottom", "right", "top"):
        plot_item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
