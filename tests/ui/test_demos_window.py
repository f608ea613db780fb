"""Demos in the window: what each one leaves on screen (docks, sweep, labels), as a person sees it."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar
from tests.ui.journey import click

TIMEOUT = 60_000


def front_tabs(window) -> set[str]:
    """The titles of the dock tabs in front (a tab behind another shows nothing)."""
    return {bar.tabText(bar.currentIndex()) for bar in window.findChildren(QTabBar)
            if bar.count() and bar.isVisible()}


def test_a_demo_brings_the_fit_controls_over_the_generate_tab(make_window, qtbot):
    window = make_window(settings=None)
    window.generator_dock.show()
    window.generator_dock.raise_()
    qtbot.waitUntil(lambda: "Generate data" in front_tabs(window), timeout=TIMEOUT)
    window.teaching.demo_actions["well_separated"].trigger()
    qtbot.waitUntil(lambda: "Controls" in front_tabs(window), timeout=TIMEOUT)
    assert not window.panel.run_button.visibleRegion().isEmpty()


def test_choosing_k_demo_runs_its_sweep_and_a_chosen_cell_gets_its_own_x_range(make_window, qtbot):
    window = make_window(settings=None)
    sweep = window.sweep_panel
    with qtbot.waitSignal(sweep.sweep_finished, timeout=TIMEOUT):
        window.teaching.demo_actions["choosing_k"].trigger()
        assert "scoring every K" in window.info_label.text()
    assert sweep.progress.text() == "32 of 32 cells"
    assert sweep.best_cell().n_components == 4
    # "the held-out log-likelihood stops rising there"
    heldout = {c.n_components: c.value("heldout_ll") for c in sweep.result().cells
               if c.covariance_type == "full"}
    assert heldout[4] - heldout[3] > 0.2 and max(heldout.values()) - heldout[4] < 0.02
    # a long fit first, then a cell: the likelihood view must not keep the fit's x range
    window.panel.set_settings(window.settings().replace(tol=1e-12, max_iter=40))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        click(qtbot, window.panel.run_button)
    view = window.likelihood_view.plot_item.getViewBox()
    qtbot.waitUntil(lambda: view.viewRange()[0][1] >= 8, timeout=TIMEOUT)
    with qtbot.waitSignal(sweep.model_chosen, timeout=TIMEOUT):
        sweep.table.cellClicked.emit(1, 0)
    qtbot.waitUntil(lambda: view.viewRange()[0][1] <= 4.0, timeout=TIMEOUT)


def test_the_collapsed_components_label_stays_inside_the_plot(make_window, qtbot):
    window = make_window(settings=None)
    window.teaching.demo_actions["singularity"].trigger()
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        click(qtbot, window.panel.run_button)
    plot = window.data_view.getPlotItem()

    def warnings():
        return [item for item in plot.items if isinstance(item, pg.TextItem) and item.isVisible()
                and item.toPlainText().startswith("⚠")]

    qtbot.waitUntil(lambda: bool(warnings()), timeout=TIMEOUT)
    labels = warnings()
    frame = plot.getViewBox().sceneBoundingRect()
    for label in labels:
        box = label.sceneBoundingRect()
        assert frame.contains(box), (label.toPlainText(), box, frame)


def test_the_singularity_banner_shows_its_remedies_whole_at_the_default_size(make_window, qtbot):
    w = make_window(settings=None, size=(1400, 900))
    w.teaching.demo_actions["singularity"].trigger()
    with qtbot.waitSignal(w.fit_finished, timeout=60_000):
        qtbot.mouseClick(w.panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.banner.isVisible())
    shown = [b for b in (w.remedy_reg_button, w.remedy_reseed_button, w.remedy_lower_k_button)
             if b.isVisible()]
    assert shown
    for button in shown:  # the whole label fits (it was cut at both ends: "aise reg_covar to 1e-0")
        assert button.width() >= button.fontMetrics().horizontalAdvance(button.text()), button.text()
        assert button.toolTip()
