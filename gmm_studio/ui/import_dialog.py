"""The import dialog: look at what was read, then choose what becomes the dataset.

GUI thread only.  The table has already been read (off the GUI thread, by
:mod:`gmm_studio.ui.file_actions`); this dialog only decides, with
:func:`gmm_studio.core.dataio.prepare_dataset` doing the work.  Choices are
remembered per file (``QSettings``, keyed by the file's absolute path) and
restored the next time the same file is opened; a file seen for the first time
starts from :func:`gmm_studio.core.dataio.suggest_import` (row indexes, constant
columns and class ids unchecked, each with its reason shown; the label column
preselected), the same defaults the command line applies.  One column is enough
(1-D data).  With standardising off, columns whose spreads differ by more than
100× are warned about inline.

Wider data (more than two chosen columns) can be fitted in all D dimensions
and *viewed* through a projection (the default), or *fitted in* a 2-D
projection (principal components or two chosen columns).  In the second case
the dataset handed to the window is the projected data — a
:class:`ProjectedDataset` whose columns are named ``PC1``, ``PC2`` (or the two
column names) and which records the projection in
:mod:`gmm_studio.core.export`'s convention ``z = ((x - center)/scale - offset) @ matrix``
with ``matrix`` of shape (D_in, 2), so the exported model says how to get from
the file's columns to the model's.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.dataio import (
    DataError,
    Dataset,
    ImportOptions,
    Table,
    prepare_dataset,
    scale_warning,
    suggest_import,
)
from gmm_studio.core.export import preprocessing_dict
from gmm_studio.core.geometry import Projection

__all__ = [
    "ImportDialog",
    "ProjectedDataset",
    "ProjectionChoice",
    "build_dataset",
    "choices_key",
    "forget_choices",
    "load_choices",
    "project_dataset",
    "remembered_options",
    "save_choices",
]

#: Same store as the main window (INI, user scope); tests redirect it with QSettings.setPath.
_ORGANISATION = "GMM Studio"
_APPLICATION = "GMM Studio"
_CHOICES_GROUP = "import_choices"
_PREVIEW_ROWS = 20
#: Above this many cells the dialog checks cheaply while choosing and runs
#: prepare_dataset only when OK is pressed.
_LIVE_CHECK_CELLS = 2_000_000
_TEXT_COLOUR = QColor(30, 90, 160)


def settings_store() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, _ORGANISATION, _APPLICATION)


# ============================================================================ projection


@dataclass(frozen=True)
class ProjectionChoice:
    """How data with more than two chosen columns are fitted.

    Parameters
    ----------
    mode : {'view', 'fit'}
        ``'view'``: fit in all D dimensions and view through a projection;
        ``'fit'``: fit in the 2-D projection itself.
    kind : {'pca', 'columns'}
        The projection used when ``mode == 'fit'``.
    columns : pair of str or None
        The two columns for ``kind == 'columns'``.
    """

    mode: Literal["view", "fit"] = "view"
    kind: Literal["pca", "columns"] = "pca"
    columns: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("view", "fit"):
            raise ValueError(f"mode must be 'view' or 'fit'; got {self.mode!r}.")
        if self.kind not in ("pca", "columns"):
            raise ValueError(f"kind must be 'pca' or 'columns'; got {self.kind!r}.")
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "kind": self.kind,
                "columns": list(self.columns) if self.columns else None}

    @classmethod
    def from_dict(cls, values: Any) -> ProjectionChoice:
        try:
            cols = values.get("columns")
            return cls(str(values.get("mode", "view")), str(values.get("kind", "pca")),
                       (str(cols[0]), str(cols[1])) if cols and len(cols) == 2 else None)
        except (AttributeError, TypeError, ValueError, IndexError):
            return cls()


@dataclass(frozen=True, eq=False)
class ProjectedDataset(Dataset):
    """A dataset fitted in a 2-D projection of the file's columns.

    ``values`` are the projected coordinates; ``center``/``scale`` are None (the
    values are not standardised *after* projecting).  What was done before:

    Attributes
    ----------
    input_columns : tuple of str
        The D_in file columns that were projected.
    input_center, input_scale : ndarray of shape (D_in,) or None
        Their standardisation, if any.
    projection : dict
        ``{"matrix": (D_in, 2), "offset": (D_in,)}``:
        ``values = ((x - input_center)/input_scale - offset) @ matrix``.
    axis_titles : pair of str
        E.g. ``("PC1 (72.9 % of variance)", "PC2 (20.1 % of variance)")``.
    """

    input_columns: tuple[str, ...] = ()
    input_center: np.ndarray | None = None
    input_scale: np.ndarray | None = None
    projection: dict | None = None
    axis_titles: tuple[str, str] = ("", "")

    def preprocessing(self) -> dict[str, Any]:
        """The model file's ``preprocessing`` entry for a model fitted on these values."""
        return preprocessing_dict(self.input_center, self.input_scale, self.projection)


def project_dataset(dataset: Dataset, choice: ProjectionChoice) -> ProjectedDataset:
    """``dataset`` projected to 2-D as ``choice`` says (``choice.mode`` is not looked at).

    Raises
    ------
    DataError
        When the two columns are not distinct columns of ``dataset``.
    """
    if choice.kind == "pca":
        proj = Projection.pca(dataset.values)
        names = ("PC1", "PC2")
    else:
        cols = choice.columns or ()
        if len(cols) != 2 or cols[0] == cols[1]:
            raise DataError("Choose two different columns to fit in.")
        missing = [c for c in cols if c not in dataset.columns]
        if missing:
            raise DataError(f"Column {missing[0]!r} is not among the chosen numeric columns; choose another.")
        i, j = dataset.columns.index(cols[0]), dataset.columns.index(cols[1])
        proj = Projection.columns(dataset.n_features, i, j, dataset.columns)
        names = (cols[0], cols[1])
    z = np.ascontiguousarray((dataset.values - proj.offset) @ proj.matrix.T, dtype=np.float64)
    note = f"fitted in the 2-D projection {proj.axis_titles[0]} × {proj.axis_titles[1]}"
    return ProjectedDataset(
        values=z,
        columns=names,
        labels=dataset.labels,
        label_column=dataset.label_column,
        source=dataset.source,
        center=None,
        scale=None,
        row_index=dataset.row_index,
        notes=dataset.notes + (note,),
        input_columns=dataset.columns,
        input_center=None if dataset.center is None else np.array(dataset.center),
        input_scale=None if dataset.scale is None else np.array(dataset.scale),
        projection={"matrix": np.array(proj.matrix.T), "offset": np.array(proj.offset)},
        axis_titles=tuple(proj.axis_titles),
    )


def build_dataset(table: Table, options: ImportOptions, choice: ProjectionChoice | None = None) -> Dataset:
    """:func:`prepare_dataset`, then the projection if ``choice`` asks to fit in one.  Any thread.

    Raises
    ------
    DataError
    """
    dataset = prepare_dataset(table, options)
    if choice is None or choice.mode != "fit" or dataset.n_features <= 2:
        return dataset
    return project_dataset(dataset, choice)


# ============================================================================ remembered choices


def choices_key(path: str) -> str:
    """The QSettings key of a file's choices (a hash: paths hold '/' which QSettings nests)."""
    digest = hashlib.sha1(os.path.abspath(path).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{_CHOICES_GROUP}/{digest}"


def save_choices(path: str, options: ImportOptions, choice: ProjectionChoice) -> None:
    record = {
        "path": os.path.abspath(path),
        "columns": list(options.columns) if options.columns is not None else None,
        "label_column": options.label_column,
        "missing": options.missing,
        "standardize": bool(options.standardize),
        "projection": choice.to_dict(),
    }
    store = settings_store()
    store.setValue(choices_key(path), json.dumps(record))
    store.sync()


def load_choices(path: str) -> dict[str, Any] | None:
    """The raw remembered record for ``path`` (or None)."""
    raw = settings_store().value(choices_key(path))
    if not raw:
        return None
    try:
        record = json.loads(str(raw))
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("path") != os.path.abspath(path):
        return None
    return record


def forget_choices(path: str) -> None:
    store = settings_store()
    store.remove(choices_key(path))
    store.sync()


def remembered_options(table: Table) -> tuple[ImportOptions, ProjectionChoice]:
    """The choices remembered for ``table.path`` that still fit this table, else the defaults."""
    options, choice = ImportOptions(), ProjectionChoice()
    record = load_choices(table.path) if table.path else None
    if record is None:
        return options, choice
    label = record.get("label_column")
    if label not in table.columns:
        label = None
    columns = record.get("columns")
    if isinstance(columns, list):
        kept = tuple(c for c in columns if c in table.numeric and c != label)
        columns = kept or None
    else:
        columns = None
    missing = record.get("missing") if record.get("missing") in ("drop", "impute") else "drop"
    options = ImportOptions(columns=columns, label_column=label, missing=missing,
                            standardize=bool(record.get("standardize", False)))
    choice = ProjectionChoice.from_dict(record.get("projection") or {})
    if choice.kind == "columns" and (not choice.columns or any(c not in table.numeric for c in choice.columns)):
        choice = ProjectionChoice(choice.mode, "pca", None)
    return options, choice


# ============================================================================ the dialog


class ImportDialog(QDialog):
    """Preview a :class:`~gmm_studio.core.dataio.Table` and choose how it becomes a dataset.

    GUI thread.  After ``accept()`` the prepared dataset is :meth:`dataset`; OK stays
    disabled (and the red :attr:`error_label` says why) while the choice is invalid.

    Parameters
    ----------
    table : Table
    parent : QWidget, optional
    remember : bool
        Restore the choices remembered for ``table.path`` and remember the accepted ones.
    """

    def __init__(self, table: Table, parent: QWidget | None = None, remember: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.table = table
        self._remember = remember and table.path is not None
        self._dataset: Dataset | None = None
        self._checked_dataset: Dataset | None = None
        self._updating = False
        name = os.path.basename(table.path) if table.path else "data"
        self.setWindowTitle(f"Import {name}")
        options, choice = remembered_options(table) if self._remember else (ImportOptions(), ProjectionChoice())
        if options.columns is None:  # nothing (usable) remembered: start from the suggestion
            suggestion = suggest_import(table, options.label_column)
            options = suggestion.options(options.missing, options.standardize)
        self._reasons_by_label: dict[str | None, dict[str, str]] = {}
        self._build()
        self._restore(options, choice)
        self._revalidate()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        t = self.table
        layout = QVBoxLayout(self)
        summary = f"{t.n_rows} rows, {len(t.columns)} columns"
        if t.dialect is not None:
            d = t.dialect
            summary += (f" · {d.delimiter_name}-separated, decimal '{d.decimal}', "
                        f"{'with' if d.has_header else 'no'} header, {d.encoding}")
        if t.text_columns:
            summary += f" · text columns: {', '.join(t.text_columns)}"
        self.summary_label = QLabel(summary, objectName="summaryLabel")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        if t.notes:
            notes = QLabel("Notes: " + "; ".join(t.notes), objectName="notesLabel")
            notes.setWordWrap(True)
            layout.addWidget(notes)

        rows = t.preview_rows(_PREVIEW_ROWS)
        self.preview_table = QTableWidget(len(rows), len(t.columns), objectName="previewTable")
        self.preview_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        italic = QFont()
        italic.setItalic(True)
        for j, c in enumerate(t.columns):
            is_text = c in t.text
            header = QTableWidgetItem(f"{c} (text)" if is_text else c)
            header.setToolTip("text column: can be the label column, not data" if is_text else "numeric column")
            if is_text:
                header.setFont(italic)
                header.setForeground(QBrush(_TEXT_COLOUR))
            self.preview_table.setHorizontalHeaderItem(j, header)
            for i, row in enumerate(rows):
                item = QTableWidgetItem(row[j] if j < len(row) else "")
                if is_text:
                    item.setForeground(QBrush(_TEXT_COLOUR))
                    item.setFont(italic)
                self.preview_table.setItem(i, j, item)
        self.preview_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.preview_table.resizeColumnsToContents()
        self.preview_table.setMinimumHeight(180)
        layout.addWidget(self.preview_table, 1)

        middle = QHBoxLayout()
        columns_box = QGroupBox("Numeric columns to fit")
        cl = QVBoxLayout(columns_box)
        self.column_list = QListWidget(objectName="columnList")
        for c in t.numeric_columns:
            item = QListWidgetItem(c)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.column_list.addItem(item)
        cl.addWidget(self.column_list)
        self.excluded_label = QLabel("", objectName="excludedLabel")
        self.excluded_label.setWordWrap(True)
        cl.addWidget(self.excluded_label)
        middle.addWidget(columns_box, 1)

        right = QVBoxLayout()
        form = QFormLayout()
        self.label_combo = QComboBox(objectName="labelCombo")
        self.label_combo.addItem("(none)", None)
        for c in t.text_columns + t.numeric_columns:
            self.label_combo.addItem(f"{c} (text)" if c in t.text else c, c)
        self.label_combo.setToolTip("Ground-truth classes to compare the fit with (adjusted Rand index); "
                                    "a label column is not fitted")
        form.addRow("Label column:", self.label_combo)
        right.addLayout(form)

        missing_box = QGroupBox("Missing values")
        ml = QVBoxLayout(missing_box)
        self.drop_radio = QRadioButton("Drop rows with a missing value", objectName="dropRadio")
        self.impute_radio = QRadioButton("Fill with the column mean", objectName="imputeRadio")
        self.drop_radio.setChecked(True)
        self._missing_group = QButtonGroup(self)
        self._missing_group.addButton(self.drop_radio)
        self._missing_group.addButton(self.impute_radio)
        self.missing_label = QLabel("", objectName="missingLabel")
        self.missing_label.setWordWrap(True)
        ml.addWidget(self.drop_radio)
        ml.addWidget(self.impute_radio)
        ml.addWidget(self.missing_label)
        right.addWidget(missing_box)

        self.standardize_check = QCheckBox("Standardise each column (z-scores)", objectName="standardizeCheck")
        self.standardize_check.setToolTip("Subtract the mean and divide by the standard deviation; "
                                          "exports give values in the file's units")
        right.addWidget(self.standardize_check)
        self.scale_warning_label = QLabel("", objectName="scaleWarningLabel")
        self.scale_warning_label.setWordWrap(True)
        self.scale_warning_label.setStyleSheet("color: #8a5a00;")
        right.addWidget(self.scale_warning_label)

        self.projection_group = QGroupBox("More than two columns", objectName="projectionGroup")
        pl = QVBoxLayout(self.projection_group)
        self.view_radio = QRadioButton("Fit in all D dimensions, view through a projection",
                                       objectName="viewProjectionRadio")
        self.fit_projection_radio = QRadioButton("Fit in a 2-D projection itself",
                                                 objectName="fitProjectionRadio")
        self.view_radio.setChecked(True)
        self._projection_mode_group = QButtonGroup(self)
        self._projection_mode_group.addButton(self.view_radio)
        self._projection_mode_group.addButton(self.fit_projection_radio)
        pl.addWidget(self.view_radio)
        pl.addWidget(self.fit_projection_radio)
        row = QHBoxLayout()
        self.projection_kind_combo = QComboBox(objectName="projectionKindCombo")
        self.projection_kind_combo.addItem("Principal components (PC1, PC2)", "pca")
        self.projection_kind_combo.addItem("Two columns", "columns")
        self.projection_x_combo = QComboBox(objectName="projectionXCombo")
        self.projection_y_combo = QComboBox(objectName="projectionYCombo")
        row.addWidget(self.projection_kind_combo)
        row.addWidget(self.projection_x_combo)
        row.addWidget(self.projection_y_combo)
        pl.addLayout(row)
        right.addWidget(self.projection_group)
        right.addStretch(1)
        middle.addLayout(right, 1)
        layout.addLayout(middle)

        self.error_label = QLabel("", objectName="errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        layout.addWidget(self.error_label)
        self.button_box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.button_box.button(QDialogButtonBox.StandardButton.Ok)
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)
        layout.addWidget(self.button_box)
        self.resize(820, 620)

        self.column_list.itemChanged.connect(self._on_column_list_item_changed)
        self.label_combo.currentIndexChanged.connect(self._on_label_combo_changed)
        self.drop_radio.toggled.connect(self._on_choice_changed)
        self.standardize_check.toggled.connect(self._on_choice_changed)
        self.fit_projection_radio.toggled.connect(self._on_choice_changed)
        self.projection_kind_combo.currentIndexChanged.connect(self._on_choice_changed)
        self.projection_x_combo.currentIndexChanged.connect(self._on_choice_changed)
        self.projection_y_combo.currentIndexChanged.connect(self._on_choice_changed)

    def _restore(self, options: ImportOptions, choice: ProjectionChoice) -> None:
        self._updating = True
        try:
            self.set_label_column(options.label_column)
            if options.columns is not None:
                self.set_columns(options.columns)
            self.set_missing(options.missing)
            self.set_standardize(options.standardize)
            self.set_projection_choice(choice)
        finally:
            self._updating = False

    # ------------------------------------------------------------------ programmatic choice
    def _items(self) -> list[QListWidgetItem]:
        return [self.column_list.item(i) for i in range(self.column_list.count())]

    def set_columns(self, columns) -> None:
        """Check exactly these numeric columns (the label column stays unchecked)."""
        wanted = set(columns)
        label = self.label_column()
        with _Batch(self):
            for item in self._items():
                on = item.text() in wanted and item.text() != label
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self._refresh_projection_columns()

    def set_label_column(self, name: str | None) -> None:
        index = self.label_combo.findData(name) if name is not None else 0
        self.label_combo.setCurrentIndex(max(index, 0))

    def set_missing(self, missing: str) -> None:
        (self.impute_radio if missing == "impute" else self.drop_radio).setChecked(True)

    def set_standardize(self, on: bool) -> None:
        self.standardize_check.setChecked(bool(on))

    def set_projection_choice(self, choice: ProjectionChoice) -> None:
        with _Batch(self):
            (self.fit_projection_radio if choice.mode == "fit" else self.view_radio).setChecked(True)
            self.projection_kind_combo.setCurrentIndex(max(0, self.projection_kind_combo.findData(choice.kind)))
            self._refresh_projection_columns()
            if choice.columns:
                for combo, name in zip((self.projection_x_combo, self.projection_y_combo), choice.columns):
                    i = combo.findText(name)
                    if i >= 0:
                        combo.setCurrentIndex(i)

    # ------------------------------------------------------------------ reading the choice
    def selected_columns(self) -> tuple[str, ...]:
        return tuple(item.text() for item in self._items()
                     if item.checkState() == Qt.CheckState.Checked and item.flags() & Qt.ItemFlag.ItemIsEnabled)

    def label_column(self) -> str | None:
        return self.label_combo.currentData()

    def options(self) -> ImportOptions:
        """What the person chose, for :func:`~gmm_studio.core.dataio.prepare_dataset`."""
        return ImportOptions(
            columns=self.selected_columns(),
            label_column=self.label_column(),
            missing="impute" if self.impute_radio.isChecked() else "drop",
            standardize=self.standardize_check.isChecked(),
        )

    def projection_choice(self) -> ProjectionChoice:
        """How data with more than two columns are fitted (``'view'`` with two or fewer)."""
        kind = self.projection_kind_combo.currentData() or "pca"
        cols = None
        if kind == "columns":
            cols = (self.projection_x_combo.currentText(), self.projection_y_combo.currentText())
        mode = "fit" if self.fit_projection_radio.isChecked() and len(self.selected_columns()) > 2 else "view"
        return ProjectionChoice(mode, kind, cols)

    def rows_to_drop(self) -> int:
        """Rows with a missing (or infinite) value in the chosen columns."""
        cols = self.selected_columns()
        if not cols:
            return 0
        bad = np.zeros(self.table.n_rows, dtype=bool)
        for c in cols:
            bad |= ~np.isfinite(self.table.numeric[c])
        return int(bad.sum())

    def missing_values(self) -> int:
        return int(sum((~np.isfinite(self.table.numeric[c])).sum() for c in self.selected_columns()))

    def exclusion_reasons(self) -> dict[str, str]:
        """Why each column :func:`~gmm_studio.core.dataio.suggest_import` leaves out, for the current label."""
        label = self.label_column()
        if label not in self._reasons_by_label:
            self._reasons_by_label[label] = suggest_import(self.table, label, choose_label=False).reasons
        return self._reasons_by_label[label]

    def error_text(self) -> str:
        return self.error_label.text()

    def is_valid(self) -> bool:
        return self.ok_button.isEnabled()

    def dataset(self) -> Dataset | None:
        """The dataset prepared when OK was pressed (None before, or after Cancel)."""
        return self._dataset

    # ------------------------------------------------------------------ reactions
    @Slot(QListWidgetItem)
    def _on_column_list_item_changed(self, item: QListWidgetItem) -> None:
        if not self._updating:
            self._refresh_projection_columns()
            self._revalidate()

    @Slot(int)
    def _on_label_combo_changed(self, index: int) -> None:
        label = self.label_column()
        with _Batch(self):
            for item in self._items():
                is_label = item.text() == label
                enabled = bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
                if is_label and enabled:
                    item.setData(Qt.ItemDataRole.UserRole, item.checkState() == Qt.CheckState.Checked)
                    item.setCheckState(Qt.CheckState.Unchecked)
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                    item.setToolTip("the label column is not fitted")
                elif not is_label and not enabled:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEnabled)
                    was = item.data(Qt.ItemDataRole.UserRole)
                    item.setCheckState(Qt.CheckState.Checked if was else Qt.CheckState.Unchecked)
            self._refresh_projection_columns()
        self._revalidate()

    @Slot()
    def _on_choice_changed(self, *_args) -> None:
        if not self._updating:
            self._revalidate()

    def _refresh_projection_columns(self) -> None:
        cols = self.selected_columns()
        for n, combo in enumerate((self.projection_x_combo, self.projection_y_combo)):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(cols))
            i = combo.findText(current)
            combo.setCurrentIndex(i if i >= 0 else min(n, len(cols) - 1))
            combo.blockSignals(False)

    def _revalidate(self) -> None:
        """Update the missing-value count, the projection controls, the error and OK."""
        if self._updating:
            return
        self._checked_dataset = None
        cols = self.selected_columns()
        n_drop = self.rows_to_drop()
        if self.impute_radio.isChecked():
            k = self.missing_values()
            text = (f"{k} missing value{'s' if k != 1 else ''} would be filled with the column mean."
                    if k else "No missing values in the chosen columns.")
        else:
            text = (f"{n_drop} of {self.table.n_rows} rows have a missing value in the chosen "
                    "columns and would be dropped." if n_drop else "No missing values in the chosen columns.")
        self.missing_label.setText(text)

        wide = len(cols) > 2
        self.projection_group.setEnabled(wide)
        fit_in = self.fit_projection_radio.isChecked()
        self.projection_kind_combo.setEnabled(wide and fit_in)
        by_columns = self.projection_kind_combo.currentData() == "columns"
        for combo in (self.projection_x_combo, self.projection_y_combo):
            combo.setEnabled(wide and fit_in and by_columns)
        self.projection_group.setTitle(f"{len(cols)} columns: how to fit them" if wide else
                                       "More than two columns (not needed for one or two)")
        reasons = self.exclusion_reasons()
        self.column_list.blockSignals(True)  # tooltips are data too: no itemChanged for them
        for item in self._items():
            if item.text() != self.label_column():
                item.setToolTip(reasons.get(item.text(), ""))
        self.column_list.blockSignals(False)
        left_out = [f"{c!r}: {why}" for c, why in reasons.items() if c not in cols]
        self.excluded_label.setText("Not fitted by default: " + "; ".join(left_out) + ". Tick one to fit it."
                                    if left_out else "")
        self.excluded_label.setVisible(bool(left_out))
        warning = None if self.standardize_check.isChecked() else scale_warning(self.table, cols)
        self.scale_warning_label.setText(f"{warning} Tick “Standardise each column”." if warning else "")
        self.scale_warning_label.setVisible(bool(warning))

        error = ""
        if not cols:
            error = "No numeric column is chosen; choose at least one to fit a mixture."
        elif wide and fit_in and by_columns and (
                self.projection_x_combo.currentText() == self.projection_y_combo.currentText()):
            error = "Choose two different columns to fit in."
        elif self.table.n_rows * len(cols) <= _LIVE_CHECK_CELLS:
            try:
                self._checked_dataset = build_dataset(self.table, self.options(), self.projection_choice())
            except DataError as exc:
                error = str(exc)
        self._show_error(error)

    def _show_error(self, error: str) -> None:
        self.error_label.setText(error)
        self.error_label.setVisible(bool(error))
        self.ok_button.setEnabled(not error)

    # ------------------------------------------------------------------ closing
    def accept(self) -> None:
        """Prepare the dataset; on a DataError show it and stay open."""
        if not self.ok_button.isEnabled():
            return
        dataset = self._checked_dataset
        if dataset is None:
            try:
                dataset = build_dataset(self.table, self.options(), self.projection_choice())
            except DataError as exc:
                self._show_error(str(exc))
                return
        self._dataset = dataset
        if self._remember:
            save_choices(self.table.path, self.options(), self.projection_choice())
        super().accept()


class _Batch:
    """Suspend revalidation while several widgets change; revalidate once at the end."""

    def __init__(self, dialog: ImportDialog) -> None:
        self.dialog = dialog
        self.outer = dialog._updating

    def __enter__(self) -> None:
        self.dialog._updating = True

    def __exit__(self, *exc) -> None:
        self.dialog._updating = self.outer
        if not self.outer:
            self.dialog._revalidate()
