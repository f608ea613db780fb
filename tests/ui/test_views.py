"""The likelihood and data views draw what they are told, every time (what is drawn, not fields)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent

from gmm_studio.core.em import em_steps
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.likelihood_view import LikelihoodView, half_step_x


def _blobs(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal((-3, 0), 0.6, (150, 2)), rng.normal((3, 1), 0.8, (150, 2))])


def _snapshots(restart: int = 0, seed: int = 0, max_iter: int = 30) -> list:
    x = _blobs(seed)
    start = MixtureParams("full", [0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], np.tile(np.eye(2), (2, 1, 1)))
    return list(em_steps(x, start, restart=restart, max_iter=max_iter))


def _drawn(snaps) -> tuple[np.ndarray, np.ndarray]:
    kept = [s for s in snaps if s.half_step != "init"]
    y = [s.log_likelihood if s.half_step == "E" else s.lower_bound for s in kept]
    return np.array([half_step_x(s) for s in kept]), np.array(y)


@pytest.fixture
def likelihood_view(qtbot):
    view = LikelihoodView()
    qtbot.addWidget(view)
    view.resize(600, 260)
    view.show()
    qtbot.waitExposed(view)
    return view


def _plotted_lines(view: LikelihoodView) -> list[pg.PlotDataItem]:
    """The curve items that are in the plot, visible and hold data."""
    return [item for item in view.plot_item.listDataItems()
            if isinstance(item, pg.PlotDataItem) and item.isVisible() and item.getData()[0] is not None
            and len(item.getData()[0])]


def _pixel_column_has(image, widget, x_view: float, rgb: tuple[int, int, int], tol: int = 30) -> bool:
    """Whether some pixel of the column at data x = ``x_view`` has about colour ``rgb``."""
    vb = widget.getPlotItem().getViewBox()
    px = widget.mapFromScene(vb.mapViewToScene(QPointF(x_view, vb.viewRange()[1][0])))
    top = widget.mapFromScene(vb.mapViewToScene(QPointF(x_view, vb.viewRange()[1][1])))
    dpr = image.devicePixelRatio()
    col = int(round(px.x() * dpr))
    for dx in (-1, 0, 1):
        for row in range(int(top.y() * dpr) + 1, int(px.y() * dpr) - 1):
            c = image.pixelColor(col + dx, row)
            if max(abs(c.red() - rgb[0]), abs(c.green() - rgb[1]), abs(c.blue() - rgb[2])) <= tol:
                return True
    return False


def test_curve_convergence_and_cursor_are_drawn_again_after_a_reset(likelihood_view, qtbot):
    view = likelihood_view
    first = _snapshots(seed=0)
    for s in first:
        view.append(s)
    view.refresh()
    assert len(_plotted_lines(view)) == 1

    view.reset()
    view.refresh()
    assert _plotted_lines(view) == []  # nothing of the first fit is left
    assert view.converged_x is None and view.cursor_x is None

    second = _snapshots(seed=3)
    for s in second:
        view.append(s)
    view.set_converged(half_step_x(second[-1]))
    view.set_cursor(3.0)
    view.refresh()

    lines = _plotted_lines(view)
    assert len(lines) == 1
    x_expected, y_expected = _drawn(second)
    x, y = lines[0].getData()
    np.testing.assert_allclose(x, x_expected)
    np.testing.assert_allclose(y, y_expected)
    x_read, y_read, kinds = view.curve_data(0)
    np.testing.assert_allclose(y_read, y_expected)
    assert kinds == [s.half_step for s in second if s.half_step != "init"]
    assert view.converged_x == half_step_x(second[-1])
    assert view.cursor_x == 3.0

    image = view.grab().toImage()
    assert _pixel_column_has(image, view, half_step_x(second[-1]), (0, 140, 0))  # green dashed line
    assert _pixel_column_has(image, view, 3.0, (120, 120, 120), tol=12)  # grey cursor


def test_clear_as_the_window_calls_it_keeps_the_items_in_the_plot(likelihood_view):
    view = likelihood_view
    for s in _snapshots():
        view.append(s)
    view.refresh()
    view.clear()  # the window's Reset; must not be PlotItem.clear
    for s in _snapshots(seed=1):
        view.append(s)
    view.set_converged(2.0)
    view.refresh()
    assert len(_plotted_lines(view)) == 1
    assert view.converged_x == 2.0


def test_each_restart_has_its_own_curve_and_reset_forgets_all(likelihood_view):
    view = likelihood_view
    for r in range(3):
        for s in _snapshots(restart=r, seed=r):
            view.append(s)
    view.refresh()
    assert view.n_restarts == 3 and len(_plotted_lines(view)) == 3
    view.reset()
    for s in _snapshots(restart=0, seed=5):
        view.append(s)
    view.refresh()
    assert view.n_restarts == 1
    np.testing.assert_allclose(view.curve_data(0)[1], _drawn(_snapshots(restart=0, seed=5))[1])
    assert len(view.curve_data(1)[0]) == 0


def test_the_likelihood_legend_sits_above_the_data_area(likelihood_view):
    view = likelihood_view
    for s in _snapshots():
        view.append(s)
    view.refresh()
    legend = view.legend_strip.legend
    assert "after E" in " ".join(view.legend_strip.texts())
    vb_rect = view.plot_item.getViewBox().sceneBoundingRect()
    assert not legend.sceneBoundingRect().intersects(vb_rect)
