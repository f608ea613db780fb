"""Draw up to a million points, each in its own colour, fast enough to recolour every EM step.

Why a raster and not a ``ScatterPlotItem``
------------------------------------------
A ``QBrush`` per point costs ~0.8 s per redraw at 1e4 points and ~9 s at 1e5 here, and it crashed
PySide6 6.12.0 in paint. Brush palettes and one-item-per-colour-bin are faster but quantise the
colours and still cost per-point Qt work (see ``benchmarks/bench_draw.py`` for the figures).
Instead the points are rasterised with numpy into a premultiplied ARGB32 image exactly the size
of the view in device pixels, and that image is blitted 1:1:

* once per view change (pan, zoom, resize) the pixels some dot covers are found, each with the
  point on top there as if the points were painted in index order (last one wins), and the
  *visible owners*, the points on top of at least one pixel (:mod:`gmm_studio.ui.raster`:
  one write per point, O(N + pixels); above :data:`SLICE_POINTS` points spread over
  event-loop turns so the window keeps answering);
* once per colour change each covered pixel takes its owner's colour: at most one write per
  device pixel however many points and however large their dots, and every pixel holds one
  point's exact colour (no quantisation, no averaging). Colours come packed as ``uint32``
  from the fit worker (:func:`gmm_studio.ui.colors.packed_colors`), either for every point
  (:meth:`PointCloud.set_colors`) or only for the visible owners
  (:meth:`PointCloud.visible_owners`, :meth:`PointCloud.set_owner_colors`): at 1e7 points a
  few hundred thousand instead of ten million, and the same pixels.

Positions are set once per dataset; only the colours change per EM iteration.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from gmm_studio.ui.colors import pack_argb32_premultiplied
from gmm_studio.ui.raster import ColorSource, Rasteriser, VisibleOwners

__all__ = ["PointCloud", "Rasteriser", "VisibleOwners", "dot_radius_for", "pack_argb32_premultiplied"]

#: Up to this many points they are drawn as round dots 5 device pixels across; above, 3x3 dots.
SMALL_N = 20_000
#: Above this many points a new view is mapped a slice of this many points per event-loop
#: turn, the previous image moving with the view meanwhile: a pan or zoom at 1e7 points never
#: holds the GUI thread for the whole mapping.  About 5-10 ms each here, 20-30 ms while a fit
#: competes for the GIL (a view changed just before Run: 500 000 made 90-120 ms gaps at 1e7).
SLICE_POINTS = 200_000


def dot_radius_for(n: int, device_pixel_ratio: float = 1.0) -> int:
    """Radius in device pixels of the dot drawn for each of ``n`` points.

    Small clouds get dots big enough to read as symbols; large clouds get 3x3 dots so that
    clusters keep their structure instead of becoming solid blobs.
    """
    base = 2 if n <= SMALL_N else 1
    return max(1, int(round(base * device_pixel_ratio)))


class _RasterItem(pg.GraphicsObject):
    """The graphics item: paints the rasterised image over the view rect it was made for.

    Lives in data coordinates (a child of the ViewBox), so while a new raster is pending the old
    one pans and scales with the view. Reports the points' bounds through ``dataBounds`` so
    auto-range frames the points, not the image.
    """

    def __init__(self, cloud: "PointCloud") -> None:
        super().__init__()
        self._cloud = cloud
        self._rect = QtCore.QRectF()
        self._qimage: QtGui.QImage | None = None
        self._array: np.ndarray | None = None  # keeps the QImage's buffer alive
        self._scene = None
        self.setZValue(-10)  # beneath ellipses and curves

    def set_image(self, array: np.ndarray | None, rect: QtCore.QRectF) -> None:
        """Show ``array`` ((H, W) uint32 ARGB32-premultiplied) over ``rect`` (data coordinates)."""
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QtCore.QRectF(rect)
        self._array = array
        if array is None or array.size == 0:
            self._qimage = None
        else:
            h, w = array.shape
            self._qimage = QtGui.QImage(
                array.data, w, h, 4 * w, QtGui.QImage.Format.Format_ARGB32_Premultiplied
            )
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF(self._rect)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        b = self._cloud._bounds
        if b is None:
            return None
        return (b[0], b[2]) if ax == 0 else (b[1], b[3])

    def paint(self, painter: QtGui.QPainter, *args) -> None:
        if self._exportOpts is not False:
            self._paint_for_export(painter)
            return
        if self._qimage is None:
            return
        # Blit in device coordinates: the image was made at device resolution with row 0 at the
        # top, so when the view has not moved this is a 1:1 copy with no resampling.
        target = painter.transform().mapRect(self._rect)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, self._qimage)
        painter.restore()

    def _paint_for_export(self, painter: QtGui.QPainter) -> None:
        """Rasterise afresh at the output's resolution (a PNG at 2x, the image inside an SVG).

        Covers the same data rect as on screen, so the dots sit exactly where the axes say.
        """
        if self._rect.isEmpty():
            return
        target = painter.transform().mapRect(self._rect)
        scale = max(painter.device().devicePixelRatioF(), float(self._exportOpts.get("raster_scale", 1.0)))
        width, height = int(round(target.width() * scale)), int(round(target.height() * scale))
        r = self._rect
        array = self._cloud.render_export(
            (r.left(), r.right()), (r.top(), r.bottom()), width, height, scale)
        if array.size == 0:
            return
        image = QtGui.QImage(array.data, width, height, 4 * width,
                             QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, image)
        painter.restore()

    def itemChange(self, change, value):
        ret = super().itemChange(change, value)
        if change == self.GraphicsItemChange.ItemSceneHasChanged:
            if self._scene is not None:
                self._scene.sigPrepareForPaint.disconnect(self._on_scene_prepare_for_paint)
                self._scene = None
            scene = self.scene()
            if scene is not None and hasattr(scene, "sigPrepareForPaint"):
                # Connected after the ViewBox's own handler, so auto-range has already settled.
                scene.sigPrepareForPaint.connect(self._on_scene_prepare_for_paint)
                self._scene = scene
        return ret

    @QtCore.Slot()
    def _on_scene_prepare_for_paint(self) -> None:
        self._cloud._on_prepare_for_paint()

    @QtCore.Slot()
    def _on_view_changed(self, *args) -> None:
        self._cloud._view_dirty = True
        self.update()

    @QtCore.Slot()
    def _on_throttle_timeout(self) -> None:
        self.update()

    @QtCore.Slot()
    def _on_slice_timeout(self) -> None:
        self._cloud._on_slice_timeout()


class PointCloud:
    """N points with one colour each, drawn into a :class:`pyqtgraph.PlotItem`.

    Positions are set once per dataset (:meth:`set_points`); colours every redraw, either for
    every point (:meth:`set_colors`) or only for the points that own a pixel
    (:meth:`visible_owners`, :meth:`set_owner_colors`). The points are rasterised into an image
    at the view's device resolution; panning, zooming and resizing re-rasterise (throttled:
    during a drag at most about a third of the GUI thread's time goes to it; above
    :data:`SLICE_POINTS` points the mapping is spread over event-loop turns; the previous image
    moves with the view in between). All methods run on the GUI thread.

    Parameters
    ----------
    plot_item : pyqtgraph.PlotItem
        The plot to draw into. The cloud adds one item to its ViewBox, under other items
        (z = -10), and it takes part in auto-range with the points' bounds.
    """

    #: Minimum interval between view-driven re-rasterisations, as a multiple of the last one's
    #: cost. 2 -> rasterising takes at most a third of the time during an interactive drag.
    THROTTLE_FACTOR = 2.0

    def __init__(self, plot_item: pg.PlotItem) -> None:
        self._plot_item = plot_item
        self._vb: pg.ViewBox = plot_item.getViewBox()
        self._raster = Rasteriser()
        self._bounds: tuple[float, float, float, float] | None = None
        self._view_dirty = True
        self._last_raster_end = -math.inf
        self._last_raster_cost = 0.0
        self._job = None  # (key, view_steps generator, cost so far) while a view is mapped in slices
        self._item = _RasterItem(self)
        self._timer = QtCore.QTimer(self._item)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._item._on_throttle_timeout)
        self._slice_timer = QtCore.QTimer(self._item)
        self._slice_timer.setSingleShot(True)
        self._slice_timer.setInterval(0)
        self._slice_timer.timeout.connect(self._item._on_slice_timeout)
        self._vb.sigRangeChanged.connect(self._item._on_view_changed)
        self._vb.sigResized.connect(self._item._on_view_changed)
        plot_item.addItem(self._item)

    # ----------------------------------------------------------------------------- public API
    @property
    def item(self) -> pg.GraphicsObject:
        """The graphics item drawing the points (for z-order, visibility). GUI thread."""
        return self._item

    def set_points(self, xy: np.ndarray) -> None:
        """Set the positions, ``(N, 2)`` finite floats in data coordinates. GUI thread.

        Call once per dataset: O(N) bounds, no copy of a float64 array (it is kept: do not
        modify it afterwards) and no index (hovering reads the view's own pixel map). Colours
        reset to dark grey until the next :meth:`set_colors`.

        Raises
        ------
        ValueError
            If ``xy`` is not ``(N, 2)`` or holds non-finite values.
        """
        bounds = self._raster.set_points(xy)
        self._cancel_job()
        self._bounds = bounds
        self._view_dirty = True
        self._item.informViewBoundsChanged()
        self._item.update()

    def set_colors(self, rgba: np.ndarray) -> None:
        """Set every point's colour and redraw. GUI thread; ~1-3 ms at 1e6 points when packed.

        Parameters
        ----------
        rgba : numpy.ndarray
            Either ``(N,)`` uint32 ARGB32-premultiplied (from
            :func:`gmm_studio.ui.colors.pack_argb32_premultiplied`; the fit worker ships these,
            so the GUI thread does no per-point arithmetic), or ``(N, 4)`` / ``(N, 3)`` uint8
            straight (not premultiplied) RGBA / RGB, packed here. One entry per point of the last
            :meth:`set_points`. Alpha below 255 draws the point translucent over whatever is
            behind the cloud. A packed array is kept, not copied: do not modify it afterwards.

        Raises
        ------
        ValueError
            If the shape is not ``(N,)`` (uint32) or ``(N, 3)`` / ``(N, 4)`` for the current N.
        TypeError
            If the dtype of an ``(N, 3)`` / ``(N, 4)`` array is not uint8.
        """
        rgba = np.asarray(rgba)
        n = self._raster.n
        if rgba.dtype == np.uint32:
            if rgba.shape != (n,):
                raise ValueError(f"packed colours must have shape ({n},), got {rgba.shape}")
            packed = rgba
        else:
            if rgba.ndim != 2 or rgba.shape[0] != n or rgba.shape[1] not in (3, 4):
                raise ValueError(
                    f"colours must have shape ({n},) packed or ({n}, 3) / ({n}, 4), got {rgba.shape}"
                )
            if rgba.dtype != np.uint8:
                raise TypeError(f"colours must be uint8 (or packed uint32), got {rgba.dtype}")
            packed = pack_argb32_premultiplied(rgba)
        self._raster.set_colors(packed)
        self._redraw_colors()

    def visible_owners(self) -> VisibleOwners:
        """The points that own at least one pixel of the drawn view, and its revision. GUI thread.

        The same object until the drawn view or the points change; then ``revision`` grows.
        The indices (sorted, read-only) may be handed to a worker thread, which colours only
        those rows of the responsibilities (:func:`gmm_studio.ui.colors.packed_colors` with
        ``rows=``) for :meth:`set_owner_colors`: at 1e6-1e7 points usually far fewer than N.
        """
        return self._raster.visible_owners()

    def set_owner_colors(self, revision: int, packed: np.ndarray, source: ColorSource) -> bool:
        """Recolour from the visible owners' colours only, and redraw. GUI thread, O(pixels).

        Parameters
        ----------
        revision : int
            The :attr:`VisibleOwners.revision` ``packed`` was made for.
        packed : numpy.ndarray
            ``(M,)`` uint32 ARGB32-premultiplied, one per index of that revision's
            :meth:`visible_owners`, in order.
        source : callable
            ``source(rows) -> (len(rows),) uint32``: the same colouring for any other rows, e.g.
            ``functools.partial(colors.packed_colors, gamma, palette, mode=mode, rows=...)``
            taking ``rows`` as keyword. Called here when ``revision`` is stale (the view moved
            since the worker read the owners: its colours are dropped), after a later view
            change, and for an export. It should cost O(len(rows)).

        Returns
        -------
        bool
            True when ``packed`` was drawn; False when it was stale and ``source`` coloured the
            current owners instead (the picture is right either way).

        Raises
        ------
        ValueError
            If ``packed`` is for the current revision but not one uint32 per owner.
        """
        used = self._raster.set_owner_colors(revision, packed, source)
        self._redraw_colors()
        return used

    def nearest_point(self, x: float, y: float, max_pixels: float = 6) -> int | None:
        """Index of the point closest on screen to ``(x, y)`` (data coordinates). GUI thread.

        Distance is measured in screen pixels of the drawn view, so it works whatever the
        aspect ratio or zoom; only a point drawn on top somewhere near is found (a point
        hidden under others in the same pixel is not). O(max_pixels²), whatever N. Returns
        ``None`` if no point lies within ``max_pixels``.
        """
        if not self._raster.has_view:
            self.refresh()
        return self._raster.nearest(x, y, max_pixels * self._device_pixel_ratio())

    def data_bounds(self) -> tuple[float, float, float, float]:
        """``(x_min, y_min, x_max, y_max)`` of the points. GUI thread.

        Raises
        ------
        ValueError
            If there are no points.
        """
        if self._bounds is None:
            raise ValueError("no points set")
        return self._bounds

    def refresh(self) -> None:
        """Re-rasterise now if the view changed, skipping the throttle and slicing. GUI thread.

        Interactive pans and zooms never need this. Call it after changing the range
        programmatically when the very next ``grab()`` must show the new view exactly.
        """
        self._vb.prepareForPaint()  # settle pending auto-range and the view matrix
        self._rasterise_if_view_changed(force=True)

    def render_export(self, x_range: tuple[float, float], y_range: tuple[float, float],
                      width: int, height: int, scale: float) -> np.ndarray:
        """The points of a data rect as a ``(height, width)`` ARGB32 image for a figure. GUI thread.

        ``scale`` is output pixels per screen pixel: dots grow with it, so the figure looks
        like the screen, only sharper. The on-screen raster is left as it is.
        """
        return self._raster.render_view(x_range, y_range, width, height,
                                        dot_radius_for(self._raster.n, scale))

    # ------------------------------------------------------------------------------ internals
    def _current_view_key(self) -> tuple:
        (x0, x1), (y0, y1) = self._vb.viewRange()
        dpr = self._device_pixel_ratio()
        w = int(round(self._vb.width() * dpr))
        h = int(round(self._vb.height() * dpr))
        return (float(x0), float(x1), float(y0), float(y1), w, h, dot_radius_for(self._raster.n, dpr))

    def _device_pixel_ratio(self) -> float:
        scene = self._item.scene()
        views = scene.views() if scene is not None else []
        return float(views[0].devicePixelRatioF()) if views else 1.0

    def _on_prepare_for_paint(self) -> None:
        if self._view_dirty or not self._raster.has_view:
            self._rasterise_if_view_changed(force=False)

    def _rasterise_if_view_changed(self, force: bool) -> None:
        if self._job is not None:
            if not force:
                return  # the running job rechecks the view when it ends
            self._finish_job()
        key = self._current_view_key()
        if key == self._raster.view_key:
            self._view_dirty = False
            return
        now = time.perf_counter()
        wait = self._last_raster_end + self.THROTTLE_FACTOR * self._last_raster_cost - now
        if not force and self._raster.has_view and wait > 0:
            # Keep the dirty flag; the timer asks for a paint, which comes back here.
            if not self._timer.isActive():
                self._timer.start(max(1, int(math.ceil(wait * 1000))))
            return
        self._view_dirty = False
        x0, x1, y0, y1, w, h, r = key
        sliced = not force and self._raster.n > SLICE_POINTS
        steps = self._raster.steps((x0, x1), (y0, y1), w, h, r,
                                   SLICE_POINTS if sliced else None)
        self._job = [steps, 0.0]
        if sliced:
            self._on_slice_timeout()
        else:
            self._finish_job()

    def _on_slice_timeout(self) -> None:
        """One slice of the running view job; installs the view after the last one."""
        job = self._job
        if job is None:
            return
        t0 = time.perf_counter()
        try:
            next(job[0])
        except StopIteration as done:
            self._install(done.value, job[1] + time.perf_counter() - t0)
            return
        job[1] += time.perf_counter() - t0
        self._slice_timer.start()

    def _finish_job(self) -> None:
        steps, cost = self._job
        t0 = time.perf_counter()
        while True:
            try:
                next(steps)
            except StopIteration as done:
                self._install(done.value, cost + time.perf_counter() - t0)
                return

    def _install(self, view, cost: float) -> None:
        self._job = None
        self._slice_timer.stop()
        t0 = time.perf_counter()
        self._raster.install(view)  # colours the new owners from the current source
        x0, x1, y0, y1 = view.key[:4]
        self._show_raster(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        end = time.perf_counter()
        self._last_raster_cost, self._last_raster_end = cost + end - t0, end
        if self._view_dirty:
            self._item.update()  # the view moved while this one was mapped: map it next

    def _cancel_job(self) -> None:
        self._job = None
        self._slice_timer.stop()

    def _redraw_colors(self) -> None:
        if self._raster.has_view:
            key = self._raster.view_key
            self._show_raster(QtCore.QRectF(key[0], key[2], key[1] - key[0], key[3] - key[2]))
        else:
            self._item.update()

    def _show_raster(self, rect: QtCore.QRectF) -> None:
        self._item.set_image(self._raster.render(), rect)
