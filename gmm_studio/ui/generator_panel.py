"""The synthetic-data panel: run the mixture's generative process with settings you choose.

The course's point is that a mixture is a *recipe* for making data: pick component ``k`` with
probability π_k, then draw ``x ~ N(μ_k, Σ_k)``. This panel lets a person set the ingredients
(:class:`~gmm_studio.core.generate.GeneratorSettings`), runs
:func:`~gmm_studio.core.generate.generate`, and hands the :class:`SyntheticData` to whoever
listens on :attr:`GeneratorPanel.data_generated`. After a fit, :meth:`GeneratorPanel.show_comparison`
puts the session's comparison of the shown model with the truth next to it.

The panel composes the settings form (:class:`~gmm_studio.ui.generator_form.GeneratorForm`)
and the fit-vs-truth box (:class:`~gmm_studio.ui.truth_comparison.TruthComparisonBox`), and
runs the generate and save tasks.

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

import dataclasses
import os
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.export import atomic_write_text, save_model_json
from gmm_studio.core.generate import MAX_COMPONENTS, GeneratorSettings, SyntheticData, generate
from gmm_studio.core.compare import ModelComparison
from gmm_studio.core.params import MixtureParams
from gmm_studio.session.tasks import Runner
from gmm_studio.ui.generator_form import (
    ERROR_STYLE,
    MAX_SAMPLES,
    THREAD_THRESHOLD,
    GeneratorForm,
    parse_weights,
)
from gmm_studio.ui.tasks import QtRunner
from gmm_studio.ui.truth_comparison import TruthComparisonBox

__all__ = ["GeneratorPanel", "MAX_SAMPLES", "THREAD_THRESHOLD", "parse_weights", "write_labelled_csv"]

GENERATIVE_PROCESS_TEXT = (
    "A mixture is a recipe for data: for each point pick component <i>k</i> with probability "
    "π<sub><i>k</i></sub>, then draw <i>x</i> ~ N(μ<sub><i>k</i></sub>, Σ<sub><i>k</i></sub>)."
)

_CSV_TIP = ("Write the points as columns x1…xD plus a 'label' column with the true component "
            "(-1 for outliers).")


# --------------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------------- panel


class GeneratorPanel(QWidget):
    """A :class:`~gmm_studio.ui.generator_form.GeneratorForm`, a Generate button, saving, and a
    :class:`~gmm_studio.ui.truth_comparison.TruthComparisonBox`; runs the generate and save tasks.

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

        self.form = GeneratorForm()
        layout.addWidget(self.form)
        # The form's widgets, by the names the window and tests know them by.
        form = self.form
        self.n_components_spin = form.n_components_spin
        self.n_samples_spin = form.n_samples_spin
        self.n_features_spin = form.n_features_spin
        self.weights_combo = form.weights_combo
        self.custom_weights_edit = form.custom_weights_edit
        self.custom_weights_error = form.custom_weights_error
        self.separation_spin = form.separation_spin
        self.shape_combo = form.shape_combo
        self.outlier_spin = form.outlier_spin
        self.seed_spin = form.seed_spin
        self.new_seed_button = form.new_seed_button

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
        self.error_label.setStyleSheet(ERROR_STYLE)
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

        self.fit_group = TruthComparisonBox()
        self.ari_label = self.fit_group.ari_label
        self.fit_table = self.fit_group.fit_table
        layout.addWidget(self.fit_group)
        layout.addStretch(1)

        self.generate_button.clicked.connect(self.generate)
        self.save_csv_button.clicked.connect(self.save_csv)
        self.save_json_button.clicked.connect(self.save_truth_json)

    # ------------------------------------------------------------------ settings

    def settings(self) -> GeneratorSettings:
        """The settings in the widgets. Raises ``ValueError`` (with a message for people) if invalid."""
        return self.form.settings()

    def set_settings(self, settings: GeneratorSettings) -> None:
        """Show ``settings`` in the widgets (:meth:`GeneratorForm.set_settings`, which raises
        ``ValueError`` for values outside what the widgets offer and then changes nothing)."""
        self.form.set_settings(settings)

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


    # ------------------------------------------------------------------ fit vs. truth

    def show_comparison(self, comparison: ModelComparison | None, params: MixtureParams | None) -> None:
        """Show how the model on screen compares with the truth that generated the data.

        ``comparison`` is the session's (computed for ``params``, the model on screen); None
        while there is none yet (a fit running, a new model being compared): the table is
        then hidden rather than left showing an earlier model's figures.  The panel only draws.
        """
        self.fit_group.show_comparison(comparison, params, self._data)

    def clear_fit(self) -> None:
        """Remove the fit-vs-truth comparison."""
        self.fit_group.clear()

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
