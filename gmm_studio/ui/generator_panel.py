"""The synthetic-data panel: run the mixture's generative process with settings you choose.

The course's point is that a mixture is a *recipe* for making data: pick component ``k`` with
probability π_k, then draw ``x ~ N(μ_k, Σ_k)``. This panel lets a person set the ingredients
(:class:`~gmm_studio.core.generate.GeneratorSettings`), runs
:func:`~gmm_studio.core.generate.generate`, and hands the :class:`SyntheticData` to whoever
listens on :attr:`GeneratorPanel.data_generated`. After a fit, :meth:`GeneratorPanel.show_comparison`
puts the session's comparison of the shown model with the truth next to it.

The panel is standalone: the main window docks it and connects its signals. It never fits
anything and never draws points.

Threads
-------
Small data sets are generated on the GUI thread (2e5 points take ~40 ms). Above
:data:`THREAD_THRESHOLD` points generation runs as a "generate" task of the window's
:class:`~gmm_studio.ui.tasks.QtRunner`, and so does writing the data as CSV (a million rows
take ~2 s); the runner drops what a replaced task reports and joins every task when the
window closes.
"""

from __future__ import annotations

import math
import dataclasses
import os
import secrets
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QIcon, QKeySequence, QPainter, QPen, QPixmap, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.export import atomic_write_text, save_model_json
from gmm_studio.core.generate import (
    MAX_COMPONENTS,
    MAX_FEATURES,
    MAX_OUTLIER_FRACTION,
    MIN_FEATURES,
    GeneratorSettings,
    SyntheticData,
    generate,
)
from gmm_studio.core.compare import ModelComparison
from gmm_studio.core.params import MixtureParams
from gmm_studio.session.tasks import Runner
from gmm_studio.ui.tasks import QtRunner

__all__ = ["GeneratorPanel", "MAX_SAMPLES", "THREAD_THRESHOLD", "parse_weights", "write_labelled_csv"]

#: Above this many points generation runs on a worker thread.
THREAD_THRESHOLD = 200_000
#: Largest N the N spin box offers.
MAX_SAMPLES = 1_000_000
#: Largest seed a ``QSpinBox`` can hold.
MAX_SEED = 2**31 - 1

GENERATIVE_PROCESS_TEXT = (
    "A mixture is a recipe for data: for each point pick component <i>k</i> with probability "
    "π<sub><i>k</i></sub>, then draw <i>x</i> ~ N(μ<sub><i>k</i></sub>, Σ<sub><i>k</i></sub>)."
)

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
_SHAPE_LABELS = {s: label for s, label, _ in _GAUSSIAN_SHAPE_ITEMS + _OTHER_SHAPE_ITEMS}

_WEIGHT_MODES = (
    ("equal", "Equal", "Every component is picked with the same probability π_k = 1/K."),
    (
        "imbalanced",
        "Imbalanced",
        "π decreases geometrically: the first component is picked 10 times as often as the last.",
    ),
    ("custom", "Custom…", "Type K positive numbers separated by commas; they are normalised to sum to one."),
)

_ERROR_STYLE = "color: #B00020;"
_CSV_TIP = ("Write the points as columns x1…xD plus a 'label' column with the true component "
            "(-1 for outliers).")
_TABLE_HEADERS = ("True k", "Fit k", "|Δμ|", "|Δπ|", "ΔΣ (rel.)")


# --------------------------------------------------------------------------- helpers


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


def _column_names(n_features: int) -> list[str]:
    return [f"x{j + 1}" for j in range(n_features)]


def write_labelled_csv(path: str | os.PathLike, values: np.ndarray, labels: np.ndarray) -> None:
    """Write ``x1..xD,label`` to ``path`` atomically (:func:`~gmm_studio.core.export.atomic_write_bytes`).

    Floats are written at ``repr`` precision (like the model export), so reading the file
    back gives the same numbers. Raises :class:`~gmm_studio.core.export.ExportError` (an
    ``OSError``) with a message for people; an existing file at ``path`` is then unchanged.
    """
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    d = values.shape[1]
    row = ",".join(["%r"] * d + ["%d"]) + "\n"
    parts = [",".join(_column_names(d) + ["label"]) + "\n"]
    # One %-format per block of rows, not per row or per cell: a million rows take ~2 s
    # this way, against ~5.5 s for numpy.savetxt and far more for the csv module.
    for start in range(0, len(values), _CSV_BLOCK):
        block = np.column_stack([values[start : start + _CSV_BLOCK], labels[start : start + _CSV_BLOCK]])
        parts.append((row * len(block)) % tuple(block.ravel().tolist()))
    atomic_write_text(path, "".join(parts))


_CSV_BLOCK = 65_536


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


# --------------------------------------------------------------------------- panel


class GeneratorPanel(QWidget):
    """Controls for :class:`GeneratorSettings`, a Generate button, saving, and fit-vs-truth.

    Signals
    -------
    data_generated(object)
        A new :class:`SyntheticData`, emitted on the GUI thread.
    busy_changed(bool)
        True while a large data set is being generated in the background.
    saved(str)
        A file was written (its path).

    ``runner`` runs the background work (the window's; a panel of its own otherwise).  All
    methods run on the GUI thread.
    """

    data_generated = Signal(object)
    busy_changed = Signal(bool)
    saved = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, runner: Runner | None = None):
        super().__init__(parent)
        self.setObjectName("generator_panel")
        self._data: SyntheticData | None = None
        self._runner = runner if runner is not None else QtRunner(self)
        self._last_dir = ""
        self._build()
        self.set_settings(GeneratorSettings())
        self._update_save_buttons()
        self.clear_fit()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        layout = QVBoxLayout(self)

        self.process_label = QLabel(GENERATIVE_PROCESS_TEXT)
        self.process_label.setTextFormat(Qt.TextFormat.RichText)
        self.process_label.setWordWrap(True)
        self.process_label.setToolTip(
            "This is exactly how the data below are made: each point first picks its component "
            "from the mixing weights, then is drawn from that component's Gaussian."
        )
        layout.addWidget(self.process_label)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form)

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
        self.custom_weights_error.setStyleSheet(_ERROR_STYLE)
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

        self.generate_button = QPushButton("Generate")
        self.generate_button.setShortcut(QKeySequence("Ctrl+G"))
        self.generate_button.setToolTip("Draw a new data set with these settings (Ctrl+G).")
        self.generate_button.setDefault(True)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: generate() reports no progress
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.setToolTip("Generating a large data set in the background…")
        self.busy_bar.setVisible(False)
        generate_row = QHBoxLayout()
        generate_row.addWidget(self.generate_button)
        generate_row.addWidget(self.busy_bar, 1)
        layout.addLayout(generate_row)

        self.error_label = QLabel()
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setToolTip("Why the settings could not be used. Nothing was generated.")
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setToolTip(
            "The current data set, and how many points each component actually got: the picks "
            "follow π, so the counts are close to π_k·N but not equal."
        )
        layout.addWidget(self.status_label)

        self.save_csv_button = QPushButton("Save data as CSV…")
        self.save_json_button = QPushButton("Save truth as model JSON…")
        self._json_tooltip = (
            "Write the mixture that generated the data in the model-export format, so it can be "
            "loaded and compared like a fitted model."
        )
        self.save_json_button.setToolTip(self._json_tooltip)
        # One above the other: side by side they would make a docked panel too wide.
        layout.addWidget(self.save_csv_button)
        layout.addWidget(self.save_json_button)

        self.fit_group = QGroupBox("Fit vs. truth")
        self.fit_group.setToolTip(
            "After a fit: fitted components matched to the true ones (by their means) and how far "
            "each is off."
        )
        fit_layout = QVBoxLayout(self.fit_group)
        self.ari_label = QLabel()
        self.ari_label.setWordWrap(True)
        self.ari_label.setToolTip(
            "Adjusted Rand index between the generating labels and the fit's most likely "
            "components: 1 is the same grouping, about 0 is no better than chance."
        )
        fit_layout.addWidget(self.ari_label)
        self.fit_table = QTableWidget(0, len(_TABLE_HEADERS))
        self.fit_table.setHorizontalHeaderLabels(list(_TABLE_HEADERS))
        self.fit_table.verticalHeader().setVisible(False)
        self.fit_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.fit_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for col in (2, 3, 4):  # the numbers share what width the dock gives
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        self.fit_table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.fit_table.setMinimumWidth(0)
        self.fit_table.setToolTip(
            "Per true component: the fitted component matched to it, the distance between the "
            "means, the difference of the weights, and the relative covariance error "
            "‖Σ̂ − Σ‖ / ‖Σ‖."
        )
        tips = (
            "Index of the true component.",
            "Index of the fitted component matched to it.",
            "Mean error: Euclidean distance between the true and the fitted mean.",
            "Weight error: |π̂ − π|, difference of the mixing weights.",
            "Covariance error: ‖Σ̂ − Σ‖_F / ‖Σ‖_F, relative to the true covariance.",
        )
        for col, tip in enumerate(tips):
            self.fit_table.horizontalHeaderItem(col).setToolTip(tip)
        fit_layout.addWidget(self.fit_table)
        layout.addWidget(self.fit_group)
        layout.addStretch(1)

        self.n_components_spin.valueChanged.connect(self._on_settings_edited)
        self.weights_combo.currentIndexChanged.connect(self._on_weights_combo_changed)
        self.custom_weights_edit.textChanged.connect(self._on_settings_edited)
        self.shape_combo.currentIndexChanged.connect(self._on_settings_edited)
        self.new_seed_button.clicked.connect(self._on_new_seed_button_clicked)
        self.generate_button.clicked.connect(self.generate)
        self.save_csv_button.clicked.connect(self.save_csv)
        self.save_json_button.clicked.connect(self.save_truth_json)

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

    # ------------------------------------------------------------------ generating

    def is_busy(self) -> bool:
        """Whether a data set is being generated in the background."""
        return self._runner.is_running("generate")

    def data(self) -> SyntheticData | None:
        """The last data set generated, or ``None``."""
        return self._data

    def clear_data(self) -> None:
        """Forget the current data set (the main window calls this when other data is loaded)."""
        self._data = None
        self.status_label.clear()
        self.clear_fit()
        self._update_save_buttons()

    @Slot()
    def generate(self) -> None:
        """Generate with the settings in the widgets; emit :attr:`data_generated` when done.

        Invalid settings show their message in red and emit nothing; the current data stay.
        """
        if self.is_busy():
            return
        try:
            settings = self.settings()
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self._show_error("")
        if settings.n_samples > THREAD_THRESHOLD:
            self._start_thread(settings)
            return
        try:
            data = generate(settings)
        except (ValueError, MemoryError) as exc:
            self._show_error(str(exc) or type(exc).__name__)
            return
        self._accept(data)

    def _start_thread(self, settings: GeneratorSettings) -> None:
        self._runner.start("generate", lambda cancel: generate(settings),
                           on_finished=self._on_task_generated, on_failed=self._on_task_failed,
                           on_cancelled=lambda: self._set_busy(False))
        self._set_busy(True)

    def _on_task_generated(self, data: SyntheticData) -> None:
        self._set_busy(False)
        self._accept(data)

    def _on_task_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._show_error(str(exc) or type(exc).__name__)

    def _set_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        self.generate_button.setEnabled(not busy)
        self.generate_button.setText("Generating…" if busy else "Generate")
        self.busy_changed.emit(busy)

    def _accept(self, data: SyntheticData) -> None:
        self._data = data
        self.clear_fit()
        self.status_label.setText(self._describe(data))
        self._update_save_buttons()
        self.data_generated.emit(data)

    @staticmethod
    def _describe(data: SyntheticData) -> str:
        text = data.description[:1].upper() + data.description[1:] + "."
        labels = data.labels
        k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
        if data.truth is not None and k <= MAX_COMPONENTS:
            counts = np.bincount(labels[labels >= 0], minlength=k)
            expected = data.truth.weights * int((labels >= 0).sum())
            text += (
                "\nPoints per component: "
                + ", ".join(str(int(c)) for c in counts)
                + " (π_k·N: "
                + ", ".join(f"{e:.0f}" for e in expected)
                + ")."
            )
        return text

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    # ------------------------------------------------------------------ fit vs. truth

    def show_comparison(self, comparison: ModelComparison | None, params: MixtureParams | None) -> None:
        """Show how the model on screen compares with the truth that generated the data.

        ``comparison`` is the session's (computed for ``params``, the model on screen); None
        while there is none yet (a fit running, a new model being compared): the table is
        then hidden rather than left showing an earlier model's figures.  The panel only draws.
        """
        data = self._data
        if comparison is None or data is None or params is None or comparison.truth_labels is None:
            self.clear_fit()
            return
        self.fit_group.setVisible(True)
        self.fit_table.setRowCount(0)
        agreement = comparison.truth_labels
        text = f"Adjusted Rand index vs. the generating labels: <b>{agreement.ari:.3f}</b>"
        if agreement.inlier_ari is not None:
            text += f" (outliers as their own class; inliers only: {agreement.inlier_ari:.3f})"
        if data.truth is None:
            text += (
                f".<br>{_SHAPE_LABELS.get(data.settings.shape, data.settings.shape)} has no "
                "Gaussian truth, so only the labels can be compared."
            )
            self.ari_label.setText(text)
            self.fit_table.setVisible(False)
            return
        k_true, k_fit = data.truth.n_components, params.n_components
        if comparison.unmatched_true or comparison.unmatched_fitted:
            n, who = ((comparison.unmatched_fitted, "fitted") if comparison.unmatched_fitted
                      else (comparison.unmatched_true, "true"))
            text += (f".<br>The fit has {k_fit} component{'s' if k_fit != 1 else ''}, the truth "
                     f"{k_true}: {n} {who} component{'s are' if n != 1 else ' is'} left unmatched.")
        self.ari_label.setText(text)
        by_true = {e.true_index: e for e in comparison.errors}
        self.fit_table.setRowCount(k_true)
        for i in range(k_true):
            error = by_true.get(i)
            if error is None:
                cells: list[str | float] = [str(i), "—", "unmatched", "", ""]
            else:
                cells = [str(i), str(error.fitted_index), error.mean_error, error.weight_error,
                         error.covariance_error]
            for col, value in enumerate(cells):
                if isinstance(value, float):
                    item = QTableWidgetItem(f"{value:.3g}")
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    item.setData(Qt.ItemDataRole.UserRole, value)  # the exact number, for copying and tests
                else:
                    item = QTableWidgetItem(value)
                self.fit_table.setItem(i, col, item)
        self.fit_table.setVisible(True)

    def clear_fit(self) -> None:
        """Remove the fit-vs-truth comparison."""
        self.ari_label.clear()
        self.fit_table.setRowCount(0)
        self.fit_group.setVisible(False)

    # ------------------------------------------------------------------ saving

    def _update_save_buttons(self) -> None:
        data = self._data
        saving = self.is_saving()
        self.save_csv_button.setEnabled(data is not None and not saving)
        self.save_csv_button.setToolTip(_CSV_TIP if data is not None and not saving else
                                        f"{_CSV_TIP} Not now: " + ("the data are being saved." if saving
                                                                   else "generate data first."))
        self.save_json_button.setEnabled(data is not None and data.truth is not None)
        if data is None:
            self.save_json_button.setToolTip(f"{self._json_tooltip} Not now: generate data first.")
        elif data.truth is None:
            self.save_json_button.setToolTip(
                f"{self._json_tooltip} Not now: these data have no Gaussian truth (non-Gaussian "
                "shape), so there is no model to save.")
        else:
            self.save_json_button.setToolTip(self._json_tooltip)

    def _ask_path(self, caption: str, name: str, filters: str) -> str:
        start = os.path.join(self._last_dir, name) if self._last_dir else name
        path, _ = QFileDialog.getSaveFileName(self, caption, start, filters)
        if path:
            self._last_dir = os.path.dirname(path)
        return path

    def _write(self, caption: str, path: str, write: Callable[[], None]) -> bool:
        """Write a small file now; a failure is shown in a message box.  GUI thread."""
        try:
            write()
        except (OSError, ValueError, TypeError) as exc:
            QMessageBox.critical(self, caption, f"Could not write {path}:\n{exc}")
            return False
        self.saved.emit(path)
        return True

    def is_saving(self) -> bool:
        """Whether the data are being written as CSV in the background."""
        return self._runner.is_running("save")

    @Slot()
    def save_csv(self) -> None:
        """Ask for a file name and write the current data with their true labels."""
        data = self._data
        if data is None:
            return
        path = self._ask_path("Save data as CSV", "synthetic.csv", "CSV files (*.csv);;All files (*)")
        if path:
            self.save_csv_to(path)

    def save_csv_to(self, path: str) -> None:
        """Write the current data and labels to ``path`` in the background (``saved`` follows;
        a failure shows a message and leaves any existing file unchanged)."""
        data = self._data
        if data is None:
            return

        def failed(exc: BaseException) -> None:
            self._set_saving(False)
            QMessageBox.critical(self, "Save data as CSV", f"Could not write {path}:\n{exc}")

        def finished(_: object) -> None:
            self._set_saving(False)
            self.status_label.setText(f"Saved {len(data.values):,} points to {path}.")
            self.saved.emit(path)

        self._runner.start("save", lambda cancel: write_labelled_csv(path, data.values, data.labels),
                           on_finished=finished, on_failed=failed,
                           on_cancelled=lambda: self._set_saving(False))
        self._set_saving(True)

    def _set_saving(self, saving: bool) -> None:
        self.save_csv_button.setText("Saving…" if saving else "Save data as CSV…")
        self._update_save_buttons()

    @Slot()
    def save_truth_json(self) -> None:
        """Ask for a file name and write the generating mixture in the model-export format."""
        data = self._data
        if data is None or data.truth is None:
            return
        caption = "Save truth as model JSON"
        path = self._ask_path(caption, "truth.json", "Model JSON (*.json);;All files (*)")
        if not path:
            return
        truth = data.truth
        # The truth was not fitted: no iterations, no convergence, no criteria. The generator
        # settings go where a fit's options would, tagged so a reader can tell the two apart.
        settings = {"source": "synthetic truth", **dataclasses.asdict(data.settings)}
        self._write(
            caption,
            path,
            lambda: save_model_json(
                path,
                truth,
                columns=_column_names(truth.n_features),
                log_likelihood=None,
                n_iter=None,
                converged=None,
                criteria=None,
                n_samples=len(data.values),
                settings=settings,
                preprocessing=None,
            ),
        )
