"""The bound plot fits its dock at the default width (340 px): the whole slice s ∈ [−0.5, 1.5],
the markers and the gap label inside the data area, the headline and the legend uncut — after
Step E and after Step M."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt

from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState

TIMEOUT = 30_000
SETTINGS = FitSettings(n_components=4, init_params="kmeans", seed=1)


def inside(inner: QRectF, outer: QRectF, slack: float = 0.5) -> bool:
    return outer.adjusted(-slack, -slack, slack, slack).contains(inner)


def assert_fits(panel, dock) -> None:
    view = panel.view
    plot = view.getPlotItem()
    vb = plot.getViewBox()
    # the plot is no wider than the dock shows it
    assert view.minimumSizeHint().width() <= dock.width()
    assert view.mapTo(dock, view.rect().topRight()).x() <= dock.width()
    area = vb.sceneBoundingRect()
    assert inside(area, QRectF(view.viewport().rect()))
    # the whole slice is in view, and every mark inside the data area
    s = view.likelihood_curve.getData()[0]
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= s[0] and s[-1] <= x1 and (s[0], s[-1]) == (-0.5, 1.5)
    for marker in (view.touch_marker, view.max_marker):
        xs, ys = marker.getData()
        assert area.contains(vb.mapViewToScene(QPointF(xs[0], ys[0])))
    assert inside(view.gap_label.sceneBoundingRect(), area)
    # the legend and the headline are not cut
    for legend in plot.childItems():
        if legend.__class__.__name__ == "LegendItem" and legend.isVisible():
            assert inside(legend.sceneBoundingRect(), plot.sceneBoundingRect())
    assert set(view.legend_texts()) >= {"log-likelihood L", "lower bound B"}
    headline = panel.headline
    assert headline.fontMetrics().horizontalAdvance(headline.text()) <= headline.width()


def test_the_bound_plot_fits_its_dock_after_step_e_and_step_m(make_window, qtbot):
    w = make_window(settings=None)
    w.load_demo()
    w.panel.set_settings(SETTINGS)
    w.teaching.bound_action.trigger()
    dock = w.teaching.bound_dock
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert abs(dock.width() - 340) <= 12  # the default width
    panel = w.teaching.bound_panel
    for button, after in ((w.panel.step_e_button, "E-step"), (w.panel.step_m_button, "M-step")):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.session.state is RunState.PAUSED, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: after in panel.headline.text(), timeout=TIMEOUT)
        qtbot.waitUntil(lambda: panel.view.bound_curve.isVisible(), timeout=TIMEOUT)
        assert_fits(panel, dock)
    assert "L rose" in panel.status.text()
