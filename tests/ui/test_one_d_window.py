"""Journeys with 1-D data in the window: the histogram replaces the data view and follows the fit."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gmm_studio.core.density import density_1d, histogram_edges, stacked_histogram
from gmm_studio.core.em import EMData
from gmm_studio.core.settings import FitSettings
from tests.ui.journey import TIMEOUT, click

SETTINGS = FitSettings(n_components=2, init_params="random_from_data", seed=3, tol=1e-10, max_iter=40)


def settle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.session.state.busy, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.session.shown.responsibilities is not None, timeout=TIMEOUT)
    window.redraw()
    qtbot.waitUntil(window.histogram_drawing.up_to_date, timeout=TIMEOUT)  # bins split on the runner
    window.redraw()


def open_file(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        window.file_actions.open_path(str(path))
    with qtbot.waitSignal(window.file_actions.dataset_loaded, timeout=TIMEOUT):
        opened.args[0].accept()


def assert_histogram_draws(window, params, gamma) -> None:
    """The component and mixture curves, the ±1σ/±2σ intervals and the stacked bins of ``params``."""
    view = window.histogram_panel.view
    assert len(view.components) == params.n_components
    grid = view.mixture_curve.xData
    density = density_1d(params, grid)
    np.testing.assert_allclose(view.mixture_curve.yData, density.mixture, rtol=1e-9)
    sigmas = np.sqrt(params.full_covariances()[:, 0, 0])
    for k, component in enumerate(view.components):
        np.testing.assert_allclose(component.curve.yData, density.weighted[k], rtol=1e-9)
        m, s = params.means[k, 0], sigmas[k]
        np.testing.assert_allclose(component.one_sigma.xData, [m - s, m + s])
        np.testing.assert_allclose(component.two_sigma.xData, [m - 2 * s, m + 2 * s])
    x = window.session.x[:, 0]
    _, parts = stacked_histogram(x, view.edges, gamma)
    assert len(view.split_bars) == params.n_components
    for k, bar in enumerate(view.split_bars):
        assert bar.isVisible()
        np.testing.assert_allclose(bar.opts["height"], parts[k])


@pytest.fixture
def one_column(tmp_path):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(2.0, 0.3, 250), rng.normal(4.5, 0.5, 350)])
    path = tmp_path / "eruptions.csv"
    path.write_text("eruptions\n" + "\n".join(repr(float(v)) for v in values) + "\n")
    return path


def test_a_one_column_file_fits_steps_scrubs_and_exports_as_a_histogram(
        make_window, blobs, one_column, qtbot, tmp_path):
    w = make_window(dataset=blobs(), settings=None)
    assert not w.data_stack.showing_histogram() and w.data_view.isVisible()

    open_file(qtbot, w, one_column)
    w.panel.set_settings(SETTINGS)
    assert w.dataset.n_features == 1
    assert w.data_stack.showing_histogram() and w.histogram_panel.isVisible()
    assert not w.data_view.isVisible()
    view = w.histogram_panel.view
    assert view.getPlotItem().getAxis("bottom").labelText == "eruptions"
    np.testing.assert_allclose(view.edges, histogram_edges(w.session.x[:, 0]))

    # run to the end: curves and stacked bins are the final model's
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.run_button)
    settle(qtbot, w)
    final = w.current_snapshot().params
    assert final.n_features == 1
    np.testing.assert_allclose(np.sort(final.means[:, 0]), [2.0, 4.5], atol=0.15)
    gamma = w.session.shown.responsibilities
    # the live γ is of the last E-step, a half-step behind the final parameters
    np.testing.assert_allclose(gamma, EMData(w.session.x, "full").responsibilities(final), atol=1e-3)
    assert_histogram_draws(w, final, gamma)
    assert "lower bound B(θ⁽ᵗ⁺¹⁾)" in w.status_label.text()  # the final M-step's figure

    # rebinning splits the new bins by the same γ
    w.histogram_panel.bins_spin.setValue(25)
    settle(qtbot, w)
    assert len(view.edges) == 26
    assert_histogram_draws(w, final, gamma)

    # scrub back to the start and forth again: the histogram follows the slider
    n = len(w.history())
    w.iteration_slider.setValue(1)
    settle(qtbot, w)
    early = w.current_snapshot().params
    assert not np.allclose(early.means, final.means)
    assert_histogram_draws(w, early, w.session.shown.responsibilities)
    w.iteration_slider.setValue(n - 1)
    settle(qtbot, w)
    assert_histogram_draws(w, final, gamma)

    # exports: the model, the points' responsibilities, the histogram as a figure
    assert w.model_files.export_model_json(str(tmp_path / "m.json"))
    assert w.model_files.export_assignments_csv(str(tmp_path / "p.csv"))
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 601
    assert w.model_files.export_figure(str(tmp_path / "f.png"), "png")
    assert w.model_files.export_figure(str(tmp_path / "f.svg"), "svg")
    assert "<svg" in (tmp_path / "f.svg").read_text()
    assert (tmp_path / "f.png").stat().st_size > 1000

    # reset: no model drawn, grey bins; then a step, and run again
    click(qtbot, w.panel.reset_button)
    w.redraw()
    assert view.components == [] and not view.mixture_curve.isVisible()
    click(qtbot, w.panel.step_button)
    settle(qtbot, w)
    stepped = w.current_snapshot()
    assert stepped.half_step == "M" and stepped.iteration == 1
    assert_histogram_draws(w, stepped.params, w.session.shown.responsibilities)
    assert w.panel.pause_button.text().startswith("Resume")
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.pause_button)
    settle(qtbot, w)
    assert_histogram_draws(w, w.current_snapshot().params, w.session.shown.responsibilities)

    # 2-D data again: the data view is back, with its ellipses after a step
    w.set_dataset(blobs())
    assert not w.data_stack.showing_histogram() and w.data_view.isVisible()
    w.panel.set_settings(FitSettings(n_components=3, init_params="kmeans", seed=1))
    click(qtbot, w.panel.step_button)
    settle(qtbot, w)
    assert sum(item.isVisible() for item in w.data_view.ellipse_items(0)) == 3


def test_the_sweep_runs_on_one_column(make_window, qtbot):
    from gmm_studio.core.dataio import dataset_from_array

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 1, 200), rng.normal(6, 1, 200)])[:, None]
    w = make_window(dataset=dataset_from_array(x, columns=("x",), source="test"))
    w.sweep_dock.show()
    w.sweep_dock.raise_()
    panel = w.sweep_panel
    panel.k_min_spin.setValue(1)
    panel.k_max_spin.setValue(3)
    for t, box in panel.type_checks.items():
        box.setChecked(t == "full")
    panel.restarts_spin.setValue(1)
    with qtbot.waitSignal(panel.sweep_finished, timeout=TIMEOUT):
        click(qtbot, panel.run_button)
    best = panel.best_cell()
    assert best.params.n_features == 1 and best.params.n_components == 2
    # the chosen cell is drawn in the histogram
    rect = panel.table.visualItemRect(panel.table.item(1, 0))
    with qtbot.waitSignal(panel.model_chosen, timeout=TIMEOUT) as chosen:
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    settle(qtbot, w)
    assert len(w.histogram_panel.view.components) == chosen.args[0].n_components == 2


def _widget_point(view, x: float, y: float):
    from PySide6.QtCore import QPointF

    vb = view.getPlotItem().getViewBox()
    return view.mapFromScene(vb.mapViewToScene(QPointF(x, y)))


def _x_at(view, point) -> float:
    return view.getPlotItem().getViewBox().mapSceneToView(view.mapToScene(point)).x()


def test_clicking_the_histogram_places_means_and_run_starts_from_them(make_window, qtbot):
    from gmm_studio.core.dataio import dataset_from_array

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(2.0, 0.3, 250), rng.normal(4.5, 0.5, 350)])[:, None]
    w = make_window(dataset=dataset_from_array(x, columns=("minutes",), source="test"),
                    settings=SETTINGS.replace(init_params="click"))
    view = w.histogram_panel.view
    assert w.data_stack.showing_histogram()
    assert not w.panel.run_button.isEnabled()
    assert "click in the data view" in w.panel.run_button.toolTip()
    y = 0.5 * view.getPlotItem().getViewBox().viewRange()[1][1]  # over the bars
    placed = []
    for where in (2.1, 4.4):
        point = _widget_point(view, where, y)
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        placed.append(_x_at(view, point))
    # drawn: a cross on the axis at each click; K follows the clicks
    xs, ys = view.placed_item.getData()
    np.testing.assert_allclose(xs, placed)
    np.testing.assert_array_equal(ys, [0.0, 0.0])
    assert w.panel.components_spin.value() == 2
    assert w.info_label.text().startswith("2 initial mean(s) placed; K = 2")
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.run_button)
    np.testing.assert_allclose(w.history()[0].params.means[:, 0], placed)
    settle(qtbot, w)
    # after the fit a click on a mean marker selects that component
    k = int(np.argmax(w.current_snapshot().params.means[:, 0]))
    marker = view.components[k].mean
    point = _widget_point(view, float(marker.data["x"][0]), float(marker.data["y"][0]))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert w.component_table.selected() == k
    click(qtbot, w.panel.reset_button)
    assert len(view.placed_item.getData()[0]) == 0
