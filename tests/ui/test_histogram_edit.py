"""Direct manipulation in the 1-D view: drag a mean marker or an end of its ±1σ interval."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from gmm_studio.core.density import density_1d
from gmm_studio.core.editing import edit_component
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.histogram_view import HistogramView

PARAMS = MixtureParams("full", np.array([0.4, 0.6]), np.array([[2.0], [4.5]]),
                       np.array([[[0.09]], [[0.16]]]))


@pytest.fixture
def view(shown):
    view = shown(HistogramView(), 700, 420)
    rng = np.random.default_rng(0)
    view.set_data(np.concatenate([rng.normal(2.0, 0.3, 200), rng.normal(4.5, 0.4, 300)]), "minutes")
    view.show_params(PARAMS)
    view.set_editing("full")
    return view


def _widget_pos(view, x: float, y: float) -> QPointF:
    vb = view.getPlotItem().getViewBox()
    return QPointF(view.mapFromScene(vb.mapViewToScene(QPointF(x, y))))


def _x_at(view, pos: QPointF) -> float:
    return view.getPlotItem().getViewBox().mapSceneToView(view.mapToScene(pos.toPoint())).x()


def _marker(view, k: int):
    item = view.components[k].mean
    return float(item.data["x"][0]), float(item.data["y"][0])


def test_dragging_a_mean_marker_moves_the_component_and_its_curves(view, qtbot, mouse):
    started, finished = [], []
    view.component_edit_started.connect(started.append)
    view.component_edit_finished.connect(lambda k, m, v: finished.append((k, m, v)))
    x, y = _marker(view, 0)
    p0 = _widget_pos(view, x, y)
    p1 = p0 + QPointF(60, 0)
    with qtbot.waitSignal(view.component_dragged, timeout=2000):
        mouse(view).drag(p0, p1)
    expected = 2.0 + _x_at(view, p1) - _x_at(view, p0)
    assert started == [0]
    k, mean, var = finished[0]
    assert k == 0 and mean.shape == (1,) and var.shape == (1, 1)
    assert mean[0] == pytest.approx(expected) and var[0, 0] == pytest.approx(0.09)
    # drawn: the marker, the ±1σ bar and the density curve moved with it
    assert _marker(view, 0)[0] == pytest.approx(expected)
    assert np.allclose(view.components[0].one_sigma.xData, [expected - 0.3, expected + 0.3])
    curve = view.components[0].curve
    edited = edit_component(PARAMS, 0, mean, var)
    assert np.allclose(curve.yData, density_1d(edited, curve.xData).weighted[0])


def test_dragging_an_interval_end_changes_sigma(view, qtbot, mouse):
    y = _marker(view, 1)[1]
    p0 = _widget_pos(view, 4.5 + 0.4, y)  # the upper end of the ±1σ interval
    p1 = p0 + QPointF(40, 0)
    with qtbot.waitSignal(view.component_edit_finished, timeout=2000) as blocker:
        mouse(view).drag(p0, p1)
    k, mean, var = blocker.args
    sigma = 0.4 + _x_at(view, p1) - _x_at(view, p0)
    assert k == 1 and mean[0] == pytest.approx(4.5)
    assert np.sqrt(var[0, 0]) == pytest.approx(sigma)
    assert np.allclose(view.components[1].one_sigma.xData, [4.5 - sigma, 4.5 + sigma])


def test_tied_interval_ends_say_every_component_changes_and_all_widen(view, qtbot, mouse):
    tied = MixtureParams("tied", PARAMS.weights, PARAMS.means, np.array([[0.09]]))
    view.show_params(tied)
    view.set_editing("tied")
    y = _marker(view, 0)[1]
    pos = _widget_pos(view, 2.0 - 0.3, y)
    mouse(view).move(pos)
    vb = view.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: "widens them all" in vb.toolTip(), timeout=2000)
    with qtbot.waitSignal(view.component_edit_finished, timeout=2000):
        mouse(view).drag(pos, pos - QPointF(30, 0))
    widths = [np.diff(c.one_sigma.xData)[0] for c in view.components]
    assert widths[0] == pytest.approx(widths[1]) and widths[0] > 0.6


def test_with_editing_off_nothing_can_be_dragged(view, qtbot, mouse):
    view.set_editing(None)
    x, y = _marker(view, 0)
    with qtbot.assertNotEmitted(view.component_edit_started):
        mouse(view).drag(_widget_pos(view, x, y), _widget_pos(view, x, y) + QPointF(60, 0))
    assert not view.components[0].ends.isVisible()
    assert np.allclose(view.components[0].one_sigma.xData, [1.7, 2.3])


def test_kmeans_centres_move_but_have_no_interval_ends_to_drag(view, qtbot, mouse):
    view.set_editing("centres")
    assert not any(c.ends.isVisible() for c in view.components)
    x, y = _marker(view, 1)
    p0 = _widget_pos(view, x, y)
    with qtbot.waitSignal(view.component_edit_finished, timeout=2000) as blocker:
        mouse(view).drag(p0, p0 - QPointF(50, 0))
    k, mean, var = blocker.args
    assert k == 1 and mean[0] == pytest.approx(4.5 + _x_at(view, p0 - QPointF(50, 0)) - _x_at(view, p0))
    assert var[0, 0] == pytest.approx(0.16)  # a centre keeps its spread
