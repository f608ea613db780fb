"""Journeys a person makes through the window, with real clicks and keys, checked on what is
drawn: the likelihood plot's curve items, the ellipse outlines, every fit button's enabled
state, text and tooltip, the status lines, and a few pixels of ``grab()``."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from gmm_studio.core.em import EMData
from gmm_studio.core.export import load_model_json
from gmm_studio.core.generate import adjusted_rand_index
from gmm_studio.core.geometry import ellipse_outline
from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState
from tests.ui.journey import click

TIMEOUT = 30_000
LONG = FitSettings(n_components=3, init_params="random_from_data", seed=2, tol=1e-12, max_iter=60)
@pytest.fixture
def messages(monkeypatch):
    shown = []
    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda parent, title, text, *a, _k=kind, **kw: shown.append((_k, text))))
    return shown


# ------------------------------------------------------------------ what a person sees
def buttons(window) -> dict[str, tuple[bool, str]]:
    p = window.panel
    return {b.objectName(): (b.isEnabled(), b.text()) for b in (
        p.run_button, p.pause_button, p.stop_button, p.step_button, p.step_e_button,
        p.step_m_button, p.reset_button)}


def assert_disabled_ones_say_why(window) -> None:
    p = window.panel
    for b in (p.run_button, p.pause_button, p.stop_button, p.step_button, p.step_e_button,
              p.step_m_button, p.reset_button, window.live_button):
        if not b.isEnabled():
            assert "Not now:" in b.toolTip() or b is window.live_button and b.toolTip(), b.objectName()


def plotted_curves(window) -> list[tuple[np.ndarray, np.ndarray]]:
    """(x, y) of every non-empty data item in the likelihood plot, as drawn."""
    out = []
    for item in window.likelihood_view.plot_item.listDataItems():
        x, y = item.getData()
        if x is not None and len(x) and item.isVisible():
            out.append((np.asarray(x), np.asarray(y)))
    return out


def drawn_half_steps(window) -> int:
    """How many E/M values the likelihood plot's line items hold (markers repeat them)."""
    curves = plotted_curves(window)
    return max((len(x) for x, _ in curves), default=0)


def assert_ellipses_are(window, params) -> None:
    means2, covs2 = window.session.projection.project_params(params)
    for r, radius in enumerate(window.data_view.radii):
        items = window.data_view.ellipse_items(r)
        visible = [i for i in items if i.isVisible()]
        assert len(visible) == params.n_components
        for k, item in enumerate(items[: params.n_components]):
            x, y = item.getData()
            np.testing.assert_allclose(np.column_stack([x, y]),
                                       ellipse_outline(means2[k], covs2[k], radius, 100), atol=1e-9)


def points_in_component_colours(window, image, params) -> float:
    """Fraction of points whose pixel in ``image`` (a grab of the data view) has the hue of
    their most responsible component."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    from gmm_studio.ui.colors import component_palette

    palette = component_palette(params.n_components)
    x = window.dataset.values
    gamma = EMData(x, params.covariance_type).responsibilities(params)
    vb = window.data_view.plot_item.vb
    hits = 0
    for i in range(0, len(x), 10):
        pos = window.data_view.mapFromScene(vb.mapViewToScene(QPointF(*x[i])))
        got = image.pixelColor(pos.x(), pos.y())
        want = QColor.fromRgbF(*map(float, palette[int(gamma[i].argmax())][:3]))
        hits += got.saturation() > 60 and min(abs(got.hue() - want.hue()), 360 - abs(got.hue() - want.hue())) < 25
    return hits / len(range(0, len(x), 10))


def no_ellipses(window) -> bool:
    return not any(i.isVisible() for i in window.data_view.ellipse_items(0))


def settle(qtbot, window) -> None:
    """Wait until no fit task runs, then draw (what the timer would do)."""
    qtbot.waitUntil(lambda: not window.session.state.busy, timeout=TIMEOUT)
    window.redraw()


def entries(window) -> list[tuple[int, str]]:
    return [(s.iteration, s.half_step) for s in window.history()]


def shown_ari(window) -> float:
    params = window.current_snapshot().params
    gamma = EMData(window.dataset.values, params.covariance_type).responsibilities(params)
    return adjusted_rand_index(window.dataset.labels, gamma.argmax(axis=1))


# ------------------------------------------------------------------ journeys
def test_run_reset_run_step_stop_step_m_scrub_live(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(labels=True), settings=LONG)
    p = w.panel
    assert buttons(w) == {"runButton": (True, "Run"), "pauseButton": (False, "Pause"),
                          "stopButton": (False, "Stop"), "stepButton": (True, "Step (E+M)"),
                          "stepEButton": (True, "Step E"), "stepMButton": (True, "Step M"),
                          "resetButton": (False, "Reset")}
    assert_disabled_ones_say_why(w)
    assert "Nothing to reset yet" in p.reset_button.toolTip()

    # Run to the end: every half-step is on the curve, the ellipses are the final model
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT) as done:
        click(qtbot, p.run_button)
    settle(qtbot, w)
    final = done.args[0]
    n_values = sum(1 for s in w.history() if s.half_step in "EM")
    assert drawn_half_steps(w) == n_values > 10
    assert_ellipses_are(w, final.params)
    assert "finished" in w.status_label.text()
    assert buttons(w)["runButton"] == (True, "Run") and buttons(w)["resetButton"][0]
    assert not p.pause_button.isEnabled() and not p.stop_button.isEnabled()
    qtbot.waitUntil(w.truth_label.isVisible, timeout=TIMEOUT)
    assert w.truth_label.text() == f"ARI vs labels: {shown_ari(w):.3f} (3 classes)"
    qtbot.waitUntil(w.drawing.colors_up_to_date, timeout=TIMEOUT)
    w.redraw()
    pixels = w.data_view.grab().toImage()
    assert points_in_component_colours(w, pixels, final.params) > 0.8

    # Reset: nothing drawn, back to the idle buttons
    click(qtbot, p.reset_button)
    w.redraw()
    assert w.history() == [] and no_ellipses(w) and drawn_half_steps(w) == 0
    assert w.status_label.text() == "No model yet."
    assert not w.truth_label.isVisible()
    assert buttons(w)["runButton"] == (True, "Run") and not p.reset_button.isEnabled()

    # Run again, then Reset and Step three times from idle
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, p.run_button)
    settle(qtbot, w)
    click(qtbot, p.reset_button)
    for i in range(3):
        click(qtbot, p.step_button)
        settle(qtbot, w)
        assert w.session.state is RunState.PAUSED
        assert entries(w)[-1] == (i + 1, "M")
        assert p.pause_button.text() == "Resume" and p.pause_button.isEnabled()
        assert all(b.isEnabled() for b in (p.step_button, p.step_e_button, p.step_m_button,
                                           p.stop_button, p.reset_button))
        assert p.run_button.isEnabled() and p.run_button.toolTip() == (
            "Run EM on from the shown model to the end, as Resume does (Space)")
        assert w.controls.run_action.text() == "Resume" and w.controls.run_action.isEnabled()
        assert "paused" in w.status_label.text()
    assert_ellipses_are(w, w.history()[-1].params)
    assert drawn_half_steps(w) == 6

    # E, Stop, then Step M: that iteration's M, never the E again
    click(qtbot, p.step_e_button)
    settle(qtbot, w)
    assert entries(w)[-1] == (4, "E")
    click(qtbot, p.stop_button)
    assert w.session.state is RunState.FINISHED and "Stopped" in w.info_label.text()
    assert p.run_button.isEnabled() and p.step_m_button.isEnabled()
    click(qtbot, p.step_m_button)
    settle(qtbot, w)
    assert entries(w)[-2:] == [(4, "E"), (4, "M")]
    assert "it. 4 M" in w.history_label.text()

    # Scrub back, then Live
    w.iteration_slider.setValue(2)
    w.redraw()
    assert entries(w)[2] == (1, "M") and w.current_snapshot() is w.history()[2]
    assert_ellipses_are(w, w.history()[2].params)
    assert "scrubbing" in w.status_label.text() and w.live_button.isEnabled()
    assert w.likelihood_view.plot_item  # the cursor sits on the scrubbed half-step
    click(qtbot, w.live_button)
    w.redraw()
    assert w.current_snapshot() is w.history()[-1] and not w.live_button.isEnabled()
    assert_disabled_ones_say_why(w)


def test_a_second_fit_after_reset_draws_its_curve(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(), settings=LONG)
    for _ in range(2):
        with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
            click(qtbot, w.panel.run_button)
        settle(qtbot, w)
        assert drawn_half_steps(w) == sum(1 for s in w.history() if s.half_step in "EM") > 10
        click(qtbot, w.panel.reset_button)


def test_open_sweep_click_cell_import_model_export(make_window, blobs, qtbot, tmp_path, messages):
    w = make_window(settings=FitSettings(n_components=2, init_params="kmeans", seed=0))
    data = blobs(labels=True)
    path = tmp_path / "blobs.csv"
    rows = "\n".join(f"{float(a)!r},{float(b)!r},{c}" for (a, b), c in zip(data.values, data.labels))
    path.write_text("x,y,kind\n" + rows + "\n")

    # open a file (its label column chosen in the import dialog)
    with qtbot.waitSignal(w.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        w.file_actions.open_path(str(path))
    opened.args[0].set_label_column("kind")
    with qtbot.waitSignal(w.file_actions.dataset_loaded, timeout=TIMEOUT):
        opened.args[0].accept()
    assert w.dataset.n_samples == 300 and w.dataset.labels is not None
    assert w.panel.run_button.isEnabled() and w.panel.step_button.isEnabled()

    # a K = 2 fit: its ARI is shown
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.run_button)
    qtbot.waitUntil(w.truth_label.isVisible, timeout=TIMEOUT)
    ari_k2 = w.truth_label.text()
    model = tmp_path / "k2.json"
    assert w.model_files.export_model_json(str(model))

    # sweep, click the K = 3 cell: the ARI is the K = 3 model's, never the old one's
    w.sweep_dock.show()
    w.sweep_dock.raise_()
    panel = w.sweep_panel
    panel.k_min_spin.setValue(1)
    panel.k_max_spin.setValue(4)
    for t, box in panel.type_checks.items():
        box.setChecked(t == "full")
    panel.restarts_spin.setValue(1)
    with qtbot.waitSignal(panel.sweep_finished, timeout=TIMEOUT):
        click(qtbot, panel.run_button)
    rect = panel.table.visualItemRect(panel.table.item(2, 0))
    with qtbot.waitSignal(panel.model_chosen, timeout=TIMEOUT) as chosen:
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert chosen.args[0].n_components == 3
    assert w.current_snapshot().params is chosen.args[0]
    assert w.truth_label.text() != ari_k2 or not w.truth_label.isVisible()  # never stale
    qtbot.waitUntil(w.truth_label.isVisible, timeout=TIMEOUT)
    assert w.truth_label.text() == f"ARI vs labels: {shown_ari(w):.3f} (3 classes)"
    w.redraw()
    assert_ellipses_are(w, chosen.args[0])
    assert w.panel.components_spin.value() == 3
    assert w.panel.step_button.isEnabled()

    # import the K = 2 model: shown, its own ARI, Step continues from it
    assert w.model_files.import_model(str(model))
    assert w.current_snapshot().params.n_components == 2
    qtbot.waitUntil(lambda: w.truth_label.text() == ari_k2, timeout=TIMEOUT)
    click(qtbot, w.panel.step_e_button)
    settle(qtbot, w)
    np.testing.assert_allclose(w.history()[0].params.means, load_model_json(model).params.means)

    # export what is shown
    figure = tmp_path / "figure.png"
    assert w.model_files.export_figure(str(figure))
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert not messages


def test_shortcuts_work_whatever_widget_has_focus(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(), settings=LONG)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=TIMEOUT)
    p = w.panel
    targets = [p.components_spin, p.seed_spin, p.max_iter_spin, p.speed_slider, p.run_button,
               w.iteration_slider, w.generator_panel.n_samples_spin]
    for i, widget in enumerate(targets):
        widget.setFocus()
        qtbot.keyClick(widget, Qt.Key.Key_S)
        settle(qtbot, w)
        assert entries(w)[-1] == (i + 1, "M"), widget.objectName() or type(widget).__name__
    p.components_spin.setFocus()
    qtbot.keyClick(p.components_spin, Qt.Key.Key_E)
    settle(qtbot, w)
    assert entries(w)[-1][1] == "E"
    qtbot.keyClick(p.components_spin, Qt.Key.Key_M)
    settle(qtbot, w)
    assert entries(w)[-1][1] == "M"
    assert p.components_spin.value() == 3  # the keys did not edit the spin box

    # Space runs, Space pauses (the button reads Resume), Esc stops, R resets
    p.speed_slider.setValue(1)
    qtbot.keyClick(p.seed_spin, Qt.Key.Key_Space)
    assert w.session.state is RunState.RUNNING
    qtbot.keyClick(p.seed_spin, Qt.Key.Key_Space)
    assert w.session.state is RunState.PAUSED and p.pause_button.text() == "Resume"
    qtbot.keyClick(p.seed_spin, Qt.Key.Key_Space)
    assert w.session.state is RunState.RUNNING and p.pause_button.text() == "Pause"
    qtbot.keyClick(p.seed_spin, Qt.Key.Key_Escape)
    assert w.session.state is RunState.FINISHED
    qtbot.keyClick(p.seed_spin, Qt.Key.Key_R)
    assert w.session.state is RunState.IDLE and w.history() == []


def test_scientific_spin_boxes_keep_e_for_their_exponent(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)
    box = window.panel.tol_spin
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, "1e-05")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.value() == pytest.approx(1e-5)
    assert window.history() == []  # E wrote the exponent, it did not step


def test_session_file_round_trip_and_a_damaged_file_leaves_the_session(make_window, blobs, qtbot,
                                                                        tmp_path, messages):
    w = make_window(dataset=blobs(), settings=LONG)
    if not hasattr(w.session, "save_session"):
        pytest.skip("the session layer's save_session has not landed yet")
    for _ in range(2):
        click(qtbot, w.panel.step_button)
        settle(qtbot, w)
    w.iteration_slider.setValue(1)
    path = tmp_path / "s.gmmsession"
    assert w.save_session(str(path))
    before = entries(w)

    other = make_window(settings=None)
    assert other.open_session(str(path))
    other.redraw()
    assert entries(other) == before
    assert other.current_snapshot().half_step == w.current_snapshot().half_step
    assert other.panel.step_button.isEnabled()

    damaged = tmp_path / "bad.gmmsession"
    damaged.write_bytes(path.read_bytes()[:100])
    assert not other.open_session(str(damaged))
    assert messages and messages[-1][0] == "warning"
    assert entries(other) == before


def test_every_disabled_button_says_why(make_window, qtbot):
    """On start, while a sweep runs and after it: a disabled button's tooltip gives the reason."""
    from PySide6.QtWidgets import QPushButton

    w = make_window(settings=None)
    w.sweep_dock.show()
    w.sweep_dock.raise_()
    panels = (w.panel, w.sweep_panel, w.generator_panel, w.banner, w.scrub_bar)

    def check() -> None:
        for panel in panels:
            for button in panel.findChildren(QPushButton):
                if not button.isEnabled():
                    assert "Not now" in button.toolTip() or button is w.live_button and button.toolTip(), \
                        button.text()

    check()
    sweep = w.sweep_panel
    sweep.k_max_spin.setValue(2)
    sweep.restarts_spin.setValue(1)
    with qtbot.waitSignal(sweep.sweep_finished, timeout=TIMEOUT):
        click(qtbot, sweep.run_button)
        check()
    check()


def test_a_dragged_component_becomes_the_shown_state_and_step_continues(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(), settings=LONG)
    click(qtbot, w.panel.step_button)
    settle(qtbot, w)
    before = len(w.history())
    params = w.current_snapshot().params
    mean2, cov2 = w.session.projection.project_params(params)
    target = mean2[0] + [0.5, -0.25]
    w.data_view.component_edit_finished.emit(0, target, cov2[0])  # what releasing a drag sends
    w.redraw()
    shown = w.current_snapshot()
    np.testing.assert_allclose(w.session.projection.project_params(shown.params)[0][0], target, atol=1e-9)
    assert len(w.history()) == before + 1 and w.session.state is RunState.PAUSED
    assert_ellipses_are(w, shown.params)
    click(qtbot, w.panel.step_e_button)
    settle(qtbot, w)
    assert w.history()[-1].half_step == "E"
    np.testing.assert_allclose(w.history()[-1].params.means, shown.params.means)


def test_the_opening_demo_fits_well_with_the_default_settings_and_again_after_reset(make_window, qtbot):
    # What a newcomer sees first: the demo, the default settings, Run.  A local optimum there
    # (one ellipse over two clusters) would teach the wrong lesson on the first try.
    w = make_window(settings=None)
    assert w.dataset.source == "demo"
    for _ in range(2):
        with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
            click(qtbot, w.panel.run_button)
        settle(qtbot, w)
        ari = shown_ari(w)
        assert ari > 0.95
        qtbot.waitUntil(lambda: w.truth_label.text() == f"ARI vs labels: {ari:.3f} (4 classes)",
                        timeout=TIMEOUT)
        click(qtbot, w.panel.reset_button)
