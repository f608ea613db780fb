"""Journeys with 1-D data: the Points box splits the bins (γ, hard labels, unsure share, true
classes), the true mixture is drawn dotted, View › Density says why it is off, the legend sits
above the data, and Tools › Compare K-means and EM draws two histograms."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.density import density_1d, stacked_histogram
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings
from tests.ui.journey import TIMEOUT, click, choose

SETTINGS = FitSettings(n_components=2, init_params="kmeans", seed=3, tol=1e-6, max_iter=200)
TRUTH = MixtureParams("full", np.array([250 / 600, 350 / 600]), np.array([[2.0], [4.5]]),
                      np.array([[[0.09]], [[0.25]]]))


def one_d(labels: bool = True):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(2.0, 0.3, 250), rng.normal(4.5, 0.5, 350)])[:, None]
    classes = np.repeat(["short", "long"], [250, 350]) if labels else None
    return dataset_from_array(x, columns=["eruptions"], labels=classes, source="eruptions.csv")






def drawn(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.session.shown.responsibilities is not None, timeout=TIMEOUT)
    window.redraw()
    qtbot.waitUntil(window.histogram_drawing.up_to_date, timeout=TIMEOUT)
    window.redraw()


def bars(view):
    return [(np.asarray(b.opts["height"]), b.opts["brush"].color().getRgb()[:3]) for b in view.split_bars]


def fitted(qtbot, window):
    window.session.set_dataset(one_d(), TRUTH)
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        click(qtbot, window.panel.run_button)
    drawn(qtbot, window)
    return window.histogram_panel.view


def test_points_modes_split_the_bins_their_own_way(make_window, qtbot):
    w = make_window(settings=SETTINGS)
    view = fitted(qtbot, w)
    x = w.session.x[:, 0]
    gamma = w.session.shown.responsibilities
    combo = w.panel.color_combo

    _, soft = stacked_histogram(x, view.edges, gamma)
    assert [h for h, _ in bars(view)] and np.allclose([h for h, _ in bars(view)], soft)

    choose(qtbot, combo, "hard")
    drawn(qtbot, w)
    onehot = np.eye(2)[gamma.argmax(axis=1)]
    np.testing.assert_allclose([h for h, _ in bars(view)], stacked_histogram(x, view.edges, onehot)[1])

    choose(qtbot, combo, "uncertainty")
    drawn(qtbot, w)
    assert len(view.split_bars) == 3
    top = gamma.max(axis=1)
    unsure = stacked_histogram(x, view.edges, (1.0 - top)[:, None])[1][0]
    heights, colour = bars(view)[2]
    np.testing.assert_allclose(heights, unsure)
    assert colour[0] == colour[1] == colour[2]  # the unsure share is grey
    assert "unsure: 1 − max γ" in view.legend_texts()

    choose(qtbot, combo, "truth")
    drawn(qtbot, w)
    classes = np.asarray(w.session.dataset.labels).astype(str)
    by_class = {name: stacked_histogram(x[classes == name], view.edges)[0] * (classes == name).mean()
                for name in ("short", "long")}
    texts = [t for t in view.legend_texts() if t.startswith(("short", "long"))]
    assert len(texts) == 2 and all("(component " in t for t in texts)
    for (heights, _), text in zip(bars(view), texts):
        np.testing.assert_allclose(heights, by_class[text.split()[0]], atol=1e-12)
    # the class matched to a component wears its colour: the same as that component's curve
    first = texts[0]
    k = int(first.split("(component ")[1].rstrip(")")) - 1
    assert bars(view)[0][1] == view.components[k].curve.opts["pen"].color().getRgb()[:3]


def test_the_true_mixture_is_drawn_dotted_and_the_menu_hides_it(make_window, qtbot):
    w = make_window(settings=SETTINGS)
    view = fitted(qtbot, w)
    curve = view.truth_curve
    assert curve.isVisible() and curve.opts["pen"].style() == Qt.PenStyle.DotLine
    np.testing.assert_allclose(curve.yData, density_1d(TRUTH, curve.xData).mixture)
    assert "true mixture (dotted)" in view.legend_texts()
    w.truth_action.trigger()  # View › Show the true mixture
    assert not curve.isVisible()
    w.truth_action.trigger()
    assert curve.isVisible()
    w.session.set_dataset(one_d(labels=False))  # a file: no truth
    w.redraw()
    assert not curve.isVisible() and "true mixture (dotted)" not in view.legend_texts()


def test_view_density_says_why_it_is_off_in_1d(make_window, blobs, qtbot):
    w = make_window(dataset=one_d(), settings=SETTINGS)
    action = w.teaching.density_action
    assert not action.isEnabled()
    assert action.toolTip() == ("In 1-D the mixture density p(x) is already drawn: the dashed curve "
                                "over the histogram")
    w.set_dataset(blobs())
    assert action.isEnabled() and action.toolTip().startswith("Shade the log density")


def test_the_legend_sits_above_the_data(make_window, qtbot):
    w = make_window(settings=SETTINGS)
    view = fitted(qtbot, w)
    qtbot.waitExposed(view)
    box = view.getPlotItem().getViewBox().sceneBoundingRect()
    legends = [lg for lg in view.legend_strip.legends if lg.isVisible() and lg.items]
    assert legends
    for legend in legends:
        assert legend.sceneBoundingRect().bottom() <= box.top() + 1
    assert view.legend_texts()[:4] == ["mixture p(x)", "true mixture (dotted)", "component 1", "component 2"]


def test_compare_kmeans_and_em_in_1d_draws_two_histograms(make_window, qtbot):
    w = make_window(dataset=one_d(), settings=SETTINGS)
    w.teaching.compare_action.trigger()  # Tools › Compare K-means and EM
    dialog = w.teaching.compare_dialog
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=TIMEOUT)
    assert not dialog.kmeans_view.isVisible() and not dialog.em_view.isVisible()
    km, em = dialog.kmeans_histogram, dialog.em_histogram
    assert km.isVisible() and em.isVisible()
    c = dialog.result.comparison
    x = w.session.x[:, 0]
    for view, snap in ((km, c.kmeans), (em, c.em)):
        hard = np.eye(2)[snap.responsibilities.argmax(axis=1)]
        np.testing.assert_allclose([h for h, _ in bars(view)], stacked_histogram(x, view.edges, hard)[1])
        assert view.getPlotItem().getAxis("bottom").labelText == "eruptions"
    assert km.components == [] and len(em.components) == 2  # K-means draws no densities
    assert "mixture p(x)" not in km.legend_texts() and "mixture p(x)" in em.legend_texts()
    np.testing.assert_allclose(em.mixture_curve.yData, density_1d(c.em.params, em.mixture_curve.xData).mixture)
    centres = np.sort(c.kmeans.params.means[:, 0])
    lines = sorted(line.value() for line in dialog.kmeans_lines)
    np.testing.assert_allclose(lines, sorted([*centres, centres.mean()]))
    note = dialog.note.text()
    assert "halfway between neighbouring centres" in note
    assert "circles" not in note and "orientation" not in note
    assert dialog.kmeans_label.text().startswith("K-means") and "ARI" in dialog.kmeans_label.text()
    dialog.close()


def test_the_density_axis_shrinks_back_after_a_narrow_start(shown):
    from gmm_studio.ui.histogram_view import HistogramView

    view = shown(HistogramView(), 700, 420)
    x = np.asarray(one_d().values)[:, 0]
    view.set_data(x, "eruptions")
    spike = MixtureParams("full", TRUTH.weights, TRUTH.means, np.full((2, 1, 1), 1e-6))
    view.show_params(spike)
    top = lambda: view.getPlotItem().getViewBox().viewRange()[1][1]  # noqa: E731
    assert top() > 100  # the spike is shown whole
    view.show_params(TRUTH)
    peak = float(np.max(view.mixture_curve.yData))
    assert peak < top() < 2 * peak  # framed to the fitted curve again, not to the spike


def test_kmeans_in_1d_draws_centres_and_bins_but_no_densities(make_window, qtbot):
    w = make_window(dataset=one_d(labels=False), settings=SETTINGS.replace(algorithm="kmeans"))
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.run_button)
    drawn(qtbot, w)
    view = w.histogram_panel.view
    assert not view.mixture_curve.isVisible()
    assert all(not c.curve.isVisible() and not c.one_sigma.isVisible() for c in view.components)
    assert all(c.mean.isVisible() for c in view.components)
    assert view.legend_texts()[0] == "K-means centre: each point joins its nearest (no σ)"
    labels = w.session.shown.responsibilities.argmax(axis=1)
    x = w.session.x[:, 0]
    np.testing.assert_allclose([h for h, _ in bars(view)],
                               stacked_histogram(x, view.edges, np.eye(2)[labels])[1])
    choose(qtbot, w.panel.algorithm_combo, "em")
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, w.panel.run_button)
    drawn(qtbot, w)
    assert view.mixture_curve.isVisible() and view.legend_texts()[0] == "mixture p(x)"
