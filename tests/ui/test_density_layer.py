"""The density layer of the data view: log p(x) under the points, recomputed only on change."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_studio.core.density import density_grid
from gmm_studio.core.geometry import Projection
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.colors import component_palette
from gmm_studio.ui.data_view import DataView


def _params(shift: float = 0.0) -> MixtureParams:
    return MixtureParams("full", np.array([0.3, 0.7]), np.array([[-2.0 + shift, 0.0], [2.0, 1.0]]),
                         np.array([np.eye(2), [[1.0, 0.4], [0.4, 0.5]]]))


@pytest.fixture
def view(shown):
    view = shown(DataView())
    rng = np.random.default_rng(0)
    view.set_points(rng.normal(size=(300, 2)) * 2.0, ("x", "y"))
    view.set_palette(component_palette(2))
    return view


def _bounds(view):
    (x0, x1), (y0, y1) = view.plot_item.getViewBox().viewRange()
    return x0, x1, y0, y1


def test_the_layer_shows_log_p_over_the_visible_range_under_the_points(view):
    view.set_density_params(_params())
    assert not view.density.image.isVisible()  # off until the View toggle turns it on
    view.set_density_visible(True)
    image = view.density.image
    assert image.isVisible() and image.zValue() < view.cloud.item.zValue()
    expected = density_grid(_params(), _bounds(view), (200, 200)).log_density
    assert np.allclose(image.image, expected)
    rect = image.mapRectToParent(image.boundingRect())
    x0, x1, y0, y1 = _bounds(view)
    assert rect.left() <= x0 < x1 <= rect.right() and rect.top() <= y0 < y1 <= rect.bottom()
    assert any("log p(x), the mixture's density" in t for t in view.legend_texts())
    view.set_density_visible(False)
    assert not image.isVisible()
    assert not any("log p" in t for t in view.legend_texts())


def test_an_identical_call_does_no_work_and_a_change_of_model_or_range_does(view, qtbot):
    view.set_density_visible(True)
    view.set_density_params(_params())
    first = view.density_revision
    view.set_density_params(_params())  # equal values, a new object: what every redraw passes
    assert view.density_revision == first
    view.set_density_params(_params(shift=0.5))
    assert view.density_revision == first + 1
    x0, x1, y0, y1 = _bounds(view)
    vb = view.plot_item.getViewBox()
    vb.setRange(xRange=(x0 - 1, x1 + 1), yRange=(y0, y1), padding=0)
    vb.setRange(xRange=(x0 - 2, x1 + 2), yRange=(y0, y1), padding=0)  # a pan: coalesced into one
    qtbot.waitUntil(lambda: view.density_revision == first + 2, timeout=2000)
    with qtbot.assertNotEmitted(vb.sigRangeChanged, wait=50):
        pass
    assert view.density_revision == first + 2
    expected = density_grid(_params(shift=0.5), _bounds(view), (200, 200)).log_density
    assert np.allclose(view.density.image.image, expected)


def test_a_hidden_layer_computes_nothing_until_it_is_shown(view):
    view.set_density_params(_params())
    view.set_density_params(_params(shift=1.0))
    assert view.density_revision == 0
    view.set_density_visible(True)
    assert view.density_revision == 1
    assert np.allclose(view.density.image.image,
                       density_grid(_params(shift=1.0), _bounds(view), (200, 200)).log_density)


def test_a_projected_mixture_says_so_in_the_legend(view):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 3)) * [2.0, 1.0, 0.3]
    projection = Projection.pca(x)
    params = MixtureParams("diag", np.array([0.5, 0.5]), np.array([[-1.0, 0, 0], [1.0, 0.5, 0.1]]),
                           np.array([[1.0, 0.5, 0.2], [0.3, 0.3, 0.3]]))
    view.set_density_visible(True)
    view.set_density_params(params, projection)
    assert any("density of the projected mixture in this plane" in t for t in view.legend_texts())
    expected = density_grid(params, _bounds(view), (200, 200), projection).log_density
    assert np.allclose(view.density.image.image, expected)


def test_a_collapsed_component_hides_the_shading_and_says_why(view):
    bad = MixtureParams("full", np.array([0.5, 0.5]), np.zeros((2, 2)), np.array([np.eye(2), np.zeros((2, 2))]))
    view.set_density_visible(True)
    view.set_density_params(bad)
    assert not view.density.image.isVisible()
    assert any("not positive definite" in t for t in view.legend_texts())
    view.set_density_params(_params())
    assert view.density.image.isVisible()
    assert not any("not positive definite" in t for t in view.legend_texts())


def test_the_shading_is_darkest_at_the_heavier_component(view, qtbot):
    view.set_density_visible(True)
    view.set_density_params(_params())
    view.set_colors(np.full(300, 0x00000000, dtype=np.uint32))  # clear points: look at the shading only
    image = view.grab().toImage()
    vb = view.plot_item.getViewBox()

    def brightness(xy):
        from PySide6.QtCore import QPointF

        pos = view.mapFromScene(vb.mapViewToScene(QPointF(*xy)))
        dpr = image.devicePixelRatio()
        r, g, b, _ = image.pixelColor(int(pos.x() * dpr), int(pos.y() * dpr)).getRgb()
        return r + g + b

    far = brightness((0.0, -3.5))
    assert brightness((2.0, 1.0)) < brightness((-2.0, 0.0)) < far
    assert far > 700  # next to no density: the white background shows through
