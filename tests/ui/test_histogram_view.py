"""The 1-D data view: an area-one histogram, the component densities, stacked responsibilities."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gmm_studio.core.density import density_1d, freedman_diaconis_bins
from gmm_studio.core.em import EMData, em_steps
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.colors import component_palette
from gmm_studio.ui.histogram_view import HistogramPanel


def eruptions(n=400, seed=0):
    """Two bumps, like Old Faithful's eruption times."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(2.0, 0.3, int(0.35 * n)), rng.normal(4.3, 0.4, n - int(0.35 * n))])


def fitted(x):
    start = MixtureParams("full", [0.5, 0.5], [[1.5], [5.0]], [[[1.0]], [[1.0]]])
    *_, last = em_steps(x[:, None], start, max_iter=30)
    return last


@pytest.fixture
def panel(qtbot):
    p = HistogramPanel()
    qtbot.addWidget(p)
    p.resize(600, 400)
    return p


def bar_heights(item):
    return np.asarray(item.opts["height"], dtype=float), np.asarray(item.opts["width"], dtype=float)


def named(panel):
    return {item.name(): item for item in panel.view.getPlotItem().listDataItems() if item.name()}


def test_histogram_uses_freedman_diaconis_and_has_area_one(panel):
    x = eruptions()
    panel.set_data(x, "eruption (min)")
    assert panel.isEnabled()
    assert panel.bins_spin.value() == freedman_diaconis_bins(x)
    heights, widths = bar_heights(panel.view.histogram)
    assert len(heights) == panel.bins_spin.value()
    assert (heights * widths).sum() == pytest.approx(1.0)
    assert panel.view.getPlotItem().getAxis("bottom").labelText == "eruption (min)"


def test_bins_are_adjustable_and_the_rule_comes_back(qtbot, panel):
    x = eruptions()
    panel.set_data(x)
    rule = panel.bins_spin.value()
    panel.bins_spin.setValue(7)
    assert len(bar_heights(panel.view.histogram)[0]) == 7
    qtbot.mouseClick(panel.auto_button, Qt.MouseButton.LeftButton)
    assert panel.bins_spin.value() == rule
    assert len(bar_heights(panel.view.histogram)[0]) == rule


def test_component_densities_mixture_and_intervals_are_drawn_in_component_colours(panel):
    x = eruptions()
    snapshot = fitted(x)
    params = snapshot.params
    panel.set_data(x)
    panel.show_params(params, snapshot.responsibilities)
    items = named(panel)
    grid, mixture = items["mixture"].getData()
    expected = density_1d(params, grid)
    np.testing.assert_allclose(mixture, expected.mixture)
    palette = component_palette(2)
    sigmas = np.sqrt(params.covariances[:, 0, 0])
    for k in range(2):
        curve = items[f"component {k + 1}"]
        np.testing.assert_allclose(curve.getData()[1], expected.weighted[k])
        colour = curve.opts["pen"].color()
        assert (colour.red(), colour.green(), colour.blue()) == tuple(round(255 * c) for c in palette[k])
        component = panel.view.components[k]
        one_x, one_y = component.one_sigma.getData()
        two_x, _ = component.two_sigma.getData()
        mu = params.means[k, 0]
        np.testing.assert_allclose(one_x, [mu - sigmas[k], mu + sigmas[k]])
        np.testing.assert_allclose(two_x, [mu - 2 * sigmas[k], mu + 2 * sigmas[k]])
        assert np.all(one_y < 0)  # beneath the histogram, not over it


def test_responsibilities_are_stacked_per_bin(panel):
    x = eruptions()
    snapshot = fitted(x)
    panel.set_data(x)
    panel.show_params(snapshot.params, snapshot.responsibilities)
    total, _ = bar_heights(panel.view.histogram)
    assert len(panel.view.split_bars) == 2
    parts = [bar_heights(bar)[0] for bar in panel.view.split_bars]
    np.testing.assert_allclose(parts[0] + parts[1], total, atol=1e-12)
    np.testing.assert_allclose(panel.view.split_bars[1].opts["y0"], parts[0])
    # the left bump belongs to the component whose mean is on the left
    left = int(np.argmin(snapshot.params.means[:, 0]))
    assert parts[left][0] == pytest.approx(total[0])
    panel.show_params(snapshot.params, None)  # no responsibilities: plain grey bins
    assert panel.view.split_bars == []


def test_items_are_made_once_per_k(panel):
    x = eruptions()
    snapshot = fitted(x)
    panel.set_data(x)
    panel.show_params(snapshot.params, snapshot.responsibilities)
    before = list(panel.view.getPlotItem().items)
    panel.show_params(snapshot.params.with_means(snapshot.params.means + 0.1), snapshot.responsibilities)
    assert list(panel.view.getPlotItem().items) == before
    three = MixtureParams("spherical", [0.2, 0.3, 0.5], [[1.0], [2.0], [4.0]], [0.1, 0.2, 0.3])
    panel.show_params(three)
    assert [name for name in named(panel) if name.startswith("component")] == [
        "component 1", "component 2", "component 3"]


def test_wrong_dimensions_are_refused_with_a_message(panel):
    with pytest.raises(ValueError, match="one feature"):
        panel.set_data(np.zeros((10, 2)))
    panel.set_data(eruptions())
    with pytest.raises(ValueError, match="1-D"):
        panel.show_params(MixtureParams("spherical", [1.0], [[0.0, 0.0]], [1.0]))


def test_the_engine_fits_one_column(panel):
    # D = 1 end to end: EMData, EM and the view agree on shapes.
    x = eruptions()
    data = EMData(x[:, None], "diag")
    start = MixtureParams("diag", [0.5, 0.5], [[1.0], [5.0]], [[1.0], [1.0]])
    *_, last = em_steps(data, start, max_iter=50)
    panel.set_data(x)
    panel.show_params(last.params, last.responsibilities)
    assert sorted(np.round(last.params.means[:, 0], 1)) == pytest.approx([2.0, 4.3], abs=0.15)


def test_new_data_forget_the_old_model(panel):
    x = eruptions()
    snapshot = fitted(x)
    panel.set_data(x)
    panel.show_params(snapshot.params, snapshot.responsibilities)
    panel.set_data(eruptions(n=100, seed=3))
    assert not any(name.startswith("component") for name in named(panel))
    assert not named(panel)["mixture"].isVisible()
    heights, widths = bar_heights(panel.view.histogram)
    assert (heights * widths).sum() == pytest.approx(1.0)
