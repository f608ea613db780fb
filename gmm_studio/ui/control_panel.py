"""The control panel: fit settings, the fit buttons, animation speed, point colours, projection.

It owns widgets only; the main window connects the buttons to its actions and reads
:meth:`ControlPanel.settings`.  GUI thread only.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.params import COVARIANCE_TYPES
from gmm_studio.core.settings import ALGORITHMS, CLICK_INIT, INIT_CHOICES, MAX_COMPONENTS, FitSettings

__all__ = ["ControlPanel", "ScientificSpinBox", "SPEED_MAX", "delay_for_speed"]

#: Slider positions 1..SPEED_MAX; the last one means "as fast as possible".
SPEED_MAX = 10
DEFAULT_SPEED = 3

_INIT_LABELS = {
    "kmeans": "k-means (scikit-learn's default)",
    "k-means++": "k-means++ seeds",
    "random": "random responsibilities",
    "random_from_data": "random data points",
    CLICK_INIT: "click to place means",
}
_COLOR_MODES = (("blend", "responsibilities (blend Σ γ·colour)"),
                ("hard", "hard labels (argmax γ)"),
                ("uncertainty", "uncertainty (1 − max γ, dark = unsure)"),
                ("truth", "true labels (the data's label column)"))
#: The same choices in K-means' words: its assignments are hard, so blending and hard labels
#: show the same colours and nothing is ever uncertain.
_KMEANS_COLOR_LABELS = {"blend": "clusters (each point in exactly one)",
                        "hard": "hard labels (nearest centre)",
                        "uncertainty": "uncertainty (none: K-means is always sure)"}


def delay_for_speed(speed: int) -> float:
    """Seconds the worker waits after each half-step: 1 ≈ 1 iteration/s … SPEED_MAX = no wait."""
    if speed >= SPEED_MAX:
        return 0.0
    half_steps_per_second = 2.0 * 1.9 ** (max(1, speed) - 1)
    return 1.0 / half_steps_per_second


def speed_text(speed: int) -> str:
    d = delay_for_speed(speed)
    return "as fast as possible" if d == 0 else f"≈ {0.5 / d:.1f} iterations/s"


class ScientificSpinBox(QDoubleSpinBox):
    """A spin box for small positive numbers (tol, reg_covar): shows 1e-06, steps by ×10."""

    def __init__(self, minimum: float, maximum: float, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(323)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        from PySide6.QtGui import QValidator

        try:
            float(text)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        v = self.value()
        if v <= 0:
            v = max(self.minimum(), 1e-12)
        self.setValue(min(self.maximum(), max(self.minimum(), v * 10.0 ** steps)))


_EM_TIPS = {
    "covarianceCombo": "full: any ellipse; tied: one shared ellipse; diag: axis-aligned; spherical: circles",
    "regCovarSpin": "Added to every covariance's diagonal; keeps components from collapsing onto a point",
    "tolSpin": "Stop when the mean log-likelihood changes by less than this",
    "nInitSpin": "Number of initialisations; the one with the highest log-likelihood is kept",
}
_KMEANS_TIPS = {
    "covarianceCombo": "K-means has no covariances: a cluster is a centre and the points nearest it "
                       "(EM's choice is kept for when EM is chosen again)",
    "regCovarSpin": "K-means has no covariances to regularise (EM's value is kept)",
    "tolSpin": "Stop when the centres move by at most this (their summed squared shift, as a "
               "fraction of the data's mean variance), or when no point changes cluster",
    "nInitSpin": "Number of initialisations; the one with the lowest WCSS (within-cluster sum of "
                 "squares) is kept",
}


class ControlPanel(QWidget):
    """Settings and fit controls.  Buttons are public attributes with stable object names."""

    settings_changed = Signal()
    speed_changed = Signal(int)
    color_mode_changed = Signal(str)
    projection_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("controlPanel")
        layout = QVBoxLayout(self)

        model = QGroupBox("Model and EM")
        form = QFormLayout(model)
        self.components_spin = QSpinBox(objectName="componentsSpin")
        self.components_spin.setRange(1, MAX_COMPONENTS)
        self.components_spin.setToolTip("K, the number of Gaussian components (1–20)")
        self.covariance_combo = QComboBox(objectName="covarianceCombo")
        for c in COVARIANCE_TYPES:
            self.covariance_combo.addItem(c, c)
        self.init_combo = QComboBox(objectName="initCombo")
        for m in INIT_CHOICES:
            self.init_combo.addItem(_INIT_LABELS.get(m, m), m)
        self.init_combo.setToolTip("How the fit (EM or K-means) starts. 'click to place means': "
                                   "click in the data view "
                                   "to put each initial mean; K follows the number of clicks.")
        self.seed_spin = QSpinBox(objectName="seedSpin")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Random seed of the initialisation (same seed, same fit)")
        self.tol_spin = ScientificSpinBox(0.0, 10.0)
        self.tol_spin.setObjectName("tolSpin")
        self.reg_spin = ScientificSpinBox(0.0, 1e3)
        self.reg_spin.setObjectName("regCovarSpin")
        self.max_iter_spin = QSpinBox(objectName="maxIterSpin")
        self.max_iter_spin.setRange(1, 100000)
        self.n_init_spin = QSpinBox(objectName="nInitSpin")
        self.n_init_spin.setRange(1, 50)
        self.algorithm_combo = QComboBox(objectName="algorithmCombo")
        for key, label in zip(ALGORITHMS, ("EM (soft responsibilities)", "K-means (hard assignments)")):
            self.algorithm_combo.addItem(label, key)
        self.algorithm_combo.setToolTip("EM, or Lloyd's K-means: each point in exactly one cluster "
                                        "(the hard limit of EM); its half-steps are assign and update")
        form.addRow("Algorithm", self.algorithm_combo)
        form.addRow("Components K", self.components_spin)
        form.addRow("Covariance", self.covariance_combo)
        form.addRow("Initialisation", self.init_combo)
        self.click_hint = QLabel("Click in the data view to place each initial mean "
                                 "(K follows the number of clicks). Reset clears them.")
        self.click_hint.setWordWrap(True)
        self.click_hint.setStyleSheet("color: #7a4d00;")
        self.click_hint.setVisible(False)
        form.addRow(self.click_hint)
        form.addRow("Seed", self.seed_spin)
        form.addRow("tol", self.tol_spin)
        form.addRow("reg_covar", self.reg_spin)
        form.addRow("max_iter", self.max_iter_spin)
        form.addRow("n_init", self.n_init_spin)
        layout.addWidget(model)

        fit = QGroupBox("Fit")
        grid = QGridLayout(fit)
        self.run_button = QPushButton("Run", objectName="runButton")
        self.pause_button = QPushButton("Pause", objectName="pauseButton")
        self.stop_button = QPushButton("Stop", objectName="stopButton")
        self.step_button = QPushButton("Step (E+M)", objectName="stepButton")
        self.step_e_button = QPushButton("Step E", objectName="stepEButton")
        self.step_m_button = QPushButton("Step M", objectName="stepMButton")
        self.reset_button = QPushButton("Reset", objectName="resetButton")
        for i, b in enumerate((self.run_button, self.pause_button, self.stop_button,
                               self.step_button, self.step_e_button, self.step_m_button)):
            grid.addWidget(b, i // 3, i % 3)
        grid.addWidget(self.reset_button, 2, 0, 1, 3)
        self.speed_slider = QSlider(Qt.Orientation.Horizontal, objectName="speedSlider")
        self.speed_slider.setRange(1, SPEED_MAX)
        self.speed_slider.setValue(DEFAULT_SPEED)
        self.speed_slider.setToolTip("Animation speed: slow enough to follow each half-step, "
                                     "up to as fast as possible")
        self.speed_label = QLabel(speed_text(DEFAULT_SPEED))
        row = QHBoxLayout()
        row.addWidget(QLabel("Speed"))
        row.addWidget(self.speed_slider, 1)
        grid.addLayout(row, 3, 0, 1, 3)
        grid.addWidget(self.speed_label, 4, 0, 1, 3)
        layout.addWidget(fit)

        view = QGroupBox("View")
        vform = QFormLayout(view)
        self.color_combo = QComboBox(objectName="colorModeCombo")
        for key, label in _COLOR_MODES:
            self.color_combo.addItem(label, key)
        vform.addRow("Points", self.color_combo)
        self.projection_combo = QComboBox(objectName="projectionCombo")
        self.projection_combo.addItem("principal components", "pca")
        self.projection_combo.addItem("two columns", "columns")
        self.x_column_combo = QComboBox(objectName="xColumnCombo")
        self.y_column_combo = QComboBox(objectName="yColumnCombo")
        self.projection_box = QWidget()
        pform = QFormLayout(self.projection_box)
        pform.setContentsMargins(0, 0, 0, 0)
        pform.addRow("Projection", self.projection_combo)
        pform.addRow("x axis", self.x_column_combo)
        pform.addRow("y axis", self.y_column_combo)
        vform.addRow(self.projection_box)
        layout.addWidget(view)
        layout.addStretch(1)

        self.set_settings(FitSettings())
        for w in (self.components_spin, self.seed_spin, self.max_iter_spin, self.n_init_spin):
            w.valueChanged.connect(self._on_any_setting_changed)
        for w in (self.tol_spin, self.reg_spin):
            w.valueChanged.connect(self._on_any_setting_changed)
        for w in (self.covariance_combo, self.init_combo, self.algorithm_combo):
            w.currentIndexChanged.connect(self._on_any_setting_changed)
        self.speed_slider.valueChanged.connect(self._on_speed_slider_changed)
        self.color_combo.currentIndexChanged.connect(self._on_color_combo_changed)
        for w in (self.projection_combo, self.x_column_combo, self.y_column_combo):
            w.currentIndexChanged.connect(self._on_projection_widget_changed)
        self.set_columns(("x1", "x2"))

    # ------------------------------------------------------------------ settings
    def settings(self) -> FitSettings:
        return FitSettings(
            n_components=self.components_spin.value(),
            covariance_type=self.covariance_combo.currentData(),
            init_params=self.init_combo.currentData(),
            seed=self.seed_spin.value(),
            tol=self.tol_spin.value(),
            reg_covar=self.reg_spin.value(),
            max_iter=self.max_iter_spin.value(),
            n_init=self.n_init_spin.value(),
            algorithm=self.algorithm_combo.currentData(),
        )

    def set_settings(self, s: FitSettings) -> None:
        widgets = (self.components_spin, self.covariance_combo, self.init_combo, self.seed_spin,
                   self.tol_spin, self.reg_spin, self.max_iter_spin, self.n_init_spin,
                   self.algorithm_combo)
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            self.components_spin.setValue(s.n_components)
            self.covariance_combo.setCurrentIndex(self.covariance_combo.findData(s.covariance_type))
            self.init_combo.setCurrentIndex(self.init_combo.findData(s.init_params))
            self.seed_spin.setValue(int(s.seed))
            self.tol_spin.setValue(s.tol)
            self.reg_spin.setValue(s.reg_covar)
            self.max_iter_spin.setValue(s.max_iter)
            self.n_init_spin.setValue(s.n_init)
            self.algorithm_combo.setCurrentIndex(self.algorithm_combo.findData(s.algorithm))
        finally:
            for w, b in zip(widgets, blocked):
                w.blockSignals(b)
        self.click_hint.setVisible(s.init_params == CLICK_INIT)
        self._follow_algorithm()
        self.settings_changed.emit()

    def speed(self) -> int:
        return self.speed_slider.value()

    def color_mode(self) -> str:
        return self.color_combo.currentData()

    def set_truth_available(self, available: bool) -> None:
        """Offer 'true labels' only when the data have a label column.  GUI thread."""
        index = self.color_combo.findData("truth")
        self.color_combo.model().item(index).setEnabled(available)
        if not available and self.color_combo.currentIndex() == index:
            self.color_combo.setCurrentIndex(0)

    # ------------------------------------------------------------------ projection
    def set_columns(self, columns: tuple[str, ...]) -> None:
        """Offer the dataset's columns; the projection box shows only for D > 2."""
        widgets = (self.projection_combo, self.x_column_combo, self.y_column_combo)
        blocked = [w.blockSignals(True) for w in widgets]
        self.x_column_combo.clear()
        self.y_column_combo.clear()
        for i, name in enumerate(columns):
            self.x_column_combo.addItem(name, i)
            self.y_column_combo.addItem(name, i)
        self.x_column_combo.setCurrentIndex(0)
        self.y_column_combo.setCurrentIndex(min(1, len(columns) - 1))
        self.projection_combo.setCurrentIndex(0)
        for w, b in zip(widgets, blocked):
            w.blockSignals(b)
        self.projection_box.setVisible(len(columns) > 2)
        self._update_projection_enabled()

    def projection_choice(self) -> tuple[str, int, int]:
        return (self.projection_combo.currentData(), self.x_column_combo.currentIndex(),
                self.y_column_combo.currentIndex())

    def _update_projection_enabled(self) -> None:
        columns = self.projection_combo.currentData() == "columns"
        self.x_column_combo.setEnabled(columns)
        self.y_column_combo.setEnabled(columns)

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_any_setting_changed(self, *args) -> None:
        self.click_hint.setVisible(self.init_combo.currentData() == CLICK_INIT)
        self._follow_algorithm()
        self.settings_changed.emit()

    def _follow_algorithm(self) -> None:
        """K-means has centres only: the covariance box and reg_covar are greyed, saying why
        (EM's values are kept for when EM is chosen again); tol and n_init say K-means' rule."""
        kmeans = self.algorithm_combo.currentData() == "kmeans"
        tips = _KMEANS_TIPS if kmeans else _EM_TIPS
        for widget in (self.covariance_combo, self.reg_spin, self.tol_spin, self.n_init_spin):
            widget.setToolTip(tips[widget.objectName()])
        self.covariance_combo.setEnabled(not kmeans)
        self.reg_spin.setEnabled(not kmeans)
        for index, (key, label) in enumerate(_COLOR_MODES):
            self.color_combo.setItemText(index, _KMEANS_COLOR_LABELS.get(key, label) if kmeans else label)

    @Slot(int)
    def _on_speed_slider_changed(self, value: int) -> None:
        self.speed_label.setText(speed_text(value))
        self.speed_changed.emit(value)

    @Slot(int)
    def _on_color_combo_changed(self, index: int) -> None:
        self.color_mode_changed.emit(self.color_combo.currentData())

    @Slot(int)
    def _on_projection_widget_changed(self, index: int) -> None:
        self._update_projection_enabled()
        self.projection_changed.emit()


def finite_or(value: float, default: float) -> float:
    return value if math.isfinite(value) else default
