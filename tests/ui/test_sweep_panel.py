"""SweepPanel: a sweep streams into the table and plot, the best cell is chosen, clicks emit models."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, Qt

from gmm_studio.core.generate import GeneratorSettings, generate
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.sweep import SweepResult
from gmm_studio.ui.sweep_panel import EXPLANATION, SweepPanel
from gmm_studio.ui.tasks import running_tasks

TIMEOUT = 30_000


@pytest.fixture
def panel(qtbot, runner):
    p = SweepPanel(runner=runner)
    qtbot.addWidget(p)
    return p


def _blobs(n: int = 400, k: int = 3, seed: int = 0) -> np.ndarray:
    return generate(GeneratorSettings(n_components=k, n_samples=n, separation=7.0,
                                      shape="rotated", seed=seed)).values


def _small_grid(panel: SweepPanel, k_max: int = 4, types=("full", "diag"), restarts: int = 2):
    panel.k_min_spin.setValue(1)
    panel.k_max_spin.setValue(k_max)
    for t, box in panel.type_checks.items():
        box.setChecked(t in types)
    panel.restarts_spin.setValue(restarts)


def _run(qtbot, panel: SweepPanel) -> SweepResult:
    with qtbot.waitSignal(panel.sweep_finished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def _sweep_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("gmm-sweep")]


def test_defaults_and_tooltips(panel):
    assert (panel.k_min_spin.value(), panel.k_max_spin.value()) == (1, 9)
    assert panel.restarts_spin.value() == 5
    assert panel.validation_spin.value() == pytest.approx(0.2)
    assert all(box.isChecked() for box in panel.type_checks.values())
    assert [panel.criterion_combo.itemData(i) for i in range(panel.criterion_combo.count())] == [
        "bic", "aic", "icl", "train_ll", "heldout_ll"]
    assert panel.explanation_label.text() == EXPLANATION
    controls = [panel.k_min_spin, panel.k_max_spin, panel.restarts_spin, panel.validation_spin,
                panel.criterion_combo, panel.run_button, panel.cancel_button, panel.export_button,
                panel.progress, panel.table, panel.plot, *panel.type_checks.values()]
    assert all(c.toolTip() for c in controls)
    assert not panel.run_button.isEnabled()  # no data yet
    panel.set_data(_blobs())
    assert panel.run_button.isEnabled()
    for box in panel.type_checks.values():
        box.setChecked(False)
    assert not panel.run_button.isEnabled()


def test_k_range_stays_ordered(panel):
    panel.k_max_spin.setValue(3)
    panel.k_min_spin.setValue(5)
    assert panel.k_max_spin.value() == 5
    panel.k_max_spin.setValue(2)
    assert panel.k_min_spin.value() == 2


def test_sweep_fills_table_and_plot_and_selects_best(qtbot, panel):
    panel.set_data(_blobs())
    _small_grid(panel)
    result = _run(qtbot, panel)
    assert not panel.is_running()
    assert not _sweep_threads()
    assert not result.cancelled and len(result.cells) == 8
    table = panel.table
    assert (table.rowCount(), table.columnCount()) == (4, 2)
    assert [table.horizontalHeaderItem(c).text() for c in range(2)] == ["full", "diag"]
    for row in range(4):
        for column in range(2):
            cell = panel.cell_at(row, column)
            assert table.item(row, column).text() == f"{cell.value('bic'):.1f}"
            assert "BIC" in table.item(row, column).toolTip()
    assert panel.progress.value() == panel.progress.maximum() == 8

    best = result.best("bic")
    assert best.n_components == 3
    assert panel.best_cell() is best
    row, column = 2, ["full", "diag"].index(best.covariance_type)
    assert (table.currentRow(), table.currentColumn()) == (row, column)
    assert table.item(row, column).isSelected()
    assert table.item(row, column).font().bold()
    star_x, star_y = panel.best_marker.getData()
    assert len(star_x) == 1 and round(star_x[0]) == 3
    assert star_y[0] == pytest.approx(best.value("bic"))

    for t in ("full", "diag"):
        x, y = panel.curves[t].getData()
        np.testing.assert_array_equal(np.round(x), [1, 2, 3, 4])
        np.testing.assert_allclose(y, [result.cell(k, t).value("bic") for k in range(1, 5)])
        bars = panel.error_bars[t].opts
        lows = [result.cell(k, t).spread("bic")[0] for k in range(1, 5)]
        np.testing.assert_allclose(y - bars["bottom"], lows)
    for t in ("tied", "spherical"):
        assert len(panel.curves[t].getData()[0] or []) == 0
    assert "K=3" in panel.status_label.text()
    assert panel.export_button.isEnabled() and panel.run_button.isEnabled()


def test_changing_the_criterion_redraws_without_refitting(qtbot, panel):
    panel.set_data(_blobs())
    _small_grid(panel, types=("full",))
    result = _run(qtbot, panel)
    panel.criterion_combo.setCurrentIndex(panel.criterion_combo.findData("train_ll"))
    y = panel.curves["full"].getData()[1]
    np.testing.assert_allclose(y, [c.value("train_ll") for c in result.cells])
    assert panel.table.item(0, 0).text() == f"{result.cells[0].value('train_ll'):.4f}"
    # The training likelihood prefers the largest K: that is the lesson.
    assert panel.best_cell().n_components == 4
    assert "higher is better" in panel.plot.getAxis("left").labelText
    panel.criterion_combo.setCurrentIndex(panel.criterion_combo.findData("heldout_ll"))
    assert panel.best_cell() is result.best("heldout_ll")


def test_clicking_a_cell_emits_its_model(qtbot, panel):
    panel.set_data(_blobs())
    _small_grid(panel)
    result = _run(qtbot, panel)
    table = panel.table
    item = table.item(1, 1)  # K=2, diag
    rect = table.visualItemRect(item)
    with qtbot.waitSignal(panel.model_chosen, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    params = blocker.args[0]
    assert isinstance(params, MixtureParams)
    assert params is result.cell(2, "diag").params
    assert params.n_components == 2 and params.covariance_type == "diag"


def test_cancel_stops_and_leaves_no_thread(qtbot, panel):
    x = generate(GeneratorSettings(n_components=4, n_samples=20_000, seed=2)).values
    panel.set_data(x)
    with qtbot.waitSignal(panel.sweep_finished, timeout=TIMEOUT) as blocker:
        panel.run()
        assert panel.is_running() and panel.cancel_button.isEnabled()
        assert not panel.run_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.cancelled
    assert len(result.cells) < 36
    assert not panel.is_running()
    # running_tasks() waits for a task that has reported its end and is only leaving its thread
    assert running_tasks() == []
    assert not _sweep_threads()
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_closing_joins_a_running_sweep_and_drops_its_results(qtbot, panel, runner):
    panel.set_data(generate(GeneratorSettings(n_components=4, n_samples=20_000, seed=3)).values)
    panel.run()
    assert panel.is_running() and running_tasks() == ["sweep"]
    assert runner.join_all(timeout=30)  # what the window does when it closes
    assert not panel.is_running()
    assert running_tasks() == []
    assert not _sweep_threads()
    # Late signals of the abandoned run are stale: nothing changes.
    QCoreApplication.processEvents()  # deliver whatever the old run had queued
    assert panel.result() is None


def test_degenerate_cell_shows_na_with_reason(qtbot, panel):
    base = np.array([[0.0, 0.0], [1.0, 0.2], [0.3, 1.5], [2.0, 2.0]])
    panel.set_data(np.repeat(base, 3, axis=0))
    panel.k_min_spin.setValue(1)
    panel.k_max_spin.setValue(10)
    for t, box in panel.type_checks.items():
        box.setChecked(t == "full")
    panel.restarts_spin.setValue(1)
    panel.validation_spin.setValue(0.0)
    result = _run(qtbot, panel)
    na = [c for c in result.cells if not c.ok]
    assert na
    cell = max(na, key=lambda c: c.n_components)
    item = panel.table.item(cell.n_components - 1, 0)
    assert item.text() == "NA"
    assert cell.reason in item.toolTip()
    assert panel.best_cell().ok
    # NA cells are not on the curve
    x, _ = panel.curves["full"].getData()
    assert not np.any(np.isclose(np.round(x), cell.n_components))


def test_export_writes_the_table(qtbot, panel, tmp_path):
    panel.set_data(_blobs())
    _small_grid(panel, k_max=2, types=("spherical",), restarts=1)
    result = _run(qtbot, panel)
    path = tmp_path / "sweep.csv"
    assert panel.export_csv(str(path))
    assert path.read_text() == result.to_csv_text()
    assert not panel.export_csv(str(tmp_path / "missing" / "sweep.csv"))
    assert "Could not export" in panel.status_label.text()


def test_set_data_during_a_sweep_abandons_it(qtbot, panel):
    panel.set_data(generate(GeneratorSettings(n_components=4, n_samples=20_000, seed=4)).values)
    panel.run()
    panel.set_data(_blobs())
    assert panel.table.rowCount() == 0
    assert not panel.run_button.isEnabled()  # until the abandoned sweep has stopped
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT)
    assert panel.run_button.isEnabled() and panel.table.rowCount() == 0
    _small_grid(panel, k_max=2, types=("full",), restarts=1)
    result = _run(qtbot, panel)
    assert len(result.cells) == 2 and all(math.isfinite(c.value("bic")) for c in result.cells)


def test_before_a_sweep_the_panel_counts_its_grid_and_the_plot_says_it_is_empty(qtbot, panel):
    panel.set_data(_blobs())
    assert panel.progress.text() == "0 of 36 cells"  # K 1..9, four types
    _small_grid(panel, k_max=4, types=("full", "diag"))
    assert panel.progress.text() == "0 of 8 cells"
    plot = panel.plot
    assert plot.placeholder.isVisible() and "Run" in plot.placeholder.toPlainText()
    (x0, x1), _ = plot.getPlotItem().getViewBox().viewRange()
    assert x0 >= 0 and x1 <= 10  # a K axis, not -400..400 in thousandths
    assert plot.getAxis("bottom").labelString().find("x0.001") < 0
    _run(qtbot, panel)
    assert not plot.placeholder.isVisible()
    (x0, x1), (y0, y1) = plot.getPlotItem().getViewBox().viewRange()
    bic = [c.value("bic") for c in panel.result().cells]
    assert x0 < 1.5 and x1 > 3.5 and y0 <= min(bic) and max(bic) <= y1
