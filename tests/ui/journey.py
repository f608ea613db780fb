"""What a person does in the journey tests: click a button, step, pick from a combo box."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from gmm_studio.session import RunState

TIMEOUT = 30_000


def click(qtbot, button) -> None:
    """Click ``button``; a disabled one fails the test with the reason its tooltip gives."""
    assert button.isEnabled(), f"{button.objectName()} is disabled: {button.toolTip()}"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def step(qtbot, window) -> None:
    """Click Step and wait until the step has landed, its γ known, and draw."""
    click(qtbot, window.panel.step_button)
    qtbot.waitUntil(lambda: window.session.state is RunState.PAUSED, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.session.shown.responsibilities is not None, timeout=TIMEOUT)
    window.redraw()


def settle(qtbot, window) -> None:
    """Wait until no fit task runs and the shown state's γ is known, then draw."""
    qtbot.waitUntil(lambda: not window.session.state.busy, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.session.shown.responsibilities is not None, timeout=TIMEOUT)
    window.redraw()


def choose(qtbot, combo, key) -> None:
    """Pick the entry whose data is ``key`` with the arrow keys, as a person would."""
    combo.setFocus()
    target = combo.findData(key)
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < target else Qt.Key.Key_Up)


def widget_pos(view, xy) -> QPointF:
    """Where the data point ``xy`` is in ``view``'s widget coordinates."""
    vb = view.getPlotItem().getViewBox()
    return QPointF(view.mapFromScene(vb.mapViewToScene(QPointF(*xy))))
