"""The main window: fits run on a thread and the views show exactly what the engine produced."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.geometry import Projection, coverage_of_radius, ellipse_outline
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings
from gmm_studio.ui.control_panel import SPEED_MAX
from gmm_studio.ui.main_window import MainWindow

TIMEOUT = 20_000
# The offscreen platform plugin says this whenever a shown window has docks; not our warning.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                                        "This plugin does not support raise")


def _blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    x = np.vstack([rng.normal(c, 0.7, size=(n // 3, 2)) for c in centres])
    return dataset_from_array(x, source="test")


@pytest.fixture
def window(qtbot):
    w = MainWindow(restore_settings=False)
    qtbot.addWidget(w)
    w.resize(1100, 750)
    w.show()
    w.set_dataset(_blobs())
    w.panel.set_settings(FitSettings(n_components=3, init_params="kmeans", seed=1))
    w.panel.speed_slider.setValue(SPEED_MAX)
    yield w
    w.close()


def _assert_ellipses_match(window, params):
    proj = window._projection
    means2, covs2 = proj.project_params(params)
    for r, radius in enumerate(window.data_view.radii):
        for k, item in enumerate(window.data_view.ellipse_items(r)):
            x, y = item.getData()
            expected = ellipse_outline(means2[k], covs2[k], radius, 100)
            np.testing.assert_allclose(np.column_stack([x, y]), expected, rtol=1e-9, atol=1e-9)


def test_fit_runs_to_finished_and_ellipses_match_the_engine(window, qtbot):
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.run_fit()
    final = blocker.args[0]
    assert final is not None and final.converged
    window.redraw()
    _assert_ellipses_match(window, final.params)
    # the legend says the coverage in percent
    texts = " ".join(window.data_view.legend_texts())
    assert f"{100 * coverage_of_radius(1):.1f} %" in texts and "86.5 %" in texts
    # the curve holds every E and M value of the run, and the log-likelihood never decreases
    x, y, kinds = window.likelihood_view.curve_data(0)
    assert set(kinds) == {"E", "M"}
    e_values = y[np.array(kinds) == "E"]
    assert np.all(np.diff(e_values) >= -1e-9)
    assert "converged" in window.status_label.text()
    assert not window.fit_controller.threads() or all(t.isFinished() for t in window.fit_controller.threads())


def test_stop_mid_fit_keeps_the_reached_state(window, qtbot):
    window.panel.speed_slider.setValue(1)  # slow: the fit is certainly running when we stop
    window.panel.set_settings(window.settings().replace(init_params="random_from_data", max_iter=500))
    with qtbot.waitSignal(window.fit_controller.iteration_done, timeout=TIMEOUT):
        window.run_fit()
    assert window.is_fitting()
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.stop_fit()
    assert not window.is_fitting()
    assert blocker.args[0] is window.current_snapshot() or blocker.args[0] is not None
    assert window.panel.run_button.isEnabled()


def test_close_during_a_fit_joins_the_thread(qtbot):
    w = MainWindow(restore_settings=False)
    qtbot.addWidget(w)
    w.set_dataset(_blobs())
    w.panel.speed_slider.setValue(1)
    with qtbot.waitSignal(w.fit_controller.iteration_done, timeout=TIMEOUT):
        w.run_fit()
    threads = w.fit_controller.threads()
    assert threads and threads[0].isRunning()
    w.close()
    assert all(t.isFinished() for t in threads)
    assert not w.fit_controller.threads()


def test_new_run_cancels_the_old_one(window, qtbot):
    window.panel.speed_slider.setValue(1)
    with qtbot.waitSignal(window.fit_controller.iteration_done, timeout=TIMEOUT):
        window.run_fit()
    first = window.fit_controller.current_run_id
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.reset()  # cancelling reports the end of the run at once
    window.panel.speed_slider.setValue(SPEED_MAX)
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.run_fit()
    assert window.fit_controller.current_run_id is None
    assert all(s.restart == 0 for s in window._history)
    assert first is not None


def test_step_e_then_step_m_changes_parameters_only_at_m(window, qtbot):
    window.panel.set_settings(window.settings().replace(init_params="random_from_data"))
    ctrl = window.fit_controller
    with qtbot.waitSignals([ctrl.iteration_done, ctrl.iteration_done], timeout=TIMEOUT):
        window.step("E")  # init, then E
    assert [s.half_step for s in window._history] == ["init", "E"]
    init, e = window._history
    np.testing.assert_array_equal(init.params.means, e.params.means)
    assert window.current_snapshot().responsibilities is not None
    with qtbot.waitSignal(ctrl.iteration_done, timeout=TIMEOUT) as blocker:
        window.step("M")
    m = blocker.args[0].snapshot
    assert m.half_step == "M" and m.iteration == 1
    assert not np.allclose(m.params.means, e.params.means)
    assert m.lower_bound >= e.log_likelihood - 1e-12
    assert window.fit_controller.is_paused()
    window.redraw()
    _assert_ellipses_match(window, m.params)
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.stop_fit()


def test_step_after_stop_continues_the_history(window, qtbot):
    ctrl = window.fit_controller
    with qtbot.waitSignals([ctrl.iteration_done] * 3, timeout=TIMEOUT):
        window.step("M")
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.stop_fit()
    with qtbot.waitSignals([ctrl.iteration_done] * 2, timeout=TIMEOUT):
        window.step("M")
    assert [(s.iteration, s.half_step) for s in window._history] == [
        (0, "init"), (1, "E"), (1, "M"), (2, "E"), (2, "M")]
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.stop_fit()


def test_scrub_back_and_return_to_live(window, qtbot):
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.run_fit()
    window.redraw()
    n = len(window._history)
    assert window.iteration_slider.maximum() == n - 1 and n >= 4
    window.scrub_to(2)  # iteration 1, after M
    scrubbed = window.current_snapshot()
    assert (scrubbed.iteration, scrubbed.half_step) == (1, "M")
    window.redraw()
    _assert_ellipses_match(window, scrubbed.params)
    assert "scrubbing" in window.status_label.text()
    assert window.live_button.isEnabled()
    window.go_live()
    window.redraw()
    assert window.current_snapshot() is window._live
    _assert_ellipses_match(window, window._live.params)


def test_hover_tooltip_lists_the_responsibilities(window, qtbot):
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.run_fit()
    window.redraw()
    window.data_view.cloud.refresh()
    params = blocker.args[0].params
    i = 5
    x, y = window._x[i]
    index = window.data_view.hover_at(float(x), float(y))
    assert index is not None
    gamma = window.fit_controller and None  # noqa: F841
    from gmm_studio.core.em import EMData

    g = EMData(window._x, params.covariance_type).responsibilities(params)[index]
    k = int(np.argmax(g))
    assert "responsibilities" in window.hover_text
    assert f"component {k + 1}: {g[k]:.3f}" in window.hover_text


def test_click_a_mean_selects_the_component(window, qtbot):
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.run_fit()
    window.redraw()
    params = blocker.args[0].params
    mx, my = params.means[1]
    window.handle_click(float(mx), float(my))
    assert window.data_view.highlight == 1
    assert window.component_table.selected() == 1
    assert f"{params.weights[1]:.4f}" in window.component_table.detail_text()


def test_click_to_place_means_then_run(window, qtbot):
    window.panel.set_settings(window.settings().replace(init_params="click"))
    assert window.panel.click_hint.isVisibleTo(window.panel)
    placed = [(0.2, 0.1), (5.8, -0.1), (0.1, 6.2), (3.0, 3.0)]
    for px, py in placed:
        window.handle_click(px, py)
    assert window.panel.components_spin.value() == 4
    np.testing.assert_allclose(window.data_view.placed_item.getData()[0], [p[0] for p in placed])
    ctrl = window.fit_controller
    with qtbot.waitSignal(ctrl.iteration_done, timeout=TIMEOUT) as first:
        with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
            window.run_fit()
    init = first.args[0].snapshot
    assert init.half_step == "init"
    np.testing.assert_allclose(init.params.means, np.array(placed))


def test_degenerate_fit_shows_its_message_and_survives(window, qtbot):
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(0, 1, size=(60, 2)), np.tile([[4.0, 4.0]], (60, 1))])
    window.set_dataset(dataset_from_array(x, source="duplicates"))
    window.panel.set_settings(FitSettings(n_components=4, init_params="kmeans", seed=0,
                                          reg_covar=0.0, max_iter=50))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.run_fit()
    window.redraw()
    final = blocker.args[0]
    assert window.banner.isVisibleTo(window)
    assert "Component" in window.last_message
    assert any(b.isVisibleTo(window) for b in (window.remedy_reg_button, window.remedy_reseed_button,
                                              window.remedy_lower_k_button))
    assert final is not None
    assert "nan" not in window.status_label.text().lower()
    # the remedy re-runs and still does not crash
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.remedy_reg_button.click()
    assert window.settings().reg_covar == pytest.approx(1e-6)


def test_n_init_restarts_are_kept_and_best_is_chosen(window, qtbot):
    window.panel.set_settings(window.settings().replace(n_init=3, init_params="random_from_data"))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.run_fit()
    final = blocker.args[0]
    result = window._final
    assert len(result.finals) == 3
    assert {s.restart for s in window._history} == {0, 1, 2}
    assert final.log_likelihood == max(f.log_likelihood for f in result.finals)
    assert window.likelihood_view.n_restarts == 3


def test_show_model_then_step_continues_from_it(window, qtbot):
    truth = MixtureParams("full", [1 / 3] * 3, [[0, 0], [6, 0], [0, 6]], np.tile(np.eye(2), (3, 1, 1)))
    window.show_model(truth)
    window.redraw()
    _assert_ellipses_match(window, truth)
    with qtbot.waitSignal(window.fit_controller.iteration_done, timeout=TIMEOUT) as blocker:
        window.step("E")
    assert blocker.args[0].snapshot.half_step == "init"
    np.testing.assert_allclose(window._history[0].params.means, truth.means)
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.stop_fit()


def test_higher_dimensional_data_are_projected_on_principal_components(window, qtbot):
    rng = np.random.default_rng(5)
    x = np.hstack([_blobs().values, rng.normal(size=(300, 2))])
    window.set_dataset(dataset_from_array(x, source="4d"))
    assert window._projection.kind == "pca"
    assert "% of variance" in window.data_view.plot_item.getAxis("bottom").labelText
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.run_fit()
    window.redraw()
    _assert_ellipses_match(window, window._live.params)
    assert isinstance(window._projection, Projection)


def test_build_window_loads_a_npy_file(qtbot, tmp_path):
    from gmm_studio.app import build_window

    path = tmp_path / "points.npy"
    np.save(path, _blobs().values)
    for argv in (["--data", str(path), "--no-fit"], [str(path), "--no-fit"]):
        w = build_window(argv)
        qtbot.addWidget(w)
        assert w.dataset.n_samples == 300
        np.testing.assert_allclose(w.dataset.values, _blobs().values)
        assert not w.is_fitting()
        w.close()


def test_a_data_file_given_twice_is_a_usage_error(tmp_path):
    from gmm_studio.app import parse_arguments

    with pytest.raises(SystemExit) as info:
        parse_arguments(["a.csv", "--data", "b.csv"])
    assert info.value.code == 2


def test_first_run_starts_on_the_demo_and_fits(qtbot):
    from gmm_studio.app import build_window

    w = build_window([])
    qtbot.addWidget(w)
    assert w.dataset.source == "demo"
    w.panel.speed_slider.setValue(SPEED_MAX)
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        pass  # the fit starts by itself
    assert w.current_snapshot() is not None
    w.close()


def test_bad_arguments_exit_2():
    from gmm_studio.app import main

    with pytest.raises(SystemExit) as info:
        main(["--no-such-option"])
    assert info.value.code == 2


def test_screenshot_writes_a_png(tmp_path):
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "gmm_studio", "--screenshot", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_settings_persist_through_qsettings(qtbot):
    w = MainWindow(restore_settings=True)
    qtbot.addWidget(w)
    w.panel.set_settings(FitSettings(n_components=7, covariance_type="diag", seed=11))
    w.close()
    w2 = MainWindow(restore_settings=True)
    qtbot.addWidget(w2)
    assert w2.settings() == FitSettings(n_components=7, covariance_type="diag", seed=11)
    w2.close()


def test_shortcuts_are_listed(window):
    text = window.shortcuts_text()
    for key in ("Space", "Right", "E", "M", "Ctrl+R"):
        assert key in text
    assert "(Space)" in window.panel.run_button.toolTip()
    assert [a.text() for a in window.help_menu.actions()] == ["Keyboard shortcuts", "About GMM Studio"]


def test_stable_object_names(window):
    from PySide6.QtWidgets import QWidget

    for name in ("dataView", "likelihoodView", "componentsSpin", "covarianceCombo", "initCombo",
                 "seedSpin", "runButton", "pauseButton", "stepButton", "stepEButton", "stepMButton",
                 "resetButton", "iterationSlider"):
        assert window.findChild(QWidget, name) is not None, name


def test_without_a_display_the_program_says_so_instead_of_aborting():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "gmm_studio"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert "no display found" in out.stderr and "--screenshot" in out.stderr


def test_worker_ships_colours_packed_for_the_raster(window, qtbot):
    # The worker packs (ARGB32-premultiplied uint32), so the GUI thread's redraw only copies.
    from gmm_studio.ui.colors import blend_colors, pack_argb32_premultiplied

    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.run_fit()
    result = window._final
    colors = result.colors
    assert colors.dtype == np.uint32 and colors.shape == (window._x.shape[0],)
    expected = pack_argb32_premultiplied(blend_colors(result.final.responsibilities, window._palette))
    np.testing.assert_array_equal(colors, expected)
    window.redraw()
    assert window.data_view.cloud._raster._colors is colors  # drawn as shipped, not re-packed


def test_a_csv_on_the_command_line_opens_through_the_import_dialog(qtbot, tmp_path):
    from gmm_studio.app import build_window

    path = tmp_path / "table.csv"
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.4f},{b:.4f},{int(c)}" for a, b, c in
                     np.column_stack([rng.normal(size=(60, 2)), rng.integers(0, 2, 60)]))
    path.write_text("x,y,label\n" + rows + "\n")
    w = build_window([str(path)])
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        pass
    dialog = opened.args[0]
    dialog.set_label_column("label")
    with qtbot.waitSignal(w.file_actions.dataset_loaded, timeout=TIMEOUT):
        dialog.accept()
    assert w.dataset.columns == ("x", "y") and w.dataset.labels is not None
    w.close()
