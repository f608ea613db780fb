"""The likelihood and data views draw what they are told, every time (what is drawn, not fields)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

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


def _shown(qtbot, view, width: int, height: int):
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture
def likelihood_view(qtbot):
    return _shown(qtbot, LikelihoodView(), 600, 260)


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
    assert "after E" in " ".join(view.legend_strip.texts())
    vb_rect = view.plot_item.getViewBox().sceneBoundingRect()
    for legend in view.legend_strip.legends:
        assert not legend.sceneBoundingRect().intersects(vb_rect)


def test_the_edit_entry_is_in_the_legend_only_while_the_curve_holds_an_edit(likelihood_view):
    from dataclasses import replace

    view = likelihood_view
    snaps = _snapshots(max_iter=3)
    for s in snaps:
        view.append(s)
    view.refresh()
    assert not any("edited by hand" in text for text in view.legend_texts())  # nothing was edited
    edit = replace(snaps[-1].without_responsibilities(), half_step="init")
    view.append(edit, "edit")
    view.refresh()
    assert "edited by hand: its log-likelihood" in view.legend_texts()
    view.reset()
    view.refresh()
    assert not any("edited by hand" in text for text in view.legend_texts())


# ---------------------------------------------------------------------------------- data view
from gmm_studio.ui.colors import component_palette, true_label_colours  # noqa: E402
from gmm_studio.ui.data_view import DataView  # noqa: E402

CENTRES = np.array([[-3.0, 0.0], [3.0, 1.0], [0.0, 4.0]])


def _three_classes(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.vstack([rng.normal(c, 0.5, (n, 2)) for c in CENTRES])
    labels = np.repeat(np.array(["setosa", "versicolor", "virginica"], dtype=object), n)
    return x, labels


@pytest.fixture
def no_mouse_rate_limit():
    """pyqtgraph drops moves closer than 10 ms apart; synthetic moves come faster."""
    old = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    yield
    pg.setConfigOptions(mouseRateLimit=old)


@pytest.fixture
def data_view(qtbot):
    return _shown(qtbot, DataView(), 640, 520)


def _widget_pos(view, x: float, y: float):
    vb = view.plot_item.getViewBox()
    return view.mapFromScene(vb.mapViewToScene(QPointF(x, y)))


def _commonest_colour(image, pos, radius: int = 8) -> tuple[int, int, int]:
    """The most frequent colour near widget position ``pos`` that is not background or grid."""
    from collections import Counter

    dpr = image.devicePixelRatio()
    cx, cy = int(pos.x() * dpr), int(pos.y() * dpr)
    seen = Counter()
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            r, g, b, _ = image.pixelColor(cx + dx, cy + dy).getRgb()
            if max(r, g, b) - min(r, g, b) > 40:  # coloured, not white or grey
                seen[(r, g, b)] += 1
    return seen.most_common(1)[0][0]


def _move_mouse(view, pos) -> None:
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), view.viewport().mapToGlobal(QPointF(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    from PySide6.QtWidgets import QApplication

    QApplication.sendEvent(view.viewport(), event)


def _say_which_point(view):
    def on_hovered(index: int) -> None:
        if index >= 0:
            view.pointer.show_text(f"point {index + 1}")
    view.pointer.point_hovered.connect(on_hovered)


def test_the_hover_readout_stays_while_the_pointer_rests_on_a_point(data_view, no_mouse_rate_limit):
    view = data_view
    x, _ = _three_classes(n=30)
    view.set_points(x, ("x", "y"))
    view.cloud.refresh()
    _say_which_point(view)
    target = int(np.argmax(x[:, 1]))  # the top-most point: nobody near it
    pos = _widget_pos(view, *x[target])

    _move_mouse(view, pos)
    assert view.pointer.hovered_point == target
    assert view.pointer.item.isVisible()
    assert view.pointer.item.textItem.toPlainText() == f"point {target + 1}"
    # the read-out is drawn: the grab shows its white box with a grey border next to the point
    readout_rect = view.mapFromScene(view.pointer.item.sceneBoundingRect()).boundingRect()
    assert view.rect().contains(readout_rect)  # not cut off at the edge

    _move_mouse(view, pos + type(pos)(1, 0))  # a jitter of the resting hand
    assert view.pointer.item.isVisible() and view.pointer.item.textItem.toPlainText() == f"point {target + 1}"

    empty = _widget_pos(view, 0.0, -1.5)
    _move_mouse(view, empty)
    assert view.pointer.hovered_point is None and not view.pointer.item.isVisible()


def test_the_legend_does_not_cover_the_points_at_the_default_range(data_view):
    view = data_view
    x, _ = _three_classes()
    view.set_points(x, ("x", "y"))
    view.set_palette(component_palette(3))
    view.set_truth(CENTRES, np.tile(0.25 * np.eye(2), (3, 1, 1)))
    view.set_class_legend(["setosa", "versicolor", "virginica"], component_palette(3))
    view.cloud.refresh()
    vb = view.plot_item.getViewBox()
    lo, hi = x.min(axis=0), x.max(axis=0)
    points_rect = vb.mapViewToScene(pg.QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])).boundingRect()
    legends = [lg for lg in view.legend_strip.legends if lg.isVisible()]
    assert len(legends) == 2
    for legend in legends:
        assert not legend.sceneBoundingRect().intersects(points_rect)
        assert view.rect().contains(view.mapFromScene(legend.sceneBoundingRect()).boundingRect())
    # the points themselves are all inside the data area
    assert vb.sceneBoundingRect().contains(points_rect)


def test_true_labels_wear_the_colours_of_their_matched_components_and_are_named(data_view):
    view = data_view
    x, labels = _three_classes()
    palette = component_palette(3)
    # the fit numbered the clusters differently: setosa is component 3, versicolor 1, virginica 2
    assignments = np.repeat([2, 0, 1], 200)
    colours = true_label_colours(labels, palette, assignments)
    view.set_points(x, ("x", "y"))
    view.set_palette(palette)
    view.set_colors(colours.rgba)
    view.set_class_legend(colours.names, colours.rgb)
    view.cloud.refresh()

    image = view.grab().toImage()
    for centre, k in zip(CENTRES, [2, 0, 1]):
        assert _commonest_colour(image, _widget_pos(view, *centre)) == tuple(int(round(255 * c)) for c in palette[k])
    texts = view.legend_texts()
    for name, k in (("setosa", 3), ("versicolor", 1), ("virginica", 2)):
        assert f"{name} (component {k})" in texts
    # each class entry's dot is drawn in its class's colour
    samples = view.legend_strip.legends[1].items
    for (sample, label), rgb in zip(samples, colours.rgb):
        brush = sample.item.opts["brush"]
        assert brush.color().getRgb()[:3] == tuple(int(round(255 * c)) for c in rgb)

    view.set_class_legend(None)
    assert not any("setosa" in t for t in view.legend_texts())


def test_label_colours_without_a_fit_and_with_more_classes_than_components():
    x, labels = _three_classes(n=5)
    plain = true_label_colours(labels)
    assert plain.names == ("setosa", "versicolor", "virginica")
    np.testing.assert_allclose(plain.rgb, component_palette(3))
    palette = component_palette(2)
    with_outliers = np.append(labels, "-1")
    fit = true_label_colours(with_outliers, palette, np.append(np.repeat([0, 1, 1], 5), 0))
    assert fit.names[0] == "setosa (component 1)" and fit.names[-1] == "outliers"
    leftover = [n for n in fit.names if "no component" in n]
    assert len(leftover) == 1
    # the left-over class gets a colour no component uses
    k = fit.names.index(leftover[0])
    assert not any(np.allclose(fit.rgb[k], p) for p in palette)
    assert tuple(fit.rgba[-1][:3]) == (150, 150, 150)


def _tick_texts(view) -> list[str]:
    axis = view.plot_item.getAxis("left")
    (y0, y1) = view.plot_item.getViewBox().viewRange()[1]
    size = axis.size().height() if axis.orientation in ("left", "right") else axis.size().width()
    values = [v for _spacing, level in axis.tickValues(y0, y1, size) for v in level]
    return axis.tickStrings(values, axis.scale, axis.tickSpacing(y0, y1, size)[-1][0])


def test_a_flat_curve_is_not_zoomed_into_its_rounding(likelihood_view):
    from dataclasses import replace

    view = likelihood_view
    converged = _snapshots(max_iter=30)[-1].log_likelihood
    # a curve flat to 1e-13 (EM started at its fixed point): only rounding moves it
    for i, snapshot in enumerate(_snapshots(max_iter=3)):
        view.append(replace(snapshot, log_likelihood=converged + 1e-13 * i,
                            lower_bound=converged + 1e-13 * i))
    view.refresh()
    (y0, y1) = view.plot_item.getViewBox().viewRange()[1]
    assert y1 - y0 >= 1e-3 and y0 < converged < y1
    assert all(len(text.lstrip("-").replace(".", "")) <= 7 for text in _tick_texts(view))


def test_a_fit_after_a_long_one_or_a_given_model_gets_its_own_x_range(likelihood_view):
    view = likelihood_view
    for snapshot in _snapshots(max_iter=60):
        view.append(snapshot)
    view.refresh()
    assert view.plot_item.getViewBox().viewRange()[0][1] >= 4
    view.reset()  # e.g. a sweep cell shown: one given model, no iterations yet
    view.refresh()
    assert view.plot_item.getViewBox().viewRange()[0] == pytest.approx([0.0, 4.0])
    assert view.placeholder.isVisible()


def _tick_label_ink(view) -> int:
    """Dark pixels where the left axis draws its values (between its title and its line)."""
    axis = view.plot_item.getAxis("left")
    rect = view.mapFromScene(axis.parentItem().mapRectToScene(axis.geometry())).boundingRect()
    image = view.grab(rect.adjusted(rect.width() // 2, 0, -4, 0)).toImage()
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if image.pixelColor(x, y).lightness() < 160)


def test_the_plot_keeps_its_place_when_a_fit_s_first_values_arrive(likelihood_view, qtbot):
    # The empty view hides the axis values without giving up their room: a plot that widened
    # its axis at the first values was laid out and painted twice in that frame, the longest
    # GUI stall of a 1e6-point fit.  A person sees the frame of the plot stay put.
    view = likelihood_view
    box = view.plot_item.getViewBox()
    empty = box.sceneBoundingRect()
    for fit in range(2):  # a first fit, then Reset and another
        view.reset()
        view.refresh()
        qtbot.waitUntil(lambda: box.sceneBoundingRect() == empty)
        assert view.placeholder.isVisible()
        assert _tick_label_ink(view) == 0  # no values on a plain frame
        snapshots = _snapshots(seed=fit)
        for arriving in (snapshots[:2], snapshots[2:]):  # 'init' and the first E alone (Step E), then the rest
            for snapshot in arriving:
                view.append(snapshot)
            view.refresh()
            QApplication.sendPostedEvents()  # a relayout would be a posted LayoutRequest
            QApplication.processEvents()
            assert box.sceneBoundingRect() == empty
        assert not view.placeholder.isVisible()
        assert _tick_label_ink(view) > 30  # the values are drawn
        assert all(text for text in _tick_texts(view))
