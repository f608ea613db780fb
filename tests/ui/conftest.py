"""Shared fixtures for the UI tests (offscreen Qt; see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path):
    """Point QSettings (INI format, which the program uses) at a fresh directory per test,
    so tests never read or write the user's settings."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "settings"))
    yield


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail a test that leaves any worker thread running — fit, load, sweep or generation
    (windows must join them through their runner)."""
    yield
    from gmm_studio.ui.tasks import running_tasks

    running = running_tasks()
    assert not running, f"task(s) still running after the test: {running}"


@pytest.fixture
def runner(qtbot):
    """A task runner of its own for a panel tested outside the window; joined afterwards."""
    from gmm_studio.ui.tasks import QtRunner

    r = QtRunner()
    yield r
    assert r.join_all(timeout=30)


@pytest.fixture
def make_window(qtbot):
    """The one window factory: ``make_window(argv=None, dataset=None, settings=None,
    speed=SPEED_MAX, size=(1100, 750))`` builds a shown main window through
    :func:`gmm_studio.app.build_window` (``--no-fit`` unless ``argv`` says otherwise) and closes
    it after the test, which joins its tasks."""
    from gmm_studio.app import build_window
    from gmm_studio.core.settings import FitSettings
    from gmm_studio.ui.control_panel import SPEED_MAX

    windows = []

    def make(argv=None, dataset=None, settings=FitSettings(n_components=3, init_params="kmeans", seed=1),
             speed=SPEED_MAX, size=(1100, 750)):
        window = build_window(["--no-fit"] if argv is None else argv)
        qtbot.addWidget(window)
        windows.append(window)
        window.resize(*size)
        window.show()
        if dataset is not None:
            window.set_dataset(dataset)
        if settings is not None:
            window.panel.set_settings(settings)
        if speed is not None:
            window.panel.speed_slider.setValue(speed)
        return window

    yield make
    for window in windows:
        window.close()


def _blobs(n=300, seed=0, labels=False):
    """Three round, well separated clusters in 2-D (optionally with their labels)."""
    import numpy as np

    from gmm_studio.core.dataio import dataset_from_array

    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    x = np.vstack([rng.normal(c, 0.7, size=(n // 3, 2)) for c in centres])
    y = np.repeat(["a", "b", "c"], n // 3) if labels else None
    return dataset_from_array(x, labels=y, source="test")


@pytest.fixture
def blobs():
    """``blobs(n=300, seed=0, labels=False)``: three separated 2-D clusters as a Dataset."""
    return _blobs


@pytest.fixture
def window(make_window):
    """A shown window on three blobs, K = 3 k-means, fastest speed."""
    return make_window(dataset=_blobs())


@pytest.fixture
def no_mouse_rate_limit():
    """pyqtgraph drops moves closer than 10 ms apart; synthetic moves come faster."""
    import pyqtgraph as pg

    old = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    yield
    pg.setConfigOptions(mouseRateLimit=old)


class Mouse:
    """Synthetic left-button mouse events sent to a ``QGraphicsView``'s viewport (a plot widget)."""

    def __init__(self, view) -> None:
        self.view = view

    def _send(self, kind, pos, button, buttons) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        event = QMouseEvent(kind, pos, self.view.viewport().mapToGlobal(pos), button, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(self.view.viewport(), event)

    def move(self, pos, pressed: bool = False) -> None:
        from PySide6.QtCore import QEvent, Qt

        buttons = Qt.MouseButton.LeftButton if pressed else Qt.MouseButton.NoButton
        self._send(QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, buttons)

    def press_and_move(self, start, end, steps: int = 6) -> None:
        """Press at widget position ``start`` and move to ``end`` in ``steps`` whole-pixel moves."""
        from PySide6.QtCore import QEvent, QPointF, Qt

        left = Qt.MouseButton.LeftButton
        self.move(start)
        self._send(QEvent.Type.MouseButtonPress, start, left, left)
        for i in range(1, steps + 1):
            self.move(QPointF((start + (end - start) * (i / steps)).toPoint()), pressed=True)

    def release(self, pos) -> None:
        from PySide6.QtCore import QEvent, Qt

        self._send(QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)

    def drag(self, start, end, steps: int = 6) -> None:
        self.press_and_move(start, end, steps)
        self.release(end)


@pytest.fixture
def mouse(no_mouse_rate_limit):
    """``mouse(view)``: a :class:`Mouse` for that view, with pyqtgraph's move rate limit off."""
    return Mouse


@pytest.fixture
def shown(qtbot):
    """``shown(widget, width, height)``: the widget resized, shown and exposed (closed after the test)."""
    def show(widget, width: int = 640, height: int = 520):
        qtbot.addWidget(widget)
        widget.resize(width, height)
        widget.show()
        qtbot.waitExposed(widget)
        return widget
    return show


@pytest.fixture(scope="session")
def _gui_thread_collector(qapp):
    import gc

    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=3600.0)  # checked after every test, below
    yield collector
    collector.timer.stop()
    gc.enable()


@pytest.fixture(autouse=True)
def garbage_collected_on_the_gui_thread(_gui_thread_collector):
    """Collect cyclic garbage here, on the GUI thread, never on a worker: collected on a
    runner thread, a leftover widget's destructor waited for the GIL the GUI thread held
    (the suite hung).  The program does the same (gmm_studio.app): automatic collection is
    off, and the generations are collected as their thresholds are passed, after each test."""
    import gc

    gc.disable()  # a window built by the test installs the program's collector, which keeps it off
    yield
    _gui_thread_collector.check()
