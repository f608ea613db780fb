"""The main window's menu bar, composed from the actions its parts own.

:func:`build_menus` puts the fit actions (:class:`~gmm_studio.ui.fit_controls.FitControls`),
the file actions (:class:`~gmm_studio.ui.file_actions.DataFiles`,
:class:`~gmm_studio.ui.model_files.ModelFiles`,
:class:`~gmm_studio.ui.session_files.SessionFiles`), the view options, the docks and Help into
File, Fit, View, Tools and Help.  No part edits another's menu.  GUI thread only.
"""

from __future__ import annotations

import functools

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gmm_studio.ui.fit_controls import SHORTCUTS

__all__ = ["ABOUT", "build_menus", "shortcuts_text"]

ABOUT = ("GMM Studio shows Expectation–Maximization fitting a Gaussian mixture: the E-step "
         "computes each point's responsibilities γ (the colours), the M-step re-estimates weights, "
         "means and covariances (the ellipses), and the log-likelihood climbs until it settles.")


def shortcuts_text() -> str:
    """Every keyboard shortcut and what it does, one per line (Help › Keyboard shortcuts)."""
    return "\n".join(f"{' / '.join(keys):>12}   {what}" for _, keys, what in SHORTCUTS) + \
        "\n          F1   this list"


def _action(window, text: str, slot, key: str | None = None) -> QAction:
    action = QAction(text, window)
    if key:
        action.setShortcut(QKeySequence(key))
        window.addAction(action)  # its key works while the menu is closed
    action.triggered.connect(slot)
    return action


def _show_dock(dock) -> None:
    dock.show()
    dock.raise_()


def _save_picture(window) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Save a picture", "gmm-studio.png", "PNG (*.png)")
    if path:
        window.grab().save(path)


def build_menus(window) -> None:
    """Fill ``window``'s menu bar; sets ``file_menu``, ``fit_menu``, ``view_menu``,
    ``ellipse_menu``, ``tools_menu``, ``help_menu``, ``truth_action`` and the fit actions
    (``run_action`` …) on it."""
    c, fa, mf, sf = window.controls, window.file_actions, window.model_files, window.session_files
    for name in ("run_action", "step_action", "step_e_action", "step_m_action", "stop_action",
                 "reset_action", "live_action"):
        setattr(window, name, getattr(c, name))
    window.open_action = fa.open_action
    bar = window.menuBar()

    file_menu = window.file_menu = bar.addMenu("&File")
    file_menu.addAction(fa.open_action)
    file_menu.addMenu(fa.recent_menu)
    file_menu.addAction(_action(window, "Load the demo data", window.load_demo))
    file_menu.addSeparator()
    file_menu.addAction(sf.save_action)
    file_menu.addAction(sf.open_action)
    file_menu.addSeparator()
    file_menu.addAction(mf.import_model_action)
    file_menu.addMenu(mf.export_menu)
    file_menu.addAction(_action(window, "Save a picture of the window…",
                                functools.partial(_save_picture, window)))
    file_menu.addSeparator()
    quit_action = _action(window, "Quit", window.close)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    file_menu.addAction(quit_action)
    file_menu.aboutToShow.connect(mf.update_actions)
    file_menu.aboutToShow.connect(sf.update_actions)

    window.fit_menu = bar.addMenu("F&it")
    for a in (c.run_action, c.step_action, c.step_e_action, c.step_m_action, c.stop_action,
              c.reset_action, c.live_action):
        window.fit_menu.addAction(a)

    view = window.view_menu = bar.addMenu("&View")
    window.truth_action = QAction("Show the true mixture (dotted)", window, checkable=True, checked=True)
    window.truth_action.toggled.connect(window.data_view.set_truth_visible)
    view.addAction(window.truth_action)
    window.ellipse_menu = view.addMenu("Ellipses")
    from gmm_studio.core.geometry import radius_for_coverage

    for label, radii in (("1σ and 2σ (39.3 % and 86.5 %)", (1.0, 2.0)),
                         ("50 % and 95 % of the mass", (radius_for_coverage(0.5), radius_for_coverage(0.95))),
                         ("1σ only", (1.0,))):
        window.ellipse_menu.addAction(_action(window, label,
                                              functools.partial(window.drawing.set_radii, radii)))
    view.addAction(_action(window, "Frame all points", window.data_view.frame_points))
    view.addSeparator()
    for dock in (window.panel_dock, window.components_dock, window.generator_dock, window.sweep_dock):
        view.addAction(dock.toggleViewAction())

    window.tools_menu = bar.addMenu("&Tools")
    for dock, text, key in ((window.generator_dock, "Generate synthetic data…", "Ctrl+Shift+G"),
                            (window.sweep_dock, "Choose K with a sweep…", "Ctrl+K")):
        window.tools_menu.addAction(_action(window, text, functools.partial(_show_dock, dock), key))

    window.help_menu = bar.addMenu("&Help")
    window.help_menu.addAction(_action(
        window, "Keyboard shortcuts",
        lambda: QMessageBox.information(window, "Keyboard shortcuts", shortcuts_text()), "F1"))
    window.help_menu.addAction(_action(window, "About GMM Studio",
                                       lambda: QMessageBox.about(window, "About GMM Studio", ABOUT)))
