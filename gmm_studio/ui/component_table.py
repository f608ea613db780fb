"""A table of the shown model's components: colour, weight π_k, N_k, mean μ_k, covariance Σ_k.

For K-means the rows are clusters: their size and centre (K-means has no weights or
covariances, so those columns are hidden).

Clicking a component's mean in the data view selects its row (and selecting a row highlights
the component).  GUI thread only.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from gmm_studio.core.params import MixtureParams

__all__ = ["ComponentTable"]

_HEADERS = ("", "weight π", "N_k", "mean μ", "covariance Σ")
_KMEANS_HEADERS = ("", "", "size", "centre", "")
_CAPTIONS = ("Click a component's mean (●) in the data view to inspect it.",
             "K-means: each cluster is a centre and the points nearest it. Click a centre (●) to "
             "inspect it.")


def _fmt_vec(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:.3g}" for x in v) + ")"


def _fmt_count(n: float, whole: bool) -> str:
    """N_k short enough for its column at 1e7 points: 723.8, 26134, 261k, 2.61M (the cell's
    tooltip and the detail line below the table give it in full)."""
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e5:
        return f"{n / 1e3:.0f}k"
    return f"{n:.0f}" if whole or n >= 1e3 else f"{n:.1f}"


def _fmt_cov(c: np.ndarray) -> str:
    return "[" + "; ".join(" ".join(f"{x:.3g}" for x in row) for row in c) + "]"


class ComponentTable(QWidget):
    """Rows per component; ``component_selected(int)`` when a row is chosen (-1: none)."""

    component_selected = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("componentTable")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.caption = QLabel(_CAPTIONS[0])
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self.table = QTableWidget(0, len(_HEADERS))
        self.table.setHorizontalHeaderLabels(_HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)  # the colour swatch carries the number
        header = self.table.horizontalHeader()
        # Fixed widths: content-sized columns would resize the dock (and the data view) mid-fit.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((28, 60, 56, 104)):
            self.table.setColumnWidth(column, width)
        layout.addWidget(self.table)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.detail)
        self._params: MixtureParams | None = None
        self._counts: np.ndarray | None = None
        self._key: tuple | None = None
        self._kmeans = False
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)

    def set_model(self, params: MixtureParams | None, counts: np.ndarray | None,
                  palette: np.ndarray, kmeans: bool = False) -> None:
        """Show these parameters (counts: effective N_k, or None); ``kmeans``: K-means clusters
        (size and centre only)."""
        key = (id(params), id(counts), kmeans)
        if key == self._key:
            return
        self._key = key
        if kmeans != self._kmeans:
            self._kmeans = kmeans
            self.table.setHorizontalHeaderLabels(_KMEANS_HEADERS if kmeans else _HEADERS)
            for column in (1, 4):
                self.table.setColumnHidden(column, kmeans)
            self.caption.setText(_CAPTIONS[kmeans])
        self._params, self._counts = params, counts
        selected = self.selected()
        self.table.blockSignals(True)
        if params is None:
            self.table.setRowCount(0)
            self.detail.setText("")
            self.table.blockSignals(False)
            return
        k = params.n_components
        if self.table.rowCount() != k:
            self.table.setRowCount(k)
            for r in range(k):
                for c in range(len(_HEADERS)):
                    self.table.setItem(r, c, QTableWidgetItem())
        full = params.full_covariances()
        for r in range(k):
            rgb = palette[r] if r < len(palette) else (0.5, 0.5, 0.5)
            swatch = self.table.item(r, 0)
            swatch.setBackground(QBrush(QColor.fromRgbF(*map(float, rgb[:3]))))
            swatch.setText(str(r + 1))
            swatch.setForeground(QBrush(QColor("white")))
            self.table.item(r, 1).setText(f"{params.weights[r]:.3f}")
            n_k = "—" if counts is None else _fmt_count(float(counts[r]), kmeans)
            self.table.item(r, 2).setText(n_k)
            self.table.item(r, 2).setToolTip("" if counts is None else f"N_k = {counts[r]:.1f}")
            self.table.item(r, 3).setText(_fmt_vec(params.means[r]))
            self.table.item(r, 4).setText(_fmt_cov(full[r]))
            self.table.item(r, 4).setToolTip(_fmt_cov(full[r]))
        if selected is not None and selected < k:
            self.table.selectRow(selected)
        self.table.blockSignals(False)
        self._update_detail()

    def select(self, k: int | None) -> None:
        self.table.blockSignals(True)
        if k is None or k >= self.table.rowCount():
            self.table.clearSelection()
        else:
            self.table.selectRow(k)
        self.table.blockSignals(False)
        self._update_detail()

    def selected(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def detail_text(self) -> str:
        return self.detail.text()

    def _update_detail(self) -> None:
        k = self.selected()
        p = self._params
        if k is None or p is None or k >= p.n_components:
            self.detail.setText("")
            return
        if self._kmeans:
            size = "—" if self._counts is None else f"{self._counts[k]:.0f} points"
            self.detail.setText(f"Cluster {k + 1}: {size}\ncentre = {_fmt_vec(p.means[k])}")
            return
        full = p.full_covariances()[k]
        n_k = "—" if self._counts is None else f"{self._counts[k]:.1f}"
        self.detail.setText(
            f"Component {k + 1}: weight π = {p.weights[k]:.4f}, N_k = {n_k}\n"
            f"mean μ = {_fmt_vec(p.means[k])}\ncovariance Σ = {_fmt_cov(full)}"
        )

    @Slot()
    def _on_table_selection_changed(self) -> None:
        self._update_detail()
        k = self.selected()
        self.component_selected.emit(-1 if k is None else k)
