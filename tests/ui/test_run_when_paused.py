"""Journeys: paused after one Step or a drag (2-D and 1-D), Run is offered and runs on from the
shown model, exactly as Resume does; buttons, Fit menu and status say the same."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState
from tests.ui.journey import TIMEOUT, click, step, widget_pos

SETTINGS = FitSettings(n_components=3, init_params="random_from_data", seed=2, tol=1e-6, max_iter=60)
RUN_TIP = "Run EM on from the shown model to the end, as Resume does (Space)"








def assert_paused_and_run_offered(window) -> None:
    p = window.panel
    assert window.session.state is RunState.PAUSED
    assert p.run_button.isEnabled() and p.run_button.text() == "Run"
    assert p.run_button.toolTip() == RUN_TIP
    assert p.pause_button.isEnabled() and p.pause_button.text() == "Resume"
    assert p.pause_button.toolTip() == "Resume the paused fit (Space)"
    assert window.controls.run_action.text() == "Resume" and window.controls.run_action.isEnabled()
    assert window.status_label.text().endswith("paused")


def run_to_the_end(qtbot, window) -> None:
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        click(qtbot, window.panel.run_button)
    qtbot.waitUntil(lambda: window.session.shown.responsibilities is not None, timeout=TIMEOUT)
    window.redraw()
    p = window.panel
    assert window.session.state is RunState.FINISHED
    assert p.pause_button.text() == "Pause" and not p.pause_button.isEnabled()
    assert window.controls.run_action.text() == "Run"
    assert window.status_label.text().endswith("finished")


def test_one_step_from_idle_then_run_continues_the_fit(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(), settings=SETTINGS)
    step(qtbot, w)
    assert_paused_and_run_offered(w)
    assert w.info_label.text().startswith("One iteration")
    first = w.history()
    run_to_the_end(qtbot, w)
    history = w.history()
    assert history[:len(first)] == first and len(history) > len(first)  # continued, not afresh
    assert [s.iteration for s in history[:3]] == [0, 1, 1]


def test_a_drag_then_run_runs_em_on_from_the_edit(make_window, blobs, qtbot, mouse):
    w = make_window(dataset=blobs(), settings=SETTINGS)
    step(qtbot, w)
    view = w.data_view
    before = w.current_snapshot().params
    means2, _ = w.session.projection.project_params(before)
    start = widget_pos(view, means2[0])
    with qtbot.waitSignal(w.editing.edit_kept, timeout=TIMEOUT):
        mouse(view).drag(start, start + QPointF(60, 0))
    qtbot.waitUntil(lambda: np.isfinite(w.current_snapshot().log_likelihood)
                    and w.editing.preview is None, timeout=TIMEOUT)
    w.redraw()
    edited = w.current_snapshot().params
    assert not np.allclose(edited.means[0], before.means[0])
    assert_paused_and_run_offered(w)
    assert w.info_label.text().endswith("Run (Space) runs on.")
    n = len(w.history())
    run_to_the_end(qtbot, w)
    after = w.history()[n:]
    assert after[0].half_step == "E"
    np.testing.assert_array_equal(after[0].params.means, edited.means)  # EM starts from the edit


def test_a_drag_in_the_histogram_then_run(make_window, qtbot, mouse):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(2.0, 0.3, 250), rng.normal(4.5, 0.5, 350)])[:, None]
    w = make_window(dataset=dataset_from_array(x, columns=["minutes"]),
                    settings=SETTINGS.replace(n_components=2))
    step(qtbot, w)
    view = w.histogram_panel.view
    marker = view.components[0].mean
    start = widget_pos(view, (float(marker.data["x"][0]), float(marker.data["y"][0])))
    with qtbot.waitSignal(w.editing.edit_kept, timeout=TIMEOUT):
        mouse(view).drag(start, start + QPointF(50, 0))
    qtbot.waitUntil(lambda: np.isfinite(w.current_snapshot().log_likelihood)
                    and w.editing.preview is None, timeout=TIMEOUT)
    w.redraw()
    assert_paused_and_run_offered(w)
    edited = w.current_snapshot().params
    n = len(w.history())
    run_to_the_end(qtbot, w)
    np.testing.assert_array_equal(w.history()[n].params.means, edited.means)


def test_space_resumes_and_the_fit_menu_names_what_it_does(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(), settings=SETTINGS.replace(tol=1e-12, max_iter=400))
    action = w.controls.run_action
    assert action.text() == "Run"
    step(qtbot, w)
    assert action.text() == "Resume"
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.session.state is RunState.FINISHED and action.text() == "Run"
