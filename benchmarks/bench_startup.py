"""Start-up: seconds from process start to the first painted window, beside a bare pyqtgraph window.

Run: ``python benchmarks/bench_startup.py [--runs N]`` from the repository root.  Offscreen
unless a display is set.  Each run starts a fresh interpreter:

* ``gmm-studio``: exactly ``python -m gmm_studio`` (no arguments: the demo data);
* ``bare pyqtgraph``: ``import pyqtgraph``, a ``QApplication`` and one shown ``PlotWidget``.

The two alternate (so a busy moment hurts both alike); the figure is the median per program,
and their ratio against the target (at most 1.5x the bare window).

How the first paint is seen without changing the program: the child replaces
``QApplication`` by a subclass whose application-wide event filter notes the first Paint
event of any widget in a top-level window, prints the wall-clock time and ends the process at
once.  The parent takes the time just before it starts the child, so interpreter start-up
and every import are counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import sys
import time

TARGET_RATIO = 1.5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _install_first_paint_probe() -> None:
    """Make every QApplication report the first paint of a shown window and exit."""
    from PySide6 import QtWidgets
    from PySide6.QtCore import QEvent, QObject

    class _FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and obj.isWidgetType() and obj.window().isVisible():
                print(f"painted {time.time():.6f}", flush=True)
                os._exit(0)  # no teardown: the figure is time to first paint
            return False

    base = QtWidgets.QApplication

    class _ProbedApplication(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._first_paint = _FirstPaint()
            self.installEventFilter(self._first_paint)

    QtWidgets.QApplication = _ProbedApplication


def _child(which: str) -> None:
    _install_first_paint_probe()
    if which == "bare":
        import pyqtgraph as pg
        from PySide6.QtWidgets import QApplication

        app = QApplication([sys.argv[0]])
        widget = pg.PlotWidget()
        widget.show()
        app.exec()
    else:
        import runpy

        sys.argv = ["gmm_studio"]
        runpy.run_module("gmm_studio", run_name="__main__", alter_sys=True)
    raise SystemExit("the window was never painted")


_PYCACHE = os.path.join(tempfile.gettempdir(), "gmm_studio_bench_startup_pycache")


def _one_run(which: str, root: str) -> float:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    # Started as installed, from compiled modules: with PYTHONDONTWRITEBYTECODE (set on this
    # machine) every run recompiled the program's 50-odd modules (~0.1 s) while the bare
    # window's pyqtgraph came compiled.  The uncounted warm-up runs fill this cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE
    start = time.time()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", which], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("painted "):
            return float(line.split()[1]) - start
    raise RuntimeError(f"{which}: no paint reported\n{out.stdout}\n{out.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per program (default 5)")
    parser.add_argument("--root", default=ROOT,
                        help="the checkout whose gmm_studio is started (default: this one)")
    parser.add_argument("--child", choices=("app", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return 0
    times: dict[str, list[float]] = {"app": [], "bare": []}
    _one_run("bare", args.root)  # warm the file cache for both, uncounted
    _one_run("app", args.root)
    for _ in range(args.runs):
        for which in ("bare", "app"):
            times[which].append(_one_run(which, args.root))
    app, bare = statistics.median(times["app"]), statistics.median(times["bare"])
    print(f"first painted window, median of {args.runs} alternating runs ({args.root})")
    print(f"  gmm-studio (python -m gmm_studio) {app:6.2f} s   runs: " + " ".join(f"{t:.2f}" for t in times["app"]))
    print(f"  bare pyqtgraph PlotWidget        {bare:6.2f} s   runs: " + " ".join(f"{t:.2f}" for t in times["bare"]))
    verdict = "meets" if app / bare <= TARGET_RATIO else "misses"
    print(f"  ratio {app / bare:.2f}x (target <= {TARGET_RATIO}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
