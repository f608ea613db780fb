"""The point cloud's GUI-thread costs at 1e6 and 1e7 points, ours beside a reference.

Run: ``python benchmarks/bench_gui.py [--sizes 1e6 1e7]`` (offscreen; public API only).  One
``PointCloud`` in a ``PlotWidget`` whose data area is about the main window's (1250 x 780).

* **recolour**, per EM snapshot: the *full path* (the reference) colours every point from the
  responsibilities (``packed_colors(γ, palette)``, on the fit worker) and hands them to
  ``set_colors``; the *owner path* colours only ``visible_owners().indices``
  (``packed_colors(γ, palette, rows=...)``, on the worker) and hands them to
  ``set_owner_colors``.  Printed: the worker's part, the GUI thread's call, and the call plus
  a paint (``grab()``), medians of 5.  Target: GUI thread O(pixels), a few ms at any N.
* **set_points** and a **view change** (pan, then zoom): the longest time the GUI thread is
  held at once (above 1e6 points a view is mapped in slices, one per event-loop turn) and the
  time until the new view is drawn; beside the previous way (a point-major owner map, or one
  footprint offset at a time above 1.3e6 points, and a KD-tree for hovering), timed here on
  the same points.  Target: no hold over ~100 ms.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as gmm_studio.app does

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gmm_studio.ui.colors import component_palette, packed_colors  # noqa: E402
from gmm_studio.ui.point_cloud import PointCloud  # noqa: E402
from gmm_studio.ui.raster import footprint  # noqa: E402

K = 10
REPEATS = 5
HOLD_TARGET_MS = 100.0


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * np.pi, K, endpoint=False)
    centres = 10 * np.column_stack([np.cos(angles), np.sin(angles)])
    xy = centres[rng.integers(0, K, n)] + rng.normal(0.0, 1.5, (n, 2))
    resp = rng.random((n, K)) ** 4
    resp /= resp.sum(axis=1, keepdims=True)
    return xy, resp


def _median_ms(fn) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def _previous_view(xy: np.ndarray, x_range, y_range, width: int, height: int, r: int = 1) -> None:
    """The former owner map, kept here as the reference: every footprint pixel written."""
    pad, wp = 2 * r, width + 4 * r
    fx = (xy[:, 0] - x_range[0]) * (width / (x_range[1] - x_range[0]))
    fy = (y_range[1] - xy[:, 1]) * (height / (y_range[1] - y_range[0]))
    inside = (fx >= -r) & (fx < width + r) & (fy >= -r) & (fy < height + r)
    sel = np.flatnonzero(inside)
    centre = (np.floor(fy[sel]).astype(np.intp) + pad) * wp + np.floor(fx[sel]).astype(np.intp) + pad
    offsets = (footprint(r) @ np.array([wp, 1])).astype(np.intp)
    owner = np.full((height + 2 * pad) * wp, -1, dtype=np.int32)
    ids = sel.astype(np.int32)
    if centre.shape[0] * offsets.shape[0] <= 12_000_000:
        owner[centre[:, None] + offsets[None, :]] = ids[:, None]
    else:
        for off in offsets:
            owner[centre + off] = ids
    owner = owner.reshape(height + 2 * pad, wp)[pad : pad + height, pad : pad + width].ravel()
    pixels = np.flatnonzero(owner >= 0)
    owner[pixels]


class _HoldMeter:
    """Longest single GUI-thread hold while a view change is drawn, from a 1 ms probe."""

    def __init__(self, app: QApplication) -> None:
        self.app = app

    def view_change(self, widget, cloud: PointCloud, change) -> tuple[float, float]:
        """(longest hold, time until drawn) in ms for ``change()`` of the view."""
        before = cloud.visible_owners().revision
        t0 = time.perf_counter()
        change()
        last, longest = t0, 0.0
        widget.repaint()  # the paint that starts the mapping
        while cloud.visible_owners().revision == before:
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now
            self.app.processEvents()
        now = time.perf_counter()
        return 1000 * max(longest, now - last), 1000 * (now - t0)


def bench_size(app: QApplication, n: int) -> None:
    xy, resp = _data(n)
    palette = component_palette(K)
    widget = pg.PlotWidget(background="w")
    widget.resize(1320, 840)
    widget.show()
    app.processEvents()
    cloud = PointCloud(widget.getPlotItem())
    print(f"\nN = {n:.0e}")

    t0 = time.perf_counter()
    cloud.set_points(xy)
    ours = 1000 * (time.perf_counter() - t0)
    ref = ""
    if n <= 2_000_000:  # a KD-tree of 1e7 points takes ~25 s here
        from scipy.spatial import cKDTree

        t0 = time.perf_counter()
        cKDTree(xy)
        ref = f"   previous way (+ KD-tree for hover): {1000 * (time.perf_counter() - t0) + ours:8.1f} ms"
    print(f"  set_points                          {ours:8.1f} ms{ref}")
    t0 = time.perf_counter()
    cloud.refresh()
    print(f"  first view, at once (refresh)       {1000 * (time.perf_counter() - t0):8.1f} ms")
    vb = widget.getPlotItem().getViewBox()
    meter = _HoldMeter(app)
    for name, change in (("pan", lambda: vb.translateBy(x=0.5, y=0.3)),
                         ("zoom", lambda: vb.scaleBy((0.8, 0.8)))):
        hold, total = meter.view_change(widget, cloud, change)
        (x0, x1), (y0, y1) = vb.viewRange()
        w, h = int(vb.width()), int(vb.height())
        t0 = time.perf_counter()
        _previous_view(xy, (x0, x1), (y0, y1), w, h)
        previous = 1000 * (time.perf_counter() - t0)
        ok = "ok" if hold <= HOLD_TARGET_MS else "OVER"
        print(f"  {name}: longest GUI hold {hold:8.1f} ms (target <= {HOLD_TARGET_MS:.0f}) {ok:4}  drawn after "
              f"{total:7.1f} ms;   previous way, all at once: {previous:8.1f} ms")

    owners = cloud.visible_owners()
    print(f"  visible owners: {len(owners.indices):,} of {n:,} points")
    full_worker = _median_ms(lambda: packed_colors(resp, palette))
    full = packed_colors(resp, palette)
    full_gui = _median_ms(lambda: cloud.set_colors(full))
    full_paint = _median_ms(lambda: (cloud.set_colors(full), widget.grab()))
    source = functools.partial(_rows, resp, palette)
    owner_worker = _median_ms(lambda: packed_colors(resp, palette, rows=owners.indices))
    sub = packed_colors(resp, palette, rows=owners.indices)
    owner_gui = _median_ms(lambda: cloud.set_owner_colors(owners.revision, sub, source))
    owner_paint = _median_ms(lambda: (cloud.set_owner_colors(owners.revision, sub, source), widget.grab()))
    stale = _median_ms(lambda: cloud.set_owner_colors(-1, sub, source))
    print(f"  recolour        {'worker':>12}{'GUI call':>12}{'GUI + paint':>14}")
    print(f"  full (ref.)     {full_worker:>9.1f} ms{full_gui:>9.1f} ms{full_paint:>11.1f} ms")
    print(f"  owners          {owner_worker:>9.1f} ms{owner_gui:>9.1f} ms{owner_paint:>11.1f} ms")
    print(f"  owners, stale: recoloured on the GUI thread from the source {stale:.1f} ms")
    widget.close()
    widget.deleteLater()
    app.processEvents()


def _rows(resp, palette, rows):
    return packed_colors(resp, palette, rows=rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"bench_gui: PointCloud, K = {K}, offscreen; load average "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores")
    for n in args.sizes:
        bench_size(app, int(n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
