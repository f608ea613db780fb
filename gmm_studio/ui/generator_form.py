"""The generator's settings form: the widgets that describe a :class:`GeneratorSettings`.

:class:`GeneratorForm` shows settings in its widgets (:meth:`~GeneratorForm.set_settings`) and
reads them back (:meth:`~GeneratorForm.settings`), greying out what the chosen shape ignores
and saying in red what is wrong with custom weights.  It generates nothing: the
:class:`~gmm_studio.ui.generator_panel.GeneratorPanel` composes it.  GUI thread only.
"""

from __future__ import annotations

import math
import secrets

from PySide6.QtCore import QRectF, QSize, Qt, Slot
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.generate import (
    MAX_COMPONENTS,
    MAX_FEATURES,
    MAX_OUTLIER_FRACTION,
    MIN_FEATURES,
    GeneratorSettings,
)

__all__ = ["GeneratorForm", "MAX_SAMPLES", "THREAD_THRESHOLD", "parse_weights"]

#: Above this many points generation runs on a worker thread.
THREAD_THRESHOLD = 200_000
#: Largest N the N spin box offers.
MAX_SAMPLES = 1_000_000
#: Largest seed a ``QSpinBox`` can hold.
MAX_SEED = 2**31 - 1

_STRUGGLES = "shows where a Gaussian mixture struggles"

# (shape, label, tooltip). The Gaussian shapes have a truth to compare a fit with.
_GAUSSIAN_SHAPE_ITEMS = (
    ("spherical", "Spherical", "Round components σ_k² I of different sizes."),
    ("axis_aligned", "Axis-aligned", "Elliptical components whose axes follow the coordinate axes (diagonal Σ_k)."),
    ("rotated", "Rotated and elongated", "Each component stretched 3–6 times longer than wide and turned by its own angle."),
    ("random", "Random covariance", "Each Σ_k drawn at random (Wishart): any orientation, any elongation."),
    (
        "anisotropic",
        "Anisotropic blobs (shared shear)",
        "Equal round blobs pushed through one shared shear, so all components share one tilted "
        "covariance (scikit-learn's 'anisotropic blobs'). Still Gaussian, so it has a truth.",
    ),
)
#: Shapes that mean nothing on a line (nothing turns or stretches) or need two dimensions.
_NEEDS_2D = {"axis_aligned": "nothing can be elongated along axes on a line",
             "rotated": "nothing can be turned or elongated on a line",
             "moons": "the moons are curves in a plane", "rings": "rings are curves in a plane"}

_OTHER_SHAPE_ITEMS = (
    ("moons", "Two moons", "Two interleaved half circles (K is ignored: always two). Not Gaussian: " + _STRUGGLES + "."),
    ("rings", "Concentric rings", "K rings around one centre. Not Gaussian: " + _STRUGGLES + "."),
    (
        "uniform_square",
        "Uniform square",
        "Points spread evenly over a square, no clusters at all (K is ignored). Not Gaussian: "
        + _STRUGGLES
        + ".",
    ),
)
SHAPE_LABELS = {s: label for s, label, _ in _GAUSSIAN_SHAPE_ITEMS + _OTHER_SHAPE_ITEMS}

_WEIGHT_MODES = (
    ("equal", "Equal", "Every component is picked with the same probability π_k = 1/K."),
    (
        "imbalanced",
        "Imbalanced",
        "π decreases geometrically: the first component is picked 10 times as often as the last.",
    ),
    ("custom", "Custom…", "Type K positive numbers separated by commas; they are normalised to sum to one."),
)

ERROR_STYLE = "color: #B00020;"


def parse_weights(text: str, n_components: int) -> tuple[float, ...]:
    """Parse K comma-separated positive numbers; raise ``ValueError`` with a message for people."""
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    if parts and parts[-1] == "":  # a trailing comma is harmless
        parts.pop()
    if not parts or parts == [""]:
        raise ValueError(f"Type {n_components} positive weights separated by commas, e.g. {_example(n_components)}.")
    values = []
    for i, part in enumerate(parts, start=1):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"Weight {i} ({part!r}) is not a number.") from None
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"Weight {i} ({part}) must be a positive number.")
        values.append(value)
    if len(values) != n_components:
        raise ValueError(
            f"{len(values)} weight{'s' if len(values) != 1 else ''} given but K is {n_components}: "
            f"give one positive number per component, e.g. {_example(n_components)}."
        )
    return tuple(values)


def _example(k: int) -> str:
    return ", ".join(str(i + 1) for i in range(min(k, 3))) + (", …" if k > 3 else "")


def _format_number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text



def _dice_icon(size: int = 16) -> QIcon:
    """A die showing five, drawn rather than loaded so it needs no resource file or emoji font."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#333333"), 1.0))
    painter.setBrush(QBrush(QColor("#FFFFFF")))
    painter.drawRoundedRect(QRectF(0.5, 0.5, size - 1.0, size - 1.0), size / 5, size / 5)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor("#333333")))
    r = size / 10
    for fx, fy in ((0.28, 0.28), (0.72, 0.28), (0.5, 0.5), (0.28, 0.72), (0.72, 0.72)):
        painter.drawEllipse(QRectF(fx * size - r, fy * size - r, 2 * r, 2 * r))
    painter.end()
    return QIcon(pixmap)



class GeneratorForm(QWidget):
    """The widgets for every :class:`GeneratorSettings` field, in one form.  GUI thread."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.n_components_spin = QSpinBox()
        self.n_components_spin.setRange(1, MAX_COMPONENTS)
        self.n_components_spin.setToolTip(
            f"K, the number of components (1–{MAX_COMPONENTS}); for rings, the number of rings."
        )
        form.addRow("Components K", self.n_components_spin)

        self.n_samples_spin = QSpinBox()
        self.n_samples_spin.setRange(1, MAX_SAMPLES)
        self.n_samples_spin.setStepType(QSpinBox.StepType.AdaptiveDecimalStepType)
        self.n_samples_spin.setGroupSeparatorShown(True)
        self.n_samples_spin.setToolTip(
            f"N, the number of points including outliers (up to {MAX_SAMPLES:,}). The arrows step "
            f"by a tenth of the current order of magnitude. Above {THREAD_THRESHOLD:,} points "
            "generation runs in the background."
        )
        form.addRow("Points N", self.n_samples_spin)

        self.n_features_spin = QSpinBox()
        self.n_features_spin.setRange(MIN_FEATURES, MAX_FEATURES)
        self.n_features_spin.setToolTip(
            f"D, the dimension of each point ({MIN_FEATURES}–{MAX_FEATURES}). The plot shows two "
            "coordinates; non-Gaussian shapes live in the first two and add small noise in the rest."
        )
        form.addRow("Dimension D", self.n_features_spin)

        self.weights_combo = QComboBox()
        for i, (mode, label, tip) in enumerate(_WEIGHT_MODES):
            self.weights_combo.addItem(label, mode)
            self.weights_combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        self.weights_combo.setToolTip(
            "Mixing weights π_k: how likely each component is to be picked for a point."
        )
        form.addRow("Mixing weights π", self.weights_combo)

        self.custom_weights_edit = QLineEdit()
        self.custom_weights_edit.setPlaceholderText("e.g. 1, 2, 3")
        self.custom_weights_edit.setToolTip(
            "K positive numbers separated by commas, one per component. They are normalised "
            "to sum to one, so '1, 1, 2' means π = 0.25, 0.25, 0.5."
        )
        self.custom_weights_error = QLabel()
        self.custom_weights_error.setStyleSheet(ERROR_STYLE)
        self.custom_weights_error.setWordWrap(True)
        self.custom_weights_error.setToolTip("What is wrong with the custom weights.")
        custom_box = QWidget()
        custom_layout = QVBoxLayout(custom_box)
        custom_layout.setContentsMargins(0, 0, 0, 0)
        custom_layout.addWidget(self.custom_weights_edit)
        custom_layout.addWidget(self.custom_weights_error)
        self._custom_box = custom_box
        form.addRow("", custom_box)

        self.separation_spin = QDoubleSpinBox()
        self.separation_spin.setRange(0.1, 100.0)
        self.separation_spin.setDecimals(2)
        self.separation_spin.setSingleStep(0.5)
        self.separation_spin.setToolTip(
            "Distance between the two closest means, in units of the largest standard deviation: "
            "2 overlaps heavily, 3 touches, 4 is apart, 6 is clearly separate. For moons and rings: "
            "the gap between structures in units of the noise."
        )
        form.addRow("Separation", self.separation_spin)

        self.shape_combo = QComboBox()
        self._fill_shape_combo()
        # The long heading item must not make the docked panel wide; the popup still shows it whole.
        self.shape_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.shape_combo.setMinimumContentsLength(16)
        self.shape_combo.view().setMinimumWidth(self.shape_combo.view().sizeHintForColumn(0) + 24)
        self.shape_combo.setToolTip(
            "Shape of the components. The non-Gaussian shapes "
            + _STRUGGLES
            + ": they have labels but no Gaussian truth."
        )
        form.addRow("Component shape", self.shape_combo)

        self.outlier_spin = QDoubleSpinBox()
        self.outlier_spin.setRange(0.0, 100.0 * MAX_OUTLIER_FRACTION)
        self.outlier_spin.setDecimals(2)
        self.outlier_spin.setSingleStep(1.0)
        self.outlier_spin.setSuffix(" %")
        self.outlier_spin.setToolTip(
            "Share of the N points that are uniform background noise over the data's box "
            f"(0–{100 * MAX_OUTLIER_FRACTION:g} %). Outliers get the label -1."
        )
        form.addRow("Outliers", self.outlier_spin)

        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setToolTip("Random seed: the same settings and seed always give the same data.")
        self.new_seed_button = QToolButton()
        self.new_seed_button.setIcon(_dice_icon())
        self.new_seed_button.setIconSize(QSize(16, 16))
        self.new_seed_button.setText("New seed")
        self.new_seed_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.new_seed_button.setToolTip("Roll the dice: pick a fresh random seed (then press Generate).")
        seed_row = QHBoxLayout()
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.new_seed_button)
        form.addRow("Seed", seed_row)

        self.n_components_spin.valueChanged.connect(self._on_settings_edited)
        self.weights_combo.currentIndexChanged.connect(self._on_weights_combo_changed)
        self.custom_weights_edit.textChanged.connect(self._on_settings_edited)
        self.shape_combo.currentIndexChanged.connect(self._on_settings_edited)
        self.n_features_spin.valueChanged.connect(self._on_n_features_spin_changed)
        self.new_seed_button.clicked.connect(self._on_new_seed_button_clicked)
        self.set_settings(GeneratorSettings())

    def _fill_shape_combo(self) -> None:
        combo = self.shape_combo
        for shape, label, tip in _GAUSSIAN_SHAPE_ITEMS:
            combo.addItem(label, shape)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        combo.insertSeparator(combo.count())
        # A disabled heading so the list itself says what the last group is for.
        combo.addItem("Not Gaussian — " + _STRUGGLES + ":")
        model = combo.model()
        assert isinstance(model, QStandardItemModel)
        heading = model.item(combo.count() - 1)
        heading.setEnabled(False)
        heading.setSelectable(False)
        for shape, label, tip in _OTHER_SHAPE_ITEMS:
            combo.addItem("   " + label, shape)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

    @Slot()
    def _on_n_features_spin_changed(self) -> None:
        """In one dimension the shapes that need two are greyed out and say why; a chosen one
        falls back to 'Spherical' (Gaussians of different widths on the line)."""
        one_d = self.n_features_spin.value() == 1
        combo = self.shape_combo
        model = combo.model()
        tips = {shape: tip for shape, _label, tip in _GAUSSIAN_SHAPE_ITEMS + _OTHER_SHAPE_ITEMS}
        for i in range(combo.count()):
            shape = combo.itemData(i)
            if shape in _NEEDS_2D:
                model.item(i).setEnabled(not one_d)
                combo.setItemData(i, f"Needs D ≥ 2: {_NEEDS_2D[shape]}." if one_d else tips[shape],
                                  Qt.ItemDataRole.ToolTipRole)
        if one_d and combo.currentData() in _NEEDS_2D:
            combo.setCurrentIndex(combo.findData("spherical"))

    # ------------------------------------------------------------------ settings

    def settings(self) -> GeneratorSettings:
        """The settings in the widgets. Raises ``ValueError`` (with a message for people) if invalid."""
        k = self.n_components_spin.value()
        mode = self.weights_combo.currentData()
        weights: str | tuple[float, ...]
        weights = parse_weights(self.custom_weights_edit.text(), k) if mode == "custom" else mode
        return GeneratorSettings(
            n_components=k,
            n_samples=self.n_samples_spin.value(),
            n_features=self.n_features_spin.value(),
            weights=weights,
            separation=self.separation_spin.value(),
            shape=self.shape_combo.currentData(),
            outlier_fraction=round(self.outlier_spin.value() / 100.0, 6),
            seed=self.seed_spin.value(),
        )

    def set_settings(self, settings: GeneratorSettings) -> None:
        """Show ``settings`` in the widgets.

        Raises ``ValueError`` when a value is outside what the widgets offer (N above
        :data:`MAX_SAMPLES`, a seed above 2³¹ − 1); the widgets are then left unchanged.
        """
        if settings.n_samples > MAX_SAMPLES:
            raise ValueError(f"N = {settings.n_samples:,} is more than this panel offers ({MAX_SAMPLES:,}).")
        if settings.seed > MAX_SEED:
            raise ValueError(f"seed {settings.seed} is larger than this panel offers ({MAX_SEED}).")
        if not self.separation_spin.minimum() <= settings.separation <= self.separation_spin.maximum():
            raise ValueError(
                f"separation {settings.separation:g} is outside what this panel offers "
                f"({self.separation_spin.minimum():g}–{self.separation_spin.maximum():g})."
            )
        self.n_components_spin.setValue(settings.n_components)
        self.n_samples_spin.setValue(settings.n_samples)
        self.n_features_spin.setValue(settings.n_features)
        if isinstance(settings.weights, str):
            self.weights_combo.setCurrentIndex(self.weights_combo.findData(settings.weights))
        else:
            self.custom_weights_edit.setText(", ".join(_format_number(w) for w in settings.weights))
            self.weights_combo.setCurrentIndex(self.weights_combo.findData("custom"))
        self.separation_spin.setValue(settings.separation)
        self.shape_combo.setCurrentIndex(self.shape_combo.findData(settings.shape))
        self._on_n_features_spin_changed()
        self.outlier_spin.setValue(100.0 * settings.outlier_fraction)
        self.seed_spin.setValue(settings.seed)
        self._on_settings_edited()

    @Slot()
    def _on_weights_combo_changed(self) -> None:
        if self.weights_combo.currentData() == "custom" and not self.custom_weights_edit.text().strip():
            # Start from something valid that the person can edit.
            self.custom_weights_edit.setText(", ".join(["1"] * self.n_components_spin.value()))
        self._on_settings_edited()

    @Slot()
    def _on_settings_edited(self) -> None:
        custom = self.weights_combo.currentData() == "custom"
        self._custom_box.setVisible(custom)
        message = ""
        if custom:
            try:
                parse_weights(self.custom_weights_edit.text(), self.n_components_spin.value())
            except ValueError as exc:
                message = str(exc)
        self.custom_weights_error.setText(message)
        self.custom_weights_error.setVisible(bool(message))

        shape = self.shape_combo.currentData()
        # Controls a shape ignores are greyed out, and say why.
        k_used = shape not in ("moons", "uniform_square")
        self.n_components_spin.setEnabled(k_used)
        self.weights_combo.setEnabled(k_used)
        self.custom_weights_edit.setEnabled(k_used)
        self.separation_spin.setEnabled(shape != "uniform_square")

    @Slot()
    def _on_new_seed_button_clicked(self) -> None:
        self.seed_spin.setValue(secrets.randbelow(MAX_SEED + 1))
