"""GUI speed: one full redraw at N = 1e5 and 1e6, and the longest event-loop stall during a fit.

Run: ``python benchmarks/bench_gui.py`` (offscreen).  Prints each figure next to its target.

* redraw: recolour the points from responsibilities (blend Σγ·colour, packed to ARGB32 as the
  fit worker does), move K ellipses and the means, refresh the likelihood curve, and ``grab()``
  the window (the paint included);
* stall: a QTimer fires every 10 ms on the GUI thread while EM runs on 1e6 points on the worker
  (as fast as possible); the largest gap between two ticks, minus 10 ms, is the longest stall.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# As gmm_studio.app does for the GUI: one BLAS thread (see app._limit_blas_threads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gmm_studio.core.dataio import dataset_from_array  # noqa: E402
from gmm_studio.core.em import EMData, em_steps  # noqa: E402
from gmm_studio.core.generate import GeneratorSettings, generate  # noqa: E402
from gmm_studio.core.init import check_random_state, initialize  # noqa: E402
from gmm_studio.core.settings import FitSettings  # noqa: E402
from gmm_studio.ui.control_panel import SPEED_MAX  # noqa: E402
from gmm_studio.ui.session_view import point_colors  # noqa: E402
from gmm_studio.ui.main_window import MainWindow  # noqa: E402

K = 10
TARGETS = {100_000: 0.050, 1_000_000: 0.400}
STALL_TARGET = 0.100


def _dispose(app: QApplication, window: MainWindow) -> None:
    """Close and delete ``window`` now, in Qt's order.

    Left to Python's garbage collector, a closed MainWindow's pyqtgraph items are torn down
    while the scene still lays them out, and the next window's construction raises
    "Error calling Python override of QGraphicsWidget::sizeHint()".
    """
    window.close()
    window.deleteLater()
    app.processEvents()


def _data(n: int):
    synth = generate(GeneratorSettings(n_components=K, n_samples=n, shape="rotated", seed=1))
    return dataset_from_array(synth.values, source=f"bench {n}")


def bench_redraw(app: QApplication, n: int, repeats: int = 5) -> tuple[float, float]:
    window = MainWindow(restore_settings=False)
    window.resize(1400, 900)
    window.show()
    window.set_dataset(_data(n))
    window.panel.set_settings(FitSettings(n_components=K, init_params="random_from_data"))
    session = window.session
    x = session.x
    data = EMData(x, "full")
    params = initialize(data, x, K, "random_from_data", check_random_state(0), 1e-6)
    snaps = list(em_steps(data, params, max_iter=3))
    window.show_model(params)
    window.redraw()
    window.grab()
    app.processEvents()
    times, blends = [], []
    for r in range(repeats):
        snap = snaps[1 + (r % (len(snaps) - 1))]
        t0 = time.perf_counter()
        point_colors(snap.responsibilities, window.drawing.palette, "blend")
        t1 = time.perf_counter()
        # what the session does with each snapshot a fit yields
        session.history.append(snap)
        session.snapshot_added.emit(snap)
        session.shown.refresh()
        window.redraw()
        window.grab()
        times.append(time.perf_counter() - t0)
        blends.append(t1 - t0)
    _dispose(app, window)
    return float(np.median(times)), float(np.median(blends))


def bench_stall(app: QApplication, n: int = 1_000_000, max_iter: int = 12) -> tuple[float, int]:
    window = MainWindow(restore_settings=False)
    window.resize(1400, 900)
    window.show()
    window.set_dataset(_data(n))
    window.panel.set_settings(FitSettings(n_components=K, init_params="random_from_data",
                                          max_iter=max_iter, tol=0.0))
    window.panel.speed_slider.setValue(SPEED_MAX)
    # Let the layout settle (axes widen to their tick labels on the first paint) and make the
    # first raster of the points (once per dataset and view size): neither is EM's doing.
    for _ in range(3):
        window.grab()
        app.processEvents()
    window.data_view.cloud.refresh()  # skip PointCloud's throttle: raster the settled view now
    clock = QElapsedTimer()
    gaps: list[float] = []
    last = [0]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append((now - last[0]) / 1000.0)
        last[0] = now

    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(tick)
    loop = QEventLoop()
    window.fit_finished.connect(loop.quit)
    clock.start()
    probe.start()
    window.run_fit()
    loop.exec()
    probe.stop()
    _dispose(app, window)
    stall = max(gaps) - 0.010 if gaps else float("nan")
    return stall, len(gaps)


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"GMM Studio GUI benchmark (K = {K}, offscreen, window 1400x900)")
    print(f"{'measure':<44}{'measured':>12}{'target':>12}")
    for n, target in TARGETS.items():
        t, blend = bench_redraw(app, n)
        ok = "ok" if t <= target else "SLOW"
        print(f"{f'full redraw incl. grab(), N = {n:.0e}':<44}{1000 * t:>10.1f} ms{1000 * target:>9.0f} ms  {ok}")
        print(f"{f'  of which colours (blend, pack), N = {n:.0e}':<44}{1000 * blend:>10.1f} ms"
              "   (on the worker thread during a fit)")
    stall, ticks = bench_stall(app)
    ok = "ok" if stall <= STALL_TARGET else "SLOW"
    print(f"{'longest GUI stall during EM, N = 1e6':<44}{1000 * stall:>10.1f} ms{1000 * STALL_TARGET:>9.0f} ms  {ok}"
          f"   ({ticks} probe ticks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
