"""Draw up to a million points, each in its own colour, fast enough to recolour every EM step.

Why a raster and not a ``ScatterPlotItem``
------------------------------------------
A ``QBrush`` per point costs ~0.8 s per redraw at 1e4 points and ~9 s at 1e5 here, and it crashed
PySide6 6.12.0 in paint. Brush palettes and one-item-per-colour-bin are faster but quantise the
colours and still cost per-point Qt work (see ``benchmarks/bench_draw.py`` for the figures).
Instead the points are rasterised with numpy into a premultiplied ARGB32 image exactly the size
of the view in device pixels, and that image is blitted 1:1:

* once per view change (pan, zoom, resize) every point's footprint is written into an *owner
  map*, ``owner[footprint pixels] = point index`` -- numpy assigns in order, so a later point
  covers an earlier one exactly like a painter drawing the points in index order (last writer
  wins) -- and the map is boiled down to the covered pixels and the point on top of each
  (:class:`Rasteriser.set_view`);
* once per colour change each covered pixel takes its owner's colour,
  ``image[pixels] = colours[owners]``: at most one write per device pixel however many points
  and however large their dots (at 1e6 points with 3x3 dots, ~0.2M writes instead of 9M), and
  every pixel holds one point's exact colour (no quantisation, no averaging). Colours come
  packed as ``uint32`` from the fit worker (:func:`gmm_studio.ui.colors.pack_argb32_premultiplied`),
  so the GUI thread does not pack them either.

Positions are set once per dataset; only :meth:`PointCloud.set_colors` runs per EM iteration.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from gmm_studio.ui.colors import pack_argb32_premultiplied

__all__ = ["PointCloud", "Rasteriser", "dot_radius_for", "pack_argb32_premultiplied"]

#: Up to this many points they are drawn as round dots 5 device pixels across; above, 3x3 dots.
SMALL_N = 20_000
#: Default colour before the first :meth:`PointCloud.set_colors`: dark grey, opaque.
DEFAULT_RGBA = (64, 64, 64, 255)
#: Above this many (point, footprint pixel) pairs the owner map is written one footprint offset at
#: a time instead of from one point-major index array: saves memory (8 bytes per pair).
_POINT_MAJOR_LIMIT = 12_000_000


def dot_radius_for(n: int, device_pixel_ratio: float = 1.0) -> int:
    """Radius in device pixels of the dot drawn for each of ``n`` points.

    Small clouds get dots big enough to read as symbols; large clouds get 3x3 dots so that
    clusters keep their structure instead of becoming solid blobs.
    """
    base = 2 if n <= SMALL_N else 1
    return max(1, int(round(base * device_pixel_ratio)))


def _footprint(radius: int) -> np.ndarray:
    """``(M, 2)`` integer (dy, dx) offsets of a round dot of the given radius, centre last.

    Radius 1 is a full 3x3 square (a 3-pixel "disc" would be a plus sign, which reads as noise).
    """
    r = int(radius)
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    keep = (dx * dx + dy * dy) <= (r * r + r) if r > 1 else np.ones_like(dx, dtype=bool)
    offs = np.column_stack([dy[keep], dx[keep]])
    # Centre last: in the offset-at-a-time path every point's own centre is then written after
    # all neighbours' rims, so a point is never hidden entirely by an earlier one's rim.
    centre = np.all(offs == 0, axis=1)
    return np.vstack([offs[~centre], offs[centre]])


class Rasteriser:
    """Numpy-only point splatter: view -> (pixel, owner) pairs once, colours -> image every update.

    Qt-free so it can be benchmarked and tested without a display. Not thread-safe; the
    :class:`PointCloud` that owns one calls it on the GUI thread only.
    """

    def __init__(self) -> None:
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._colors = np.empty(0, dtype=np.uint32)
        self._shape = (0, 0)  # (height, width) of the visible image
        # Per view: flat indices of the covered pixels of the (height, width) image, and the
        # index of the point on top in each. None until set_view.
        self._pixels: np.ndarray | None = None
        self._owners = np.zeros(0, dtype=np.int32)

    @property
    def n(self) -> int:
        """Number of points."""
        return self._x.shape[0]

    def set_points(self, xy: np.ndarray) -> None:
        """Store positions (contiguous columns); forgets the view mapping."""
        self._x = np.ascontiguousarray(xy[:, 0], dtype=np.float64)
        self._y = np.ascontiguousarray(xy[:, 1], dtype=np.float64)
        self._colors = np.full(self.n, _pack_one(DEFAULT_RGBA), dtype=np.uint32)
        self._pixels = None
        self._shape = (0, 0)

    def set_colors(self, packed: np.ndarray) -> None:
        """Store ``(N,)`` uint32 premultiplied ARGB colours (see :func:`pack_argb32_premultiplied`)."""
        self._colors = packed

    def set_view(
        self,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        width: int,
        height: int,
        radius: int,
    ) -> None:
        """Find, for this view, every pixel some dot covers and the point drawn on top there.

        The image has ``height`` rows and ``width`` columns; row 0 is the top of the view
        (``y_range[1]``), column 0 its left (``x_range[0]``). Points up to ``radius`` pixels
        outside still show their rim. Costs about what one full splat of all footprints did
        (~0.1 s at 1e6 points); runs once per view.
        """
        width, height = max(int(width), 0), max(int(height), 0)
        self._shape = (height, width)
        self._pixels, self._owners = self._cover(x_range, y_range, width, height, int(radius))

    def render_view(self, x_range: tuple[float, float], y_range: tuple[float, float],
                    width: int, height: int, radius: int) -> np.ndarray:
        """The ``(height, width)`` image of another view (an export), leaving this view as it is."""
        width, height = max(int(width), 0), max(int(height), 0)
        pixels, owners = self._cover(x_range, y_range, width, height, int(radius))
        img = np.zeros(height * width, dtype=np.uint32)
        img[pixels] = self._colors[owners]
        return img.reshape(height, width)

    def _cover(self, x_range, y_range, width: int, height: int, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices of the covered pixels and the point on top of each (see set_view).

        Internally the owner map is padded by ``2 * r`` on every side, so no footprint pixel of
        the points just outside wraps into the next row.
        """
        pad = 2 * r
        wp = width + 2 * pad
        x0, x1 = x_range
        y0, y1 = y_range
        if width == 0 or height == 0 or self.n == 0 or not (x1 > x0 and y1 > y0):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int32)
        # Pixel coordinates as floats first: casting far-off points (deep zoom) to int would
        # overflow. floor() puts a point in the pixel whose area contains it.
        fx = (self._x - x0) * (width / (x1 - x0))
        fy = (y1 - self._y) * (height / (y1 - y0))
        inside = (fx >= -r) & (fx < width + r) & (fy >= -r) & (fy < height + r)
        if inside.all():
            ids = np.arange(self.n, dtype=np.int32)
        else:
            sel = np.flatnonzero(inside)
            fx, fy, ids = fx[sel], fy[sel], sel.astype(np.int32)
        # Centres land in [r, size + 3r) of the padded axis, footprints in [0, size + 4r).
        ix = np.floor(fx).astype(np.intp) + pad
        iy = np.floor(fy).astype(np.intp) + pad
        centre = iy * wp + ix
        fp = _footprint(r)
        offsets = (fp[:, 0] * wp + fp[:, 1]).astype(np.intp)
        owner = np.full((height + 2 * pad) * wp, -1, dtype=np.int32)
        if centre.shape[0] * offsets.shape[0] <= _POINT_MAJOR_LIMIT:
            # One point-major assignment: numpy writes in index order, so the last point owns
            # every pixel it shares with an earlier one, as if painted in order.
            owner[centre[:, None] + offsets[None, :]] = ids[:, None]
        else:
            for off in offsets:  # centre last (see _footprint): no point hides entirely
                owner[centre + off] = ids
        owner = owner.reshape(height + 2 * pad, wp)[pad : pad + height, pad : pad + width].ravel()
        pixels = np.flatnonzero(owner >= 0)
        return pixels, owner[pixels]

    @property
    def has_view(self) -> bool:
        """Whether :meth:`set_view` has run since the last :meth:`set_points`."""
        return self._pixels is not None

    def render(self) -> np.ndarray:
        """Return the ``(height, width)`` uint32 ARGB32-premultiplied image (a fresh array).

        One gather and one scatter over the covered pixels (~1 ms at 1e6 points in a
        1250x780 view); uncovered pixels stay 0, transparent, so grid and background show.
        """
        h, w = self._shape
        img = np.zeros(h * w, dtype=np.uint32)
        if self._pixels is not None:
            img[self._pixels] = self._colors[self._owners]
        return img.reshape(h, w)


def _pack_one(rgba: tuple[int, int, int, int]) -> int:
    return int(pack_argb32_premultiplied(np.array([rgba], dtype=np.uint8))[0])


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


class PointCloud:
    """N points with one colour each, drawn into a :class:`pyqtgraph.PlotItem`.

    Positions are set once per dataset (:meth:`set_points`); colours every redraw
    (:meth:`set_colors`). The points are rasterised into an image at the view's device
    resolution; panning, zooming and resizing re-rasterise (throttled: during a drag at most
    about a third of the GUI thread's time goes to it, and the previous image moves with the
    view in between). All methods run on the GUI thread.

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
        self._tree = None
        self._view_key: tuple | None = None
        self._view_dirty = True
        self._last_raster_end = -math.inf
        self._last_raster_cost = 0.0
        self._raster_rect = QtCore.QRectF()
        self._item = _RasterItem(self)
        self._timer = QtCore.QTimer(self._item)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._item._on_throttle_timeout)
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

        Call once per dataset: it rebuilds the pixel mapping and the KD-tree used by
        :meth:`nearest_point` (about 0.4 s at 1e6 points). Colours reset to dark grey until the
        next :meth:`set_colors`.

        Raises
        ------
        ValueError
            If ``xy`` is not ``(N, 2)`` or holds non-finite values.
        """
        xy = np.asarray(xy, dtype=np.float64)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"xy must have shape (N, 2), got {xy.shape}")
        if not np.isfinite(xy).all():
            raise ValueError("xy holds NaN or infinite values")
        from scipy.spatial import cKDTree  # scipy import is slow; only pay for it when used

        self._raster.set_points(xy)
        if xy.shape[0]:
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            self._bounds = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
            self._tree = cKDTree(xy)
        else:
            self._bounds, self._tree = None, None
        self._view_key = None
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
        if self._raster.has_view:
            self._show_raster(self._raster_rect)
        else:
            self._item.update()

    def nearest_point(self, x: float, y: float, max_pixels: float = 6) -> int | None:
        """Index of the point closest on screen to ``(x, y)`` (data coordinates). GUI thread.

        Distance is measured in screen pixels of the current view, so it works whatever the
        aspect ratio or zoom. Returns ``None`` if no point lies within ``max_pixels``.
        """
        if self._tree is None:
            return None
        px, py = self._vb.viewPixelSize()
        if not (px > 0 and py > 0 and math.isfinite(px) and math.isfinite(py)):
            return None
        # Ball in data units that contains the pixel ellipse, then measure in pixels.
        cand = self._tree.query_ball_point((x, y), max_pixels * max(px, py))
        if not cand:
            return None
        cand = np.asarray(cand, dtype=np.intp)
        pts = self._tree.data[cand]
        d2 = ((pts[:, 0] - x) / px) ** 2 + ((pts[:, 1] - y) / py) ** 2
        best = int(np.argmin(d2))
        if d2[best] > max_pixels * max_pixels:
            return None
        return int(cand[best])

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
        """Re-rasterise now if the view changed, skipping the throttle. GUI thread.

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
        return (x0, x1, y0, y1, w, h, dot_radius_for(self._raster.n, dpr))

    def _device_pixel_ratio(self) -> float:
        scene = self._item.scene()
        views = scene.views() if scene is not None else []
        return float(views[0].devicePixelRatioF()) if views else 1.0

    def _on_prepare_for_paint(self) -> None:
        if self._view_dirty or self._view_key is None:
            self._rasterise_if_view_changed(force=False)

    def _rasterise_if_view_changed(self, force: bool) -> None:
        key = self._current_view_key()
        if key == self._view_key:
            self._view_dirty = False
            return
        now = time.perf_counter()
        wait = self._last_raster_end + self.THROTTLE_FACTOR * self._last_raster_cost - now
        if not force and self._view_key is not None and wait > 0:
            # Keep the dirty flag; the timer asks for a paint, which comes back here.
            if not self._timer.isActive():
                self._timer.start(max(1, int(math.ceil(wait * 1000))))
            return
        x0, x1, y0, y1, w, h, r = key
        self._raster.set_view((x0, x1), (y0, y1), w, h, r)
        self._view_key = key
        self._view_dirty = False
        self._raster_rect = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
        self._show_raster(self._raster_rect)
        end = time.perf_counter()
        self._last_raster_cost, self._last_raster_end = end - now, end

    def _show_raster(self, rect: QtCore.QRectF) -> None:
        self._item.set_image(self._raster.render(), rect)
