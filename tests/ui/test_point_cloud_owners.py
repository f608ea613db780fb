"""The owner path (colours for the visible owners only) draws exactly what the full path draws;
a view mapped in slices draws what one mapping draws; hovering finds the point drawn on top."""

from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_studio.ui import point_cloud
from gmm_studio.ui.colors import COLOR_MODES, component_palette, packed_colors
from gmm_studio.ui.point_cloud import PointCloud, Rasteriser
from gmm_studio.ui.raster import footprint

K = 5


@pytest.fixture
def plot_widget(qtbot):
    widget = pg.PlotWidget(background="w")
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _mixture(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points of K overlapping clusters and soft responsibilities for them."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 2.0, (K, 2))
    labels = rng.integers(0, K, n)
    xy = centres[labels] + rng.normal(0.0, 0.6, (n, 2))
    resp = rng.dirichlet(np.full(K, 0.3), n)
    return xy, resp


def _owner_colors(cloud: PointCloud, resp: np.ndarray, mode: str = "blend") -> bool:
    """What a window does per snapshot on the owner path (colours made here, not on a worker)."""
    palette = component_palette(K)
    owners = cloud.visible_owners()
    colors = packed_colors(resp, palette, mode, rows=owners.indices)
    source = functools.partial(_rows_source, resp, palette, mode)
    return cloud.set_owner_colors(owners.revision, colors, source)


def _rows_source(resp, palette, mode, rows):
    return packed_colors(resp, palette, mode, rows=rows)


def _grab(widget) -> bytes:
    image = widget.grab().toImage()
    return bytes(image.constBits())


@pytest.mark.parametrize("mode", COLOR_MODES)
def test_owner_path_draws_the_same_pixels_as_the_full_path(qtbot, plot_widget, mode):
    xy, resp = _mixture(100_000)
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.refresh()
    cloud.set_colors(packed_colors(resp, component_palette(K), mode))
    full = _grab(plot_widget)
    cloud.set_colors(np.zeros(len(xy), dtype=np.uint32))  # something else in between
    assert _grab(plot_widget) != full

    assert _owner_colors(cloud, resp, mode)

    assert _grab(plot_widget) == full
    assert 0 < len(cloud.visible_owners().indices) < len(xy) // 2  # far fewer rows coloured


def test_stale_owner_colours_are_dropped_and_the_new_view_is_still_right(qtbot, plot_widget):
    xy, resp = _mixture(50_000, seed=1)
    palette = component_palette(K)
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.refresh()
    before = cloud.visible_owners()
    made_for_old_view = packed_colors(resp, palette, rows=before.indices)
    vb = plot_widget.getPlotItem().getViewBox()
    vb.setRange(xRange=(-1.0, 2.0), yRange=(-1.5, 1.5), padding=0)
    cloud.refresh()
    assert cloud.visible_owners().revision != before.revision

    used = cloud.set_owner_colors(before.revision, made_for_old_view,
                                  functools.partial(_rows_source, resp, palette, "blend"))

    assert not used
    shown = _grab(plot_widget)
    cloud.set_colors(packed_colors(resp, palette))
    assert _grab(plot_widget) == shown


def test_owner_colours_follow_later_view_changes_and_exports(qtbot, plot_widget):
    xy, resp = _mixture(30_000, seed=2)
    palette = component_palette(K)
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.refresh()
    _owner_colors(cloud, resp)
    vb = plot_widget.getPlotItem().getViewBox()
    vb.setRange(xRange=(0.0, 3.0), yRange=(-2.0, 1.0), padding=0)
    cloud.refresh()  # new owners, coloured from the source
    owner_view = _grab(plot_widget)
    owner_export = cloud.render_export((0.0, 3.0), (-2.0, 1.0), 900, 700, 2.0)

    cloud.set_colors(packed_colors(resp, palette))

    assert _grab(plot_widget) == owner_view
    np.testing.assert_array_equal(cloud.render_export((0.0, 3.0), (-2.0, 1.0), 900, 700, 2.0),
                                  owner_export)


def test_visible_owners_are_exactly_the_points_on_top_and_stay_until_the_view_changes():
    rng = np.random.default_rng(4)
    n = 5000
    xy = rng.normal(0.0, 1.0, (n, 2))
    packed = (0xFF000000 | np.arange(n)).astype(np.uint32)  # every point its own colour
    raster = Rasteriser()
    raster.set_points(xy)
    raster.set_colors(packed)
    raster.set_view((-2.0, 2.0), (-2.0, 2.0), 80, 60, 1)
    owners = raster.visible_owners()

    drawn = np.unique(raster.render())
    np.testing.assert_array_equal(owners.indices, drawn[drawn != 0] & 0xFFFFFF)
    assert not owners.indices.flags.writeable
    assert raster.visible_owners() is owners
    raster.set_colors(packed[::-1].copy())
    assert raster.visible_owners() is owners  # colours do not change the owners

    raster.set_view((-1.0, 2.0), (-2.0, 2.0), 80, 60, 1)
    assert raster.visible_owners().revision > owners.revision
    with pytest.raises(ValueError):
        raster.set_owner_colors(raster.visible_owners().revision, packed[:3], packed.__getitem__)


def _painted(xy, packed, x_range, y_range, width, height, radius):
    """Reference: paint each point's footprint in index order, one point at a time."""
    img = np.zeros((height, width), dtype=np.uint32)
    sx, sy = width / (x_range[1] - x_range[0]), height / (y_range[1] - y_range[0])
    for (x, y), c in zip(xy, packed):
        cx = int(np.floor((x - x_range[0]) * sx))
        cy = int(np.floor((y_range[1] - y) * sy))
        for dy, dx in footprint(radius):
            if 0 <= cy + dy < height and 0 <= cx + dx < width:
                img[cy + dy, cx + dx] = c
    return img


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), seed=st.integers(0, 2**16), width=st.integers(1, 40),
       height=st.integers(1, 30), radius=st.integers(0, 3), zoom=st.sampled_from([1.0, 1e-3, 1e9]),
       slice_points=st.sampled_from([None, 1, 7, 100]))
def test_mapping_in_slices_matches_painting_in_order(n, seed, width, height, radius, zoom, slice_points):
    # Points inside, on the rim and far outside the view; a deep zoom puts most of them
    # billions of pixels away (no overflow, no warning); any slicing gives the same image.
    rng = np.random.default_rng(seed)
    xy = rng.normal(0.0, 1.0, (n, 2))
    packed = (0xFF000000 | rng.integers(0, 1 << 24, n)).astype(np.uint32)
    x_range, y_range = (-1.0 * zoom, 1.5 * zoom), (-1.2 * zoom, 0.8 * zoom)
    raster = Rasteriser()
    raster.set_points(xy)
    raster.set_colors(packed)
    expected = _painted(xy, packed, x_range, y_range, width, height, radius) if zoom != 1e9 else None
    for slicing in (slice_points, None):  # twice on one raster: its scratch arrays are reused
        raster.set_colors(packed)
        steps = raster.steps(x_range, y_range, width, height, radius, slicing)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                raster.install(done.value)
                break
        if expected is not None:
            np.testing.assert_array_equal(raster.render(), expected)
        owners = raster.visible_owners().indices
        assert np.all(np.diff(owners) > 0)
        raster.set_owner_colors(raster.visible_owners().revision, packed[owners], packed.__getitem__)
        if expected is not None:
            np.testing.assert_array_equal(raster.render(), expected)


def test_a_large_cloud_maps_a_new_view_over_several_event_loop_turns(qtbot, plot_widget, monkeypatch):
    monkeypatch.setattr(point_cloud, "SLICE_POINTS", 4000)
    xy, resp = _mixture(40_000, seed=5)
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.refresh()  # refresh maps at once, never in slices
    _owner_colors(cloud, resp)
    first = cloud.visible_owners().revision
    vb = plot_widget.getPlotItem().getViewBox()

    vb.translateBy(x=0.7, y=-0.3)  # what a mouse drag does
    plot_widget.grab()  # one paint starts the mapping; one slice is not the whole of it
    assert cloud.visible_owners().revision == first

    def mapped():
        rect, view = cloud.item.boundingRect(), vb.viewRect()
        assert rect.left() == pytest.approx(view.left()) and rect.top() == pytest.approx(view.top())

    qtbot.waitUntil(mapped)
    sliced = _grab(plot_widget)
    cloud.set_points(xy)  # same points again: the next paint maps the same view in slices
    monkeypatch.setattr(point_cloud, "SLICE_POINTS", 10**9)
    cloud.refresh()
    _owner_colors(cloud, resp)
    assert _grab(plot_widget) == sliced


def test_hover_finds_the_point_drawn_on_top(qtbot, plot_widget):
    # Two points in one pixel: the later one is drawn, and it is the one found.
    xy = np.array([[0.0, 0.0], [1e-9, 1e-9], [3.0, 3.0]])
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    vb = plot_widget.getPlotItem().getViewBox()
    vb.setRange(xRange=(-1, 4), yRange=(-1, 4), padding=0)
    cloud.refresh()
    assert cloud.nearest_point(0.0, 0.0) == 1
    assert cloud.nearest_point(3.0, 3.0) == 2
    assert cloud.nearest_point(1.5, 1.5) is None


@pytest.mark.parametrize("mode", COLOR_MODES)
def test_packed_colors_of_rows_are_those_rows_of_the_full_colours(mode):
    rng = np.random.default_rng(6)
    resp = rng.dirichlet(np.full(7, 0.5), 4000)
    palette = component_palette(7)
    rows = np.sort(rng.choice(4000, 900, replace=False)).astype(np.int32)
    full = packed_colors(resp, palette, mode)
    np.testing.assert_array_equal(packed_colors(resp, palette, mode, rows=rows), full[rows])
    with pytest.raises(ValueError):
        packed_colors(resp, palette, "rainbow")
