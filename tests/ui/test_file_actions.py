"""File actions on a real main window: open (dialog, drag-and-drop, recent files) off the GUI
thread, failures leave the open data alone, model JSON round trip, per-point/history CSV,
figure PNG/SVG, truth comparison.  Modal dialogs are monkeypatched away."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.em import EMData
from gmm_studio.core.export import load_model_json
from gmm_studio.core.generate import adjusted_rand_index
from gmm_studio.ui.import_dialog import ProjectedDataset, ProjectionChoice
from gmm_studio.ui.tasks import running_tasks

TIMEOUT = 20_000


@pytest.fixture
def messages(monkeypatch):
    """Every QMessageBox the code would show, as (kind, text), without showing it."""
    shown = []

    def fake(kind):
        def show(parent, title, text, *args, **kwargs):
            shown.append((kind, text))
            return QMessageBox.StandardButton.Ok
        return staticmethod(show)

    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, fake(kind))
    return shown


def _blobs_csv(path, n=240, seed=0, extra=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [8.0, 1.0], [1.0, 9.0]])
    names = ["north", "east", "south"]
    lines = [",".join(["x", "y"] + [f"z{i}" for i in range(extra)] + ["kind"])]
    for i in range(n):
        k = i % 3
        v = np.concatenate([rng.normal(centres[k], 0.6), rng.normal(0, 0.3, extra)])
        lines.append(",".join(f"{c:.8f}" for c in v) + f",{names[k]}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def window(make_window, messages):
    return make_window(size=(900, 650))


def _open(qtbot, window, path, configure=None):
    """Open ``path`` interactively, optionally adjust the dialog, press OK."""
    fa = window.file_actions
    with qtbot.waitSignal(fa.import_dialog_opened, timeout=TIMEOUT) as opened:
        assert fa.open_path(str(path))
    dialog = opened.args[0]
    if configure is not None:
        configure(dialog)
    with qtbot.waitSignal(fa.dataset_loaded, timeout=TIMEOUT):
        dialog.accept()
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)
    return window.dataset


def _fit(qtbot, window):
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.run_fit()
    return blocker.args[0]


def _label(name):
    return lambda d: d.set_label_column(name)


def test_open_csv_with_header_and_text_labels(qtbot, window, tmp_path):
    path = _blobs_csv(tmp_path / "blobs.csv")
    ds = _open(qtbot, window, path, _label("kind"))
    assert ds.columns == ("x", "y") and ds.n_samples == 240
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1))
    np.testing.assert_array_equal(ds.values, raw)
    assert list(ds.labels[:3]) == ["north", "east", "south"]
    np.testing.assert_array_equal(window.dataset.labels, ds.labels)
    assert window.file_actions.recent_files()[0] == str(path)


def test_npy_opens_too(qtbot, window, tmp_path):
    path = tmp_path / "points.npy"
    np.save(path, np.random.default_rng(0).normal(size=(50, 3)))
    ds = _open(qtbot, window, path)
    assert ds.columns == ("x1", "x2", "x3") and ds.n_samples == 50


@pytest.mark.parametrize("content", [bytes(range(256)) * 40, b"a,b,c\n", b"a,name\nu,x\nv,y\nw,z\n"],
                         ids=["binary", "header-only", "no-numeric-column"])
def test_bad_file_shows_a_message_and_keeps_the_data(qtbot, window, tmp_path, messages, content):
    before = dataset_from_array(np.random.default_rng(1).normal(size=(30, 2)), source="before")
    window.set_dataset(before)
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with qtbot.waitSignal(window.file_actions.load_failed, timeout=TIMEOUT) as failed:
        window.file_actions.open_path(str(path), interactive=False)
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)
    assert window.dataset is before
    assert messages and messages[-1][0] == "warning" and messages[-1][1] == failed.args[0]
    assert str(path) not in window.file_actions.recent_files()


def test_no_numeric_column_keeps_ok_disabled_in_the_dialog(qtbot, window, tmp_path):
    path = tmp_path / "none.csv"
    path.write_text("a,name\nu,x\nv,y\nw,z\n")
    with qtbot.waitSignal(window.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        window.file_actions.open_path(str(path))
    dialog = opened.args[0]
    assert not dialog.ok_button.isEnabled() and "at least one" in dialog.error_text()
    dialog.reject()
    assert window.dataset.source == "demo"  # unchanged
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)


def test_missing_file_and_unsupported_suffix(window, tmp_path, messages):
    assert not window.file_actions.open_path(str(tmp_path / "nope.csv"))
    (tmp_path / "data.xlsx").write_text("x")
    assert not window.file_actions.open_path(str(tmp_path / "data.xlsx"))
    assert len(messages) == 2 and "not a supported" in messages[1][1]
    assert running_tasks() == []


def test_cancel_during_load_keeps_the_data_and_ends_the_thread(qtbot, window, tmp_path):
    before = dataset_from_array(np.ones((5, 2)) * np.arange(5)[:, None] + [0, 1], source="before")
    window.set_dataset(before)
    path = _blobs_csv(tmp_path / "blobs.csv")
    fa = window.file_actions
    fa.open_path(str(path))
    assert fa.is_loading() and fa.cancel_button.isVisibleTo(window)
    with qtbot.waitSignal(fa.load_cancelled, timeout=TIMEOUT):
        fa.cancel_button.click()
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)
    assert not fa.is_loading() and fa.import_dialog is None
    assert window.dataset is before


def test_a_second_open_replaces_the_first(qtbot, window, tmp_path):
    first = _blobs_csv(tmp_path / "first.csv")
    second = _blobs_csv(tmp_path / "second.csv", n=90)
    fa = window.file_actions
    fa.open_path(str(first))
    with qtbot.waitSignal(fa.import_dialog_opened, timeout=TIMEOUT) as opened:
        fa.open_path(str(second))
    assert opened.args[0].table.path == str(second)
    opened.args[0].reject()
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)


def test_open_action_uses_the_file_dialog_and_the_import_dialog(qtbot, window, tmp_path, monkeypatch):
    path = _blobs_csv(tmp_path / "blobs.csv")
    asked = []

    def fake_open(parent, title, folder, filters, *args, **kwargs):
        asked.append(filters)
        return str(path), filters
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_open))
    with qtbot.waitSignal(window.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        window.open_action.trigger()
    assert "*.csv" in asked[0] and "*.npy" in asked[0] and "*.dat" in asked[0]
    assert window.dataset.source == "demo"  # unchanged  # nothing is installed before OK
    with qtbot.waitSignal(window.file_actions.dataset_loaded, timeout=TIMEOUT):
        opened.args[0].accept()
    assert window.dataset.n_samples == 240
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)


def test_choices_are_remembered_and_reused(qtbot, window, tmp_path):
    path = _blobs_csv(tmp_path / "blobs.csv")

    def choose(d):
        d.set_label_column("kind")
        d.set_standardize(True)
    _open(qtbot, window, path, choose)
    with qtbot.waitSignal(window.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        window.file_actions.open_path(str(path))
    dialog = opened.args[0]
    assert dialog.options().standardize and dialog.options().label_column == "kind"
    dialog.reject()
    with qtbot.waitSignal(window.file_actions.dataset_loaded, timeout=TIMEOUT) as loaded:
        window.file_actions.open_path(str(path), interactive=False)
    ds = loaded.args[0]
    assert ds.center is not None and ds.labels is not None
    np.testing.assert_allclose(ds.values.mean(axis=0), 0, atol=1e-12)
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)


def _drag_events(path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(50, 50)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    return mime, enter, drop


def test_drag_and_drop_of_a_csv_opens_it(qtbot, window, tmp_path):
    path = _blobs_csv(tmp_path / "dropped.csv")
    assert window.acceptDrops()
    _, enter, drop = _drag_events(path)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    with qtbot.waitSignal(window.file_actions.dataset_loaded, timeout=TIMEOUT):
        opened.args[0].accept()
    assert window.dataset.source == str(path)
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)


def test_a_file_dropped_on_the_plot_opens_too(qtbot, window, tmp_path):
    path = _blobs_csv(tmp_path / "dropped.csv")
    viewport = window.data_view.viewport()
    _, enter, drop = _drag_events(path)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        QApplication.sendEvent(viewport, drop)
    opened.args[0].reject()
    assert window.dataset.source == "demo"  # unchanged
    qtbot.waitUntil(lambda: running_tasks() == [], timeout=TIMEOUT)


def test_the_file_menu_holds_each_action_once(window):
    texts = [a.text() for a in window.file_menu.actions()]
    for text in ("Open data…", "Open recent", "Import model JSON…", "Export", "Save session…",
                 "Open session…", "Quit"):
        assert texts.count(text) == 1, text


def test_drag_of_an_unsupported_file_is_refused(window, tmp_path):
    path = tmp_path / "notes.docx"
    path.write_text("x")
    _, enter, drop = _drag_events(path)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
    QApplication.sendEvent(window, drop)
    assert not window.file_actions.is_loading()


def test_recent_files_update_and_missing_ones_are_removed(qtbot, window, tmp_path, messages):
    fa = window.file_actions
    paths = [_blobs_csv(tmp_path / f"f{i}.csv", n=30, seed=i) for i in range(10)]
    for p in paths[:9]:
        fa.add_recent(str(p))
    assert fa.recent_files() == [str(p) for p in reversed(paths[1:9])]  # last 8, newest first
    _open(qtbot, window, paths[3])
    assert fa.recent_files()[0] == str(paths[3]) and len(fa.recent_files()) == 8
    fa.recent_menu.aboutToShow.emit()  # what opening the menu does
    texts = [a.text() for a in fa.recent_menu.actions()]
    assert "f3.csv" in texts[0]
    os.remove(paths[5])
    assert not fa.open_recent(str(paths[5]))
    assert str(paths[5]) not in fa.recent_files()
    assert messages[-1][0] == "information" and "no longer exists" in messages[-1][1]


def test_export_actions_need_a_model(qtbot, window, tmp_path):
    fa = window.model_files
    assert not fa.export_model_action.isEnabled()
    assert fa.export_model_action.toolTip() == "Fit a model first."
    _open(qtbot, window, _blobs_csv(tmp_path / "b.csv"))
    fa.update_actions()
    assert not fa.export_model_action.isEnabled() and fa.export_png_action.isEnabled()
    _fit(qtbot, window)
    assert fa.export_model_action.isEnabled() and fa.export_assignments_action.isEnabled()


def test_model_json_round_trip(qtbot, window, tmp_path, monkeypatch):
    _open(qtbot, window, _blobs_csv(tmp_path / "b.csv"), lambda d: d.set_standardize(True))
    final = _fit(qtbot, window)
    out = tmp_path / "model.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "model"), "")))
    window.model_files.export_model_action.trigger()  # adds the .json suffix
    doc = json.loads(out.read_text())
    assert doc["columns"] == ["x", "y"] and doc["n_samples"] == 240
    assert doc["preprocessing"]["standardization"] is not None and doc["preprocessing"]["projection"] is None
    assert doc["seed"] == 1 and doc["settings"]["n_components"] == 3
    assert all(np.isfinite(doc[c]) for c in ("bic", "aic", "icl"))
    assert doc["converged"] == final.converged
    window.reset()
    assert window.current_snapshot() is None
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(out), "")))
    with qtbot.waitSignal(window.model_files.model_imported, timeout=TIMEOUT):
        window.model_files.import_model_action.trigger()
    shown = window.current_snapshot().params
    np.testing.assert_array_equal(shown.means, final.params.means)
    np.testing.assert_array_equal(shown.covariances, final.params.covariances)
    ll = EMData(window.dataset.values, shown.covariance_type).mean_log_likelihood(shown)
    assert abs(ll - doc["log_likelihood"]) <= 1e-12
    # EM continues from the imported model
    window.step("E")
    qtbot.waitUntil(lambda: not window.is_fitting(), timeout=TIMEOUT)
    assert window.history()[-1].half_step == "E"
    np.testing.assert_array_equal(window.history()[-1].params.means, final.params.means)


def test_model_with_other_columns_is_refused(qtbot, window, tmp_path, messages):
    _open(qtbot, window, _blobs_csv(tmp_path / "b.csv"))
    _fit(qtbot, window)
    path = tmp_path / "m.json"
    assert window.model_files.export_model_json(str(path))
    doc = json.loads(path.read_text())
    doc["columns"] = ["u", "v"]
    path.write_text(json.dumps(doc))
    shown = window.current_snapshot()
    dataset = window.dataset
    assert not window.model_files.import_model(str(path))
    assert "different column" in messages[-1][1] or "fitted on columns" in messages[-1][1]
    assert window.current_snapshot() is shown and window.dataset is dataset


def test_model_import_reorders_columns(qtbot, window, tmp_path):
    _open(qtbot, window, _blobs_csv(tmp_path / "b.csv"))
    final = _fit(qtbot, window)
    path = tmp_path / "m.json"
    window.model_files.export_model_json(str(path))
    # the same data with the columns swapped
    swapped = dataset_from_array(window.dataset.values[:, ::-1], columns=("y", "x"), source="swapped")
    window.set_dataset(swapped)
    assert window.model_files.import_model(str(path))
    shown = window.current_snapshot().params
    np.testing.assert_allclose(shown.means, final.params.means[:, ::-1])
    np.testing.assert_allclose(shown.covariances, final.params.covariances[:, ::-1, ::-1])


def test_per_point_csv_history_csv_and_figures(qtbot, window, tmp_path):
    _open(qtbot, window, _blobs_csv(tmp_path / "b.csv"), lambda d: d.set_standardize(True))
    _fit(qtbot, window)
    fa = window.model_files
    points = tmp_path / "points.csv"
    assert fa.export_assignments_csv(str(points))
    with open(points, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header == ["row", "x", "y", "component", "resp_1", "resp_2", "resp_3", "uncertainty"]
    assert len(body) == 240
    raw = np.loadtxt(tmp_path / "b.csv", delimiter=",", skiprows=1, usecols=(0, 1))
    np.testing.assert_allclose(np.array([[float(r[1]), float(r[2])] for r in body]), raw, rtol=1e-12)
    resp = np.array([[float(v) for v in r[4:7]] for r in body])
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)

    history = tmp_path / "history.csv"
    assert fa.export_history_csv(str(history))
    lines = history.read_text().splitlines()
    assert lines[0].startswith("restart,iteration,half_step,log_likelihood") and len(lines) >= 2

    png, svg = tmp_path / "fig.png", tmp_path / "fig.svg"
    assert fa.export_figure(str(png))
    assert fa.export_figure(str(svg)), fa.last_error
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert "<svg" in svg.read_text(encoding="utf-8")


def test_export_failure_shows_a_message_and_keeps_the_old_file(qtbot, window, tmp_path, messages):
    _open(qtbot, window, _blobs_csv(tmp_path / "b.csv"))
    _fit(qtbot, window)
    assert not window.model_files.export_model_json(str(tmp_path / "no-such-folder" / "m.json"))
    assert "does not exist" in messages[-1][1]
    assert window.current_snapshot() is not None


def test_an_export_never_writes_over_the_open_data_file(qtbot, window, tmp_path, messages):
    data = _blobs_csv(tmp_path / "b.csv")
    before = data.read_bytes()
    _open(qtbot, window, data)
    _fit(qtbot, window)
    for export in (window.model_files.export_model_json, window.model_files.export_assignments_csv,
                   window.model_files.export_history_csv):
        assert not export(str(data))
        assert messages[-1][0] == "warning" and "data file" in messages[-1][1]
    assert data.read_bytes() == before
    assert window.current_snapshot() is not None


def test_adjusted_rand_index_after_a_fit(qtbot, window, tmp_path):
    _open(qtbot, window, _blobs_csv(tmp_path / "b.csv"), _label("kind"))
    final = _fit(qtbot, window)
    qtbot.waitUntil(lambda: window.truth_label.isVisible(), timeout=TIMEOUT)
    gamma = EMData(window.dataset.values, final.params.covariance_type).responsibilities(final.params)
    expected = adjusted_rand_index(window.dataset.labels, gamma.argmax(axis=1))
    assert expected > 0.95
    assert window.truth_label.text() == f"ARI vs labels: {expected:.3f} (3 classes)"
    window.set_dataset(dataset_from_array(np.random.default_rng(0).normal(size=(20, 2))))
    assert window.truth_label.text() == "" and not window.truth_label.isVisible()


def test_fitting_in_the_projection_and_exporting_it(qtbot, window, tmp_path):
    path = _blobs_csv(tmp_path / "wide.csv", extra=2)

    def choose(d):
        d.set_label_column("kind")
        d.set_standardize(True)
        d.set_projection_choice(ProjectionChoice("fit", "pca"))
    ds = _open(qtbot, window, path, choose)
    assert isinstance(ds, ProjectedDataset)
    assert ds.columns == ("PC1", "PC2") and ds.values.shape == (240, 2)
    assert ds.input_columns == ("x", "y", "z0", "z1")
    _fit(qtbot, window)
    out = tmp_path / "proj.json"
    assert window.model_files.export_model_json(str(out))
    loaded = load_model_json(str(out))
    assert loaded.columns == ("PC1", "PC2")
    assert loaded.preprocessing["projection"]["matrix"].shape == (4, 2)
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2, 3))
    std, proj = loaded.preprocessing["standardization"], loaded.preprocessing["projection"]
    z = ((raw - std["center"]) / std["scale"] - proj["offset"]) @ proj["matrix"]
    np.testing.assert_allclose(z, ds.values, atol=1e-10)
    window.reset()
    assert window.model_files.import_model(str(out))


def test_closing_while_loading_joins_the_load(qtbot, window, tmp_path):
    window.file_actions.open_path(str(_blobs_csv(tmp_path / "b.csv", n=30_000)))
    assert window.file_actions.is_loading()
    window.close()
    assert running_tasks() == []
