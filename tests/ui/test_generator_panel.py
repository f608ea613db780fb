"""GeneratorPanel: the widgets' settings reach generate(), errors stay in the panel, the fit is
compared with the truth, large N runs on a thread that ends, and saving writes what it says."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from gmm_studio.core.export import load_model_json
from gmm_studio.core.generate import GeneratorSettings, generate
from gmm_studio.core.compare import compare_model
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui import generator_panel as gp
from gmm_studio.ui.generator_panel import GeneratorPanel
from gmm_studio.ui.tasks import running_tasks


@pytest.fixture
def panel(qtbot, runner):
    widget = GeneratorPanel(runner=runner)
    qtbot.addWidget(widget)
    return widget


def _show_fit(panel: GeneratorPanel, params: MixtureParams, fitted) -> None:
    """Give the panel the session's comparison of ``params`` (hard labels or γ) with the truth."""
    data = panel.data()
    fitted = np.asarray(fitted)
    assigned = fitted.argmax(axis=1) if fitted.ndim == 2 else fitted
    panel.show_comparison(compare_model(params, assigned, None, data.truth, data.labels), params)


def _table(panel: GeneratorPanel) -> list[list[str]]:
    t = panel.fit_table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def _assert_same_data(a, b) -> None:
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.settings == b.settings
    if b.truth is None:
        assert a.truth is None
    else:
        np.testing.assert_array_equal(a.truth.means, b.truth.means)
        np.testing.assert_array_equal(a.truth.covariances, b.truth.covariances)
        np.testing.assert_array_equal(a.truth.weights, b.truth.weights)


# --------------------------------------------------------------------------- settings


def test_every_control_has_a_tooltip_and_the_process_is_described(panel):
    controls = [
        panel.n_components_spin,
        panel.n_samples_spin,
        panel.n_features_spin,
        panel.weights_combo,
        panel.custom_weights_edit,
        panel.separation_spin,
        panel.shape_combo,
        panel.outlier_spin,
        panel.seed_spin,
        panel.new_seed_button,
        panel.generate_button,
        panel.save_csv_button,
        panel.save_json_button,
    ]
    for widget in controls:
        assert widget.toolTip(), widget
    assert "Ctrl+G" in panel.generate_button.toolTip()
    assert panel.generate_button.shortcut().toString() == "Ctrl+G"
    text = panel.process_label.text()
    assert "probability" in text and "N(μ" in text
    shapes = [panel.shape_combo.itemText(i) for i in range(panel.shape_combo.count())]
    assert any("where a Gaussian mixture struggles" in s for s in shapes)
    assert panel.n_features_spin.value() == 2
    assert panel.n_samples_spin.maximum() == 1_000_000


def test_settings_round_trip_through_the_widgets(panel):
    s = GeneratorSettings(
        n_components=4,
        n_samples=12_345,
        n_features=5,
        weights=(1.0, 2.5, 0.1, 3.0),
        separation=4.5,
        shape="random",
        outlier_fraction=0.05,
        seed=987,
    )
    panel.set_settings(s)
    assert panel.custom_weights_edit.isVisibleTo(panel)
    assert panel.settings() == s
    for shape in ("spherical", "axis_aligned", "rotated", "anisotropic", "moons", "rings", "uniform_square"):
        t = GeneratorSettings(shape=shape, weights="imbalanced", seed=3)
        panel.set_settings(t)
        assert panel.settings() == t
    with pytest.raises(ValueError):
        panel.set_settings(GeneratorSettings(n_samples=2_000_000))
    assert panel.settings() == GeneratorSettings(shape="uniform_square", weights="imbalanced", seed=3)


def test_new_seed_button_changes_the_seed(panel, qtbot):
    seeds = set()
    for _ in range(5):
        qtbot.mouseClick(panel.new_seed_button, Qt.MouseButton.LeftButton)
        seeds.add(panel.seed_spin.value())
    assert len(seeds) > 1


# --------------------------------------------------------------------------- generating


def test_generate_button_emits_the_data_of_the_widgets(panel, qtbot):
    panel.n_components_spin.setValue(4)
    panel.n_samples_spin.setValue(2500)
    panel.n_features_spin.setValue(3)
    panel.weights_combo.setCurrentIndex(panel.weights_combo.findData("imbalanced"))
    panel.separation_spin.setValue(5.0)
    panel.shape_combo.setCurrentIndex(panel.shape_combo.findData("axis_aligned"))
    panel.outlier_spin.setValue(2.0)
    panel.seed_spin.setValue(42)
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    data = blocker.args[0]
    expected = generate(
        GeneratorSettings(
            n_components=4,
            n_samples=2500,
            n_features=3,
            weights="imbalanced",
            separation=5.0,
            shape="axis_aligned",
            outlier_fraction=0.02,
            seed=42,
        )
    )
    _assert_same_data(data, expected)
    assert panel.data() is data
    assert not panel.error_label.isVisibleTo(panel)
    assert "seed 42" in panel.status_label.text()


# The offscreen platform warns that it cannot propagate a top-level window's size hints.
@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_ctrl_g_generates(panel, qtbot):
    panel.show()
    panel.activateWindow()
    # The shortcut map only serves the active window; waitActive returns early offscreen.
    qtbot.waitUntil(panel.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(panel.data_generated, timeout=5000):
        qtbot.keyClick(panel, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)


def test_invalid_custom_weights_show_an_error_and_emit_nothing(panel, qtbot):
    with qtbot.waitSignal(panel.data_generated, timeout=5000):
        panel.generate()
    before = panel.data()
    panel.n_components_spin.setValue(3)
    panel.weights_combo.setCurrentIndex(panel.weights_combo.findData("custom"))
    panel.custom_weights_edit.setText("1, 2")
    assert panel.custom_weights_error.isVisibleTo(panel)
    assert "K is 3" in panel.custom_weights_error.text()
    with pytest.raises(ValueError):
        panel.settings()
    with qtbot.assertNotEmitted(panel.data_generated):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert panel.error_label.isVisibleTo(panel)
    assert "K is 3" in panel.error_label.text()
    assert panel.data() is before  # nothing lost
    assert panel.save_csv_button.isEnabled()

    panel.custom_weights_edit.setText("1, 2, -1")
    assert "positive" in panel.custom_weights_error.text()
    panel.custom_weights_edit.setText("1, 2, 3")
    assert not panel.custom_weights_error.isVisibleTo(panel)
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        panel.generate()
    np.testing.assert_allclose(blocker.args[0].truth.weights, [1 / 6, 2 / 6, 3 / 6])
    assert not panel.error_label.isVisibleTo(panel)


def test_settings_rejected_by_the_core_show_its_message(panel, qtbot):
    panel.n_components_spin.setValue(20)
    panel.n_samples_spin.setValue(10)  # N < K
    with qtbot.assertNotEmitted(panel.data_generated):
        panel.generate()
    assert "n_samples (10) is smaller than n_components (20)" in panel.error_label.text()


def test_large_n_is_generated_on_a_thread_that_ends(panel, qtbot):
    settings = GeneratorSettings(n_samples=gp.THREAD_THRESHOLD + 1000, shape="spherical", seed=5)
    panel.set_settings(settings)
    busy = []
    panel.busy_changed.connect(busy.append)
    with qtbot.waitSignal(panel.data_generated, timeout=10_000) as blocker:
        panel.generate()
        assert panel.is_busy() and running_tasks() == ["generate"]
        assert not panel.generate_button.isEnabled()
        assert panel.busy_bar.isVisibleTo(panel)
        panel.generate()  # ignored while busy: one generation at a time
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=5000)
    assert running_tasks() == []
    assert busy == [True, False]
    assert panel.generate_button.isEnabled()
    assert not panel.busy_bar.isVisibleTo(panel)
    _assert_same_data(blocker.args[0], generate(settings))


def test_closing_joins_a_running_generation_and_drops_its_result(panel, qtbot, runner):
    panel.set_settings(GeneratorSettings(n_samples=gp.THREAD_THRESHOLD + 1000, seed=1))
    emitted = []
    panel.data_generated.connect(emitted.append)
    panel.generate()
    assert runner.join_all(timeout=30)  # what the window does when it closes
    assert running_tasks() == []
    assert not panel.is_busy()
    QApplication.processEvents()  # deliver the queued payload: it must be dropped as stale
    assert emitted == []
    assert panel.data() is None


# --------------------------------------------------------------------------- fit vs truth


def test_show_comparison_with_the_truth_itself_is_perfect(panel, qtbot):
    panel.set_settings(GeneratorSettings(n_components=3, n_samples=1500, seed=2))
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        panel.generate()
    data = blocker.args[0]
    _show_fit(panel, data.truth, data.labels)
    assert panel.fit_group.isVisibleTo(panel)
    assert "1.000" in panel.ari_label.text()
    rows = _table(panel)
    assert [r[:2] for r in rows] == [["1", "1"], ["2", "2"], ["3", "3"]]  # as the Components table
    for r in range(3):
        for c in (2, 3, 4):
            assert abs(panel.fit_table.item(r, c).data(Qt.ItemDataRole.UserRole)) < 1e-12

    panel.clear_fit()
    assert not panel.fit_group.isVisibleTo(panel)
    assert panel.fit_table.rowCount() == 0


def test_show_comparison_matches_permuted_components_and_takes_responsibilities(panel, qtbot):
    panel.set_settings(GeneratorSettings(n_components=3, n_samples=900, seed=4, separation=6.0))
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        panel.generate()
    truth = blocker.args[0].truth
    order = [2, 0, 1]
    fitted = MixtureParams(
        "full", truth.weights[order], truth.means[order] + 0.1, truth.covariances[order]
    )
    # responsibilities of the fitted (permuted) components: one-hot on the true label
    true_labels = blocker.args[0].labels
    resp = np.zeros((len(true_labels), 3))
    inverse = np.argsort(order)
    resp[np.arange(len(true_labels)), inverse[true_labels]] = 1.0
    _show_fit(panel, fitted, resp)
    assert "1.000" in panel.ari_label.text()
    rows = _table(panel)
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    assert [int(r[1]) for r in rows] == list(inverse + 1)  # numbered from 1, as the Components table
    mean_errors = [panel.fit_table.item(r, 2).data(Qt.ItemDataRole.UserRole) for r in range(3)]
    np.testing.assert_allclose(mean_errors, 0.1 * np.sqrt(2), rtol=1e-3)


def test_show_comparison_without_truth_reports_the_ari_only(panel, qtbot):
    panel.set_settings(GeneratorSettings(shape="moons", n_samples=600, seed=0))
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        panel.generate()
    data = blocker.args[0]
    assert data.truth is None
    assert not panel.save_json_button.isEnabled()
    some_fit = MixtureParams("spherical", [0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], [1.0, 1.0])
    _show_fit(panel, some_fit, data.labels)
    assert "1.000" in panel.ari_label.text()
    assert "no Gaussian truth" in panel.ari_label.text()
    assert not panel.fit_table.isVisibleTo(panel)

    panel.show_comparison(None, some_fit)  # a new model is being compared: nothing stale shows
    assert not panel.fit_group.isVisibleTo(panel)


def test_show_comparison_with_outliers_reports_inlier_ari_too(panel, qtbot):
    panel.set_settings(GeneratorSettings(n_samples=1000, outlier_fraction=0.1, seed=3))
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        panel.generate()
    data = blocker.args[0]
    fitted_labels = np.where(data.labels < 0, 0, data.labels)
    _show_fit(panel, data.truth, fitted_labels)
    assert "inliers only: 1.000" in panel.ari_label.text()


def test_a_new_data_set_clears_the_old_comparison(panel, qtbot):
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        panel.generate()
    _show_fit(panel, blocker.args[0].truth, blocker.args[0].labels)
    with qtbot.waitSignal(panel.data_generated, timeout=5000):
        panel.generate()
    assert not panel.fit_group.isVisibleTo(panel)


# --------------------------------------------------------------------------- saving


def test_save_csv_writes_columns_and_true_labels(panel, qtbot, tmp_path, monkeypatch):
    assert not panel.save_csv_button.isEnabled()  # nothing to save yet
    settings = GeneratorSettings(n_features=3, n_samples=400, outlier_fraction=0.05, seed=8)
    panel.set_settings(settings)
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        panel.generate()
    data = blocker.args[0]
    target = tmp_path / "points.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(panel.saved, timeout=10_000):
        qtbot.mouseClick(panel.save_csv_button, Qt.MouseButton.LeftButton)
        assert panel.save_csv_button.text() == "Saving…" and not panel.save_csv_button.isEnabled()
    assert panel.save_csv_button.isEnabled()
    assert "Saved 400 points" in panel.status_label.text()
    lines = target.read_text().splitlines()
    assert lines[0] == "x1,x2,x3,label"
    table = np.loadtxt(target, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, :3], data.values)  # exact: repr precision
    np.testing.assert_array_equal(table[:, 3], data.labels)
    assert (table[:, 3] == -1).sum() == settings.n_outliers


def test_save_csv_cancelled_writes_nothing(panel, qtbot, tmp_path, monkeypatch):
    with qtbot.waitSignal(panel.data_generated, timeout=5000):
        panel.generate()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    panel.save_csv()
    assert list(tmp_path.iterdir()) == []


def test_save_error_shows_a_message_and_keeps_the_data(panel, qtbot, tmp_path, monkeypatch):
    with qtbot.waitSignal(panel.data_generated, timeout=5000):
        panel.generate()
    data = panel.data()
    target = tmp_path / "missing-folder" / "points.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    messages = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: messages.append(text))
    panel.save_csv()
    qtbot.waitUntil(lambda: not panel.is_saving(), timeout=10_000)
    assert len(messages) == 1 and "does not exist" in messages[0]
    assert not target.exists()
    assert panel.data() is data


def test_save_truth_json_loads_back_as_the_truth(panel, qtbot, tmp_path, monkeypatch):
    with qtbot.waitSignal(panel.data_generated, timeout=5000) as blocker:
        panel.generate()
    truth = blocker.args[0].truth
    target = tmp_path / "truth.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert panel.save_json_button.isEnabled()
    qtbot.mouseClick(panel.save_json_button, Qt.MouseButton.LeftButton)
    doc = json.loads(target.read_text())
    assert doc["columns"] == ["x1", "x2"]
    assert doc["settings"]["source"] == "synthetic truth"
    assert doc["seed"] == 0
    loaded = load_model_json(target)
    np.testing.assert_array_equal(loaded.params.means, truth.means)
    np.testing.assert_array_equal(loaded.params.covariances, truth.covariances)
    np.testing.assert_array_equal(loaded.params.weights, truth.weights)


def test_in_one_dimension_the_shapes_that_need_two_are_greyed_out_and_say_why(panel):
    combo, model = panel.shape_combo, panel.shape_combo.model()

    def offered(shape):
        return model.item(combo.findData(shape)).isEnabled()

    combo.setCurrentIndex(combo.findData("rotated"))
    panel.n_features_spin.setValue(1)
    assert not offered("rotated") and not offered("axis_aligned") and not offered("moons")
    assert offered("spherical") and offered("random") and offered("uniform_square")
    assert "Needs D ≥ 2" in combo.itemData(combo.findData("rotated"), Qt.ItemDataRole.ToolTipRole)
    assert panel.settings().shape == "spherical"  # the chosen shape fell back to one that exists
    panel.n_features_spin.setValue(3)
    assert offered("rotated") and "turned" in combo.itemData(combo.findData("rotated"),
                                                             Qt.ItemDataRole.ToolTipRole)
