"""Journeys of direct manipulation in the window: drag a component, watch γ and the likelihood
answer, keep the edit as one history entry, and let EM continue from it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.density import density_1d
from gmm_studio.core.em import EMData
from gmm_studio.core.geometry import ellipse_outline
from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState
from tests.ui.journey import TIMEOUT, click, widget_pos

SETTINGS = FitSettings(n_components=3, init_params="random_from_data", seed=2, tol=1e-12, max_iter=60)


def step(qtbot, window) -> None:
    click(qtbot, window.panel.step_button)
    qtbot.waitUntil(lambda: window.session.state is RunState.PAUSED, timeout=TIMEOUT)


def data_at(view, pos: QPointF) -> np.ndarray:
    p = view.getPlotItem().getViewBox().mapSceneToView(view.mapToScene(pos.toPoint()))
    return np.array([p.x(), p.y()])


def hold_drag(qtbot, mouse, window, view, start, end):
    """Press at ``start``, move to ``end`` and hold: the preview once its figure is known, drawn."""
    with qtbot.waitSignal(window.editing.preview_changed, timeout=TIMEOUT):
        mouse(view).press_and_move(start, end)
    qtbot.waitUntil(lambda: window.editing.preview is not None
                    and np.isfinite(window.editing.preview.log_likelihood), timeout=TIMEOUT)
    window.redraw()
    return window.editing.preview


def mean_log_likelihood(window, params) -> float:
    return EMData(window.session.x, params.covariance_type).mean_log_likelihood(params)


def test_dragging_a_mean_while_paused_edits_the_model_and_step_continues_from_it(
        make_window, blobs, qtbot, mouse):
    w = make_window(dataset=blobs(), settings=SETTINGS)
    for _ in range(3):
        step(qtbot, w)
    qtbot.waitUntil(lambda: w.session.shown.responsibilities is not None, timeout=TIMEOUT)
    w.teaching.density_action.trigger()  # View › Density
    assert w.data_view.density.visible
    w.redraw()
    density_before = w.data_view.density_revision
    before = w.current_snapshot().params
    status_before = w.status_label.text()
    n_before = len(w.history())
    view = w.data_view
    means2, covs2 = w.session.projection.project_params(before)
    outline_before = np.column_stack(view.ellipse_items(0)[0].getData())

    # drag component 1's mean marker 80 pixels to the right, live updates first
    start = widget_pos(view, means2[0])
    end = start + QPointF(80, 0)
    live = hold_drag(qtbot, mouse, w, view, start, end)
    assert live.component == 0 and not live.settled
    assert w.status_label.text().startswith("editing component 1 · log-likelihood")
    assert live.log_likelihood == pytest.approx(mean_log_likelihood(w, live.params))
    assert len(w.history()) == n_before  # nothing kept until the release
    assert w.data_view.density_revision > density_before  # the density follows the hand
    mouse(view).release(end)

    # released: one new history entry, the edited model, drawn and read out
    assert len(w.history()) == n_before + 1
    edited = w.current_snapshot().params
    moved = data_at(view, end) - data_at(view, start)
    np.testing.assert_allclose(edited.means[0], before.means[0] + moved, atol=1e-9)
    np.testing.assert_allclose(edited.means[1:], before.means[1:])
    np.testing.assert_allclose(edited.covariances, before.covariances)
    # the session computes the edit's log-likelihood and γ; the drawings then show its entry
    qtbot.waitUntil(lambda: np.isfinite(w.current_snapshot().log_likelihood)
                    and w.session.shown.responsibilities is not None and w.editing.preview is None,
                    timeout=TIMEOUT)
    w.redraw()
    outline = np.column_stack(view.ellipse_items(0)[0].getData())
    np.testing.assert_allclose(outline, ellipse_outline(edited.means[0], edited.covariances[0], 1.0, 100),
                               atol=1e-9)
    assert not np.allclose(outline, outline_before)
    edit_ll = mean_log_likelihood(w, edited)
    snap = w.current_snapshot()
    assert snap.params is edited and snap.log_likelihood == pytest.approx(edit_ll)
    text = w.status_label.text()
    assert text != status_before
    assert text.startswith(f"iteration {snap.iteration}: edited by hand · log-likelihood {edit_ll:.5f}")
    assert w.history_label.text() == f"{n_before + 1}/{n_before + 1}: it. {snap.iteration} edit (live)"
    # the likelihood curve goes on through the edit: a diamond at its iteration, at its value
    x, y, kinds = w.likelihood_view.curve_data()
    assert kinds[-1] == "edit" and x[-1] == snap.iteration and y[-1] == pytest.approx(edit_ll)
    assert "edited by hand: its log-likelihood" in w.likelihood_view.legend_texts()
    # the points' responsibilities are the edited model's
    np.testing.assert_allclose(w.session.shown.responsibilities,
                               EMData(w.session.x, "full").responsibilities(edited), atol=1e-12)

    # Step: EM continues from the edited model (its E-step uses exactly those parameters)
    step(qtbot, w)
    after = w.history()[n_before + 1:]
    assert [s.half_step for s in after] == ["E", "M"]
    np.testing.assert_array_equal(after[0].params.means, edited.means)
    np.testing.assert_array_equal(after[0].params.covariances, edited.covariances)
    assert after[0].log_likelihood == pytest.approx(mean_log_likelihood(w, edited))
    w.redraw()
    assert w.status_label.text().startswith(f"iteration {after[1].iteration}, after M-step")
    x, y, kinds = w.likelihood_view.curve_data()
    assert kinds[-3:] == ["edit", "E", "M"] and y[-2] == pytest.approx(edit_ll)


def test_editing_is_off_while_running_and_on_when_finished(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(), settings=SETTINGS, speed=0)
    handles = w.data_view.handles
    assert handles.covariance_type is None  # no model yet
    click(qtbot, w.panel.run_button)
    qtbot.waitUntil(lambda: len(w.history()) >= 2, timeout=TIMEOUT)
    assert w.session.state.busy and handles.covariance_type is None
    click(qtbot, w.panel.pause_button)
    qtbot.waitUntil(lambda: w.session.state is RunState.PAUSED, timeout=TIMEOUT)
    assert handles.covariance_type == "full"
    w.panel.speed_slider.setValue(w.panel.speed_slider.maximum())
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.pause_button)  # Resume
    assert handles.covariance_type == "full"
    w.iteration_slider.setValue(2)  # scrubbed back: still editable
    assert handles.covariance_type == "full"


def test_dragging_an_interval_end_in_one_d_widens_the_component(make_window, qtbot, mouse):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(2.0, 0.3, 250), rng.normal(4.5, 0.5, 350)])[:, None]
    w = make_window(dataset=dataset_from_array(x, columns=("minutes",), source="test"),
                    settings=FitSettings(n_components=2, init_params="kmeans", seed=0))
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.run_button)
    qtbot.waitUntil(lambda: w.session.shown.responsibilities is not None, timeout=TIMEOUT)
    w.redraw()
    before = w.current_snapshot().params
    n_before = len(w.history())
    view = w.histogram_panel.view
    k = int(np.argmin(before.means[:, 0]))
    ends = view.components[k].ends
    right = (float(ends.data["x"][1]), float(ends.data["y"][1]))
    start = widget_pos(view, right)
    end = start + QPointF(40, 0)
    with qtbot.waitSignal(w.editing.preview_changed, timeout=TIMEOUT):
        mouse(view).drag(start, end)
    assert len(w.history()) == n_before + 1
    edited = w.current_snapshot().params
    sigma_before = float(np.sqrt(before.covariances[k, 0, 0]))
    sigma = float(np.sqrt(edited.covariances[k, 0, 0]))
    assert sigma == pytest.approx(sigma_before + data_at(view, end)[0] - data_at(view, start)[0], rel=1e-6)
    np.testing.assert_allclose(edited.means, before.means)
    qtbot.waitUntil(lambda: w.editing.preview is None and w.session.shown.responsibilities is not None
                    and np.isfinite(w.current_snapshot().log_likelihood), timeout=TIMEOUT)
    w.redraw()
    assert w.current_snapshot().params is edited
    assert w.status_label.text().startswith(f"iteration {w.current_snapshot().iteration}: edited by hand")
    curve = view.components[k].curve
    np.testing.assert_allclose(curve.yData, density_1d(edited, curve.xData).weighted[k], rtol=1e-9)
    np.testing.assert_allclose(view.components[k].one_sigma.xData,
                               [edited.means[k, 0] - sigma, edited.means[k, 0] + sigma])
    # Run continues EM from the edit
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.pause_button)  # paused after the edit: Resume
    np.testing.assert_array_equal(w.history()[n_before + 1].params.covariances, edited.covariances)


def test_a_drag_in_a_projection_of_3d_data_moves_the_component_within_the_plane(
        make_window, qtbot, mouse):
    rng = np.random.default_rng(4)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 1.0, -2.0], [0.0, 6.0, 3.0]])
    x = np.vstack([rng.normal(c, 0.7, size=(100, 3)) for c in centres])
    w = make_window(dataset=dataset_from_array(x, source="test"), settings=SETTINGS)
    step(qtbot, w)
    w.redraw()
    projection = w.session.projection
    assert projection.kind == "pca"
    before = w.current_snapshot().params
    means2, _ = projection.project_params(before)
    view = w.data_view
    start = widget_pos(view, means2[1])
    end = start + QPointF(0, -60)
    with qtbot.waitSignal(w.editing.edit_kept, timeout=TIMEOUT):
        mouse(view).drag(start, end)
    edited = w.current_snapshot().params
    moved = data_at(view, end) - data_at(view, start)
    np.testing.assert_allclose(projection.project_params(edited)[0][1], means2[1] + moved, atol=1e-9)
    # the mean moved only within the plotted plane: its part off the plane is unchanged
    off_plane = np.eye(3) - projection.matrix.T @ projection.matrix
    np.testing.assert_allclose(off_plane @ edited.means[1], off_plane @ before.means[1], atol=1e-9)


def test_an_edit_of_a_scrubbed_state_replaces_what_followed_it(make_window, blobs, qtbot, mouse):
    w = make_window(dataset=blobs(), settings=SETTINGS)
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.run_button)
    assert len(w.history()) > 6
    w.iteration_slider.setValue(2)
    qtbot.waitUntil(lambda: w.session.shown.responsibilities is not None, timeout=TIMEOUT)
    w.redraw()
    scrubbed = w.current_snapshot().params
    means2, _ = w.session.projection.project_params(scrubbed)
    start = widget_pos(w.data_view, means2[2])
    with qtbot.waitSignal(w.editing.edit_kept, timeout=TIMEOUT):
        mouse(w.data_view).drag(start, start + QPointF(-50, 30))
    assert len(w.history()) == 4 and w.session.history.cursor is None
    assert w.session.state is RunState.PAUSED
    assert not np.allclose(w.current_snapshot().params.means[2], scrubbed.means[2])
    np.testing.assert_allclose(w.current_snapshot().params.means[:2], scrubbed.means[:2])


def nearest_centre(x, centres) -> np.ndarray:
    return np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)


def drawn_counts(window) -> list[str]:
    table = window.component_table.table
    return [table.item(r, 2).text() for r in range(table.rowCount())]


def test_dragging_a_kmeans_centre_reassigns_the_points_and_kmeans_continues_from_it(
        make_window, blobs, qtbot, mouse):
    w = make_window(dataset=blobs(), settings=SETTINGS)
    combo = w.panel.algorithm_combo
    combo.setCurrentIndex(combo.findData("kmeans"))
    lv = w.likelihood_view
    assert lv.legend_texts()[:2] == ["after assign: −WCSS/N (WCSS: within-cluster sum of squares)",
                                     "after update: −WCSS/N (centres moved to their points' mean)"]
    assert lv.plot_item.getAxis("left").labelText == "−WCSS / N (K-means)"
    assert lv.plot_item.getAxis("bottom").labelText == "iteration (assign at t − ½, update at t)"
    step(qtbot, w)  # assign, update
    before = w.current_snapshot()
    assert type(before).__name__ == "KMeansSnapshot"
    handles = w.data_view.handles
    assert not handles.axis_item.isVisible()  # a centre has no shape to stretch
    qtbot.waitUntil(lambda: w.session.shown.responsibilities is not None, timeout=TIMEOUT)
    w.redraw()
    n_before = len(w.history())
    x = w.session.x
    view = w.data_view

    # drag centre 2 most of the way towards centre 3: points change sides live
    means2 = before.params.means
    start = widget_pos(view, means2[1])
    end = widget_pos(view, 0.35 * means2[1] + 0.65 * means2[2])
    live = hold_drag(qtbot, mouse, w, view, start, end)
    labels = nearest_centre(x, live.params.means)
    np.testing.assert_array_equal(live.responsibilities.argmax(axis=1), labels)
    np.testing.assert_array_equal(np.unique(live.responsibilities), [0.0, 1.0])  # hard r_nk
    assert drawn_counts(w) == [f"{c:.0f}" for c in np.bincount(labels, minlength=3)]
    objective = float(np.min(((x[:, None, :] - live.params.means[None]) ** 2).sum(axis=2), axis=1).sum())
    assert live.log_likelihood == pytest.approx(-objective / len(x))
    assert w.status_label.text().startswith(f"editing centre 2 · WCSS/N {objective / len(x):.5f} · Δ ")
    mouse(view).release(end)
    assert w.info_label.text().startswith("Centre 2 moved by hand. Step (S) shows what K-means makes of it")

    # one history entry, still K-means, its objective on the curve
    assert len(w.history()) == n_before + 1
    edited = w.current_snapshot()
    assert type(edited).__name__ == "KMeansSnapshot"
    moved = data_at(view, end) - data_at(view, start)
    np.testing.assert_allclose(edited.params.means[1], means2[1] + moved, atol=1e-9)
    qtbot.waitUntil(lambda: np.isfinite(w.current_snapshot().log_likelihood) and w.editing.preview is None
                    and w.session.shown.responsibilities is not None, timeout=TIMEOUT)
    w.redraw()
    edited = w.current_snapshot()
    objective = float(np.min(((x[:, None, :] - edited.params.means[None]) ** 2).sum(axis=2), axis=1).sum())
    assert edited.log_likelihood == pytest.approx(-objective / len(x))
    assert w.status_label.text().startswith(f"iteration {edited.iteration}: edited by hand · "
                                            f"WCSS/N {objective / len(x):.5f} · ")
    xs, ys, kinds = lv.curve_data()
    assert kinds[-1] == "edit" and ys[-1] == pytest.approx(-objective / len(x))
    labels = nearest_centre(x, edited.params.means)
    assert drawn_counts(w) == [f"{c:.0f}" for c in np.bincount(labels, minlength=3)]
    assert "edited by hand: its −WCSS/N" in lv.legend_texts()
    assert w.history_label.text() == f"{n_before + 1}/{n_before + 1}: it. {edited.iteration} edit (live)"

    # Step: K-means assigns from the moved centres, then updates
    step(qtbot, w)
    after = w.history()[n_before + 1:]
    assert [type(s).__name__ for s in after] == ["KMeansSnapshot"] * 2
    w.redraw()
    assert w.history_label.text().endswith(f"it. {after[1].iteration} update (live)")
    np.testing.assert_array_equal(after[0].params.means, edited.params.means)
    assert after[0].log_likelihood == pytest.approx(-objective / len(x))
    assert w.session.settings.covariance_type == "full"  # EM's choice is untouched
    # back to EM: the curve is named for EM again
    combo.setCurrentIndex(combo.findData("em"))
    click(qtbot, w.panel.reset_button)
    assert lv.legend_texts()[:2] == ["after E: log-likelihood (bound tight)",
                                     "after M: Jensen lower bound (raised)"]
    assert lv.plot_item.getAxis("left").labelText == "mean log-likelihood"
    assert lv.plot_item.getAxis("bottom").labelText == "iteration (E-step at t − ½, M-step at t)"
    step(qtbot, w)
    assert w.data_view.handles.covariance_type == "full" and handles.axis_item.isVisible()
