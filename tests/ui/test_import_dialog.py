"""The import dialog, driven programmatically: preview, column/label/missing choices, inline
errors with OK disabled, projections of wider data, and choices remembered per file."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gmm_studio.core.dataio import ImportOptions, read_table
from gmm_studio.core.export import load_model_json, model_to_json
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.import_dialog import (
    ImportDialog,
    ProjectedDataset,
    ProjectionChoice,
    build_dataset,
    remembered_options,
)


def _write_csv(path, n=60, seed=0, gaps=()):
    rng = np.random.default_rng(seed)
    lines = ["a,b,c,d,species"]
    for i in range(n):
        v = rng.normal(size=4) + (5 if i % 2 else 0)
        cells = [f"{x:.6f}" for x in v]
        for r, c in gaps:
            if r == i:
                cells[c] = ""
        lines.append(",".join(cells) + f",{'setosa' if i % 2 else 'virginica'}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def table(tmp_path):
    return read_table(_write_csv(tmp_path / "iris.csv", gaps=((3, 1), (7, 2), (7, 3))))


def _dialog(qtbot, table, **kw):
    d = ImportDialog(table, **kw)
    qtbot.addWidget(d)
    return d


def test_preview_lists_rows_and_marks_text_columns(qtbot, table):
    d = _dialog(qtbot, table)
    t = d.preview_table
    assert t.columnCount() == 5 and t.rowCount() == 20
    assert t.horizontalHeaderItem(0).text() == "a"
    assert "text" in t.horizontalHeaderItem(4).text()
    assert t.item(0, 4).text() == "virginica"
    # every numeric column is offered and checked; text columns first among the labels
    assert d.selected_columns() == ("a", "b", "c", "d")
    assert d.label_combo.itemData(0) is None and d.label_combo.itemData(1) == "species"


def test_defaults_and_missing_counts(qtbot, table):
    d = _dialog(qtbot, table)
    # the lone text column is preselected as the label
    assert d.options() == ImportOptions(columns=("a", "b", "c", "d"), label_column="species",
                                        missing="drop", standardize=False)
    assert d.projection_choice() == ProjectionChoice("view", "pca", None)
    assert d.rows_to_drop() == 2
    assert "2 of 60 rows" in d.missing_label.text()
    d.set_columns(["a", "d"])
    assert d.rows_to_drop() == 1 and "1 of 60" in d.missing_label.text()
    d.set_missing("impute")
    assert "1 missing value would be filled" in d.missing_label.text()
    assert d.is_valid()


def test_label_column_is_excluded_from_the_data(qtbot, table):
    d = _dialog(qtbot, table)
    d.set_label_column("a")
    assert "a" not in d.selected_columns()
    assert d.options().label_column == "a"
    d.set_label_column(None)
    assert d.selected_columns() == ("a", "b", "c", "d")  # its check comes back
    d.set_label_column("species")
    d.accept()
    ds = d.dataset()
    assert ds is not None and ds.columns == ("a", "b", "c", "d") and ds.n_samples == 58
    assert set(ds.labels) == {"setosa", "virginica"}


def test_invalid_choice_shows_the_error_and_disables_ok(qtbot, table):
    d = _dialog(qtbot, table)
    d.set_columns([])
    assert not d.ok_button.isEnabled()
    assert "choose at least one" in d.error_text()
    assert d.error_label.styleSheet().count("color")
    d.accept()  # refused
    assert d.dataset() is None and d.result() == 0
    d.set_columns(["a", "b"])
    assert d.ok_button.isEnabled() and d.error_text() == ""


def test_data_error_from_prepare_is_shown_inline(qtbot, tmp_path):
    path = tmp_path / "gappy.csv"
    path.write_text("x,y\n1,\n,2\n3,\n")
    d = _dialog(qtbot, read_table(path))
    assert not d.ok_button.isEnabled()
    assert "Every row has a missing value" in d.error_text()
    d.set_missing("impute")
    assert d.ok_button.isEnabled()


def test_fit_in_pca_projection_gives_pc1_pc2(qtbot, table):
    d = _dialog(qtbot, table)
    assert d.projection_group.isEnabled()
    d.set_standardize(True)
    d.set_projection_choice(ProjectionChoice("fit", "pca"))
    d.accept()
    ds = d.dataset()
    assert isinstance(ds, ProjectedDataset)
    assert ds.columns == ("PC1", "PC2") and ds.values.shape == (58, 2)
    assert ds.label_column == "species" and ds.labels is not None
    # the recorded preprocessing reproduces the values from the file's columns
    pre = ds.preprocessing()
    x = np.column_stack([table.numeric[c] for c in "abcd"])[ds.row_index]
    std = pre["standardization"]
    proj = pre["projection"]
    z = ((x - np.array(std["center"])) / np.array(std["scale"]) - np.array(proj["offset"])) @ np.array(proj["matrix"])
    np.testing.assert_allclose(z, ds.values, atol=1e-12)
    # and export stores it where the model file's convention says
    params = MixtureParams("full", [0.5, 0.5], [[0, 0], [1, 1]], np.tile(np.eye(2), (2, 1, 1)))
    loaded = load_model_json(model_to_json(params, columns=ds.columns, preprocessing=pre))
    np.testing.assert_allclose(loaded.preprocessing["projection"]["matrix"], proj["matrix"])


def test_fit_in_two_columns(qtbot, table):
    d = _dialog(qtbot, table)
    d.set_projection_choice(ProjectionChoice("fit", "columns", ("c", "a")))
    assert d.projection_x_combo.isEnabled()
    d.projection_y_combo.setCurrentText("c")
    assert not d.ok_button.isEnabled() and "two different" in d.error_text()
    d.projection_y_combo.setCurrentText("a")
    assert d.ok_button.isEnabled()
    d.accept()
    ds = d.dataset()
    assert ds.columns == ("c", "a")
    np.testing.assert_array_equal(ds.values[:, 0], table.numeric["c"][ds.row_index])


def test_two_columns_need_no_projection(qtbot, table):
    d = _dialog(qtbot, table)
    d.fit_projection_radio.setChecked(True)
    d.set_columns(["a", "b"])
    assert not d.projection_group.isEnabled()
    assert d.projection_choice().mode == "view"
    d.accept()
    assert not isinstance(d.dataset(), ProjectedDataset)


def test_choices_are_remembered_per_file(qtbot, tmp_path):
    first = read_table(_write_csv(tmp_path / "one.csv"))
    other = read_table(_write_csv(tmp_path / "two.csv", seed=1))
    d = _dialog(qtbot, first)
    d.set_label_column("species")
    d.set_columns(["b", "c", "d"])
    d.set_missing("impute")
    d.set_standardize(True)
    d.set_projection_choice(ProjectionChoice("fit", "columns", ("d", "b")))
    d.accept()
    again = _dialog(qtbot, read_table(first.path))
    assert again.options() == ImportOptions(("b", "c", "d"), "species", "impute", True)
    assert again.projection_choice() == ProjectionChoice("fit", "columns", ("d", "b"))
    assert remembered_options(first)[0] == again.options()
    # another file starts from the defaults
    fresh = _dialog(qtbot, other)
    assert fresh.options() == ImportOptions(("a", "b", "c", "d"), "species", "drop", False)
    # Cancel remembers nothing
    fresh.set_standardize(True)
    fresh.reject()
    assert remembered_options(other)[0] == ImportOptions()


def test_build_dataset_ignores_projection_for_view_mode(table):
    ds = build_dataset(table, ImportOptions(label_column="species"), ProjectionChoice("view"))
    assert ds.columns == ("a", "b", "c", "d")


# --------------------------------------------------------------------------- defaults that do not leak the answer


def _penguins(path, n=60, seed=0):
    """Rdatasets style: rownames 1..N sorted by species, species as text, a constant year."""
    rng = np.random.default_rng(seed)
    lines = ["rownames,species,bill_length_mm,body_mass_g,year"]
    for i in range(n):
        k = 3 * i // n
        lines.append(f"{i + 1},{'ABC'[k]},{rng.normal(40 + 5 * k):.2f},{rng.normal(3500 + 800 * k, 300):.0f},2008")
    path.write_text("\n".join(lines) + "\n")
    return path


def _checked(d):
    return {d.column_list.item(i).text(): d.column_list.item(i).checkState() == Qt.CheckState.Checked
            for i in range(d.column_list.count())}


def test_index_and_constant_columns_start_unchecked_with_reasons(qtbot, tmp_path):
    d = _dialog(qtbot, read_table(_penguins(tmp_path / "penguins.csv")))
    assert _checked(d) == {"rownames": False, "bill_length_mm": True, "body_mass_g": True, "year": False}
    assert d.label_column() == "species"
    text = d.excluded_label.text()
    assert d.excluded_label.isVisibleTo(d)
    assert "'rownames': a row index: 1, 2, …, 60 in order" in text
    assert "'year': constant: every value is 2008" in text
    items = {d.column_list.item(i).text(): d.column_list.item(i) for i in range(d.column_list.count())}
    assert "row index" in items["rownames"].toolTip()
    # ticking it fits it anyway, and the note stops listing it
    items["rownames"].setCheckState(Qt.CheckState.Checked)
    assert "rownames" in d.selected_columns() and "rownames" not in d.excluded_label.text()
    d.accept()
    assert d.dataset().columns == ("rownames", "bill_length_mm", "body_mass_g")


def test_generator_label_column_is_offered_as_the_label(qtbot, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "generated.csv"
    rows = [f"{a:.4f},{b:.4f},{i % 3}" for i, (a, b) in enumerate(rng.normal(size=(30, 2)))]
    path.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    d = _dialog(qtbot, read_table(path))
    assert d.label_column() == "label" and d.selected_columns() == ("x1", "x2")
    # choosing no label leaves the class ids unfitted, with the reason shown
    d.set_label_column(None)
    assert d.selected_columns() == ("x1", "x2")
    assert "'label': 3 class ids, named like a label" in d.excluded_label.text()
    d.accept()
    assert d.dataset().labels is None and d.dataset().columns == ("x1", "x2")


def test_scale_warning_shows_while_standardising_is_off(qtbot, tmp_path):
    d = _dialog(qtbot, read_table(_penguins(tmp_path / "penguins.csv")))
    assert d.scale_warning_label.isVisibleTo(d)
    text = d.scale_warning_label.text()
    assert "differ by" in text and "'body_mass_g'" in text and "Standardise" in text
    d.set_standardize(True)
    assert not d.scale_warning_label.isVisibleTo(d)
    d.set_standardize(False)
    d.set_columns(["bill_length_mm"])
    assert not d.scale_warning_label.isVisibleTo(d)  # one column has nothing to differ from


def test_one_chosen_column_gives_a_1d_dataset(qtbot, table):
    d = _dialog(qtbot, table)
    d.set_columns(["c"])
    assert d.is_valid() and d.error_text() == ""
    assert not d.projection_group.isEnabled()
    d.accept()
    ds = d.dataset()
    assert ds.columns == ("c",) and ds.values.shape == (59, 1)


def test_one_column_file_opens(qtbot, tmp_path):
    path = tmp_path / "faithful.csv"
    path.write_text("eruptions\n" + "\n".join(f"{v:.2f}" for v in np.linspace(1.6, 5.1, 40)) + "\n")
    d = _dialog(qtbot, read_table(path))
    assert d.selected_columns() == ("eruptions",) and d.is_valid()
    d.accept()
    assert d.dataset().n_features == 1
