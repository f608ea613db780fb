"""The generator's "Fit vs. truth" box: how the model on screen compares with the truth.

:class:`TruthComparisonBox` draws a session's :class:`~gmm_studio.core.compare.ModelComparison`
(the adjusted Rand index and a table of per-component errors) and computes nothing.
GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.compare import ModelComparison
from gmm_studio.core.generate import SyntheticData
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.generator_form import SHAPE_LABELS

__all__ = ["TruthComparisonBox"]

_TABLE_HEADERS = ("True k", "Fit k", "|Δμ|", "|Δπ|", "ΔΣ (rel.)")


class TruthComparisonBox(QGroupBox):
    """The adjusted Rand index and per-component errors of a fit against the generating truth."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Fit vs. truth", parent)
        self.setToolTip(
            "After a fit: fitted components matched to the true ones (by their means) and how far "
            "each is off."
        )
        fit_layout = QVBoxLayout(self)
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
        self.clear()

    def show_comparison(self, comparison: ModelComparison | None, params: MixtureParams | None,
                        data: SyntheticData | None) -> None:
        """Show how the model on screen compares with the truth that generated the data.

        ``comparison`` is the session's (computed for ``params``, the model on screen); None
        while there is none yet (a fit running, a new model being compared): the table is
        then hidden rather than left showing an earlier model's figures.  ``data`` are
        the generated data the comparison is about.  It only draws.
        """
        if comparison is None or data is None or params is None or comparison.truth_labels is None:
            self.clear()
            return
        self.setVisible(True)
        self.fit_table.setRowCount(0)
        agreement = comparison.truth_labels
        text = f"Adjusted Rand index vs. the generating labels: <b>{agreement.ari:.3f}</b>"
        if agreement.inlier_ari is not None:
            text += f" (outliers as their own class; inliers only: {agreement.inlier_ari:.3f})"
        if data.truth is None:
            text += (
                f".<br>{SHAPE_LABELS.get(data.settings.shape, data.settings.shape)} has no "
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
        # numbered from 1, as the Components table and the legend number them
        self.fit_table.setRowCount(k_true)
        for i in range(k_true):
            error = by_true.get(i)
            if error is None:
                cells: list[str | float] = [str(i + 1), "—", "unmatched", "", ""]
            else:
                cells = [str(i + 1), str(error.fitted_index + 1), error.mean_error, error.weight_error,
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

    def clear(self) -> None:
        """Remove the fit-vs-truth comparison."""
        self.ari_label.clear()
        self.fit_table.setRowCount(0)
        self.setVisible(False)
