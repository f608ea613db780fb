"""Time the density layer beside one PointCloud recolour, measured in the same run.

Reported (median of REPEATS after a warm-up):

* ``density_grid``: log p(x) of a K = 10 mixture on the 200×200 grid the layer draws
  (2-D, and a 5-D mixture projected on two principal components);
* the layer's whole update: the grid plus ``ImageItem.setImage`` with the colour map;
* the reference: one :meth:`PointCloud.set_colors` of 1e5 points (what every EM redraw pays);
* for the record, the same grid's log π_k N(x | μ_k, Σ_k) (``EMData.weighted_log_prob``) alone
  and followed by a numpy max-shifted log-sum-exp over a (K, N) copy: most of ``density_grid``'s
  time is ``scipy.special.logsumexp`` in ``EMData.log_prob_norm``, which this would save.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_density.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402

from gmm_studio.core.density import density_grid  # noqa: E402
from gmm_studio.core.em import EMData  # noqa: E402
from gmm_studio.core.geometry import Projection  # noqa: E402
from gmm_studio.core.params import MixtureParams  # noqa: E402
from gmm_studio.ui.colors import blend_colors, component_palette  # noqa: E402
from gmm_studio.ui.data_view import DataView  # noqa: E402

K = 10
N_POINTS = 100_000
SIDE = 200
REPEATS = 7


def _median_ms(fn, repeats: int = REPEATS) -> float:
    fn(0)  # warm-up
    times = []
    for i in range(1, repeats + 1):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def _mixture(d: int, rng: np.random.Generator) -> MixtureParams:
    a = rng.normal(size=(K, d, d))
    covs = a @ np.swapaxes(a, 1, 2) + 0.2 * np.eye(d)
    return MixtureParams("full", np.full(K, 1.0 / K), rng.normal(scale=4.0, size=(K, d)), covs)


def main() -> None:
    pg.mkQApp()
    rng = np.random.default_rng(0)
    bounds = (-8.0, 8.0, -8.0, 8.0)
    plane, five = _mixture(2, rng), _mixture(5, rng)
    projection = Projection.pca(rng.normal(size=(500, 5)))

    grid_2d = _median_ms(lambda i: density_grid(plane, bounds, (SIDE, SIDE)))
    grid_5d = _median_ms(lambda i: density_grid(five, bounds, (SIDE, SIDE), projection))
    xs = np.linspace(bounds[0], bounds[1], SIDE)
    points = np.column_stack([np.tile(xs, SIDE), np.repeat(xs, SIDE)])
    weighted = _median_ms(lambda i: EMData(points, "full").weighted_log_prob(plane))

    def numpy_lse(i):
        # (K, N) so every reduction runs across N: a max over rows of 10 costs 7× more.
        w = np.ascontiguousarray(EMData(points, "full").weighted_log_prob(plane).T)
        top = w.max(axis=0)
        w -= top
        np.exp(w, out=w)
        return np.log(w.sum(axis=0)) + top

    with_numpy_lse = _median_ms(numpy_lse)

    view = DataView()
    view.resize(800, 600)
    view.show()
    xy = rng.normal(scale=4.0, size=(N_POINTS, 2))
    view.set_points(xy, ("x", "y"))
    palette = component_palette(K)
    view.set_palette(palette)
    view.set_density_visible(True)
    moved = [MixtureParams("full", plane.weights, plane.means + 0.01 * j, plane.covariances) for j in range(2)]
    layer = _median_ms(lambda i: view.set_density_params(moved[i % 2]))  # a real change every call
    resps = [rng.dirichlet(np.full(K, 0.3), N_POINTS) for _ in range(2)]
    colours = [blend_colors(r, palette) for r in resps]
    recolour = _median_ms(lambda i: view.set_colors(colours[i % 2]))
    view.close()

    print(f"K = {K}, {SIDE}×{SIDE} grid; median of {REPEATS} (ms)")
    print(f"  density_grid, 2-D mixture                 {grid_2d:7.2f}")
    print(f"  density_grid, 5-D mixture projected        {grid_5d:7.2f}")
    print(f"  density layer update (grid + setImage)     {layer:7.2f}")
    print(f"  reference: PointCloud recolour, {N_POINTS:.0e} points {recolour:7.2f}")
    print(f"  for the record: weighted_log_prob alone      {weighted:7.2f}")
    print(f"  for the record: + numpy log-sum-exp         {with_numpy_lse:7.2f}")


if __name__ == "__main__":
    main()
