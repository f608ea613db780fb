"""Binding the fit controls to the session: buttons, Fit-menu actions and their keys.

:class:`FitControls` forwards clicks and keys to :class:`~gmm_studio.session.Session` commands
and follows the session's run state machine: every button and action is enabled exactly when
``session.can(command)``, and a disabled one says why in its tooltip
(``session.why_not(command)``).  While paused, Pause reads Resume and Run does the same (both
continue from the shown model); the Fit menu's Space action is named for what it does now.  The control panel's settings
go to the session (a K the data cannot hold is refused with a sentence); the session's changes
(a placed mean, an imported model) come back into the panel.

Keys: the actions are window shortcuts, and :class:`ShortcutKeys` makes numeric spin boxes
hand the window's plain keys (Space, S, E, M, R, →, End, Esc) back, so the shortcuts work
whatever widget has focus.  GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QLabel, QWidget

from gmm_studio.core.geometry import Projection
from gmm_studio.core.words import counted
from gmm_studio.session import CommandRefused, RunState, Session
from gmm_studio.ui.control_panel import ControlPanel, ScientificSpinBox, delay_for_speed

__all__ = ["FitControls", "SHORTCUTS", "ShortcutKeys"]

#: (command, keys, what it does) — shown in tooltips and Help › Keyboard shortcuts.
SHORTCUTS = (
    ("toggle", ("Space",), "Run EM (on from a paused or shown model); pause a running fit"),
    ("step", ("S", "Right"), "Step one iteration (E then M)"),
    ("step_e", ("E",), "Step the E-step only (recompute responsibilities)"),
    ("step_m", ("M",), "Step the M-step only (re-estimate π, μ, Σ)"),
    ("stop", ("Esc",), "Stop the fit (keep what it reached)"),
    ("reset", ("R", "Ctrl+R"), "Reset: forget the fit and the placed means"),
    ("go_live", ("End",), "Return the views to the live fit after scrubbing"),
    ("open", ("Ctrl+O",), "Open a data file (.csv, .npy, …)"),
    ("save_session", ("Ctrl+S",), "Save the session (data, settings, model, history)"),
    ("open_session", ("Ctrl+Shift+O",), "Open a saved session"),
)

_NEW_FIT_TIP = ("The algorithm, K or covariance type changed since the pause: this starts a "
                "new fit with them (Space)")
_BUTTON_TIPS = {
    "run": "Run EM to the end: a fresh fit, or continue the shown model (Space)",
    "run_paused": "Run EM on from the shown model to the end, as Resume does (Space)",
    "pause": "Pause the running fit between half-steps (Space)",
    "resume": "Resume the paused fit (Space)",
    "stop": "Stop the fit, keeping what it reached (Esc)",
    "step": "One EM iteration: E-step then M-step (S or →)",
    "step_e": "E-step only: recompute the responsibilities γ (E)",
    "step_m": "M-step only: re-estimate weights, means, covariances (M)",
    "reset": "Forget the fit and the placed means (R or Ctrl+R)",
}
#: K-means' half-steps run on the E and M keys as assign and update: its own words.
_KMEANS_BUTTON_TIPS = {
    **_BUTTON_TIPS,
    "run": "Run K-means to the end: a fresh fit, or continue the shown centres (Space)",
    "run_paused": "Run K-means on from the shown centres to the end, as Resume does (Space)",
    "step": "One K-means iteration: assign then update (S or →)",
    "step_e": "Assign only: each point joins its nearest centre (hard r_nk) (E)",
    "step_m": "Update only: each centre moves to the mean of its points (M)",
}
#: Button and Fit-menu texts: (step, step_e, step_m) per algorithm.
_STEP_TEXTS = {"em": ("Step (E+M)", "Step E", "Step M"),
               "kmeans": ("Step (assign+update)", "Step assign", "Step update")}

#: What the info line says once a command has been given (the fit's end says its own).
_HINTS = {
    "run": "Running EM: Space pauses, Esc stops.",
    "resume": "Running EM: Space pauses, Esc stops.",
    "pause": "Paused. Run or Resume (Space) continues; S steps one iteration, E or M one half-step.",
    "step": "One iteration (E then M); S again for the next.",
    "step_e": "E-step: the responsibilities γ (the colours) are recomputed; M re-estimates θ.",
    "step_m": "M-step: weights, means and covariances re-estimated from γ.",
    "reset": "Reset. Run (Space) starts a fresh fit; Step (S) one iteration.",
}
_KMEANS_HINTS = {
    **_HINTS,
    "run": "Running K-means: Space pauses, Esc stops.",
    "resume": "Running K-means: Space pauses, Esc stops.",
    "pause": "Paused. Run or Resume (Space) continues; S steps one iteration, E assigns, M updates.",
    "step": "One iteration (assign then update); S again for the next.",
    "step_e": "Assign: each point joins its nearest centre (the colours); update moves the centres.",
    "step_m": "Update: each centre moved to the mean of the points assigned to it.",
}

_PLAIN_KEYS = {Qt.Key.Key_Space, Qt.Key.Key_S, Qt.Key.Key_E, Qt.Key.Key_M, Qt.Key.Key_R,
               Qt.Key.Key_Right, Qt.Key.Key_End, Qt.Key.Key_Escape}


class ShortcutKeys(QObject):
    """Event filter: a numeric spin box does not claim the window's plain shortcut keys.

    A spin box accepts Qt's ShortcutOverride for printable keys, which would swallow S, E, M, R
    and Space; none of them is a digit, so handing them back loses no input.  The scientific
    spin boxes (tol, reg_covar) keep E, which writes 1e-06.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.ShortcutOverride and \
                event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier):
            key = event.key()
            if key in _PLAIN_KEYS and not (key == Qt.Key.Key_E and isinstance(watched, ScientificSpinBox)):
                event.ignore()
                return True
        return False

    def install(self, root: QWidget) -> None:
        """Filter every spin box under ``root``."""
        for box in root.findChildren(QAbstractSpinBox):
            box.installEventFilter(self)


class FitControls(QObject):
    """The fit buttons, the Fit-menu actions and the settings, bound to ``session``.

    ``window`` owns the actions (window shortcuts); ``info`` is the line where refusals and
    hints are written.  Attributes: one ``QAction`` per command (``run_action``,
    ``step_action``, ``step_e_action``, ``step_m_action``, ``stop_action``, ``reset_action``,
    ``live_action``) for the Fit menu.
    """

    def __init__(self, session: Session, panel: ControlPanel, window: QWidget, info: QLabel) -> None:
        super().__init__(window)
        self.session, self.panel, self.info = session, panel, info
        self.settings_problem: str | None = None
        self.run_action = self._action(window, "toggle", "Run", self._on_toggle_triggered)
        self.step_action = self._action(window, "step", "Step (E+M)", self._command("step"))
        self.step_e_action = self._action(window, "step_e", "Step E", self._command("step_e"))
        self.step_m_action = self._action(window, "step_m", "Step M", self._command("step_m"))
        self.stop_action = self._action(window, "stop", "Stop", self._command("stop"))
        self.reset_action = self._action(window, "reset", "Reset", self._command("reset"))
        self.live_action = self._action(window, "go_live", "Back to live", self._command("go_live"))
        p = panel
        p.run_button.clicked.connect(self._command("run"))
        p.pause_button.clicked.connect(self._on_pause_button_clicked)
        p.stop_button.clicked.connect(self._command("stop"))
        p.step_button.clicked.connect(self._command("step"))
        p.step_e_button.clicked.connect(self._command("step_e"))
        p.step_m_button.clicked.connect(self._command("step_m"))
        p.reset_button.clicked.connect(self._command("reset"))
        p.settings_changed.connect(self._on_panel_settings_changed)
        p.speed_changed.connect(self._on_panel_speed_changed)
        p.projection_changed.connect(self._on_panel_projection_changed)
        s = session
        s.settings_changed.connect(self._on_session_settings_changed)
        s.dataset_changed.connect(self._on_session_dataset_changed)
        for signal in (s.state_changed, s.history_changed, s.shown_changed, s.placed_changed,
                       s.events_changed):
            signal.connect(self.update)
        self.keys = ShortcutKeys(self)
        self.keys.install(window)
        session.set_delay(delay_for_speed(p.speed()))
        self.update()

    def _action(self, window: QWidget, command: str, text: str, slot) -> QAction:
        keys, what = next((k, w) for c, k, w in SHORTCUTS if c == command)
        action = QAction(text, window)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{what} ({' or '.join(keys)})")
        action.triggered.connect(slot)
        window.addAction(action)
        return action

    def disconnect_session(self) -> None:
        """Stop following the session (the window is closing)."""
        s = self.session
        s.settings_changed.disconnect(self._on_session_settings_changed)
        s.dataset_changed.disconnect(self._on_session_dataset_changed)
        for signal in (s.state_changed, s.history_changed, s.shown_changed, s.placed_changed,
                       s.events_changed):
            signal.disconnect(self.update)

    # ------------------------------------------------------------------ commands
    def _command(self, command: str):
        def slot(*_):
            self.do(command)
        return slot

    def do(self, command: str) -> bool:
        """Carry out ``command`` on the session; a refusal is written to the info line."""
        if command in ("run", "step", "step_e", "step_m", "resume", "toggle") and self.settings_problem:
            self.info.setText(self.settings_problem)
            return False
        if command == "toggle":
            command = next((c for c in ("pause", "resume") if self.session.can(c)), "run")
        try:
            getattr(self.session, command)()
        except CommandRefused as exc:
            self.info.setText(exc.reason)
            return False
        hints = _KMEANS_HINTS if self.session.settings.algorithm == "kmeans" else _HINTS
        if command in hints and self.session.state.busy or command in ("pause", "reset"):
            self.info.setText(hints[command])
        return True

    def place_or_select(self, xy: tuple[float, float], near: int | None) -> None:
        """A click at ``xy`` in a data view: place an initial mean there when the session can
        (before a fit, "click to place means"), else select the component ``near`` (or none)."""
        s = self.session
        if s.can("place_mean"):
            s.place_mean(xy)
            k = len(s.placed_means)
            self.info.setText(f"{k} initial mean(s) placed; K = {k}. Click to add more, "
                              "Run to start EM from them, Reset to clear.")
            return
        try:
            s.select(near)
        except ValueError:
            s.select(None)

    @Slot()
    def _on_toggle_triggered(self) -> None:
        self.do("toggle")

    @Slot()
    def _on_pause_button_clicked(self) -> None:
        self.do("resume" if self.session.state is RunState.PAUSED else "pause")

    # ------------------------------------------------------------------ following the session
    def why_not(self, command: str) -> str | None:
        """Why ``command`` cannot be given now (a settings problem counts), or None."""
        if command in ("run", "step", "step_e", "step_m", "resume") and self.settings_problem:
            return self.settings_problem
        return self.session.why_not(command)

    @Slot()
    def update(self, *_) -> None:
        """Enable each button and action by the state machine; tooltips say why not."""
        p = self.panel
        paused = self.session.state is RunState.PAUSED
        kmeans = self.session.settings.algorithm == "kmeans"
        tips = _KMEANS_BUTTON_TIPS if kmeans else _BUTTON_TIPS
        p.pause_button.setText("Resume" if paused else "Pause")
        texts = _STEP_TEXTS["kmeans" if kmeans else "em"]
        for widget, action, text, command in zip(
                (p.step_button, p.step_e_button, p.step_m_button),
                (self.step_action, self.step_e_action, self.step_m_action), texts,
                ("step", "step_e", "step_m")):
            widget.setText(text)
            action.setText(text)
            action.setToolTip(tips[command])
        buttons = {"run": p.run_button, "pause": p.pause_button, "stop": p.stop_button,
                   "step": p.step_button, "step_e": p.step_e_button, "step_m": p.step_m_button,
                   "reset": p.reset_button}
        # paused, but the algorithm, K or covariance type changed since: no fit to resume
        fresh = paused and not self.session.continues_shown()
        # scrubbed back: going on from the shown state drops the half-steps after it
        history = self.session.history
        later = 0 if history.cursor is None else len(history) - history.cursor - 1
        dropping = (f". It goes on from the scrubbed state and drops the "
                    f"{counted(later, 'later half-step')}" if later and self.session.continues_shown() else "")
        for command, button in buttons.items():
            if command == "pause" and paused:
                command = "resume"
            why = self.why_not(command)
            tip = tips["run_paused" if command == "run" and paused else command]
            if fresh and command in ("run", "resume"):
                tip = _NEW_FIT_TIP
            elif command in ("run", "resume", "step", "step_e", "step_m"):
                tip += dropping
            button.setEnabled(why is None)
            button.setToolTip(tip if why is None else f"{tip}. Not now: {why}")
        for action, command in ((self.step_action, "step"), (self.step_e_action, "step_e"),
                                (self.step_m_action, "step_m"), (self.stop_action, "stop"),
                                (self.reset_action, "reset"), (self.live_action, "go_live")):
            action.setEnabled(self.why_not(command) is None)
        toggles = next((c for c in ("pause", "resume") if self.why_not(c) is None), "run")
        self.run_action.setText(toggles.capitalize())
        self.run_action.setEnabled(self.why_not(toggles) is None)

    def _on_session_settings_changed(self, settings) -> None:
        if settings != self.panel.settings():
            self.panel.set_settings(settings)
        self.update()

    def _on_session_dataset_changed(self, dataset) -> None:
        p = self.panel
        p.set_columns(tuple(dataset.columns))
        p.set_truth_available(getattr(dataset, "labels", None) is not None)
        self._on_panel_settings_changed()  # a K refused for the old data may fit the new

    # ------------------------------------------------------------------ following the panel
    @Slot()
    def _on_panel_settings_changed(self) -> None:
        try:
            self.session.set_settings(self.panel.settings())
        except ValueError as exc:
            self.settings_problem = str(exc)
            self.info.setText(self.settings_problem)
            self.panel.components_spin.setStyleSheet("color: #B00020;")
            self.panel.components_spin.setToolTip(self.settings_problem)
        else:
            if self.settings_problem is not None:
                self.settings_problem = None
                self.panel.components_spin.setStyleSheet("")
                self.panel.components_spin.setToolTip("K, the number of Gaussian components (1–20)")
        self.update()

    @Slot(int)
    def _on_panel_speed_changed(self, speed: int) -> None:
        self.session.set_delay(delay_for_speed(speed))

    @Slot()
    def _on_panel_projection_changed(self) -> None:
        s = self.session
        if s.dataset is None:
            return
        kind, i, j = self.panel.projection_choice()
        if kind == "pca":
            projection = Projection.pca(s.x)
        else:
            projection = Projection.columns(s.x.shape[1], max(i, 0), max(j, 0), s.dataset.columns)
        s.set_projection(projection)
