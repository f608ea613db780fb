"""Numpy-only point splatting behind :class:`gmm_studio.ui.point_cloud.PointCloud`.

Qt-free, so it can be benchmarked and tested without a display. Two costs, kept apart:

* **per view** (pan, zoom, resize) :func:`view_steps` finds, for every device pixel some dot
  covers, the point drawn on top there, as if the points were painted in index order (the
  last one wins). It writes each point's *centre* cell once, ``centres[cell] = index`` (numpy
  assigns in order, so the cell keeps its last point), then takes the maximum of that map
  over the dot's footprint offsets: the top point of a pixel is the largest index among the
  points whose dot covers it. That is one write per point plus ``footprint × pixels`` cheap
  maxima, O(N + pixels), in slices the caller can spread over several event-loop turns;
* **per colour change** only the points that own at least one pixel matter (the *visible
  owners*, usually far fewer than N at 1e6-1e7 points): the image is a gather and a scatter
  over the covered pixels, ``image[pixels] = owner_colors[slot]``.

Colours come from a *source*: a function that gives the packed colours of any rows (the full
array's ``__getitem__`` for :meth:`Rasteriser.set_colors`, or the fit's responsibilities for
:meth:`Rasteriser.set_owner_colors`), so a new view or an export can colour its own owners.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from gmm_studio.ui.colors import pack_argb32_premultiplied

__all__ = ["ColorSource", "DEFAULT_RGBA", "Rasteriser", "Scratch", "VisibleOwners", "footprint", "uniform_source",
           "view_steps"]

#: Default colour before the first colours are set: dark grey, opaque.
DEFAULT_RGBA = (64, 64, 64, 255)
#: Points handled per numpy call while mapping a view: small enough to stay in the cache.
_CHUNK = 1 << 16

#: ``source(rows) -> (len(rows),) uint32`` packed colours of those points. Called on the GUI
#: thread; it should cost O(len(rows)), not O(N).
ColorSource = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class VisibleOwners:
    """The points that own at least one pixel of the current view.

    Attributes
    ----------
    revision : int
        Changes whenever the owners may have changed (a new view, new points). Colours made
        for one revision are dropped by :meth:`Rasteriser.set_owner_colors` under another.
    indices : numpy.ndarray
        ``(M,)`` int32 point indices, sorted, read-only. Safe to read on any thread.
    """

    revision: int
    indices: np.ndarray


@dataclass(frozen=True, eq=False)
class _View:
    key: tuple  # (x0, x1, y0, y1, width, height, radius)
    pixels: np.ndarray  # flat indices of the covered pixels of the (height, width) image
    slot: np.ndarray  # per covered pixel: its owner's position in ``owners``
    owners: np.ndarray  # sorted unique owner indices (read-only)
    centres: np.ndarray  # (height + 2 pad, width + 2 pad) top point per centre cell, -1 if none

    @property
    def shape(self) -> tuple[int, int]:
        return self.key[5], self.key[4]


def footprint(radius: int) -> np.ndarray:
    """``(M, 2)`` integer (dy, dx) offsets of a round dot of the given radius.

    Radius 1 is a full 3x3 square (a 3-pixel "disc" would be a plus sign, which reads as noise).
    """
    r = int(radius)
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    keep = (dx * dx + dy * dy) <= (r * r + r) if r > 1 else np.ones_like(dx, dtype=bool)
    return np.column_stack([dy[keep], dx[keep]])


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def view_steps(x: np.ndarray, y: np.ndarray, x_range: tuple[float, float],
               y_range: tuple[float, float], width: int, height: int, radius: int,
               slice_points: int | None = None, scratch: Scratch | None = None) -> Iterator[None]:
    """Map a view, yielding after every ``slice_points`` points; the generator returns a view.

    ``scratch`` (for these N points) saves two N-sized allocations; its use is not
    interrupted by a yield, so one scratch may serve one sliced mapping and any number of
    mappings run at once in between. Row 0 of the ``(height, width)`` image is the top of the view (``y_range[1]``), column 0
    its left (``x_range[0]``); points up to ``radius`` pixels outside still show their rim.
    Reads ``x`` and ``y`` only (and ``scratch``), so a caller may drop an unfinished generator;
    any thread, given a scratch of its own.
    """
    width, height, r = max(int(width), 0), max(int(height), 0), max(int(radius), 0)
    key = (float(x_range[0]), float(x_range[1]), float(y_range[0]), float(y_range[1]), width, height, r)
    # The centre map is padded by r + 1 cells: r so that rims of points just outside reach in,
    # one more for the dead border row/column where points farther out are clipped to (never
    # read by the maximum below).
    pad = r + 1
    wp, hp = width + 2 * pad, height + 2 * pad
    centres = np.full(hp * wp, -1, dtype=np.int32)
    n = x.shape[0]
    x0, x1, y0, y1 = key[:4]
    if width == 0 or height == 0 or n == 0 or not (x1 > x0 and y1 > y0):
        empty = _readonly(np.zeros(0, dtype=np.int32))
        return _View(key, np.zeros(0, dtype=np.intp), empty, empty, centres.reshape(hp, wp))
    sx, sy = width / (x1 - x0), height / (y1 - y0)
    fx, fy = np.empty(min(n, _CHUNK)), np.empty(min(n, _CHUNK))
    since_yield = 0
    for s in range(0, n, _CHUNK):
        e = min(n, s + _CHUNK)
        bx, by = fx[: e - s], fy[: e - s]
        # Pixel coordinates as floats first (a far-off point at deep zoom would overflow an
        # int), clipped into the dead border, shifted to be >= 0 so truncation is floor().
        np.subtract(x[s:e], x0, out=bx)
        bx *= sx
        np.clip(bx, -r - 1, width + r, out=bx)
        bx += pad
        np.subtract(y1, y[s:e], out=by)
        by *= sy
        np.clip(by, -r - 1, height + r, out=by)
        by += pad
        cell = by.astype(np.intp)
        cell *= wp
        cell += bx.astype(np.intp)
        centres[cell] = np.arange(s, e, dtype=np.int32)  # in order: the last point keeps the cell
        since_yield += e - s
        if slice_points is not None and since_yield >= slice_points and e < n:
            since_yield = 0
            yield
    grid = centres.reshape(hp, wp)
    owner = np.full((height, width), -1, dtype=np.int32)
    for dy, dx in footprint(r):  # pixel p shows the largest index whose dot covers it
        np.maximum(owner, grid[pad - dy : pad - dy + height, pad - dx : pad - dx + width], out=owner)
    pixels = np.flatnonzero(owner >= 0)
    tops = owner.ravel()[pixels]
    if slice_points is not None:
        yield
    scratch = scratch if scratch is not None and scratch.marked.shape[0] == n else Scratch(n)
    # Sorted unique owners and each pixel's position among them, in O(N / 8 + pixels): the
    # marks are one bool per point, cleared again after use, so no allocation per view.
    scratch.marked[tops] = True
    owners = np.flatnonzero(scratch.marked).astype(np.int32)
    scratch.marked[owners] = False
    scratch.lookup[owners] = np.arange(owners.shape[0], dtype=np.int32)
    return _View(key, pixels, scratch.lookup[tops], _readonly(owners), grid)


class Scratch:
    """Per-point work arrays :func:`view_steps` reuses from view to view (N bools, N int32)."""

    def __init__(self, n: int) -> None:
        self.marked = np.zeros(n, dtype=bool)  # all False between uses
        self.lookup = np.empty(n, dtype=np.int32)  # only the owners' entries are meaningful


def _run(steps: Iterator[None]) -> _View:
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def uniform_source(packed_color: int) -> ColorSource:
    """A source giving every point the same packed colour."""
    return lambda rows: np.full(len(rows), packed_color, dtype=np.uint32)


def _pack_one(rgba: tuple[int, int, int, int]) -> int:
    return int(pack_argb32_premultiplied(np.array([rgba], dtype=np.uint8))[0])


class Rasteriser:
    """Points, the current view's pixel mapping, and the owners' colours. Not thread-safe.

    The :class:`~gmm_studio.ui.point_cloud.PointCloud` that owns one calls it on the GUI
    thread only; what :meth:`steps` returns may be driven a slice at a time, then installed.
    """

    def __init__(self) -> None:
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._scratch: Scratch | None = None
        self._colors: np.ndarray | None = None  # the full (N,) array of set_colors, if any
        self._source: ColorSource = uniform_source(_pack_one(DEFAULT_RGBA))
        self._view: _View | None = None
        self._owner_colors = np.zeros(0, dtype=np.uint32)
        self._revision = 0
        self._owners = VisibleOwners(0, _readonly(np.zeros(0, dtype=np.int32)))

    @property
    def n(self) -> int:
        """Number of points."""
        return self._x.shape[0]

    @property
    def has_view(self) -> bool:
        """Whether a view has been installed since the last :meth:`set_points`."""
        return self._view is not None

    @property
    def view_key(self) -> tuple | None:
        """``(x0, x1, y0, y1, width, height, radius)`` of the installed view, or None."""
        return None if self._view is None else self._view.key

    def set_points(self, xy: np.ndarray) -> tuple[float, float, float, float] | None:
        """Store ``(N, 2)`` positions (a float64 array is kept, not copied: do not modify it);
        forgets the view and the colours.

        Returns the bounds ``(x_min, y_min, x_max, y_max)``, None without points.

        Raises
        ------
        ValueError
            If ``xy`` is not ``(N, 2)`` or holds non-finite values (nothing is changed then).
        """
        xy = np.asarray(xy)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"xy must have shape (N, 2), got {xy.shape}")
        # Column views, not copies (copying 1e7 rows costs more than mapping a view): read in
        # cache-sized chunks, the two strided columns of a chunk share their cache lines.
        xy = xy.astype(np.float64, copy=False)
        x, y = xy[:, 0], xy[:, 1]
        bounds = None
        if x.shape[0]:
            # min and max propagate NaN and show an infinity: no separate isfinite pass.
            bounds = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
            if not all(np.isfinite(bounds)):
                raise ValueError("xy holds NaN or infinite values")
        self._x, self._y = x, y
        self._scratch: Scratch | None = None
        self._colors = None
        self._source = uniform_source(_pack_one(DEFAULT_RGBA))
        self._view = None
        self._bump(np.zeros(0, dtype=np.int32))
        return bounds

    def steps(self, x_range, y_range, width: int, height: int, radius: int,
              slice_points: int | None = None) -> Iterator[None]:
        """:func:`view_steps` over these points; :meth:`install` what it returns."""
        if self._scratch is None:
            self._scratch = Scratch(self.n)
        return view_steps(self._x, self._y, x_range, y_range, width, height, radius, slice_points,
                          self._scratch)

    def set_view(self, x_range, y_range, width: int, height: int, radius: int) -> None:
        """Map and install a view at once (about 40 ms at 1e6 points on an idle core)."""
        self.install(_run(self.steps(x_range, y_range, width, height, radius)))

    def install(self, view: _View) -> None:
        """Make ``view`` (from :meth:`steps` over the current points) the drawn one."""
        self._view = view
        self._bump(view.owners)
        self._owner_colors = self._source(view.owners)

    def _bump(self, owners: np.ndarray) -> None:
        self._revision += 1
        self._owners = VisibleOwners(self._revision, owners)

    def visible_owners(self) -> VisibleOwners:
        """The points owning a pixel of the installed view, with the view's revision."""
        return self._owners

    def set_colors(self, packed: np.ndarray) -> None:
        """Every point's ``(N,)`` uint32 premultiplied ARGB colour (kept, not copied)."""
        self._colors = packed
        self._source = packed.__getitem__
        self._owner_colors = packed[self._owners.indices]

    def set_owner_colors(self, revision: int, packed: np.ndarray, source: ColorSource) -> bool:
        """Colours of the visible owners of ``revision``; ``source`` colours any other rows.

        Returns True when ``packed`` was used, False when it was made for another revision
        and the current owners were coloured by ``source`` instead.

        Raises
        ------
        ValueError
            If ``packed`` is for this revision but not one uint32 per owner.
        """
        self._colors = None
        self._source = source
        owners = self._owners.indices
        if revision == self._owners.revision:
            packed = np.asarray(packed)
            if packed.dtype != np.uint32 or packed.shape != owners.shape:
                raise ValueError(f"owner colours must be uint32 of shape {owners.shape}, "
                                 f"got {packed.dtype} {packed.shape}")
            self._owner_colors = packed
            return True
        self._owner_colors = source(owners)
        return False

    def render(self) -> np.ndarray:
        """The ``(height, width)`` uint32 ARGB32-premultiplied image (a fresh array).

        One gather and one scatter over the covered pixels (~1-3 ms at 1e6 points in a
        1250x780 view); uncovered pixels stay 0, transparent, so grid and background show.
        """
        if self._view is None:
            return np.zeros((0, 0), dtype=np.uint32)
        return self._image(self._view, self._owner_colors)

    def render_view(self, x_range, y_range, width: int, height: int, radius: int) -> np.ndarray:
        """The ``(height, width)`` image of another view (an export), leaving this view as it is."""
        view = _run(self.steps(x_range, y_range, width, height, radius))
        return self._image(view, self._source(view.owners))

    @staticmethod
    def _image(view: _View, owner_colors: np.ndarray) -> np.ndarray:
        h, w = view.shape
        img = np.zeros(h * w, dtype=np.uint32)
        img[view.pixels] = owner_colors[view.slot]
        return img.reshape(h, w)

    def nearest(self, x: float, y: float, max_pixels: float) -> int | None:
        """The point closest to ``(x, y)`` within ``max_pixels`` device pixels, or None.

        Looks at the installed view's top point per centre cell around ``(x, y)``, so it finds
        a point that is drawn there, in O(max_pixels²) whatever N.
        """
        view = self._view
        if view is None or self.n == 0:
            return None
        x0, x1, y0, y1, w, h, r = view.key
        if not (w and h and x1 > x0 and y1 > y0):
            return None
        sx, sy = w / (x1 - x0), h / (y1 - y0)
        pad = r + 1
        px, py = (x - x0) * sx + pad, (y1 - y) * sy + pad
        reach = int(np.ceil(max_pixels)) + 1
        grid = view.centres
        c0, c1 = int(np.clip(np.floor(px) - reach, 0, grid.shape[1])), int(np.clip(np.floor(px) + reach + 1, 0, grid.shape[1]))
        r0, r1 = int(np.clip(np.floor(py) - reach, 0, grid.shape[0])), int(np.clip(np.floor(py) + reach + 1, 0, grid.shape[0]))
        cand = grid[r0:r1, c0:c1].ravel()
        cand = cand[cand >= 0]
        if cand.size == 0:
            return None
        d2 = ((self._x[cand] - x) * sx) ** 2 + ((self._y[cand] - y) * sy) ** 2
        best = int(np.argmin(d2))
        return int(cand[best]) if d2[best] <= max_pixels * max_pixels else None
