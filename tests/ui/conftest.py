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
    (windows and panels must stop and join them)."""
    yield
    from gmm_studio.ui import threads

    running = threads.running_threads()
    names = [thread.objectName() for thread in running]
    for thread in running:  # do not let one leak poison the next tests
        threads.join(thread, timeout_ms=5000)
    assert not running, f"{len(running)} thread(s) still running after the test: {names}"


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
