"""Small settings every plot of the program shares.  GUI thread."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

__all__ = ["cache_axes", "nearest_marker"]


def cache_axes(plot_item: pg.PlotItem) -> None:
    """Keep each axis (with its grid lines) as a cached pixmap.

    An axis draws its grid across the whole data area, so every repaint of the points or the
    ellipses repainted the axes too: replaying their text and tick pictures took ~12 ms per
    axis per frame at 30 frames a second during a fit.  Cached, a repaint is a pixmap copy;
    the cache is rebuilt when the axis changes (range, ticks, size), which calls ``update``.
    """
    for name in ("left", "bottom", "right", "top"):
        plot_item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def nearest_marker(plot_item: pg.PlotItem, marks: np.ndarray, x: float, y: float,
                   max_pixels: float = 15.0) -> int | None:
    """The index of the mark ``(M, 2)`` within ``max_pixels`` on screen of (x, y), if any."""
    marks = np.asarray(marks, dtype=np.float64).reshape(-1, 2)
    px, py = plot_item.getViewBox().viewPixelSize()
    if len(marks) == 0 or not (px > 0 and py > 0):
        return None
    d2 = ((marks[:, 0] - x) / px) ** 2 + ((marks[:, 1] - y) / py) ** 2
    if not np.isfinite(d2).any():
        return None
    k = int(np.nanargmin(d2))
    return k if d2[k] <= max_pixels**2 else None
