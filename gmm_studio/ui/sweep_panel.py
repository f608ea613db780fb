"""The K sweep panel: fit a grid of K and covariance types, and choose a model by a criterion.

The course's lesson made visible: the training log-likelihood climbs with every
extra component (the "training log-likelihood" criterion shows it), while BIC,
AIC, ICL and the held-out log-likelihood turn around near the K the data hold.
The sweep (:func:`gmm_studio.core.sweep.run_sweep`) runs as a "sweep" task of the
window's :class:`~gmm_studio.ui.tasks.QtRunner`; its cells stream into a table
(:class:`~gmm_studio.ui.sweep_table.SweepTable`: a row per K, a column per covariance
type) and a plot (:class:`~gmm_studio.ui.sweep_plot.CriterionPlot`: criterion against
K, one curve per type, the min–max over restarts as error bars), under the settings
form (:class:`~gmm_studio.ui.sweep_form.SweepForm`).  The panel picks the best cell by
the chosen criterion; it is selected and starred; clicking any cell emits its fitted model.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.params import COVARIANCE_TYPES
from gmm_studio.core.sweep import (
    CRITERION_LABELS,
    LOWER_IS_BETTER,
    CellResult,
    SweepResult,
    SweepSettings,
    run_sweep,
)
from gmm_studio.session.tasks import Runner
from gmm_studio.ui.sweep_form import MAX_K, SweepForm
from gmm_studio.ui.sweep_plot import CriterionPlot
from gmm_studio.ui.sweep_table import SweepTable, format_value
from gmm_studio.ui.tasks import QtRunner, reporting

__all__ = ["EXPLANATION", "MAX_K", "SweepPanel", "format_value"]

_KIND = "sweep"


class _FinishEarly(threading.Event):
    """The sweep's stop flag: set by the panel's Cancel, which keeps the cells fitted so far
    (``run_sweep`` then returns them as a cancelled result), or by the runner's own cancel
    (a newer sweep, the window closing), which drops them.  Read on the sweep's threads."""

    def __init__(self) -> None:
        super().__init__()
        self._runner_cancel: threading.Event | None = None

    def follow(self, runner_cancel: threading.Event) -> None:
        """Also count as set once ``runner_cancel`` is (the sweep's thread, before it starts)."""
        self._runner_cancel = runner_cancel

    def is_set(self) -> bool:
        runner_cancel = self._runner_cancel
        return super().is_set() or (runner_cancel is not None and runner_cancel.is_set())

EXPLANATION = ("Training log-likelihood always rises with K; choose K by BIC/AIC/ICL or "
               "held-out likelihood.")
_RUN_TIP = "Fit every K and covariance type chosen above (in the background)."
_CANCEL_TIP = "Stop the sweep; the cells already fitted stay."
_EXPORT_TIP = "Save every cell's criteria (with their min and max over restarts) as a CSV file."


# --------------------------------------------------------------------------- panel


class SweepPanel(QWidget):
    """Controls for a K × covariance-type sweep, its results table and criterion plot.

    Signals
    -------
    model_chosen(object)
        The :class:`~gmm_studio.core.params.MixtureParams` of a clicked table cell.
    sweep_finished(object)
        The :class:`~gmm_studio.core.sweep.SweepResult` of a finished (or cancelled) sweep.

    ``runner`` runs the sweep (the window's; a panel of its own otherwise).  All methods run on
    the GUI thread.
    """

    model_chosen = Signal(object)
    sweep_finished = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, max_workers: int = 2,
                 runner: Runner | None = None):
        super().__init__(parent)
        self.setObjectName("sweep_panel")
        self._x: np.ndarray | None = None
        self._max_workers = max_workers
        self._runner = runner if runner is not None else QtRunner(self)
        self._finish_early: _FinishEarly | None = None
        self._cells: dict[tuple[int, str], CellResult] = {}
        self._result: SweepResult | None = None
        self._best: CellResult | None = None
        self._last_dir = ""
        self._build()
        self._update_enabled()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        layout = QVBoxLayout(self)

        self.explanation_label = QLabel(EXPLANATION)
        self.explanation_label.setWordWrap(True)
        self.explanation_label.setToolTip(
            "More components always fit the training points at least as well; a component "
            "that collapses onto one point makes the likelihood infinite. A penalised "
            "criterion or points the fit never saw tell over-fitting apart."
        )
        layout.addWidget(self.explanation_label)

        self.form = SweepForm()
        layout.addWidget(self.form)
        # The form's widgets, by the names the window and tests know them by.
        self.k_min_spin = self.form.k_min_spin
        self.k_max_spin = self.form.k_max_spin
        self.type_checks = self.form.type_checks
        self.restarts_spin = self.form.restarts_spin
        self.validation_spin = self.form.validation_spin
        self.criterion_combo = self.form.criterion_combo
        self.form.types_changed.connect(self._update_enabled)
        for signal in (self.form.types_changed, self.k_min_spin.valueChanged,
                       self.k_max_spin.valueChanged):
            signal.connect(self._on_form_grid_changed)
        self.form.criterion_changed.connect(self._on_criterion_changed)

        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self._on_run_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._on_export_clicked)
        for b in (self.run_button, self.cancel_button, self.export_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v of %m cells")
        self.progress.setToolTip("Cells (K, covariance type) fitted so far.")
        layout.addWidget(self.progress)

        self.status_label = QLabel("Load or generate data, then Run.")
        self.status_label.setWordWrap(True)
        self.status_label.setToolTip("The best cell by the chosen criterion, or what went wrong.")
        layout.addWidget(self.status_label)

        splitter = QSplitter(Qt.Orientation.Vertical)
        layout.addWidget(splitter, 1)
        self.table = SweepTable()
        self.table.cellClicked.connect(self._on_table_cell_clicked)
        splitter.addWidget(self.table)
        self.plot = CriterionPlot()
        # The plot's items, by the names the tests know them by.
        self.curves, self.error_bars = self.plot.curves, self.plot.error_bars
        self.best_marker = self.plot.best_marker
        splitter.addWidget(self.plot)
        self.plot.set_criterion(self.criterion())

    # ------------------------------------------------------------------ public API

    def set_data(self, x: np.ndarray | None) -> None:
        """Give the panel the points to sweep (N, D); abandons any sweep in progress."""
        self._stop_sweep()
        self._x = None if x is None else np.ascontiguousarray(x, dtype=np.float64)
        self._clear_results()
        if self._x is not None:
            self.status_label.setText(f"{len(self._x)} points ready: choose the grid and Run.")
        self._update_enabled()

    def settings(self) -> SweepSettings:
        """The sweep the controls describe (raises ``ValueError`` when none is checked)."""
        return self.form.settings()

    def criterion(self) -> str:
        return self.form.criterion()

    def is_running(self) -> bool:
        return self._runner.is_running(_KIND)

    def result(self) -> SweepResult | None:
        """The last finished (or cancelled) sweep, or None."""
        return self._result

    def best_cell(self) -> CellResult | None:
        """The best finished cell by the current criterion, or None."""
        return self._best

    def cell_at(self, row: int, column: int) -> CellResult | None:
        """The result shown in table cell (row, column), or None."""
        grid = self.table.grid()
        if grid is None:
            return None
        ks, types = grid.k_values, grid.covariance_types
        if not (0 <= row < len(ks) and 0 <= column < len(types)):
            return None
        return self._cells.get((ks[row], types[column]))

    def run(self) -> None:
        """Start a sweep of the controls' grid on a worker thread."""
        if self._x is None or self.is_running():
            return
        try:
            settings = self.settings()
        except ValueError as exc:
            self.status_label.setText(str(exc))
            return
        self._clear_results()
        self.table.show_grid(settings)
        self.progress.setRange(0, len(settings.k_values) * len(settings.covariance_types))
        self.progress.setValue(0)
        self.status_label.setText("Sweeping…")
        x, workers = self._x, self._max_workers

        flag = self._finish_early = _FinishEarly()

        def sweep(cancel, report):  # the runner's thread
            flag.follow(cancel)
            return run_sweep(x, settings, on_cell=report, cancel=flag, max_workers=workers)

        self._runner.start(_KIND, reporting(sweep), on_yielded=self._on_task_cell_done,
                           on_finished=self._on_task_sweep_finished,
                           on_failed=self._on_task_sweep_failed,
                           on_cancelled=self._update_enabled)
        self._update_enabled()

    def cancel(self) -> None:
        """Ask the running sweep to stop; the cells already fitted stay (``sweep_finished``)."""
        if self.is_running() and self._finish_early is not None:
            self._finish_early.set()
            self.status_label.setText("Cancelling…")
        self._update_enabled()

    # ------------------------------------------------------------------ slots

    @Slot()
    def _on_criterion_changed(self) -> None:
        self.plot.set_criterion(self.criterion())
        self._refresh()
        if self._result is not None:
            self._select_best()

    @Slot()
    def _on_run_clicked(self) -> None:
        self.run()

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.cancel()

    @Slot()
    def _on_export_clicked(self) -> None:
        if self._result is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export sweep as CSV", self._last_dir or "sweep.csv", "CSV files (*.csv)"
        )
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> bool:
        """Write the last sweep's table to ``path`` (atomically); True on success."""
        if self._result is None:
            return False
        try:
            self._result.to_csv(path)
        except OSError as exc:
            self.status_label.setText(f"Could not export: {exc}")
            return False
        self._last_dir = path
        self.status_label.setText(f"Exported {len(self._result.cells)} cells to {path}.")
        return True

    def _on_task_cell_done(self, cell: CellResult) -> None:
        self._cells[(cell.n_components, cell.covariance_type)] = cell
        self.progress.setValue(len(self._cells))
        self.table.show_cell(cell, self.criterion())
        self.plot.show_type(cell.covariance_type, self._cells.values(), self.criterion())
        self._refresh_best()

    def _on_task_sweep_finished(self, result: SweepResult) -> None:
        self._finish_early = None
        self._result = result
        # Every cell also came through on_yielded; take the result's set as the truth.
        self._cells = {(c.n_components, c.covariance_type): c for c in result.cells}
        self.progress.setValue(len(self._cells))
        self._update_enabled()
        self._refresh()
        self._select_best()
        self.sweep_finished.emit(result)

    def _on_task_sweep_failed(self, exc: BaseException) -> None:
        self._finish_early = None
        self.status_label.setText(f"The sweep failed: {exc or type(exc).__name__}")
        self._update_enabled()

    @Slot(int, int)
    def _on_table_cell_clicked(self, row: int, column: int) -> None:
        cell = self.cell_at(row, column)
        if cell is not None and cell.params is not None:
            self.model_chosen.emit(cell.params)

    # ------------------------------------------------------------------ helpers

    def _stop_sweep(self) -> None:
        """Abandon any sweep: cancelled through the runner, its cells and result are dropped."""
        self._runner.cancel(_KIND)
        self._finish_early = None

    def _clear_results(self) -> None:
        self._cells = {}
        self._result = None
        self._best = None
        self.table.clear_grid()
        self.progress.setValue(0)
        self._on_form_grid_changed()
        self._refresh()

    @Slot()
    def _on_form_grid_changed(self) -> None:
        """Before a sweep, the progress bar counts the cells the form describes ("0 of 32")."""
        if self.is_running() or self._result is not None:
            return
        try:
            grid = self.settings()
        except ValueError:  # no type checked: the Run button's tooltip says so
            grid = None
        self.progress.setRange(0, 1 if grid is None else len(grid.k_values) * len(grid.covariance_types))
        self.progress.setValue(0)

    def _refresh(self) -> None:
        """Redraw the whole table text, every curve and the best marker from the cells."""
        criterion = self.criterion()
        for cell in self._cells.values():
            self.table.show_cell(cell, criterion)
        for t in COVARIANCE_TYPES:
            self.plot.show_type(t, self._cells.values(), criterion)
        self._refresh_best()

    def _refresh_best(self) -> None:
        criterion = self.criterion()
        scored = [c for c in self._cells.values() if math.isfinite(c.value(criterion))]
        previous = self._best
        self._best = None
        grid = self.table.grid()
        if scored and grid is not None:
            sign = 1.0 if LOWER_IS_BETTER[criterion] else -1.0
            types = grid.covariance_types
            self._best = min(scored, key=lambda c: (sign * c.value(criterion), c.n_components,
                                                    types.index(c.covariance_type)))
        best = self._best
        self.plot.show_best(best, criterion)
        if previous is not best:
            self.table.mark_best(previous, False)
            self.table.mark_best(best, True)
        if best is not None:
            self.status_label.setText(
                f"Best by {CRITERION_LABELS[criterion]}: K={best.n_components}, "
                f"{best.covariance_type} ({format_value(criterion, best.value(criterion))})."
                + (" Cancelled: some cells were not fitted."
                   if self._result is not None and self._result.cancelled else "")
            )
        elif self._result is not None:
            self.status_label.setText(
                f"No cell has a {CRITERION_LABELS[criterion]} value"
                + (" (validation fraction was 0)." if criterion == "heldout_ll" else ".")
            )

    def _select_best(self) -> None:
        self.table.select(self._best)

    def _update_enabled(self) -> None:
        running = self.is_running()
        any_type = self.form.any_type_checked()
        why_not_run = ("Load or generate data first." if self._x is None
                       else "A sweep is running: Cancel it first." if running
                       else "Check at least one covariance type." if not any_type else None)
        self.run_button.setEnabled(why_not_run is None)
        self.run_button.setToolTip(_RUN_TIP if why_not_run is None else f"{_RUN_TIP} Not now: {why_not_run}")
        cancelling = self._finish_early is not None and self._finish_early.is_set()
        self.cancel_button.setEnabled(running and not cancelling)
        self.cancel_button.setToolTip(_CANCEL_TIP if running and not cancelling else
                                      f"{_CANCEL_TIP} Not now: " + ("already cancelling." if running
                                                                    else "no sweep is running."))
        self.export_button.setEnabled(self._result is not None and not running)
        self.export_button.setToolTip(_EXPORT_TIP if self._result is not None and not running else
                                      f"{_EXPORT_TIP} Not now: " + ("wait for the sweep to end." if running
                                                                    else "run a sweep first."))
        self.form.set_grid_editable(not running)
