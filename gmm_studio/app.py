"""Composition root: arguments, QApplication, MainWindow.

``gmm-studio [FILE | --data FILE] [--screenshot OUT.png] [--no-fit]`` opens the window;
``gmm-studio fit|generate|sweep ...`` runs the command line (:mod:`gmm_studio.cli`) without
importing Qt.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
from collections.abc import Sequence

CLI_COMMANDS = ("fit", "generate", "sweep")

__all__ = ["CLI_COMMANDS", "build_window", "main", "parse_arguments"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gmm-studio",
        description="Watch Expectation-Maximization fit a Gaussian mixture. "
        f"Command-line tools: gmm-studio {{{','.join(CLI_COMMANDS)}}} --help.",
    )
    parser.add_argument("--data", metavar="FILE",
                        help="open this data file at start (.npy of shape (N, D), or .csv/.tsv/.txt)")
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="build the window offscreen, fit to convergence, save a PNG, exit")
    parser.add_argument("--no-fit", action="store_true",
                        help="do not start a fit automatically at start-up")
    parser.add_argument("file", nargs="?", metavar="FILE",
                        help="the same as --data FILE: `gmm-studio mydata.csv` opens it")
    return parser


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse GUI arguments; bad ones exit with status 2 and a message (argparse)."""
    parser = _parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.file and args.data:
        parser.error("give the data file once: either FILE or --data FILE")
    args.data = args.data or args.file
    return args


def build_window(argv: Sequence[str] | None = None):
    """The main window for these arguments, without entering the event loop.

    A ``QApplication`` must exist.  Loads ``--data`` (or the demo), and unless ``--no-fit`` or
    ``--screenshot`` is given, schedules a fit to start once the event loop runs.  A CSV-like
    file opens through the import dialog when the event loop runs (no fit starts by itself);
    a ``.npy`` file, and any file with ``--screenshot``, is loaded at once.
    """
    args = parse_arguments([] if argv is None else argv)
    return _build(args)


_garbage_collector = None
#: When the scipy modules a first fit needs are imported on the runner (ms after the event loop starts).
_PRELOAD_MS = 250


def _collect_garbage_on_the_gui_thread() -> None:
    """Python's cyclic garbage collector runs on whichever thread happens to allocate: on a
    worker it may destroy a Qt object there, whose destructor then waits for the GIL the GUI
    thread holds (a deadlock seen in the test suite).  pyqtgraph's GarbageCollector turns
    automatic collection off and collects from a 1 s timer on the GUI thread instead.  Once
    per process; GUI thread."""
    global _garbage_collector
    if _garbage_collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _garbage_collector = GarbageCollector(interval=1.0)
    gc.disable()  # again, should anything have turned it back on since


def _preload(window, preload) -> None:
    if window.isVisible():
        window.runner.start("preload", lambda cancel: preload())
        _freeze_start_up_objects(window)


def _freeze_start_up_objects(window) -> None:
    """Move every object start-up made (modules, the window's widgets and plot items: ~1e5)
    out of the collector's sight until the window goes (``gc.freeze``).  The collector's timer
    (above) ran a full collection every tenth check, 60-77 ms on the GUI thread whenever it
    came (a fit, a drag); the first one of the middle generation after start-up, ~20-30 ms,
    came during the first fit (benchmarks/bench_stall.py).  Frozen objects are still freed
    by reference counting; only cycles among them wait for the window to close.  GUI thread."""
    gc.freeze()
    window.destroyed.connect(lambda *_: gc.unfreeze())


def _build(args: argparse.Namespace):
    from PySide6.QtCore import QTimer

    from gmm_studio.core.init import preload_fit_modules
    from gmm_studio.core.parallel import set_background_priority, set_worker_count
    from gmm_studio.ui.main_window import MainWindow

    # EM's threads run below the GUI thread's priority and leave it a core, so the window
    # answers at once (benchmarks/bench_stall.py: longest gap 267 ms before, ~30 ms after;
    # one engine worker beside the GUI was also faster than two on 2 cores).  Nice +2, not
    # more: at +5 a fit beside other busy programs got a quarter of a core (3:1 weights) and
    # took 1.8x the engine alone where +2 took 1.3x, with the same stalls (load average 4).
    set_background_priority(2)
    _collect_garbage_on_the_gui_thread()
    set_worker_count(max(1, (os.cpu_count() or 2) - 1))

    window = MainWindow(restore_settings=args.screenshot is None)
    # After the first paint (start-up), before the person's first Run (a fit started sooner
    # waits for the imports instead of doing them); not for a window closed by then.
    QTimer.singleShot(_PRELOAD_MS, window, functools.partial(_preload, window, preload_fit_modules))
    if args.data and args.screenshot is None and not args.data.lower().endswith(".npy"):
        # A table has choices to make (columns, label column, missing values): open it
        # through the import dialog once the window runs, over the demo as a backdrop.
        window.load_demo()
        QTimer.singleShot(0, functools.partial(window.file_actions.open_path, args.data))
        return window
    if args.data:
        from gmm_studio.core.dataio import DataError, load_dataset

        try:
            dataset = load_dataset(args.data)
        except (DataError, OSError) as exc:
            window.close()
            raise SystemExit(f"gmm-studio: cannot open {args.data}: {exc}") from None
        window.set_dataset(dataset)
    else:
        window.load_demo()
    if not args.no_fit and args.screenshot is None:
        QTimer.singleShot(400, window.run_fit)
    return window


def _limit_blas_threads() -> None:
    """One BLAS thread for the GUI process, unless the person chose otherwise.

    The window already runs EM on its own thread next to the GUI thread; OpenBLAS's extra
    threads then fight them for the cores.  Measured here under load: an (N, K) @ (K, 3)
    colour blend at N = 1e6 took 0.36 s with the default threads and 10 ms with one.
    Must run before numpy is first imported.
    """
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _no_display() -> bool:
    """True on Linux/BSD when no X11 or Wayland display is reachable and Qt was not told otherwise."""
    return (sys.platform.startswith(("linux", "freebsd")) and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"))


def _run_gui(argv: list[str]) -> int:
    args = parse_arguments(argv)
    if "numpy" not in sys.modules:
        _limit_blas_threads()
    if args.screenshot and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if _no_display():
        print("gmm-studio: no display found (DISPLAY and WAYLAND_DISPLAY are unset). Run it in a "
              "desktop session, or save a picture headless with: gmm-studio --screenshot out.png",
              file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "gmm-studio"])
    app.setOrganizationName("GMM Studio")
    app.setApplicationName("GMM Studio")
    try:
        window = _build(args)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.screenshot:
        return screenshot(window, args.screenshot)
    window.show()
    # SIGTERM (a logout, `kill`) removes the temporary files of an export in progress before
    # the program ends; Python runs the handler at the GUI thread's next Python call (the
    # garbage-collection timer makes one every second).
    from gmm_studio.core.export import temp_files_removed_on_termination

    with temp_files_removed_on_termination():
        return app.exec()


def screenshot(window, path: str, timeout_ms: int = 120_000) -> int:
    """Fit as fast as possible to the end, then save ``window.grab()`` to ``path``.

    Returns 0 when the picture was written (after a timeout it is still written, with 1).
    """
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from gmm_studio.ui.control_panel import SPEED_MAX

    window.resize(1400, 900)
    window.show()
    window.panel.speed_slider.setValue(SPEED_MAX)
    loop = QEventLoop()
    finished = []
    window.fit_finished.connect(lambda snap: (finished.append(snap), loop.quit()))
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(timeout_ms)
    window.run_fit()
    if window.is_fitting():
        loop.exec()
    # the points' colours (and a histogram's split) are made on the runner: wait for the last ones
    window.redraw()
    while not (window.drawing.colors_up_to_date() and window.histogram_drawing.up_to_date()) \
            and timer.isActive():
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    window.redraw()
    window.data_view.cloud.refresh()
    ok = window.grab().save(path)
    window.close()
    if not ok:
        print(f"gmm-studio: could not write {path}", file=sys.stderr)
        return 1
    return 0 if finished else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: CLI commands without Qt, otherwise the window."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in CLI_COMMANDS:
        from gmm_studio import cli

        return int(cli.main(argv) or 0)
    return int(_run_gui(argv) or 0)


if __name__ == "__main__":
    sys.exit(main())
