"""PointCloud draws per-point colours correctly, and the colour helpers compute what they say.

The owner path (colours for the visible owners only) draws exactly what the full path draws;
a view mapped in slices draws what one mapping draws; hovering finds the point drawn on top.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyqtgraph.Qt import QtCore, QtWidgets

from gmm_studio.ui import point_cloud
from gmm_studio.ui.colors import (
    COLOR_MODES,
    blend_colors,
    component_palette,
    hard_label_colors,
    packed_colors,
    uncertainty_shading,
)
from gmm_studio.ui.point_cloud import PointCloud, Rasteriser, pack_argb32_premultiplied
from gmm_studio.ui.raster import footprint

RED = (255, 0, 0, 255)
BLUE = (0, 0, 255, 255)
CENTRES = {"red": (-2.0, -2.0), "blue": (2.0, 2.0)}


@pytest.fixture
def plot_widget(qtbot):
    widget = pg.PlotWidget(background="w")
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _two_clusters(n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    half = n // 2
    xy = np.vstack(
        [rng.normal(CENTRES["red"], 0.3, (half, 2)), rng.normal(CENTRES["blue"], 0.3, (n - half, 2))]
    )
    rgba = np.empty((n, 4), dtype=np.uint8)
    rgba[:half] = RED
    rgba[half:] = BLUE
    return xy, rgba


def _pixel(widget: pg.PlotWidget, image, x: float, y: float) -> tuple[int, int, int, int]:
    """Colour of ``image`` (a grab of ``widget``) at data point (x, y)."""
    vb = widget.getPlotItem().getViewBox()
    pos = widget.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x, y)))
    dpr = image.devicePixelRatio()
    return image.pixelColor(int(pos.x() * dpr), int(pos.y() * dpr)).getRgb()


def test_grab_shows_exact_per_point_colours_at_cluster_positions(qtbot, plot_widget):
    xy, rgba = _two_clusters()
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.set_colors(rgba)

    image = plot_widget.grab().toImage()

    assert _pixel(plot_widget, image, *CENTRES["red"]) == RED
    assert _pixel(plot_widget, image, *CENTRES["blue"]) == BLUE
    # Between the clusters there are no points: the white background shows.
    assert _pixel(plot_widget, image, 0.0, 0.0) == (255, 255, 255, 255)


def test_grab_shows_exact_packed_colours_of_a_large_cloud(qtbot, plot_widget):
    # 1e5 points: the large-cloud path (3x3 dots), colours packed as the fit worker ships them.
    xy, rgba = _two_clusters(100_000, seed=1)
    packed = pack_argb32_premultiplied(rgba)
    assert packed.dtype == np.uint32 and packed.shape == (100_000,)
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.set_colors(packed)

    image = plot_widget.grab().toImage()

    assert _pixel(plot_widget, image, *CENTRES["red"]) == RED
    assert _pixel(plot_widget, image, *CENTRES["blue"]) == BLUE
    assert _pixel(plot_widget, image, 0.0, 0.0) == (255, 255, 255, 255)

    cloud.set_colors(packed[::-1].copy())
    image = plot_widget.grab().toImage()
    assert _pixel(plot_widget, image, *CENTRES["red"]) == BLUE
    assert _pixel(plot_widget, image, *CENTRES["blue"]) == RED


def test_recolouring_changes_the_pixels_without_set_points(qtbot, plot_widget):
    xy, rgba = _two_clusters()
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.set_colors(rgba)
    plot_widget.grab()

    cloud.set_colors(rgba[::-1].copy())  # swap: the red cluster turns blue and vice versa
    image = plot_widget.grab().toImage()

    assert _pixel(plot_widget, image, *CENTRES["red"]) == BLUE
    assert _pixel(plot_widget, image, *CENTRES["blue"]) == RED


def test_rgb_without_alpha_is_drawn_opaque(qtbot, plot_widget):
    xy, rgba = _two_clusters()
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.set_colors(np.ascontiguousarray(rgba[:, :3]))

    image = plot_widget.grab().toImage()

    assert _pixel(plot_widget, image, *CENTRES["red"]) == RED


def test_zooming_rerasterises_for_the_new_view(qtbot, plot_widget):
    xy, rgba = _two_clusters()
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.set_colors(rgba)
    plot_widget.grab()
    vb = plot_widget.getPlotItem().getViewBox()

    with qtbot.waitSignal(vb.sigRangeChanged):
        vb.setRange(xRange=(1.0, 3.0), yRange=(1.0, 3.0), padding=0)
    cloud.refresh()
    item = cloud.item

    # The raster now covers exactly the zoomed view, at the view's pixel size.
    rect = item.boundingRect()
    assert (rect.left(), rect.right(), rect.top(), rect.bottom()) == pytest.approx((1, 3, 1, 3))
    assert item._array.shape == (round(vb.height()), round(vb.width()))
    image = plot_widget.grab().toImage()
    assert _pixel(plot_widget, image, *CENTRES["blue"]) == BLUE


def test_panning_rerasterises_by_itself_through_the_view_signals(qtbot, plot_widget):
    xy, rgba = _two_clusters()
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.set_colors(rgba)
    plot_widget.grab()
    vb = plot_widget.getPlotItem().getViewBox()

    vb.translateBy(x=1.5, y=-0.5)  # what a mouse drag does; no refresh() call

    def raster_matches_view():
        rect, view = cloud.item.boundingRect(), vb.viewRect()
        assert rect.left() == pytest.approx(view.left())
        assert rect.top() == pytest.approx(view.top())

    qtbot.waitUntil(raster_matches_view)


def test_autorange_frames_the_points(qtbot, plot_widget):
    xy, rgba = _two_clusters()
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    cloud.refresh()

    (x0, x1), (y0, y1) = plot_widget.getPlotItem().getViewBox().viewRange()
    bx0, by0, bx1, by1 = cloud.data_bounds()
    assert x0 <= bx0 < bx1 <= x1 and y0 <= by0 < by1 <= y1
    assert (x1 - x0) < 2 * (bx1 - bx0)  # framed, not lost in a huge range


@pytest.mark.parametrize(
    "shape", [(19_999, 4), (20_001, 4), (20_000, 2), (20_000, 5), (20_000,), (20_000, 4, 1)]
)
def test_set_colors_with_wrong_shape_raises_value_error(qtbot, plot_widget, shape):
    xy, _ = _two_clusters()
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    with pytest.raises(ValueError):
        cloud.set_colors(np.zeros(shape, dtype=np.uint8))


@pytest.mark.parametrize("shape", [(19_999,), (20_001,), (20_000, 1)])
def test_set_colors_with_wrong_packed_shape_raises_value_error(qtbot, plot_widget, shape):
    xy, _ = _two_clusters()
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    with pytest.raises(ValueError):
        cloud.set_colors(np.zeros(shape, dtype=np.uint32))


def test_set_colors_rejects_float_colours(qtbot, plot_widget):
    xy, _ = _two_clusters(100)
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    with pytest.raises(TypeError):
        cloud.set_colors(np.ones((100, 4)))


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros(10), np.array([[0.0, np.nan]])])
def test_set_points_rejects_bad_input(qtbot, plot_widget, bad):
    cloud = PointCloud(plot_widget.getPlotItem())
    with pytest.raises(ValueError):
        cloud.set_points(bad)


def test_nearest_point_finds_the_index_under_the_mouse_and_none_far_away(qtbot, plot_widget):
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    vb = plot_widget.getPlotItem().getViewBox()
    vb.setRange(xRange=(-1, 6), yRange=(-1, 6), padding=0)
    cloud.refresh()
    px, py = vb.viewPixelSize()

    for i, (x, y) in enumerate(xy):
        assert cloud.nearest_point(x + 2 * px, y - 2 * py) == i
    assert cloud.nearest_point(2.5, 2.5) is None
    # Ten pixels away is outside the default six-pixel radius, inside a twelve-pixel one.
    assert cloud.nearest_point(5.0 + 10 * px, 5.0) is None
    assert cloud.nearest_point(5.0 + 10 * px, 5.0, max_pixels=12) == 3


def test_data_bounds_and_empty_cloud(qtbot, plot_widget):
    cloud = PointCloud(plot_widget.getPlotItem())
    with pytest.raises(ValueError):
        cloud.data_bounds()
    cloud.set_points(np.array([[1.0, -2.0], [3.0, 4.0], [2.0, 0.0]]))
    assert cloud.data_bounds() == (1.0, -2.0, 3.0, 4.0)

    cloud.set_points(np.empty((0, 2)))
    cloud.set_colors(np.empty((0, 4), dtype=np.uint8))
    assert cloud.nearest_point(0.0, 0.0) is None
    assert not plot_widget.grab().isNull()


# --------------------------------------------------------------------- Qt-free raster logic
def test_rasteriser_last_point_wins_and_rows_run_top_down():
    raster = Rasteriser()
    # Two points in the same pixel (later one must win) and one in the bottom-left pixel.
    raster.set_points(np.array([[0.5, 9.5], [0.5, 9.5], [0.5, 0.5]]))
    raster.set_colors(pack_argb32_premultiplied(np.array([RED, BLUE, RED], dtype=np.uint8)))
    raster.set_view((0.0, 10.0), (0.0, 10.0), 10, 10, radius=1)
    img = raster.render()
    blue, red = (int(pack_argb32_premultiplied(np.array([c], np.uint8))[0]) for c in (BLUE, RED))
    assert img[0, 0] == blue  # top-left: y = 9.5 is the top row
    assert img[9, 0] == red  # bottom-left
    assert img[1, 1] == blue  # 3x3 dot
    assert img[5, 5] == 0  # transparent where there is no point


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


@pytest.mark.parametrize("radius", [1, 2])
def test_rasteriser_matches_painting_the_points_in_order(radius):
    # Many overlapping points, some off the view: every pixel must hold the colour of the last
    # point (in index order) whose dot covers it, and only dot pixels are non-transparent.
    rng = np.random.default_rng(radius)
    n = 3000
    xy = rng.normal(0.0, 1.0, (n, 2))
    packed = (0xFF000000 | rng.integers(0, 1 << 24, n)).astype(np.uint32)
    raster = Rasteriser()
    raster.set_points(xy)
    raster.set_colors(packed)
    view = ((-1.5, 2.5), (-2.0, 1.0), 60, 45)
    raster.set_view(*view, radius=radius)
    np.testing.assert_array_equal(raster.render(), _painted(xy, packed, *view, radius))
    # New colours reuse the view's mapping and still match.
    raster.set_colors(packed[::-1].copy())
    np.testing.assert_array_equal(raster.render(), _painted(xy, packed[::-1], *view, radius))


def test_render_view_draws_another_view_and_leaves_the_shown_one():
    # What a figure export uses: a larger image of the same data, without disturbing the screen.
    rng = np.random.default_rng(7)
    xy = rng.normal(0.0, 1.0, (2000, 2))
    packed = (0xFF000000 | rng.integers(0, 1 << 24, 2000)).astype(np.uint32)
    raster = Rasteriser()
    raster.set_points(xy)
    raster.set_colors(packed)
    shown = ((-1.5, 2.5), (-2.0, 1.0), 60, 45)
    raster.set_view(*shown, radius=1)
    before = raster.render()
    big = ((-1.5, 2.5), (-2.0, 1.0), 120, 90)
    np.testing.assert_array_equal(raster.render_view(*big, radius=2), _painted(xy, packed, *big, 2))
    np.testing.assert_array_equal(raster.render(), before)


def test_premultiplied_packing():
    packed = pack_argb32_premultiplied(np.array([[255, 128, 0, 255], [200, 100, 50, 0]], np.uint8))
    assert packed[0] == 0xFFFF8000
    assert packed[1] == 0  # fully transparent premultiplies to zero


# ------------------------------------------------------------------------------- colours
@pytest.mark.parametrize("k", [1, 2, 5, 10, 11, 20, 30, 60])
def test_palette_colours_are_distinct(k):
    pal = component_palette(k)
    assert pal.shape == (k, 3)
    assert np.all((pal >= 0) & (pal <= 1))
    for a, b in itertools.combinations(pal, 2):
        assert np.linalg.norm(a - b) > (0.25 if k <= 30 else 0.15)
    # Every colour is visible on white: not too light.
    luminance = pal @ np.array([0.2126, 0.7152, 0.0722])
    assert luminance.max() < 0.8


def test_palette_is_a_prefix_of_larger_palettes():
    np.testing.assert_array_equal(component_palette(12), component_palette(20)[:12])


def test_blend_colors_sums_palette_weighted_by_responsibilities():
    pal = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    resp = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    out = blend_colors(resp, pal)
    assert out.dtype == np.uint8 and out.shape == (4, 4)
    expected = np.floor(255 * (resp @ pal) + 0.5).astype(np.uint8)  # round half up
    np.testing.assert_array_equal(out[:, :3], expected)
    np.testing.assert_array_equal(out[:, 3], 255)


def test_blend_colors_random_matches_explicit_sum():
    rng = np.random.default_rng(3)
    pal = component_palette(10)
    resp = rng.dirichlet(np.ones(10), 1000)
    out = blend_colors(resp, pal).astype(int)
    explicit = sum(resp[:, [k]] * pal[k] for k in range(10)) * 255
    assert np.abs(out[:, :3] - explicit).max() <= 0.5 + 1e-9


def test_blend_colors_rejects_mismatched_palette():
    with pytest.raises(ValueError):
        blend_colors(np.ones((4, 3)) / 3, component_palette(4))


def test_hard_labels_and_uncertainty():
    pal = component_palette(3)
    resp = np.array([[0.9, 0.05, 0.05], [0.1, 0.2, 0.7], [1 / 3, 1 / 3, 1 / 3]])
    hard = hard_label_colors(resp, pal)
    np.testing.assert_array_equal(hard[:, :3], np.rint(255 * pal[[0, 2, 0]]).astype(np.uint8))

    grey = uncertainty_shading(resp)
    assert grey[2, :3].tolist() == [0, 0, 0]  # uniform posterior: black
    assert grey[0, 0] > grey[1, 0] > grey[2, 0]  # more certain: lighter
    assert np.all(grey[:, 0] == grey[:, 1])

    faded = uncertainty_shading(resp, pal, mode="alpha")
    np.testing.assert_array_equal(faded[:, :3], hard[:, :3])
    assert faded[0, 3] > faded[1, 3] > faded[2, 3] > 0
    with pytest.raises(ValueError):
        uncertainty_shading(resp, mode="alpha")


# ------------------------------------------------------- owner path, slices, hover
K = 5


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


def _settled(widget, cloud: PointCloud) -> None:
    """Fix the left axis' width (it follows the tick labels: a new range would resize the
    view) and let the layout take it, then map the view at once, so that grabs compared byte
    for byte show the same view."""
    widget.getPlotItem().getAxis("left").setWidth(50)
    for _ in range(3):
        widget.grab()
        QtWidgets.QApplication.processEvents()
    cloud.refresh()


def _grab(widget) -> bytes:
    image = widget.grab().toImage()
    return bytes(image.constBits())


@pytest.mark.parametrize("mode", COLOR_MODES)
def test_owner_path_draws_the_same_pixels_as_the_full_path(qtbot, plot_widget, mode):
    xy, resp = _mixture(100_000)
    cloud = PointCloud(plot_widget.getPlotItem())
    cloud.set_points(xy)
    _settled(plot_widget, cloud)
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
    _settled(plot_widget, cloud)
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
    _settled(plot_widget, cloud)
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
    _settled(plot_widget, cloud)  # refresh() maps at once, never in slices
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
