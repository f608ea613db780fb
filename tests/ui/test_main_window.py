"""The main window on its session: what a person sees after each command, and the start-up
arguments.  Journeys with real clicks and keys live in test_journeys.py."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.em import EMData
from gmm_studio.core.geometry import coverage_of_radius, ellipse_outline
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState
from gmm_studio.ui.tasks import running_tasks

TIMEOUT = 20_000


def assert_ellipses_match(window, params):
    """The drawn ellipse outlines are exactly the projected parameters' ellipses."""
    means2, covs2 = window.session.projection.project_params(params)
    for r, radius in enumerate(window.data_view.radii):
        items = window.data_view.ellipse_items(r)
        assert len([i for i in items if i.isVisible()]) == params.n_components
        for k, item in enumerate(items[: params.n_components]):
            x, y = item.getData()
            expected = ellipse_outline(means2[k], covs2[k], radius, 100)
            np.testing.assert_allclose(np.column_stack([x, y]), expected, rtol=1e-9, atol=1e-9)


def run_to_end(qtbot, window):
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.run_fit()
    window.redraw()
    return blocker.args[0]


def wait_state(qtbot, window, state):
    qtbot.waitUntil(lambda: not window.session.state.busy, timeout=TIMEOUT)
    assert window.session.state is state
    window.redraw()


def test_fit_runs_to_finished_and_ellipses_match_the_engine(window, qtbot):
    final = run_to_end(qtbot, window)
    assert final is not None and final.converged
    assert_ellipses_match(window, final.params)
    texts = " ".join(window.data_view.legend_texts())
    assert f"{100 * coverage_of_radius(1):.1f} %" in texts and "86.5 %" in texts
    x, y, kinds = window.likelihood_view.curve_data(0)
    assert set(kinds) == {"E", "M"}
    e_values = y[np.array(kinds) == "E"]
    assert np.all(np.diff(e_values) >= -1e-9)
    assert "converged" in window.status_label.text() and "finished" in window.status_label.text()
    assert running_tasks() == [] or window.session.state is RunState.FINISHED


def test_stop_mid_fit_keeps_the_reached_state(window, qtbot):
    window.panel.speed_slider.setValue(1)  # slow: the fit is certainly running when we stop
    window.panel.set_settings(window.settings().replace(init_params="random_from_data", max_iter=500))
    window.run_fit()
    qtbot.waitUntil(lambda: len(window.history()) >= 2, timeout=TIMEOUT)
    assert window.is_fitting()
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as blocker:
        window.stop_fit()
    assert not window.is_fitting()
    assert blocker.args[0] is window.current_snapshot()
    assert window.panel.run_button.isEnabled()
    assert "Stopped" in window.info_label.text()


def test_close_during_a_fit_joins_its_task(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(), speed=1)
    w.run_fit()
    qtbot.waitUntil(lambda: len(w.history()) >= 1, timeout=TIMEOUT)
    assert "fit" in running_tasks()
    w.close()
    assert running_tasks() == []


def test_step_e_then_step_m_changes_parameters_only_at_m(window, qtbot):
    window.panel.set_settings(window.settings().replace(init_params="random_from_data"))
    window.step("E")
    wait_state(qtbot, window, RunState.PAUSED)
    assert [s.half_step for s in window.history()] == ["init", "E"]
    init, e = window.history()
    np.testing.assert_array_equal(init.params.means, e.params.means)
    window.step("M")
    wait_state(qtbot, window, RunState.PAUSED)
    m = window.history()[-1]
    assert (m.half_step, m.iteration) == ("M", 1)
    assert not np.allclose(m.params.means, e.params.means)
    assert m.lower_bound >= e.log_likelihood - 1e-12
    assert_ellipses_match(window, m.params)


def test_step_after_stop_continues_the_history(window, qtbot):
    window.panel.set_settings(window.settings().replace(init_params="random_from_data", tol=1e-12))
    window.step("M")
    wait_state(qtbot, window, RunState.PAUSED)
    window.stop_fit()
    wait_state(qtbot, window, RunState.FINISHED)
    window.step("M")
    wait_state(qtbot, window, RunState.PAUSED)
    assert [(s.iteration, s.half_step) for s in window.history()] == [
        (0, "init"), (1, "E"), (1, "M"), (2, "E"), (2, "M")]


def test_stop_after_an_e_step_then_step_m_gives_that_iterations_m(window, qtbot):
    window.panel.set_settings(window.settings().replace(init_params="random_from_data", tol=1e-12))
    window.step("E")
    wait_state(qtbot, window, RunState.PAUSED)
    window.stop_fit()
    wait_state(qtbot, window, RunState.FINISHED)
    window.panel.step_m_button.click()
    wait_state(qtbot, window, RunState.PAUSED)
    assert [(s.iteration, s.half_step) for s in window.history()] == [(0, "init"), (1, "E"), (1, "M")]
    assert "it. 1 M" in window.history_label.text()


def test_run_and_step_say_they_drop_the_later_half_steps_when_scrubbed_back(window, qtbot):
    # Going on from a scrubbed state cuts the history there; the tryout found that out only
    # from the scrub bar's count.  The buttons say it before the click, and stop saying it
    # once back at the live end.
    run_to_end(qtbot, window)
    n = len(window.history())
    panel = window.panel
    for _ in range(2):  # the second time too
        window.scrub_to(2)
        later = n - 3
        for button in (panel.run_button, panel.step_button, panel.step_e_button, panel.step_m_button):
            qtbot.waitUntil(lambda b=button: f"drops the {later} later half-steps" in b.toolTip(), timeout=TIMEOUT)
        assert "drops" not in panel.reset_button.toolTip()
        window.go_live()
        for button in (panel.run_button, panel.step_button):
            qtbot.waitUntil(lambda b=button: "drops" not in b.toolTip(), timeout=TIMEOUT)
    window.scrub_to(2)
    panel.step_button.click()  # the step goes on from iteration 1, M: the rest is gone
    qtbot.waitUntil(lambda: not window.session.state.busy and len(window.history()) == 5, timeout=TIMEOUT)
    assert [(s.iteration, s.half_step) for s in window.history()][-2:] == [(2, "E"), (2, "M")]
    assert len(window.history()) == 5
    assert "drops" not in panel.run_button.toolTip()


def test_scrub_back_and_return_to_live(window, qtbot):
    run_to_end(qtbot, window)
    n = len(window.history())
    assert window.iteration_slider.maximum() == n - 1 and n >= 4
    window.scrub_to(2)  # iteration 1, after M
    scrubbed = window.current_snapshot()
    assert (scrubbed.iteration, scrubbed.half_step) == (1, "M")
    window.redraw()
    assert_ellipses_match(window, scrubbed.params)
    assert "scrubbing" in window.status_label.text()
    assert window.live_button.isEnabled()
    window.go_live()
    window.redraw()
    assert window.current_snapshot() is window.history()[-1] or \
        window.current_snapshot().params is window.history()[-1].params
    assert_ellipses_match(window, window.history()[-1].params)
    assert not window.live_button.isEnabled() and window.live_button.toolTip()


def test_hover_tooltip_lists_the_responsibilities(window, qtbot):
    params = run_to_end(qtbot, window).params
    window.data_view.cloud.refresh()
    x, y = window.dataset.values[5]
    index = window.data_view.pointer.hover_at(float(x), float(y))
    assert index is not None
    g = EMData(window.dataset.values, params.covariance_type).responsibilities(params)[index]
    k = int(np.argmax(g))
    assert "responsibilities" in window.hover_text
    assert f"component {k + 1}: {g[k]:.3f}" in window.hover_text


def test_click_a_mean_selects_the_component(window, qtbot):
    params = run_to_end(qtbot, window).params
    mx, my = params.means[1]
    window.handle_click(float(mx), float(my))
    assert window.data_view.highlight == 1
    assert window.component_table.selected() == 1
    assert f"{params.weights[1]:.4f}" in window.component_table.detail_text()


def test_click_to_place_means_then_run(window, qtbot):
    window.panel.set_settings(window.settings().replace(init_params="click"))
    assert window.panel.click_hint.isVisibleTo(window.panel)
    assert not window.panel.run_button.isEnabled()
    assert "click in the data view" in window.panel.run_button.toolTip()
    placed = [(0.2, 0.1), (5.8, -0.1), (0.1, 6.2), (3.0, 3.0)]
    for px, py in placed:
        window.handle_click(px, py)
    assert window.panel.components_spin.value() == 4
    np.testing.assert_allclose(window.data_view.placed_item.getData()[0], [p[0] for p in placed])
    assert window.panel.run_button.isEnabled()
    run_to_end(qtbot, window)
    np.testing.assert_allclose(window.history()[0].params.means, np.array(placed))


def test_degenerate_fit_shows_one_sentence_naming_every_component(window, qtbot):
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(0, 1, size=(60, 2)), np.tile([[4.0, 4.0]], (60, 1)),
                   np.tile([[-4.0, 4.0]], (60, 1))])
    window.set_dataset(dataset_from_array(x, source="duplicates"))
    window.panel.set_settings(FitSettings(n_components=5, init_params="kmeans", seed=0,
                                          reg_covar=0.0, max_iter=50))
    run_to_end(qtbot, window)
    events = window.session.shown.events
    assert len({e.component for e in events}) >= 2
    text = window.banner.text()
    assert window.banner.isVisibleTo(window)
    assert text.count(".") == 1 and text.startswith("⚠ Components ")  # one sentence for all
    for e in events:
        assert str(e.component + 1) in text
    assert "nan" not in window.status_label.text().lower()
    assert window.remedy_reg_button.isVisibleTo(window) and window.remedy_reg_button.isEnabled()
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.remedy_reg_button.click()
    assert window.settings().reg_covar == pytest.approx(1e-6)


def test_n_init_restarts_are_kept_and_best_is_chosen(window, qtbot):
    window.panel.set_settings(window.settings().replace(n_init=3, init_params="random_from_data"))
    final = run_to_end(qtbot, window)
    assert {s.restart for s in window.history()} == {0, 1, 2}
    finals = {}
    for s in window.history():
        finals[s.restart] = s
    assert final.log_likelihood == max(f.log_likelihood for f in finals.values())
    assert window.likelihood_view.n_restarts == 3
    assert "Best of 3 restarts" in window.info_label.text()


def test_show_model_then_step_continues_from_it(window, qtbot):
    truth = MixtureParams("full", [1 / 3] * 3, [[0, 0], [6, 0], [0, 6]], np.tile(np.eye(2), (3, 1, 1)))
    window.show_model(truth)
    window.redraw()
    assert_ellipses_match(window, truth)
    window.step("E")
    wait_state(qtbot, window, RunState.PAUSED)
    np.testing.assert_allclose(window.history()[0].params.means, truth.means)
    assert window.history()[-1].half_step == "E"


def test_more_components_than_points_says_so_and_refuses_to_run(window, qtbot):
    window.set_dataset(dataset_from_array(np.random.default_rng(0).normal(size=(6, 2)), source="tiny"))
    window.panel.components_spin.setValue(9)
    assert "K = 9 components need at least 9 points" in window.info_label.text()
    assert not window.panel.run_button.isEnabled()
    assert "need at least 9 points" in window.panel.run_button.toolTip()
    assert "need at least 9 points" in window.panel.components_spin.toolTip()
    window.panel.components_spin.setValue(2)
    assert window.panel.run_button.isEnabled()


def test_higher_dimensional_data_are_projected_on_principal_components(window, blobs, qtbot):
    rng = np.random.default_rng(5)
    x = np.hstack([blobs().values, rng.normal(size=(300, 2))])
    window.set_dataset(dataset_from_array(x, source="4d"))
    assert window.session.projection.kind == "pca"
    assert "% of variance" in window.data_view.plot_item.getAxis("bottom").labelText
    final = run_to_end(qtbot, window)
    assert_ellipses_match(window, final.params)


def test_minimum_width_is_well_under_the_old_1064_px(window):
    assert window.minimumSizeHint().width() <= 800
    window.resize(800, 600)
    assert window.width() <= 800


def test_build_window_loads_a_npy_file_and_leaves_run_and_step_enabled(make_window, blobs, tmp_path):
    path = tmp_path / "points.npy"
    np.save(path, blobs().values)
    for argv in (["--data", str(path), "--no-fit"], [str(path), "--no-fit"]):
        w = make_window(argv=argv, settings=None)
        assert w.dataset.n_samples == 300
        np.testing.assert_allclose(w.dataset.values, blobs().values)
        assert not w.is_fitting()
        p = w.panel
        for button in (p.run_button, p.step_button, p.step_e_button, p.step_m_button):
            assert button.isEnabled(), button.text()


def test_no_fit_on_the_demo_leaves_run_and_step_enabled_with_reasons_elsewhere(make_window):
    w = make_window(settings=None)
    p = w.panel
    assert w.dataset.source == "demo"
    for button in (p.run_button, p.step_button, p.step_e_button, p.step_m_button):
        assert button.isEnabled(), button.text()
    for button in (p.pause_button, p.stop_button):
        assert not button.isEnabled() and "Not now:" in button.toolTip()


def test_a_data_file_given_twice_is_a_usage_error():
    from gmm_studio.app import parse_arguments

    with pytest.raises(SystemExit) as info:
        parse_arguments(["a.csv", "--data", "b.csv"])
    assert info.value.code == 2


def test_first_run_starts_on_the_demo_and_fits(make_window, qtbot):
    w = make_window(argv=[], settings=None)
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT) as blocker:
        pass  # the fit starts by itself
    assert blocker.args[0] is not None


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


def test_settings_persist_through_qsettings(make_window):
    w = make_window(settings=FitSettings(n_components=7, covariance_type="diag", seed=11))
    w.close()
    w2 = make_window(settings=None)
    assert w2.settings() == FitSettings(n_components=7, covariance_type="diag", seed=11)


def test_shortcuts_are_listed(window):
    text = window.shortcuts_text()
    for key in ("Space", "Right", "E", "M", "Ctrl+R", "Ctrl+S"):
        assert key in text
    assert "(Space)" in window.panel.run_button.toolTip()
    assert [a.text() for a in window.help_menu.actions()] == ["Demos", "Keyboard shortcuts", "About GMM Studio"]


def test_stable_object_names(window):
    from PySide6.QtWidgets import QWidget

    for name in ("dataView", "likelihoodView", "componentsSpin", "covarianceCombo", "initCombo",
                 "seedSpin", "runButton", "pauseButton", "stopButton", "stepButton", "stepEButton",
                 "stepMButton", "resetButton", "iterationSlider", "liveButton", "infoLabel",
                 "historyLabel", "degeneracyBanner", "bannerLabel", "remedyRegButton",
                 "remedyReseedButton", "remedyLowerKButton", "truthLabel", "loadProgress",
                 "loadCancelButton"):
        assert window.findChild(QWidget, name) is not None, name


def test_without_a_display_the_program_says_so_instead_of_aborting():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "gmm_studio"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert "no display found" in out.stderr and "--screenshot" in out.stderr


def test_the_drawn_colours_are_the_shown_responsibilities(window, qtbot):
    from gmm_studio.ui.colors import component_palette, packed_colors
    from gmm_studio.ui.point_cloud import dot_radius_for
    from gmm_studio.ui.raster import Rasteriser

    final = run_to_end(qtbot, window)
    combo = window.panel.color_combo
    gamma = EMData(window.dataset.values, "full").responsibilities(final.params)
    session = window.session
    reference = Rasteriser()
    reference.set_points(session.projection.project_points(session.x))
    cloud = window.data_view.cloud
    (x0, x1), (y0, y1) = window.data_view.plot_item.getViewBox().viewRange()
    for mode in ("hard", "blend", "uncertainty"):
        combo.setCurrentIndex(combo.findData(mode))
        window.redraw()  # starts colouring the visible points on the runner
        qtbot.waitUntil(window.drawing.colors_up_to_date, timeout=TIMEOUT)
        window.redraw()
        reference.set_colors(packed_colors(gamma, component_palette(3), mode))
        drawn = cloud.render_export((x0, x1), (y0, y1), 400, 300, 1.0)
        expected = reference.render_view((x0, x1), (y0, y1), 400, 300, dot_radius_for(len(gamma)))
        assert np.count_nonzero(drawn) > 1000
        np.testing.assert_array_equal(drawn, expected)
    # Zoomed in, the points that come to the top are coloured from the shown γ at once.
    view = window.data_view.plot_item.getViewBox()
    view.setRange(xRange=(x0, 0.5 * (x0 + x1)), yRange=(y0, 0.5 * (y0 + y1)), padding=0)
    cloud.refresh()
    (x0, x1), (y0, y1) = view.viewRange()
    drawn = cloud.render_export((x0, x1), (y0, y1), 400, 300, 1.0)
    expected = reference.render_view((x0, x1), (y0, y1), 400, 300, dot_radius_for(len(gamma)))
    assert np.count_nonzero(drawn) > 1000
    np.testing.assert_array_equal(drawn, expected)


def test_a_csv_on_the_command_line_opens_through_the_import_dialog(make_window, qtbot, tmp_path):
    path = tmp_path / "table.csv"
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.4f},{b:.4f},{int(c)}" for a, b, c in
                     np.column_stack([rng.normal(size=(60, 2)), rng.integers(0, 2, 60)]))
    path.write_text("x,y,label\n" + rows + "\n")
    w = make_window(argv=[str(path)], settings=None)
    with qtbot.waitSignal(w.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        pass
    dialog = opened.args[0]
    dialog.set_label_column("label")
    with qtbot.waitSignal(w.file_actions.dataset_loaded, timeout=TIMEOUT):
        dialog.accept()
    assert w.dataset.columns == ("x", "y") and w.dataset.labels is not None
    p = w.panel
    for button in (p.run_button, p.step_button):
        assert button.isEnabled()


def test_garbage_is_collected_on_the_gui_thread_only(window, qtbot):
    """A cycle holding a Qt object, collected on a runner thread, deadlocked the suite: the
    program turns automatic collection off and collects from a timer on the GUI thread."""
    import gc
    import threading

    assert not gc.isenabled()
    collected_on: set[int] = set()

    def record(phase, info):
        if phase == "start":
            collected_on.add(threading.get_ident())

    gc.callbacks.append(record)
    try:
        gc.enable()  # as if something had turned it back on: building a window turns it off
        from gmm_studio.app import build_window

        other = build_window(["--no-fit"])
        qtbot.addWidget(other)
        assert not gc.isenabled()
        for _ in range(3):  # fits allocate on the runner: none may collect there
            run_to_end(qtbot, window)
        qtbot.waitUntil(lambda: bool(collected_on), timeout=5000)  # the 1 s timer collects
        assert collected_on == {threading.get_ident()}
    finally:
        gc.callbacks.remove(record)
        other.close()


def _run_in_a_fresh_process(probe: str) -> list[str]:
    """What ``probe`` (Python source) prints, split in words, run offscreen in a new interpreter."""
    import os

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env=env, timeout=120).stdout.split()


def test_start_up_objects_are_kept_out_of_the_collectors_sight_while_the_window_lives():
    # A full collection of every start-up object took 60-77 ms on the GUI thread, whenever the
    # collector's timer came to one (during a fit, a drag); frozen once the window is up, a
    # collection only looks at what came since.  Closing the window gives them back.
    probe = (
        "import gc, time\n"
        "from PySide6.QtCore import QCoreApplication, QEvent\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gmm_studio.app import build_window\n"
        "w = build_window(['--no-fit']); w.show()\n"
        "print(gc.get_freeze_count() > 0, flush=True)\n"
        "end = time.monotonic() + 20\n"
        "while time.monotonic() < end and not gc.get_freeze_count():\n"
        "    app.processEvents()\n"
        "frozen = gc.get_freeze_count()\n"
        "print(frozen > 10000, len(gc.get_objects()) < frozen)\n"
        "w.runner.join_all()\n"
        "w.close(); w.deleteLater()\n"
        "QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)\n"
        "print(gc.get_freeze_count())\n"
    )
    out = _run_in_a_fresh_process(probe)
    assert out == ["False", "True", "True", "0"]


def test_the_window_imports_what_a_first_fit_needs_after_it_is_shown_not_in_the_first_run():
    probe = (
        "import sys, time\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gmm_studio.app import build_window\n"
        "w = build_window(['--no-fit']); w.show()\n"
        "print('before', 'scipy.cluster.vq' in sys.modules, flush=True)\n"
        "end = time.monotonic() + 20\n"
        "while time.monotonic() < end and 'scipy.cluster.vq' not in sys.modules:\n"
        "    app.processEvents()\n"
        "w.runner.join_all()\n"
        "print('after', 'scipy.cluster.vq' in sys.modules, w.session.history.shown is None)\n"
        "w.close()\n"
    )
    out = _run_in_a_fresh_process(probe)
    assert out == ["before", "False", "after", "True", "True"]  # imported, and no fit ran
