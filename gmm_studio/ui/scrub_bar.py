"""The scrub bar under the likelihood plot: a slider over every half-step, where it is, and Live.

It only holds the widgets; :class:`~gmm_studio.ui.session_view.SessionDrawing` sets them from
the session and the window forwards the slider and the button to the session.  GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

__all__ = ["ScrubBar"]


class ScrubBar(QWidget):
    """``slider`` (objectName iterationSlider), ``history_label`` and ``live_button``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.history_label = QLabel("no history", objectName="historyLabel")
        # a fixed width: text that changes every half-step must not move the layout
        self.history_label.setFixedWidth(
            self.history_label.fontMetrics().horizontalAdvance("0000/0000: it. 000 M (live)") + 8)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="iterationSlider")
        self.slider.setRange(0, 0)
        self.live_button = QPushButton("Live", objectName="liveButton")
        row.addWidget(QLabel("Scrub:"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.history_label)
        row.addWidget(self.live_button)
