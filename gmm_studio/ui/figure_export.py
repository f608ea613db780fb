"""PNG and SVG figures of a plot, drawn the same way so the two line up.

Both formats are made by one path: the plot's part of the scene is rendered with Qt's own
``QGraphicsScene.render`` into a ``QImage`` (PNG) or a ``QSvgGenerator`` (SVG), with every
pyqtgraph item in *export mode*.  Why not pyqtgraph's exporters:

* pyqtgraph 0.14's ``SVGExporter`` cannot parse the closing ``Z`` that Qt 6's generator writes
  for closed paths (a ``ValueError`` on any plot with an ellipse);
* its ``ImageExporter`` resizes the plot while it draws, which re-flows the legend strip.

What export mode changes: scatter symbols (the means) are drawn one by one as vector shapes,
not blitted from a pixmap atlas (which an SVG cannot hold: the markers came out garbled); the
point cloud is rasterised afresh at the output's resolution (crisp dots, placed exactly under
the axes); the hover read-out is left out.  The SVG generator is given the screen's dots per
inch: at its default of 72 the axes, which pyqtgraph records as a ``QPicture`` at screen
resolution, were replayed at 3/4 size, apart from the data.  GUI thread only.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

from gmm_studio.core.export import atomic_write_bytes

__all__ = ["FIGURE_KINDS", "figure_image", "figure_svg", "write_figure"]

#: The formats :func:`write_figure` writes, by file extension.
FIGURE_KINDS = ("png", "svg")
#: Pixels per screen pixel of a PNG figure: sharp enough for print at the plot's size.
PNG_SCALE = 2.0
#: The point cloud inside an SVG is an image: made at this many pixels per screen pixel.
SVG_RASTER_SCALE = 2.0


def _source_rect(plot_item: pg.PlotItem) -> QRectF:
    return plot_item.sceneBoundingRect()


def _background(plot_item: pg.PlotItem) -> QColor:
    views = plot_item.scene().views()
    return views[0].backgroundBrush().color() if views else QColor("white")


def _screen_dpi(plot_item: pg.PlotItem) -> int:
    views = plot_item.scene().views()
    return int(round(views[0].logicalDpiX())) if views else 96


@contextmanager
def _export_mode(plot_item: pg.PlotItem, opts: dict):
    items = [i for i in plot_item.scene().items() if hasattr(i, "setExportMode")]
    # Items cached as screen pixmaps (the axes, see plot_items.cache_axes) are drawn afresh,
    # at the output's resolution and as vectors in SVG.
    cached = [(i, i.cacheMode()) for i in plot_item.scene().items()
              if i.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    for item in items:
        item.setExportMode(True, opts)
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item in items:
            item.setExportMode(False)
        for item, mode in cached:
            item.setCacheMode(mode)


def _render(plot_item: pg.PlotItem, painter: QPainter, size: QSize, opts: dict) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    with _export_mode(plot_item, {"antialias": True, "painter": painter, **opts}):
        plot_item.scene().render(painter, QRectF(0, 0, size.width(), size.height()),
                                 _source_rect(plot_item), Qt.AspectRatioMode.IgnoreAspectRatio)


def _size(plot_item: pg.PlotItem) -> QSize:
    rect = _source_rect(plot_item)
    return QSize(max(1, int(round(rect.width()))), max(1, int(round(rect.height()))))


def figure_image(plot_item: pg.PlotItem, scale: float = PNG_SCALE) -> QImage:
    """The plot as an image ``scale`` times its on-screen size, on its own background."""
    size = _size(plot_item)
    image = QImage(int(round(size.width() * scale)), int(round(size.height() * scale)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    # Drawn at logical size on a high-resolution image, as on a high-DPI screen: text, pens
    # and pixel-sized symbols keep their proportions.
    image.setDevicePixelRatio(scale)
    background = _background(plot_item)
    image.fill(background)
    painter = QPainter(image)
    try:
        _render(plot_item, painter, size, {"background": background})
    finally:
        painter.end()
    image.setDevicePixelRatio(1.0)
    return image


def figure_svg(plot_item: pg.PlotItem, title: str = "GMM Studio figure") -> bytes:
    """The plot as an SVG document of its on-screen size (the point cloud as an embedded image)."""
    from PySide6.QtSvg import QSvgGenerator  # only exports need QtSvg

    size = _size(plot_item)
    buffer = QByteArray()
    device = QBuffer(buffer)
    device.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(device)
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setResolution(_screen_dpi(plot_item))
    generator.setTitle(title)
    background = _background(plot_item)
    painter = QPainter(generator)
    try:
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), background)
        _render(plot_item, painter, size, {"background": background, "raster_scale": SVG_RASTER_SCALE})
    finally:
        painter.end()
    device.close()
    return bytes(buffer.data())


def _png_bytes(image: QImage) -> bytes:
    buffer = QByteArray()
    device = QBuffer(buffer)
    device.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(device, "PNG"):
        raise ValueError("The figure could not be encoded as PNG.")
    device.close()
    return bytes(buffer.data())


def write_figure(plot_item: pg.PlotItem, path: str, kind: str | None = None) -> None:
    """Write the plot to ``path`` as PNG or SVG (``kind``, else the extension), atomically.

    Raises
    ------
    ValueError
        For another format, naming the ones there are.
    """
    kind = (kind or os.path.splitext(path)[1].lstrip(".")).lower()
    if kind == "png":
        data = _png_bytes(figure_image(plot_item))
    elif kind == "svg":
        data = figure_svg(plot_item)
    else:
        raise ValueError(f"Unknown figure format {kind!r}; choose PNG or SVG.")
    atomic_write_bytes(path, data)
