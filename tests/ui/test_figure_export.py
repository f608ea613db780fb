"""A figure's SVG, rendered by QtSvg, looks like its PNG: axes, ellipses, markers, text, points."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QPointF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from gmm_studio.ui.colors import component_palette, true_label_colours
from gmm_studio.ui.data_view import DataView
from gmm_studio.ui.figure_export import PNG_SCALE, write_figure

CENTRES = np.array([[-3.0, 0.0], [3.0, 1.0], [0.0, 4.0]])


def _rgb(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return a[:, : image.width(), 2::-1].astype(float)  # BGRA in memory -> RGB


def _pool(a: np.ndarray, f: int) -> np.ndarray:
    h, w = a.shape[0] // f * f, a.shape[1] // f * f
    return a[:h, :w].reshape(h // f, f, w // f, f, -1).mean(axis=(1, 3))


def _near(a: np.ndarray, rgb, tol: float = 40.0) -> np.ndarray:
    return np.abs(a - np.asarray(rgb, dtype=float)).max(axis=2) <= tol


@pytest.fixture
def figure_view(qtbot):
    view = DataView()
    qtbot.addWidget(view)
    view.resize(640, 500)
    view.show()
    qtbot.waitExposed(view)
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(c, 0.5, (300, 2)) for c in CENTRES])
    labels = np.repeat(np.array(["a", "b", "c"], dtype=object), 300)
    palette = component_palette(3)
    view.set_points(x, ("first axis", "second axis"))
    view.set_palette(palette)
    view.show_components(CENTRES, np.tile(0.25 * np.eye(2), (3, 1, 1)), {1: "collapsed"})
    colours = true_label_colours(labels, palette, np.repeat([0, 1, 2], 300))
    view.set_colors(colours.rgba)
    view.set_class_legend(colours.names, colours.rgb)
    view.cloud.refresh()
    return view, x


def test_the_svg_renders_like_the_png(figure_view, tmp_path):
    view, _ = figure_view
    png_path, svg_path = tmp_path / "fig.png", tmp_path / "fig.svg"
    write_figure(view.getPlotItem(), str(png_path))
    write_figure(view.getPlotItem(), str(svg_path))

    png = QImage(str(png_path))
    plot_rect = view.getPlotItem().sceneBoundingRect()
    assert png.width() == round(PNG_SCALE * plot_rect.width())
    renderer = QSvgRenderer(QByteArray(svg_path.read_bytes()))
    assert renderer.isValid()
    rendered = QImage(png.size(), QImage.Format.Format_ARGB32)
    rendered.fill(QColor("white"))
    painter = QPainter(rendered)
    renderer.render(painter)
    painter.end()
    a, b = _rgb(png), _rgb(rendered)

    # Overall: the same picture (a shifted axis or misdrawn markers moved this to ~1.6).
    assert np.abs(_pool(a, 4) - _pool(b, 4)).mean() < 0.4

    # Where the data are: the map from data to pixels is the one the plot uses on screen.
    vb = view.getPlotItem().getViewBox()

    def pixel(x: float, y: float) -> tuple[int, int]:
        p = vb.mapViewToScene(QPointF(x, y)) - plot_rect.topLeft()
        return int(round(PNG_SCALE * p.x())), int(round(PNG_SCALE * p.y()))

    for k, centre in enumerate(CENTRES):
        colour = np.rint(255 * component_palette(3)[k])
        in_png, in_svg = _near(a, colour), _near(b, colour)
        # the class's points: the same region, around where the data put it
        overlap = (in_png & in_svg).sum() / max((in_png | in_svg).sum(), 1)
        assert overlap > 0.8
        ys, xs = np.nonzero(in_svg)
        cx, cy = pixel(*centre)
        assert abs(np.median(xs) - cx) < 12 and abs(np.median(ys) - cy) < 12
        # the mean marker (a disc in the component's colour over its ellipse) is drawn, not garbled
        patch = np.s_[cy - 20 : cy + 20, cx - 20 : cx + 20]
        assert np.abs(a[patch] - b[patch]).mean() < 4.0

    # Axes and their text: the strip under the data (ticks and the axis title) matches.
    bottom = int(round(PNG_SCALE * (vb.sceneBoundingRect().bottom() - plot_rect.top())))
    strip = np.s_[bottom : a.shape[0], :]
    assert np.abs(a[strip] - b[strip]).mean() < 2.0
    assert (a[strip] < 200).any()  # there is text there to compare


def test_an_unknown_figure_format_is_refused_with_the_choices(figure_view, tmp_path):
    with pytest.raises(ValueError, match="choose PNG or SVG"):
        write_figure(figure_view[0].getPlotItem(), str(tmp_path / "fig.gif"))
    assert not (tmp_path / "fig.gif").exists()


def test_the_hover_readout_is_not_exported(figure_view, tmp_path):
    view, points = figure_view
    assert view.pointer.hover_at(*points[0]) is not None
    view.pointer.show_text("point 1\nresponsibilities γ: " + "x" * 20)
    assert view.pointer.item.isVisible()
    with_readout = tmp_path / "a.png"
    write_figure(view.getPlotItem(), str(with_readout))
    view.pointer.show_text("")
    without = tmp_path / "b.png"
    write_figure(view.getPlotItem(), str(without))
    np.testing.assert_array_equal(_rgb(QImage(str(with_readout))), _rgb(QImage(str(without))))


def test_the_drag_handles_are_not_exported(figure_view, tmp_path):
    view, _ = figure_view
    plain = tmp_path / "plain.png"
    write_figure(view.getPlotItem(), str(plain))
    view.set_editing("full")  # white squares on each ellipse's axes, to stretch and turn it
    assert view.handles.axis_item.isVisible() and len(view.handles.handle_positions())
    editing = tmp_path / "editing.png"
    write_figure(view.getPlotItem(), str(editing))
    np.testing.assert_array_equal(_rgb(QImage(str(editing))), _rgb(QImage(str(plain))))
    assert view.handles.axis_item.opacity() == 1.0  # still drawn in the window
