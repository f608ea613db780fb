"""The sweep's results table: the criterion per K (rows) and covariance type (columns).

:class:`SweepTable` lays out the grid of a :class:`~gmm_studio.core.sweep.SweepSettings`
(:meth:`~SweepTable.show_grid`), writes a finished cell's value and tooltip
(:meth:`~SweepTable.show_cell`) and stars the best cell; it decides nothing.  GUI thread only.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from gmm_studio.core.sweep import CRITERION_LABELS, LOWER_IS_BETTER, CellResult, SweepSettings
from gmm_studio.ui.sweep_form import TYPE_TIPS
from gmm_studio.core.words import counted

__all__ = ["SweepTable", "format_value"]

_BEST_BRUSH = QBrush(QColor(255, 220, 90))


def format_value(criterion: str, value: float) -> str:
    """How a criterion's value reads in the table: penalised criteria to 0.1, likelihoods to 1e-4."""
    if not math.isfinite(value):
        return "NA"
    return f"{value:.1f}" if LOWER_IS_BETTER[criterion] else f"{value:.4f}"


class SweepTable(QTableWidget):
    """A read-only table of one sweep's grid; single cells can be selected and clicked."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, 0, parent)
        self._grid: SweepSettings | None = None
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setToolTip(
            "The criterion per K (rows) and covariance type (columns). The best cell is "
            "selected; click any cell to show its fitted model. NA: the fit degenerated "
            "(hover for why)."
        )

    def grid(self) -> SweepSettings | None:
        """The settings of the sweep laid out, or None when the table is empty."""
        return self._grid

    def clear_grid(self) -> None:
        """Empty the table."""
        self._grid = None
        self.clear()
        self.setRowCount(0)
        self.setColumnCount(0)

    def show_grid(self, settings: SweepSettings) -> None:
        """Lay out a row per K and a column per covariance type, every cell not fitted yet."""
        self._grid = settings
        self.clear()
        self.setRowCount(len(settings.k_values))
        self.setColumnCount(len(settings.covariance_types))
        self.setHorizontalHeaderLabels(list(settings.covariance_types))
        self.setVerticalHeaderLabels([f"K={k}" for k in settings.k_values])
        for column, t in enumerate(settings.covariance_types):
            self.horizontalHeaderItem(column).setToolTip(TYPE_TIPS[t])
        for row, k in enumerate(settings.k_values):
            self.verticalHeaderItem(row).setToolTip(f"{k} component{'s' * (k != 1)}")
            for column in range(len(settings.covariance_types)):
                item = QTableWidgetItem("…")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip("Not fitted yet.")
                self.setItem(row, column, item)

    def position(self, cell: CellResult) -> tuple[int, int] | None:
        """The (row, column) showing ``cell``, or None when no grid is laid out."""
        grid = self._grid
        if grid is None:
            return None
        return grid.k_values.index(cell.n_components), grid.covariance_types.index(cell.covariance_type)

    def show_cell(self, cell: CellResult, criterion: str) -> None:
        """Write ``cell``'s value of ``criterion`` and say in its tooltip how it was fitted."""
        where_in_table = self.position(cell)
        if where_in_table is None:
            return
        item = self.item(*where_in_table)
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
            f"range {lo:.6g} to {hi:.6g}); {counted(cell.n_iter, 'iteration')}, {converged}. "
            "Click to show this model."
        )

    def mark_best(self, cell: CellResult | None, best: bool) -> None:
        """Draw ``cell`` bold on yellow (``best``) or plain again."""
        where_in_table = None if cell is None else self.position(cell)
        if where_in_table is None:
            return
        item = self.item(*where_in_table)
        if item is None:
            return
        font = QFont(item.font())
        font.setBold(best)
        item.setFont(font)
        item.setBackground(_BEST_BRUSH if best else QBrush())

    def select(self, cell: CellResult | None) -> None:
        """Make ``cell`` the current cell, or select nothing."""
        where_in_table = None if cell is None else self.position(cell)
        if where_in_table is None:
            self.clearSelection()
            return
        self.setCurrentCell(*where_in_table)
