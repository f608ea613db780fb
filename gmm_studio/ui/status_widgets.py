"""Status widgets that follow the session: the degeneracy banner with its remedies, and the
comparison of the shown model with the data's labels (ARI).  GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gmm_studio.core.diagnosis import component_names
from gmm_studio.core.em import DegeneracyEvent
from gmm_studio.session import CommandRefused, Session

__all__ = ["ComparisonLabel", "DegeneracyBanner", "events_sentence"]

_KIND_WORDS = {
    "collapsed": "collapsed onto a point or a line (its likelihood grows without bound)",
    "empty": "is empty (less than one point of weight)",
    # Said as the singularity it is: a component on a point or a line, its variance gone, L → ∞.
    "singular": "has a covariance that is not positive definite (EM cannot continue: its points "
                "lie on a point or a line, so its variance shrank to zero and the likelihood "
                "grows without bound)",
}


def events_sentence(events: tuple[DegeneracyEvent, ...]) -> str:
    """One sentence naming every affected component, grouped by what happened to it."""
    by_kind: dict[str, list[int]] = {}
    for e in events:
        by_kind.setdefault(e.kind, [])
        if e.component not in by_kind[e.kind]:
            by_kind[e.kind].append(e.component)
    parts = []
    for kind, ks in by_kind.items():
        verb = _KIND_WORDS[kind]
        if len(ks) > 1:
            verb = verb.replace("is empty", "are empty").replace("has a covariance", "have covariances")
        parts.append(f"{component_names(sorted(ks))} {verb}")
    return "; ".join(parts) + "."


class DegeneracyBanner(QFrame):
    """A yellow banner over the views while the shown state has degenerate components.

    One sentence names them all; a button per remedy the events offer calls the session's
    remedy (disabled, with the reason in its tooltip, when the session refuses it).  Fit
    failures are shown here too (:meth:`show_message`).
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("degeneracyBanner")
        self.setStyleSheet("#degeneracyBanner { background: #fff3cd; border: 1px solid #d39e00; }")
        self.session = session
        layout = QVBoxLayout(self)
        self.label = QLabel("", objectName="bannerLabel")
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        buttons = QHBoxLayout()
        self.reg_button = QPushButton("reg_covar ×1000, re-run", objectName="remedyRegButton")
        self.reseed_button = QPushButton("Re-seed the component", objectName="remedyReseedButton")
        self.lower_k_button = QPushButton("K − 1, re-run", objectName="remedyLowerKButton")
        self.dismiss_button = QPushButton("Dismiss", objectName="bannerDismissButton")
        self._remedies = {self.reg_button: "raise_reg_covar", self.reseed_button: "reseed",
                          self.lower_k_button: "lower_k"}
        for button in self._remedies:
            buttons.addWidget(button)
            button.clicked.connect(self._on_remedy_clicked)
        buttons.addStretch(1)
        buttons.addWidget(self.dismiss_button)
        layout.addLayout(buttons)
        self.dismiss_button.clicked.connect(self.hide)
        self.setVisible(False)
        self._events: tuple = ()
        session.events_changed.connect(self._on_session_events_changed)
        session.state_changed.connect(self._on_session_state_changed)

    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str) -> None:
        """Show ``text`` without remedies (a fit that failed)."""
        self._events = ()
        self.label.setText(text)
        for button in self._remedies:
            button.setVisible(False)
        self.setVisible(True)

    def _on_session_events_changed(self, events: tuple) -> None:
        if events == self._events:
            return
        self._events = events
        if not events:
            self.setVisible(False)
            return
        self.label.setText("⚠ " + events_sentence(events))
        self._update_buttons()
        self.setVisible(True)

    def _on_session_state_changed(self, _state) -> None:
        if self._events:
            self._update_buttons()

    def _update_buttons(self) -> None:
        offered = {r for e in self._events for r in e.remedies}
        s = self.session
        first = self._events[0].component + 1 if self._events else 1
        reg = s.settings.reg_covar
        raised = f"{min(1e3, max(reg, 1e-9) * 1000):.3g}"
        # Short labels (three buttons share the width of the data view, ~600 px at 1400 px);
        # the tooltips say what each one does.
        self.reg_button.setText(f"reg_covar → {raised}, re-run")
        self.reseed_button.setText(f"Re-seed component {first}")
        self.lower_k_button.setText(f"K → {max(1, s.settings.n_components - 1)}, re-run")
        says = {"raise_reg_covar": f"Raise reg_covar to {raised} (a floor under every covariance) "
                                   "and fit again",
                "reseed": f"Move component {first} to where the model explains the data worst "
                          "and continue EM from there",
                "lower_k": "Fit again with one component fewer"}
        for button, (command, remedy) in zip(self._remedies, (
                ("raise_reg_covar", "raise reg_covar"), ("reseed", "re-seed the component"),
                ("lower_k", "lower K"))):
            button.setVisible(remedy in offered)
            why = s.why_not(command)
            button.setEnabled(why is None)
            button.setToolTip(says[command] if why is None else why)

    @Slot()
    def _on_remedy_clicked(self) -> None:
        command = self._remedies[self.sender()]
        try:
            getattr(self.session, command)()
        except CommandRefused as exc:
            self.label.setText(exc.reason)


class ComparisonLabel(QLabel):
    """"ARI vs labels: 0.953 (3 classes)" for the shown model; hidden while there is none.

    The figure is always of the model on screen: the session withdraws a comparison (None)
    whenever the shown state changes and sends the new one once computed.
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("truthLabel")
        self.setToolTip("Adjusted Rand index between the shown model's hard labels and the "
                        "dataset's label column: 1 = same partition, about 0 = chance")
        self.setVisible(False)
        session.comparison_changed.connect(self._on_session_comparison_changed)

    def _on_session_comparison_changed(self, comparison) -> None:
        agreement = None if comparison is None else comparison.labels or comparison.truth_labels
        if agreement is None:
            self.setText("")
            self.setVisible(False)
            return
        which = "labels" if comparison.labels is not None else "true labels"
        self.setText(f"ARI vs {which}: {agreement.ari:.3f} ({agreement.n_classes} classes)")
        self.setVisible(True)
