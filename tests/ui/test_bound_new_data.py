"""Journeys: the Jensen bound dock is open, EM has run, and new data arrive (a CSV, a demo, the
demo data, a 1-D file).  The window must show the new data and no trace of the old fit, the
bound must go back to its hint, and no exception may reach a slot or stderr."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState
from tests.ui.journey import click

TIMEOUT = 30_000
SLOW = FitSettings(n_components=3, init_params="random_from_data", seed=2, tol=1e-12, max_iter=40)


def menu_action(menu, text):
    """The action of ``menu`` (or one of its submenus) whose text is ``text``."""
    for action in menu.actions():
        if action.menu() is not None:
            found = menu_action(action.menu(), text)
            if found is not None:
                return found
        elif action.text().replace("&", "") == text:
            return action
    return None


def fitted_with_the_bound_open(make_window, blobs, qtbot):
    """A window whose bound dock is open (from the Tools menu), stepped once and then run."""
    w = make_window(dataset=blobs(600), settings=SLOW)
    menu_action(w.tools_menu, "Show the Jensen bound").trigger()
    panel = w.teaching.bound_panel
    qtbot.waitUntil(lambda: not w.teaching.bound_dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    click(qtbot, w.panel.step_button)
    qtbot.waitUntil(lambda: w.session.state is RunState.PAUSED, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.view.bound_curve.isVisible(), timeout=TIMEOUT)
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.pause_button)  # reads Resume after a step
    return w


def assert_fresh(qtbot, w, n_points: int, n_features: int) -> None:
    """What a person sees right after new data: no model, the bound's hint, Run and Step ready."""
    s, p, panel = w.session, w.panel, w.teaching.bound_panel
    assert s.state is RunState.IDLE and s.dataset.n_samples == n_points
    assert s.x.shape == (n_points, n_features)
    w.redraw()
    assert p.run_button.isEnabled() and p.step_button.isEnabled()
    assert p.pause_button.text().startswith("Pause")
    assert w.status_label.text() == "No model yet."
    assert not panel.view.likelihood_curve.isVisible() and not panel.view.bound_curve.isVisible()
    assert "first E-step" in panel.status.text()
    x, _, _ = w.likelihood_view.curve_data()
    assert x.size == 0
    if n_features >= 2:
        assert sum(item.isVisible() for item in w.data_view.ellipse_items(0)) == 0
        assert w.data_view.cloud.data_bounds() is not None
    else:
        assert w.data_stack.showing_histogram()
        assert w.histogram_panel.view.components == []
    # the timer's redraws keep working
    qtbot.wait(100)  # several 33 ms redraw ticks: none may raise
    w.redraw()


def step_and_see_the_bound(qtbot, w) -> None:
    """Step on the new data: the bound comes back, drawn for the new data."""
    panel = w.teaching.bound_panel
    click(qtbot, w.panel.step_e_button)
    qtbot.waitUntil(lambda: w.session.state is RunState.PAUSED, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.view.bound_curve.isVisible(), timeout=TIMEOUT)
    assert panel.status.text().startswith("Iteration 1:")


def test_loading_the_demo_data_after_a_fit_with_the_bound_open(make_window, blobs, qtbot, capfd):
    w = fitted_with_the_bound_open(make_window, blobs, qtbot)
    menu_action(w.file_menu, "Load the demo data").trigger()
    assert_fresh(qtbot, w, w.session.dataset.n_samples, 2)
    assert "Demo data" in w.info_label.text()
    step_and_see_the_bound(qtbot, w)
    assert capfd.readouterr().err == ""


def test_opening_a_csv_after_a_fit_with_the_bound_open(make_window, blobs, qtbot, capfd, tmp_path,
                                                       monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    rng = np.random.default_rng(4)
    x = np.vstack([rng.normal(c, 0.5, size=(70, 2)) for c in ([0, 0], [5, 5])])
    path = tmp_path / "two.csv"
    path.write_text("a,b\n" + "\n".join(f"{u:.9f},{v:.9f}" for u, v in x) + "\n")
    w = fitted_with_the_bound_open(make_window, blobs, qtbot)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    with qtbot.waitSignal(w.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        menu_action(w.file_menu, "Open data…").trigger()
    with qtbot.waitSignal(w.file_actions.dataset_loaded, timeout=TIMEOUT):
        opened.args[0].accept()
    assert_fresh(qtbot, w, 140, 2)
    assert w.data_view.cloud.data_bounds() == pytest.approx(
        (x[:, 0].min(), x[:, 1].min(), x[:, 0].max(), x[:, 1].max()), abs=1e-6)
    step_and_see_the_bound(qtbot, w)
    assert capfd.readouterr().err == ""


def test_a_demo_after_a_fit_with_the_bound_open(make_window, blobs, qtbot, capfd):
    from gmm_studio.core.demos import DEMO_TITLES, build_demo

    w = fitted_with_the_bound_open(make_window, blobs, qtbot)
    key = next(k for k in DEMO_TITLES if build_demo(k).initial is None
               and build_demo(k).algorithm == "em" and build_demo(k).k_values is None)
    demo = build_demo(key)
    menu_action(w.teaching.demo_menu, DEMO_TITLES[key]).trigger()
    assert_fresh(qtbot, w, len(demo.values), demo.values.shape[1])
    step_and_see_the_bound(qtbot, w)
    assert capfd.readouterr().err == ""


def test_a_one_column_file_after_a_fit_with_the_bound_open(make_window, blobs, qtbot, capfd, tmp_path):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(2.0, 0.3, 150), rng.normal(4.5, 0.5, 150)])
    path = tmp_path / "eruptions.csv"
    path.write_text("eruptions\n" + "\n".join(repr(float(v)) for v in values) + "\n")
    w = fitted_with_the_bound_open(make_window, blobs, qtbot)
    with qtbot.waitSignal(w.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        assert w.file_actions.open_path(str(path))  # as File › Open… or a drop does
    with qtbot.waitSignal(w.file_actions.dataset_loaded, timeout=TIMEOUT):
        opened.args[0].accept()
    assert_fresh(qtbot, w, 300, 1)
    w.panel.set_settings(FitSettings(n_components=2, init_params="kmeans", seed=1))
    step_and_see_the_bound(qtbot, w)
    s, high = w.teaching.bound_panel.view.likelihood_curve.getData()
    assert np.all(np.isfinite(high)) and s.size > 10
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.pause_button)  # Resume
    qtbot.waitUntil(lambda: w.teaching.bound_panel.status.text().startswith(
        f"Iteration {w.current_snapshot().iteration}:"), timeout=TIMEOUT)
    assert len(w.histogram_panel.view.components) == 2
    assert capfd.readouterr().err == ""


def test_a_one_column_file_is_one_feature_and_one_iteration_is_singular(make_window, qtbot, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("v\n" + "\n".join(str(v) for v in np.random.default_rng(1).normal(size=50)) + "\n")
    w = make_window(settings=None)
    with qtbot.waitSignal(w.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        assert w.file_actions.open_path(str(path))
    with qtbot.waitSignal(w.file_actions.dataset_loaded, timeout=TIMEOUT):
        opened.args[0].accept()
    assert w.windowTitle().endswith("(50 points, 1 feature)")
    assert "50 points, 1 feature" in w.statusBar().currentMessage()
    w.panel.set_settings(FitSettings(n_components=2, init_params="kmeans", seed=1, max_iter=1))
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT) as finished:
        click(qtbot, w.panel.run_button)
    assert finished.args[0] is not None
    assert "after 1 iteration." in w.session.last_outcome.message
