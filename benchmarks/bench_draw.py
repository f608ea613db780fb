"""Time one full redraw of the scatter view for each way of drawing per-point colours.

A redraw is what the GUI does per EM snapshot: compute the points' colours from the
responsibilities (``blend_colors``), hand them to the point item, move 10 covariance ellipses
(PlotCurveItems of 100 vertices) and a 100-point likelihood curve, then ``widget.grab()``,
which renders the whole plot synchronously. Reported: median of 5 redraws after one warm-up.

Candidates
----------
ref      ScatterPlotItem, one QBrush per point (the known slow path; 1e4 only).
a        ScatterPlotItem, a palette of 216 prebuilt brushes indexed by quantised colour.
b        One ScatterPlotItem per colour bin (216 bins), points regrouped every redraw.
c        Rasterised with numpy, shown by pg.ImageItem positioned with setRect.
d        PointCloud (gmm_studio.ui.point_cloud): same raster, blitted 1:1 in device pixels by
         its own item as premultiplied ARGB32, no ImageItem conversion.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_draw.py [--sizes 1e4 1e5 1e6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from pyqtgraph.Qt import QtCore, QtGui  # noqa: E402

from gmm_studio.ui.colors import blend_colors, component_palette  # noqa: E402
from gmm_studio.ui.point_cloud import PointCloud, Rasteriser, dot_radius_for  # noqa: E402

K = 10
WIDTH, HEIGHT = 800, 600
REPEATS = 5
LEVELS = 6  # quantisation levels per channel for candidates a and b: 6**3 = 216 colours
BUDGET_MS = {10**5: 50.0, 10**6: 400.0}
# A scatter candidate is not run at the next size if 10x its last median would exceed this.
SKIP_ABOVE_S = 5.0


# ------------------------------------------------------------------------------- candidates
class ScatterPerPointBrush:
    name = "ref: scatter, QBrush per point"

    def __init__(self, plot: pg.PlotItem, xy: np.ndarray) -> None:
        self.item = pg.ScatterPlotItem(x=xy[:, 0], y=xy[:, 1], size=4, pen=None)
        plot.addItem(self.item)

    def set_colors(self, rgba: np.ndarray) -> None:
        self.item.setBrush([QtGui.QBrush(QtGui.QColor(*c)) for c in rgba.tolist()])


def _quantise(rgba: np.ndarray) -> np.ndarray:
    """Bin index in [0, LEVELS**3) of each colour (nearest level per channel)."""
    q = (rgba[:, :3].astype(np.uint16) * (LEVELS - 1) + 127) // 255
    return (q[:, 0] * LEVELS + q[:, 1]) * LEVELS + q[:, 2]


def _bin_colors() -> list[QtGui.QColor]:
    lv = np.round(np.arange(LEVELS) * 255 / (LEVELS - 1)).astype(int)
    return [QtGui.QColor(int(r), int(g), int(b)) for r in lv for g in lv for b in lv]


class ScatterBrushPalette:
    name = f"a: scatter, {LEVELS**3} prebuilt brushes"

    def __init__(self, plot: pg.PlotItem, xy: np.ndarray) -> None:
        self.brushes = np.array([pg.mkBrush(c) for c in _bin_colors()], dtype=object)
        self.item = pg.ScatterPlotItem(x=xy[:, 0], y=xy[:, 1], size=4, pen=None)
        plot.addItem(self.item)

    def set_colors(self, rgba: np.ndarray) -> None:
        self.item.setBrush(self.brushes[_quantise(rgba)])


class ScatterPerBin:
    name = f"b: {LEVELS**3} scatter items, one per bin"

    def __init__(self, plot: pg.PlotItem, xy: np.ndarray) -> None:
        self.xy = xy
        self.items = []
        for c in _bin_colors():
            item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(c))
            plot.addItem(item)
            self.items.append(item)

    def set_colors(self, rgba: np.ndarray) -> None:
        bins = _quantise(rgba)
        order = np.argsort(bins, kind="stable")
        edges = np.searchsorted(bins[order], np.arange(LEVELS**3 + 1))
        x, y = self.xy[order, 0], self.xy[order, 1]
        for i, item in enumerate(self.items):
            lo, hi = edges[i], edges[i + 1]
            if hi > lo or len(item.data):
                item.setData(x=x[lo:hi], y=y[lo:hi])


class RasterImageItem:
    name = "c: raster -> pg.ImageItem.setRect"

    def __init__(self, plot: pg.PlotItem, xy: np.ndarray) -> None:
        self.vb = plot.getViewBox()
        self.raster = Rasteriser()
        self.raster.set_points(xy)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setZValue(-10)
        plot.addItem(self.item, ignoreBounds=True)
        self.key = None
        self.vb.sigRangeChanged.connect(self._on_view_changed)
        self.vb.sigResized.connect(self._on_view_changed)

    def _on_view_changed(self, *args) -> None:
        self.key = None  # the benchmark never moves the view during the timed redraws

    def set_colors(self, rgba: np.ndarray) -> None:
        from gmm_studio.ui.point_cloud import pack_argb32_premultiplied

        (x0, x1), (y0, y1) = self.vb.viewRange()
        w, h = int(round(self.vb.width())), int(round(self.vb.height()))
        key = (x0, x1, y0, y1, w, h)
        if key != self.key:
            self.raster.set_view((x0, x1), (y0, y1), w, h, dot_radius_for(self.raster.n))
            self.item.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
            self.key = key
        self.raster.set_colors(pack_argb32_premultiplied(rgba))
        argb = self.raster.render()
        # ImageItem wants straight RGBA with row 0 at the bottom (data y0); opaque here, so
        # premultiplied == straight. Little-endian ARGB32 bytes are B, G, R, A.
        bgra = argb.view(np.uint8).reshape(h, w, 4)
        self.item.setImage(bgra[::-1, :, [2, 1, 0, 3]], autoLevels=False)


class PointCloudCandidate:
    name = "d: PointCloud (raster, own blit)"

    def __init__(self, plot: pg.PlotItem, xy: np.ndarray) -> None:
        self.cloud = PointCloud(plot)
        self.cloud.set_points(xy)

    def set_colors(self, rgba: np.ndarray) -> None:
        self.cloud.set_colors(rgba)


# -------------------------------------------------------------------------------- the scene
def _ellipse(theta: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 100)
    c, s = np.cos(theta + k), np.sin(theta + k)
    ex, ey = 1.2 * np.cos(t), 0.6 * np.sin(t)
    cx, cy = 4 * np.cos(2 * np.pi * k / K), 4 * np.sin(2 * np.pi * k / K)
    return cx + c * ex - s * ey, cy + s * ex + c * ey


def _make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    labels = rng.integers(0, K, n)
    ang = 2 * np.pi * labels / K
    xy = np.column_stack([4 * np.cos(ang), 4 * np.sin(ang)]) + rng.normal(0, 0.8, (n, 2))
    resps = []
    for _ in range(2):  # alternate between two so that the colours really change
        resps.append(rng.dirichlet(np.full(K, 0.3), n))
    return xy, resps


def time_candidate(cls, xy: np.ndarray, resps: list[np.ndarray]) -> float:
    """Median ms of one redraw (colours + ellipses + curve + grab) after a warm-up."""
    widget = pg.PlotWidget()
    widget.resize(WIDTH, HEIGHT)
    widget.show()
    plot = widget.getPlotItem()
    plot.setRange(xRange=(-8, 8), yRange=(-8, 8), padding=0)
    plot.disableAutoRange()  # as during a fit: items move, the view does not
    palette = component_palette(K)
    cand = cls(plot, xy)
    pen = pg.mkPen((40, 40, 40), width=1, cosmetic=True)
    ellipses = [pg.PlotCurveItem(pen=pen, skipFiniteCheck=True) for _ in range(K)]
    curve = pg.PlotCurveItem(pen=pg.mkPen("k", width=1), skipFiniteCheck=True)
    for item in ellipses + [curve]:
        plot.addItem(item)
    ll = np.cumsum(np.abs(np.random.default_rng(1).normal(size=100)))
    ll = -7 + 14 * (ll - ll.min()) / (ll.max() - ll.min())

    def redraw(i: int) -> None:
        cand.set_colors(blend_colors(resps[i % 2], palette))
        for k, item in enumerate(ellipses):
            item.setData(*_ellipse(0.1 * i, k))
        curve.setData(np.linspace(-7, 7, 100), ll + 0.01 * i)
        image = widget.grab()
        assert not image.isNull()

    redraw(0)  # warm-up: first paint, fragment atlas, raster mapping
    times = []
    for i in range(1, REPEATS + 1):
        t0 = time.perf_counter()
        redraw(i)
        times.append(time.perf_counter() - t0)
    widget.close()
    widget.deleteLater()
    pg.QtWidgets.QApplication.processEvents()
    return 1000.0 * statistics.median(times)


def time_pan(xy: np.ndarray, resps: list[np.ndarray]) -> float:
    """Median ms of a pan with PointCloud: move the view, re-rasterise positions, grab."""
    widget = pg.PlotWidget()
    widget.resize(WIDTH, HEIGHT)
    widget.show()
    plot = widget.getPlotItem()
    plot.setRange(xRange=(-8, 8), yRange=(-8, 8), padding=0)
    plot.disableAutoRange()
    cloud = PointCloud(plot)
    cloud.set_points(xy)
    cloud.set_colors(blend_colors(resps[0], component_palette(K)))
    widget.grab()
    times = []
    for i in range(REPEATS + 1):
        t0 = time.perf_counter()
        plot.getViewBox().translateBy(x=0.05 * (-1) ** i)
        cloud.refresh()  # what the throttled view handler does during a drag
        widget.grab()
        times.append(time.perf_counter() - t0)
    widget.close()
    widget.deleteLater()
    pg.QtWidgets.QApplication.processEvents()
    return 1000.0 * statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6])
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes]

    pg.mkQApp()
    pg.setConfigOptions(background="w", foreground="k", antialias=False)
    rng = np.random.default_rng(0)
    candidates = [ScatterPerPointBrush, ScatterBrushPalette, ScatterPerBin, RasterImageItem,
                  PointCloudCandidate]
    print(f"Qt {QtCore.qVersion()}, pyqtgraph {pg.__version__}, numpy {np.__version__}, "
          f"platform {os.environ['QT_QPA_PLATFORM']}, widget {WIDTH}x{HEIGHT}, K={K}, "
          f"median of {REPEATS} after 1 warm-up")
    print(f"{'method':<38} {'N':>9} {'median ms':>10} {'vs ref':>8} {'budget':>8}")
    last: dict[str, float] = {}
    for n in sizes:
        xy, resps = _make_data(n, rng)
        ref_ms = None
        for cls in candidates:
            budget = BUDGET_MS.get(n)
            budget_s = f"{budget:.0f}" if budget else "-"
            if cls is ScatterPerPointBrush and n > 10**4:
                print(f"{cls.name:<38} {n:>9} {'skipped':>10}   one QBrush per point: ~9 s per "
                      "redraw at 1e5 (measured before) and crashed PySide6 6.12.0 in paint")
                continue
            prev = last.get(cls.name)
            if prev is not None and prev * 10 / 1000 > SKIP_ABOVE_S and n > 10**5:
                print(f"{cls.name:<38} {n:>9} {'skipped':>10}   would take ~{prev * 10 / 1000:.0f} s"
                      " per redraw (10x its 1e5 figure)")
                continue
            ms = time_candidate(cls, xy, resps)
            last[cls.name] = ms
            if cls is ScatterPerPointBrush:
                ref_ms = ms
            vs = f"{ref_ms / ms:.1f}x" if ref_ms else "-"
            ok = "" if budget is None else (" ok" if ms <= budget else " OVER")
            print(f"{cls.name:<38} {n:>9} {ms:>10.1f} {vs:>8} {budget_s:>8}{ok}", flush=True)
        ms = time_pan(xy, resps)
        print(f"{'d: PointCloud, pan (re-map + grab)':<38} {n:>9} {ms:>10.1f} {'-':>8} {'-':>8}"
              "   once per throttled view change, not per EM step", flush=True)


if __name__ == "__main__":
    main()
