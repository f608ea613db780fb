"""The K sweep panel: fit a grid of K and covariance types, and choose a model by a criterion.

The course's lesson made visible: the training log-likelihood climbs with every
extra component (the "training log-likelihood" criterion shows it), while BIC,
AIC, ICL and the held-out log-likelihood turn around near the K the data hold.
The sweep (:func:`gmm_studio.core.sweep.run_sweep`) runs as a "sweep" task of the
window's :class:`~gmm_studio.ui.tasks.QtRunner`; its cells stream into a table (a row per K, a column per covariance type) and a
plot (criterion against K, one curve per type, the min–max over restarts as
error bars).  The best cell is selected and starred; clicking any cell emits
its fitted model.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.params import COVARIANCE_TYPES
from gmm_studio.core.sweep import (
    CRITERIA,
    CRITERION_LABELS,
    LOWER_IS_BETTER,
    CellResult,
    SweepResult,
    SweepSettings,
    run_sweep,
)
from gmm_studio.session.tasks import Runner
from gmm_studio.ui.tasks import QtRunner, reporting

__all__ = ["EXPLANATION", "SweepPanel", "format_value"]

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
MAX_K = 30

_CRITERION_TIPS = {
    "bic": "Bayesian information criterion, -2·log L + p·log N on the training rows. Lower is "
           "better; a heavy penalty per parameter, so it picks compact models.",
    "aic": "Akaike information criterion, -2·log L + 2·p on the training rows. Lower is better; "
           "a lighter penalty than BIC, so it tends to pick more components.",
    "icl": "Integrated completed likelihood: BIC plus twice the entropy of the responsibilities. "
           "Lower is better; it also penalises overlapping components.",
    "train_ll": "Mean log-likelihood per training point. Higher is better — and it keeps rising "
                "with K, so it cannot choose K by itself.",
    "heldout_ll": "Mean log-likelihood per held-out (validation) point, never seen by the fit. "
                  "Higher is better; it falls once extra components only fit noise.",
}
_TYPE_TIPS = {
    "full": "Each component has its own full covariance (any ellipse).",
    "tied": "All components share one full covariance (same ellipse shape).",
    "diag": "Each component has its own axis-aligned (diagonal) covariance.",
    "spherical": "Each component has its own single variance (circles).",
}
_TYPE_COLOURS = {"full": "#0072B2", "tied": "#D55E00", "diag": "#009E73", "spherical": "#CC79A7"}
# Curves of different types sit side by side at each K so their error bars do not overlap.
_TYPE_OFFSETS = {"full": -0.12, "tied": -0.04, "diag": 0.04, "spherical": 0.12}
_BEST_BRUSH = QBrush(QColor(255, 220, 90))
_RUN_TIP = "Fit every K and covariance type chosen above (in the background)."
_CANCEL_TIP = "Stop the sweep; the cells already fitted stay."
_EXPORT_TIP = "Save every cell's criteria (with their min and max over restarts) as a CSV file."


def format_value(criterion: str, value: float) -> str:
    """How a criterion's value reads in the table: penalised criteria to 0.1, likelihoods to 1e-4."""
    if not math.isfinite(value):
        return "NA"
    return f"{value:.1f}" if LOWER_IS_BETTER[criterion] else f"{value:.4f}"


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
        self._settings: SweepSettings | None = None  # of the sweep shown
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

        form = QFormLayout()
        layout.addLayout(form)
        k_row = QHBoxLayout()
        self.k_min_spin = QSpinBox()
        self.k_min_spin.setRange(1, MAX_K)
        self.k_min_spin.setValue(1)
        self.k_min_spin.setToolTip("Smallest number of components K to fit.")
        self.k_max_spin = QSpinBox()
        self.k_max_spin.setRange(1, MAX_K)
        self.k_max_spin.setValue(9)
        self.k_max_spin.setToolTip("Largest number of components K to fit.")
        self.k_min_spin.valueChanged.connect(self._on_k_min_changed)
        self.k_max_spin.valueChanged.connect(self._on_k_max_changed)
        k_row.addWidget(self.k_min_spin)
        k_row.addWidget(QLabel("to"))
        k_row.addWidget(self.k_max_spin)
        form.addRow("K from", k_row)

        types_row = QHBoxLayout()
        self.type_checks: dict[str, QCheckBox] = {}
        for t in COVARIANCE_TYPES:
            box = QCheckBox(t)
            box.setChecked(True)
            box.setToolTip(f"Fit '{t}' covariances. {_TYPE_TIPS[t]}")
            box.toggled.connect(self._on_type_toggled)
            types_row.addWidget(box)
            self.type_checks[t] = box
        form.addRow("Covariance", types_row)

        self.restarts_spin = QSpinBox()
        self.restarts_spin.setRange(1, 50)
        self.restarts_spin.setValue(5)
        self.restarts_spin.setToolTip(
            "EM runs from different k-means starts per cell; the best (highest training "
            "likelihood) is kept and the spread over all of them is drawn as error bars."
        )
        form.addRow("Restarts per cell", self.restarts_spin)

        self.validation_spin = QDoubleSpinBox()
        self.validation_spin.setRange(0.0, 0.5)
        self.validation_spin.setSingleStep(0.05)
        self.validation_spin.setDecimals(2)
        self.validation_spin.setValue(0.2)
        self.validation_spin.setToolTip(
            "Fraction of the points, picked at random, kept out of every fit to measure the "
            "held-out log-likelihood. 0 fits on all points (no held-out value)."
        )
        form.addRow("Validation fraction", self.validation_spin)

        self.criterion_combo = QComboBox()
        for i, key in enumerate(CRITERIA):
            self.criterion_combo.addItem(CRITERION_LABELS[key][:1].upper()
                                         + CRITERION_LABELS[key][1:], key)
            self.criterion_combo.setItemData(i, _CRITERION_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.criterion_combo.setToolTip(
            "What the table and plot show and what picks the best cell. BIC, AIC, ICL: lower is "
            "better. Log-likelihoods: higher is better."
        )
        self.criterion_combo.currentIndexChanged.connect(self._on_criterion_changed)
        form.addRow("Criterion", self.criterion_combo)

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
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(
            "The criterion per K (rows) and covariance type (columns). The best cell is "
            "selected; click any cell to show its fitted model. NA: the fit degenerated "
            "(hover for why)."
        )
        self.table.cellClicked.connect(self._on_table_cell_clicked)
        splitter.addWidget(self.table)

        self.plot = pg.PlotWidget(background="w")  # white like the data and likelihood views
        self.plot.setToolTip(
            "The criterion against K, one curve per covariance type; bars span the restarts' "
            "min to max. The star marks the best cell."
        )
        self.plot.setLabel("bottom", "K")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        legend = self.plot.addLegend(offset=(-10, 10), brush=pg.mkBrush(255, 255, 255, 200),
                                     labelTextColor="k")
        legend.setToolTip("Covariance types.")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.error_bars: dict[str, pg.ErrorBarItem] = {}
        for t in COVARIANCE_TYPES:
            colour = pg.mkColor(_TYPE_COLOURS[t])
            curve = pg.PlotDataItem(
                [], [], name=t, pen=pg.mkPen(colour, width=1), symbol="o", symbolSize=6,
                symbolBrush=colour, symbolPen=pg.mkPen(colour),
            )
            bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), top=np.zeros(0),
                                   bottom=np.zeros(0), beam=0.06, pen=pg.mkPen(colour, width=1))
            self.plot.addItem(bars)
            self.plot.addItem(curve)
            self.curves[t], self.error_bars[t] = curve, bars
        self.best_marker = pg.ScatterPlotItem(
            [], [], symbol="star", size=18, brush=pg.mkBrush(255, 200, 0),
            pen=pg.mkPen("k", width=1),
        )
        self.best_marker.setZValue(10)
        self.plot.addItem(self.best_marker)
        splitter.addWidget(self.plot)
        self._update_axis_label()

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
        return SweepSettings(
            k_values=tuple(range(self.k_min_spin.value(), self.k_max_spin.value() + 1)),
            covariance_types=tuple(t for t, box in self.type_checks.items() if box.isChecked()),
            n_init=self.restarts_spin.value(),
            validation_fraction=round(self.validation_spin.value(), 4),
        )

    def criterion(self) -> str:
        return self.criterion_combo.currentData()

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
        if self._settings is None:
            return None
        ks, types = self._settings.k_values, self._settings.covariance_types
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
        self._settings = settings
        self._setup_table(settings)
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

    @Slot(int)
    def _on_k_min_changed(self, value: int) -> None:
        if self.k_max_spin.value() < value:
            self.k_max_spin.setValue(value)

    @Slot(int)
    def _on_k_max_changed(self, value: int) -> None:
        if self.k_min_spin.value() > value:
            self.k_min_spin.setValue(value)

    @Slot(bool)
    def _on_type_toggled(self, _checked: bool) -> None:
        self._update_enabled()

    @Slot(int)
    def _on_criterion_changed(self, _index: int) -> None:
        self._update_axis_label()
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
        self._refresh_cell(cell)
        self._refresh_type(cell.covariance_type)
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
        self._settings = None
        self._cells = {}
        self._result = None
        self._best = None
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._refresh()

    def _setup_table(self, settings: SweepSettings) -> None:
        self.table.clear()
        self.table.setRowCount(len(settings.k_values))
        self.table.setColumnCount(len(settings.covariance_types))
        self.table.setHorizontalHeaderLabels(list(settings.covariance_types))
        self.table.setVerticalHeaderLabels([f"K={k}" for k in settings.k_values])
        for column, t in enumerate(settings.covariance_types):
            self.table.horizontalHeaderItem(column).setToolTip(_TYPE_TIPS[t])
        for row, k in enumerate(settings.k_values):
            self.table.verticalHeaderItem(row).setToolTip(f"{k} component{'s' * (k != 1)}")
            for column in range(len(settings.covariance_types)):
                item = QTableWidgetItem("…")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip("Not fitted yet.")
                self.table.setItem(row, column, item)

    def _refresh(self) -> None:
        """Redraw the whole table text, every curve and the best marker from the cells."""
        for cell in self._cells.values():
            self._refresh_cell(cell)
        for t in COVARIANCE_TYPES:
            self._refresh_type(t)
        self._refresh_best()

    def _refresh_cell(self, cell: CellResult) -> None:
        settings = self._settings
        if settings is None:
            return
        item = self.table.item(settings.k_values.index(cell.n_components),
                               settings.covariance_types.index(cell.covariance_type))
        criterion = self.criterion()
        label = CRITERION_LABELS[criterion]
        where = f"K={cell.n_components}, {cell.covariance_type}"
        if not cell.ok:
            item.setText("NA")
            item.setToolTip(f"{where}: NA — {cell.reason}")
            item.setForeground(QBrush(QColor(150, 150, 150)))
            return
        item.setForeground(QBrush())
        value = cell.value(criterion)
        if not math.isfinite(value):
            item.setText("—")
            item.setToolTip(f"{where}: no {label} (the sweep held out no validation rows).")
            return
        lo, hi = cell.spread(criterion)
        n_ok = sum(1 for r in cell.restarts if not r.failure)
        converged = "converged" if cell.converged else "did not converge"
        item.setText(format_value(criterion, value))
        item.setToolTip(
            f"{where}: {label} {value:.6g} (best of {n_ok} restart{'s' * (n_ok != 1)}; "
            f"range {lo:.6g} to {hi:.6g}); {cell.n_iter} iterations, {converged}. "
            "Click to show this model."
        )

    def _refresh_type(self, t: str) -> None:
        criterion = self.criterion()
        cells = sorted((c for c in self._cells.values()
                        if c.covariance_type == t and math.isfinite(c.value(criterion))),
                       key=lambda c: c.n_components)
        x = np.array([c.n_components for c in cells], dtype=np.float64) + _TYPE_OFFSETS[t]
        y = np.array([c.value(criterion) for c in cells], dtype=np.float64)
        spread = np.array([c.spread(criterion) for c in cells], dtype=np.float64).reshape(-1, 2)
        self.curves[t].setData(x, y)
        self.error_bars[t].setData(x=x, y=y, top=spread[:, 1] - y, bottom=y - spread[:, 0])

    def _refresh_best(self) -> None:
        criterion = self.criterion()
        scored = [c for c in self._cells.values() if math.isfinite(c.value(criterion))]
        previous = self._best
        self._best = None
        if scored and self._settings is not None:
            sign = 1.0 if LOWER_IS_BETTER[criterion] else -1.0
            types = self._settings.covariance_types
            self._best = min(scored, key=lambda c: (sign * c.value(criterion), c.n_components,
                                                    types.index(c.covariance_type)))
        best = self._best
        if best is None:
            self.best_marker.setData([], [])
        else:
            self.best_marker.setData([best.n_components + _TYPE_OFFSETS[best.covariance_type]],
                                     [best.value(criterion)])
        if previous is not best:
            self._mark_best_item(previous, False)
            self._mark_best_item(best, True)
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

    def _mark_best_item(self, cell: CellResult | None, best: bool) -> None:
        settings = self._settings
        if cell is None or settings is None:
            return
        item = self.table.item(settings.k_values.index(cell.n_components),
                               settings.covariance_types.index(cell.covariance_type))
        if item is None:
            return
        font = QFont(item.font())
        font.setBold(best)
        item.setFont(font)
        item.setBackground(_BEST_BRUSH if best else QBrush())

    def _select_best(self) -> None:
        best, settings = self._best, self._settings
        if best is None or settings is None:
            self.table.clearSelection()
            return
        self.table.setCurrentCell(settings.k_values.index(best.n_components),
                                  settings.covariance_types.index(best.covariance_type))

    def _update_axis_label(self) -> None:
        criterion = self.criterion()
        better = "lower" if LOWER_IS_BETTER[criterion] else "higher"
        self.plot.setLabel("left", f"{CRITERION_LABELS[criterion]} ({better} is better)")

    def _update_enabled(self) -> None:
        running = self.is_running()
        any_type = any(box.isChecked() for box in self.type_checks.values())
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
        for widget in (self.k_min_spin, self.k_max_spin, self.restarts_spin,
                       self.validation_spin, *self.type_checks.values()):
            widget.setEnabled(not running)
