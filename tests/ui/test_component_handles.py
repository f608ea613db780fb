"""Direct manipulation in the data view: drag a mean marker or an axis handle (pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from gmm_studio.core.editing import edit_component, principal_axes
from gmm_studio.core.geometry import Projection, ellipse_outline
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.colors import component_palette
from gmm_studio.ui.data_view import DataView

MEANS = np.array([[-2.0, 0.0], [2.0, 1.0]])
COVS = np.array([np.eye(2), np.diag([1.0, 0.25])])


@pytest.fixture
def view(shown):
    view = shown(DataView())
    rng = np.random.default_rng(0)
    view.set_points(rng.normal(size=(200, 2)) * 2.5, ("x", "y"))
    view.set_palette(component_palette(2))
    view.show_components(MEANS, COVS)
    view.set_editing("full")
    return view


class Recorder:
    def __init__(self, view: DataView) -> None:
        self.events: list[tuple] = []
        view.component_edit_started.connect(lambda k: self.events.append(("started", k)))
        view.component_dragged.connect(lambda k, m, c: self.events.append(("dragged", k, m, c)))
        view.component_edit_finished.connect(lambda k, m, c: self.events.append(("finished", k, m, c)))

    def of(self, kind: str) -> list[tuple]:
        return [e for e in self.events if e[0] == kind]


def _widget_pos(view: DataView, xy) -> QPointF:
    vb = view.plot_item.getViewBox()
    return QPointF(view.mapFromScene(vb.mapViewToScene(QPointF(*xy))))


def _data_at(view: DataView, pos: QPointF) -> np.ndarray:
    p = view.plot_item.getViewBox().mapSceneToView(view.mapToScene(pos.toPoint()))
    return np.array([p.x(), p.y()])


def _press_and_move(mouse, start, end, steps: int = 6) -> tuple[QPointF, QPointF]:
    """Press the left button at data point ``start`` and move to ``end``; returns both widget positions."""
    p0, p1 = _widget_pos(mouse.view, start), _widget_pos(mouse.view, end)
    mouse.press_and_move(p0, p1, steps)
    return p0, p1


def _drag(mouse, start, end, steps: int = 6) -> tuple[QPointF, QPointF]:
    p0, p1 = _press_and_move(mouse, start, end, steps)
    mouse.release(p1)
    return p0, p1


def _outline(view: DataView, k: int, radius_index: int = 0) -> np.ndarray:
    item = view.ellipse_items(radius_index)[k]
    return np.column_stack([item.xData, item.yData])


def test_dragging_a_mean_moves_its_ellipses_and_emits_the_edit(view, qtbot, mouse):
    record = Recorder(view)
    other_before = _outline(view, 0).copy()
    with qtbot.waitSignal(view.component_edit_finished, timeout=2000):
        p0, p1 = _drag(mouse(view), MEANS[1], (3.0, 2.5), steps=20)
    moved = _data_at(view, p1) - _data_at(view, p0)
    expected = MEANS[1] + moved
    assert record.events[0] == ("started", 1)
    _, k, mean, cov = record.of("finished")[0]
    assert k == 1 and np.allclose(mean, expected) and np.allclose(cov, COVS[1])
    # throttled: the leading move at once, the rest coalesced (no event loop ran in between)
    assert 1 <= len(record.of("dragged")) < 20
    assert record.of("dragged")[0][1] == 1
    # what is drawn: both of component 2's outlines and its marker moved, component 1 did not
    assert np.allclose(_outline(view, 1), ellipse_outline(expected, COVS[1], 1.0, 100))
    assert np.allclose(_outline(view, 1, 1), ellipse_outline(expected, COVS[1], 2.0, 100))
    assert np.allclose(view.means_item.data["x"][1], expected[0])
    assert np.array_equal(_outline(view, 0), other_before)


def test_no_dragged_signal_arrives_after_the_edit_finished(view, qtbot, mouse):
    record = Recorder(view)
    p0, p1 = _drag(mouse(view), MEANS[0], (-1.0, 1.0))
    # let the throttle's timer run out: a pending emission must have been cancelled
    with qtbot.assertNotEmitted(view.component_dragged, wait=100):
        pass
    assert record.events[-1][0] == "finished"


def test_dragging_an_axis_handle_sets_that_axis_length_and_angle(view, qtbot, mouse):
    record = Recorder(view)
    handle = view.handles.handle_positions()[1, 0]  # the long axis: (3, 1)
    assert np.allclose(handle, MEANS[1] + [1.0, 0.0])
    target = MEANS[1] + [0.0, 2.0]  # turn it upright and double it
    with qtbot.waitSignal(view.component_edit_finished, timeout=2000):
        p0, p1 = _drag(mouse(view), handle, target)
    pointer = _data_at(view, p1) + (handle - _data_at(view, p0))  # the grab offset is kept
    _, k, mean, cov = record.of("finished")[0]
    lengths, directions = principal_axes(cov)
    offset = pointer - MEANS[1]
    assert k == 1 and np.allclose(mean, MEANS[1])
    assert np.isclose(lengths[0], np.hypot(*offset))
    assert np.isclose(abs(directions[0] @ offset) / np.hypot(*offset), 1.0)
    assert np.isclose(lengths[1], 0.5)  # the other axis keeps its length
    assert abs(np.degrees(np.arctan2(directions[0][1], directions[0][0]))) == pytest.approx(90, abs=3)
    # drawn: the 1σ outline reaches up to the pointer, and the handle followed it
    assert _outline(view, 1)[:, 1].max() == pytest.approx(pointer[1], abs=1e-6)
    assert np.allclose(view.handles.handle_positions()[1, 0], pointer)


def test_a_diag_component_stretches_but_cannot_be_rotated(view, qtbot, mouse):
    view.set_editing("diag")
    record = Recorder(view)
    handle = view.handles.handle_positions()[1, 0]
    with qtbot.waitSignal(view.component_edit_finished, timeout=2000):
        p0, p1 = _drag(mouse(view), handle, MEANS[1] + [2.0, 1.5])
    _, _, _, cov = record.of("finished")[0]
    pointer = _data_at(view, p1) + (handle - _data_at(view, p0))
    assert cov[0, 1] == 0.0 and cov[1, 0] == 0.0
    assert np.isclose(cov[0, 0], (pointer[0] - MEANS[1][0]) ** 2)
    assert np.isclose(cov[1, 1], COVS[1][1, 1])
    outline = _outline(view, 1)
    assert np.isclose(outline[:, 1].max() - MEANS[1][1], 0.5)  # still upright: y reach unchanged


def test_a_spherical_component_stays_round(view, qtbot, mouse):
    view.show_components(MEANS, np.array([np.eye(2), 0.25 * np.eye(2)]))
    view.set_editing("spherical")
    record = Recorder(view)
    with qtbot.waitSignal(view.component_edit_finished, timeout=2000):
        _drag(mouse(view), view.handles.handle_positions()[1, 0], MEANS[1] + [1.5, 0.5])
    cov = record.of("finished")[0][3]
    assert np.isclose(cov[0, 0], cov[1, 1]) and np.isclose(cov[0, 1], 0.0) and cov[0, 0] > 1.0


def test_hovering_a_tied_handle_says_every_component_changes(view, qtbot, mouse):
    view.set_editing("tied")
    vb = view.plot_item.getViewBox()
    pos = _widget_pos(view, view.handles.handle_positions()[0, 0])
    mouse(view).move(pos)
    qtbot.waitUntil(lambda: "reshapes them all" in vb.toolTip(), timeout=2000)


def test_with_editing_off_a_drag_on_a_mean_pans_and_edits_nothing(view, qtbot, mouse):
    view.set_editing(None)
    record = Recorder(view)
    before = view.plot_item.getViewBox().viewRange()
    _drag(mouse(view), MEANS[1], (3.0, 2.0))
    assert record.events == []
    assert view.plot_item.getViewBox().viewRange() != before
    assert not view.handles.axis_item.isVisible()
    assert np.allclose(_outline(view, 1), ellipse_outline(MEANS[1], COVS[1], 1.0, 100))


def test_a_redraw_of_the_old_model_mid_drag_does_not_snap_the_component_back(view, mouse):
    record = Recorder(view)
    p0, p1 = _press_and_move(mouse(view), MEANS[1], (3.0, 2.0))
    dragged_outline = _outline(view, 1).copy()
    view.show_components(MEANS, COVS)  # the window's timer drawing the model from before the drag
    assert np.array_equal(_outline(view, 1), dragged_outline)
    mouse(view).release(p1)
    view.show_components(MEANS, COVS)  # after the drag the model is drawn again
    assert np.allclose(_outline(view, 1), ellipse_outline(MEANS[1], COVS[1], 1.0, 100))
    assert record.of("finished")


def test_an_edit_in_a_pca_plane_reaches_the_3d_model_as_the_window_applies_it(qtbot, mouse, shown):
    """What the window does with the signals: edit_component through the view's projection."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3)) * [3.0, 1.0, 0.5]
    projection = Projection.pca(x)
    params = MixtureParams("full", np.array([0.5, 0.5]), np.array([[-3.0, 0.0, 0.0], [3.0, 0.5, 0.2]]),
                           np.array([np.eye(3), np.diag([1.0, 0.5, 0.3])]))
    view = shown(DataView())
    view.set_points(projection.project_points(x), projection.axis_titles)
    view.set_palette(component_palette(2))
    means2, covs2 = projection.project_params(params)
    view.show_components(means2, covs2)
    view.set_editing("full")
    edited = {}

    def on_finished(k, mean2, cov2):
        edited["params"] = edit_component(params, k, mean2, cov2, projection)
        view.show_components(*projection.project_params(edited["params"]))

    view.component_edit_finished.connect(on_finished)
    with qtbot.waitSignal(view.component_edit_finished, timeout=2000) as blocker:
        _drag(mouse(view), means2[0], means2[0] + [1.0, 1.0])
    k, mean2, cov2 = blocker.args
    new_means2, new_covs2 = projection.project_params(edited["params"])
    assert np.allclose(new_means2[0], mean2) and np.allclose(new_covs2[0], cov2)
    assert np.allclose(edited["params"].means[1], params.means[1])
    assert np.allclose(_outline(view, 0), ellipse_outline(mean2, cov2, 1.0, 100))


def test_a_model_without_the_dragged_component_ends_the_drag(view, mouse):
    record = Recorder(view)
    p0, p1 = _press_and_move(mouse(view), MEANS[1], (3.0, 2.0))
    view.set_palette(component_palette(1))
    view.show_components(MEANS[:1], COVS[:1])  # e.g. a new run with K = 1 arrived
    assert view.handles.dragging is None and record.of("finished")[0][1] == 1
    mouse(view).move(p1 + QPointF(5, 5), pressed=True)
    mouse(view).release(p1)
    assert len(record.of("finished")) == 1
    assert np.allclose(_outline(view, 0), ellipse_outline(MEANS[0], COVS[0], 1.0, 100))
