"""The sweep's settings form: the grid of K and covariance types, restarts, and the criterion.

:class:`SweepForm` reads its widgets as a :class:`~gmm_studio.core.sweep.SweepSettings`
(:meth:`~SweepForm.settings`) and the criterion to show (:meth:`~SweepForm.criterion`).  It runs
nothing: the :class:`~gmm_studio.ui.sweep_panel.SweepPanel` composes it.  GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from gmm_studio.core.params import COVARIANCE_TYPES
from gmm_studio.core.sweep import CRITERIA, CRITERION_LABELS, SweepSettings

__all__ = ["MAX_K", "TYPE_TIPS", "SweepForm"]

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
#: What each covariance type means, for tooltips.
TYPE_TIPS = {
    "full": "Each component has its own full covariance (any ellipse).",
    "tied": "All components share one full covariance (same ellipse shape).",
    "diag": "Each component has its own axis-aligned (diagonal) covariance.",
    "spherical": "Each component has its own single variance (circles).",
}


class SweepForm(QWidget):
    """The widgets that describe a sweep and the criterion to judge it by.

    Signals
    -------
    types_changed()
        A covariance type was checked or unchecked.
    criterion_changed()
        Another criterion was chosen.
    """

    types_changed = Signal()
    criterion_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
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
            box.setToolTip(f"Fit '{t}' covariances. {TYPE_TIPS[t]}")
            box.toggled.connect(self.types_changed)
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
        self.criterion_combo.currentIndexChanged.connect(self.criterion_changed)
        form.addRow("Criterion", self.criterion_combo)

    def settings(self) -> SweepSettings:
        """The sweep the controls describe (raises ``ValueError`` when none is checked)."""
        return SweepSettings(
            k_values=tuple(range(self.k_min_spin.value(), self.k_max_spin.value() + 1)),
            covariance_types=tuple(t for t, box in self.type_checks.items() if box.isChecked()),
            n_init=self.restarts_spin.value(),
            validation_fraction=round(self.validation_spin.value(), 4),
        )

    def criterion(self) -> str:
        """The key (in :data:`~gmm_studio.core.sweep.CRITERIA`) of the criterion chosen."""
        return self.criterion_combo.currentData()

    def any_type_checked(self) -> bool:
        return any(box.isChecked() for box in self.type_checks.values())

    def set_grid_editable(self, editable: bool) -> None:
        """Enable the grid's controls (not the criterion, which may change while a sweep runs)."""
        for widget in (self.k_min_spin, self.k_max_spin, self.restarts_spin,
                       self.validation_spin, *self.type_checks.values()):
            widget.setEnabled(editable)

    @Slot(int)
    def _on_k_min_changed(self, value: int) -> None:
        if self.k_max_spin.value() < value:
            self.k_max_spin.setValue(value)

    @Slot(int)
    def _on_k_max_changed(self, value: int) -> None:
        if self.k_min_spin.value() > value:
            self.k_min_spin.setValue(value)
