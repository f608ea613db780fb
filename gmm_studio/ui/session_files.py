"""Session files: File › Save session… and Open session…, through the session layer.

:class:`SessionFiles` owns the two actions; the window puts them into its File menu.  A file
that cannot be written, or one that is damaged or from a newer version, is reported in a message
box and leaves the open session as it was (the session layer checks the file before it changes
anything).  GUI thread only.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QStatusBar, QWidget

from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.session import RunState, Session

__all__ = ["SESSION_FILTER", "SessionFiles", "opened_text"]

SESSION_FILTER = "GMM Studio session (*.gmmsession);;All files (*)"


def opened_text(session: Session, path: str) -> str:
    """The info line after opening the session file ``path``: what the session holds and what
    Run and Step do from here (the previous data's text would be stale)."""
    d, s, h = session.dataset, session.settings, session.history
    features = "1 feature" if d.n_features == 1 else f"{d.n_features} features"
    algorithm = "K-means" if s.algorithm == "kmeans" else f"EM ({s.covariance_type} covariances)"
    parts = [f"Session {os.path.basename(path)}: {d.n_samples} points from {d.source} ({features}), "
             f"{algorithm}, K = {s.n_components}."]
    shown = h.shown
    if shown is None:
        parts.append("No fit yet: press Run (Space) to fit, or Step (S) for one iteration.")
        return " ".join(parts)
    fit = "K-means" if isinstance(shown, KMeansSnapshot) else "EM"
    where = f"iteration {shown.iteration}"
    if h.cursor is not None:
        where += f", scrubbed back ({len(h)} half-steps kept; End returns to the live one)"
    else:
        where += f" of {len(h)} half-steps kept"
    state = session.state
    if state is RunState.PAUSED:
        then = f"The fit is paused there: Run or Step continues {fit}."
    elif state is RunState.IDLE:
        then = f"Run or Step continues {fit} from this model."
    else:
        then = f"The fit had ended: Step continues {fit}; Run starts a new fit."
    parts.append(f"Showing {where}. {then}")
    return " ".join(parts)


class SessionFiles(QObject):
    """Save and open whole sessions (data, import choices, settings, model, history, cursor).

    Signals
    -------
    session_opened(str)
        A session file was opened; the payload is the info line describing it.
    """

    session_opened = Signal(str)

    def __init__(self, session: Session, parent: QWidget, status_bar: QStatusBar) -> None:
        super().__init__(parent)
        self.session, self._parent, self._status = session, parent, status_bar
        self.save_action = self._action("Save session…", "Ctrl+S", self._on_save_triggered)
        self.open_action = self._action("Open session…", "Ctrl+Shift+O", self._on_open_triggered)
        self.update_actions()

    def _action(self, text: str, key: str, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self._parent.addAction(action)  # its key works while the menu is closed
        return action

    @Slot()
    def update_actions(self) -> None:
        """Save needs data; a disabled action says why."""
        has_data = self.session.dataset is not None
        self.save_action.setEnabled(has_data)
        self.save_action.setToolTip("Save the data, settings, model and history (Ctrl+S)" if has_data
                                    else "Open or generate data first.")
        self.open_action.setToolTip("Carry on from a saved session (Ctrl+Shift+O)")

    @Slot()
    def _on_save_triggered(self) -> None:
        if self.session.dataset is None:
            QMessageBox.information(self._parent, "Nothing to save", "Open or generate data first.")
            return
        path, _ = QFileDialog.getSaveFileName(self._parent, "Save the session", "session.gmmsession",
                                              SESSION_FILTER)
        if path:
            self.save(path)

    def save(self, path: str) -> bool:
        """Write the session to ``path``; a failure is shown in a message box."""
        try:
            self.session.save_session(path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self._parent, "Cannot save the session", str(exc))
            return False
        self._status.showMessage(f"Saved the session to {path}", 8000)
        return True

    @Slot()
    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open a session", "", SESSION_FILTER)
        if path:
            self.open(path)

    def open(self, path: str) -> bool:
        """Carry on from the session in ``path``; a damaged or newer file is refused with a
        message and the open session stays as it was."""
        try:
            self.session.open_session(path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self._parent, "Cannot open the session", str(exc))
            return False
        self._status.showMessage(f"Opened the session {path}", 8000)
        self.session_opened.emit(opened_text(self.session, path))
        return True
