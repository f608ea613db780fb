"""The data view: points coloured by responsibilities, one ellipse per component and coverage.

Items are created once per dataset (the point cloud) or per K and set of radii (ellipse
curves, mean markers, warning labels); afterwards every redraw only calls ``setData`` /
``setPen``.  Points are drawn by :class:`gmm_studio.ui.point_cloud.PointCloud`.  GUI thread only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor

from gmm_studio.core.geometry import Projection, coverage_of_radius, ellipse_outline, ellipse_outlines
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.component_handles import ComponentHandles
from gmm_studio.ui.density_layer import DensityLayer
from gmm_studio.ui.legend_strip import LegendStrip
from gmm_studio.ui.point_cloud import PointCloud
from gmm_studio.ui.point_readout import PointReadout
from gmm_studio.ui.raster import uniform_source
from gmm_studio.ui.plot_items import cache_axes, nearest_marker

__all__ = ["DataView", "DEFAULT_RADII"]

#: Mahalanobis radii drawn by default: the 1σ and 2σ contours.
DEFAULT_RADII: tuple[float, ...] = (1.0, 2.0)
_WARNING = QColor(220, 0, 0)
_N_OUTLINE = 100
#: Opaque grey (110, 110, 110) packed as ARGB32: the points before any responsibilities.
NEUTRAL_ARGB = 0xFF6E6E6E


def _qcolor(rgb: np.ndarray, alpha: int = 255) -> QColor:
    r, g, b = (int(round(255 * float(c))) for c in rgb[:3])
    return QColor(r, g, b, alpha)


def radius_label(radius: float) -> str:
    """'1σ ellipse (39.3 % of mass)': the share of a component's mass inside its ellipse."""
    return f"{radius:g}σ ellipse ({100 * coverage_of_radius(radius):.1f} % of mass)"


class DataView(pg.PlotWidget):
    """The large plot of the data and the mixture.

    Attributes: ``cloud`` (the points), ``pointer`` (a
    :class:`~gmm_studio.ui.point_readout.PointReadout`: the point under the mouse, its
    ``point_hovered`` signal and read-out), ``density``, ``handles``, ``legend_strip``.

    Signals
    -------
    clicked(float, float)
        A left click, in data coordinates.
    component_edit_started(int)
        The person began dragging component k's mean marker or an axis handle
        (only after :meth:`set_editing` with a covariance type).
    component_dragged(int, object, object)
        While dragging, at most ~30 times a second: k, the mean ``(2,)`` and covariance
        ``(2, 2)`` in data coordinates of the plotted plane
        (:func:`gmm_studio.core.editing.edit_component` turns them into a model).
    component_edit_finished(int, object, object)
        The drag ended, with the final mean and covariance in the plane.
    """

    clicked = Signal(float, float)
    component_edit_started = Signal(int)
    component_dragged = Signal(int, object, object)
    component_edit_finished = Signal(int, object, object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("dataView")
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        self.plot_item.setMenuEnabled(True)
        cache_axes(self.plot_item)
        self.cloud = PointCloud(self.plot_item)
        self._radii: tuple[float, ...] = DEFAULT_RADII
        self._palette = np.zeros((0, 3))
        self._ellipses: list[list[pg.PlotCurveItem]] = []  # [radius][component]
        self._truth_curves: list[pg.PlotCurveItem] = []
        self._labels: list[pg.TextItem] = []
        self._means2 = np.zeros((0, 2))
        self._covs2 = np.zeros((0, 2, 2))
        self._highlight: int | None = None
        self._flagged: set[int] = set()
        self._n_points = 0
        self.density = DensityLayer(self.plot_item)
        self.handles = ComponentHandles(self.plot_item)
        self.means_item = self.handles.means_item
        self.handles.edit_started.connect(self.component_edit_started)
        self.handles.dragged.connect(self.component_dragged)
        self.handles.edit_finished.connect(self.component_edit_finished)
        self.handles.moved.connect(self._on_handles_moved)
        self.placed_item = pg.ScatterPlotItem(size=16, symbol="x", pen=pg.mkPen("k", width=2),
                                              brush=pg.mkBrush(0, 0, 0))
        self.placed_item.setZValue(21)
        self.plot_item.addItem(self.placed_item)
        # Above the data area, never over the points (a floating legend hid a corner of them).
        self.legend_strip = LegendStrip(self.plot_item, labelTextSize="9pt", labelTextColor=(30, 30, 30))
        self._class_entries: list[tuple[pg.ScatterPlotItem, str]] = []
        self._class_key: tuple = ((), b"")
        self._means_style: tuple = (None, [], [], [])
        self._with_truth = False
        self._centres_only = False
        self._rebuild_legend()
        self.pointer = PointReadout(self.plot_item, self.cloud)
        self.plot_item.getViewBox().sigRangeChanged.connect(self._on_range_changed)
        self.plot_item.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)

    # ------------------------------------------------------------------ data
    def set_points(self, points2: np.ndarray, axis_titles: tuple[str, str]) -> None:
        """New dataset or projection: positions, axis titles, a range that frames the points."""
        self._n_points = len(points2)
        self.pointer.set_points(np.asarray(points2, dtype=np.float64))
        self.cloud.set_points(points2)
        self.plot_item.setLabel("bottom", axis_titles[0])
        self.plot_item.setLabel("left", axis_titles[1])
        self.frame_points()

    def frame_points(self) -> None:
        """Show all points with a margin and keep auto-range off (ellipses must not move it)."""
        if self._n_points == 0:
            return
        x0, y0, x1, y1 = self.cloud.data_bounds()
        pad_x = 0.06 * (x1 - x0 or 1.0)
        pad_y = 0.06 * (y1 - y0 or 1.0)
        self.plot_item.getViewBox().setRange(xRange=(x0 - pad_x, x1 + pad_x),
                                              yRange=(y0 - pad_y, y1 + pad_y), padding=0)
        self.plot_item.disableAutoRange()

    def set_colors(self, rgba: np.ndarray | None) -> None:
        """Per-point colours, or None for the neutral grey of "no responsibilities yet".

        ``rgba`` is anything :meth:`PointCloud.set_colors` takes: packed ``(N,)`` uint32 (what
        the fit worker ships) or ``(N, 3)`` / ``(N, 4)`` uint8.
        """
        if self._n_points == 0:
            return
        if rgba is None:  # one colour: the pixels' owners only, no N-sized array (40 MB at 1e7)
            owners, grey = self.cloud.visible_owners(), uniform_source(NEUTRAL_ARGB)
            self.cloud.set_owner_colors(owners.revision, grey(owners.indices), grey)
            return
        self.cloud.set_colors(rgba)

    # ------------------------------------------------------------------ components
    @property
    def radii(self) -> tuple[float, ...]:
        return self._radii

    @property
    def n_components(self) -> int:
        return len(self._palette)

    @property
    def centres_only(self) -> bool:
        """Whether only centres are drawn (K-means), no ellipses."""
        return self._centres_only

    def set_centres_only(self, on: bool) -> None:
        """K-means has centres and no covariances: draw no ellipses, and say so in the legend."""
        if bool(on) != self._centres_only:
            self._centres_only = bool(on)
            for items in self._ellipses:
                for item in items:
                    item.setVisible(False)
            for j, mean2 in enumerate(self._means2):
                if j < len(self._palette):
                    self._draw_outline(j, mean2, self._covs2[j])
            self._rebuild_legend()

    def ellipse_items(self, radius_index: int = 0) -> list[pg.PlotCurveItem]:
        """The curve items of one radius, one per component (for tests and exports)."""
        return list(self._ellipses[radius_index])

    def set_radii(self, radii: tuple[float, ...]) -> None:
        if tuple(radii) != self._radii:
            self._radii = tuple(radii)
            self._build_components(self._palette, force=True)

    def set_palette(self, palette: np.ndarray) -> None:
        """Colours of the K components; rebuilds the items only when K changes."""
        self._build_components(np.asarray(palette, dtype=np.float64), force=False)

    def _build_components(self, palette: np.ndarray, force: bool) -> None:
        same_k = len(palette) == len(self._palette)
        self._palette = palette
        if same_k and not force and self._ellipses:
            self._restyle()
            return
        for row in self._ellipses:
            for item in row:
                self.plot_item.removeItem(item)
        for label in self._labels:
            self.plot_item.removeItem(label)
        self._ellipses = []
        for _ in self._radii:
            row = []
            for _k in range(len(palette)):
                item = pg.PlotCurveItem(antialias=True)
                item.setZValue(10)
                self.plot_item.addItem(item)
                row.append(item)
            self._ellipses.append(row)
        self._labels = []
        for k in range(len(palette)):
            label = pg.TextItem("", color=_WARNING, anchor=(0, 1))
            label.setZValue(30)
            label.setVisible(False)
            self.plot_item.addItem(label)
            self._labels.append(label)
        self._highlight = None if self._highlight is None or self._highlight >= len(palette) else self._highlight
        self._restyle()

    def _anchor_label(self, label: pg.TextItem) -> None:
        """Let a warning label grow towards the middle of the view, so one on a component at
        the edge (a collapsed one sits on an outlying point) is not cut by the frame."""
        (x0, x1), (y0, y1) = self.plot_item.getViewBox().viewRange()
        pos = label.pos()
        label.setAnchor((1.0 if pos.x() > 0.5 * (x0 + x1) else 0.0,
                         1.0 if pos.y() < 0.5 * (y0 + y1) else 0.0))

    def _on_range_changed(self, *_args) -> None:
        for label in self._labels:
            if label.isVisible():
                self._anchor_label(label)

    def _pen_for(self, k: int, radius_index: int) -> pg.QtGui.QPen:
        width = 2.5 if radius_index == 0 else 1.3
        if k == self._highlight:
            width += 2.0
        if k in self._flagged:
            return pg.mkPen(_WARNING, width=width + 0.5, style=Qt.PenStyle.DashLine)
        style = Qt.PenStyle.SolidLine if radius_index == 0 else Qt.PenStyle.DashLine
        # A darker shade of the component's colour: the outline must stand out on its own points.
        return pg.mkPen(_qcolor(0.55 * self._palette[k]), width=width, style=style)

    def _restyle(self) -> None:
        for r, row in enumerate(self._ellipses):
            for k, item in enumerate(row):
                item.setPen(self._pen_for(k, r))
        if len(self._means2) == len(self._palette) and len(self._palette):
            self._restyle_means()

    def show_components(self, means2: np.ndarray, covs2: np.ndarray,
                        flagged: dict[int, str] | None = None) -> None:
        """Move the ellipses and mean markers; ``flagged`` maps components to a warning word."""
        flagged = flagged or {}
        k = len(means2)
        if k != len(self._palette):
            raise ValueError(f"{k} components but a palette of {len(self._palette)}; call set_palette first.")
        restyle = set(flagged) != self._flagged
        self._flagged = set(flagged)
        means2 = np.array(means2, dtype=np.float64)
        covs2 = np.array(covs2, dtype=np.float64)
        dragged = self.handles.dragging
        geometry = self.handles.dragged_geometry()
        if dragged is not None and geometry is not None and dragged < k:
            # The component under the pointer follows the hand, not a model a frame behind it.
            means2[dragged], covs2[dragged] = geometry
        self._means2, self._covs2 = means2, covs2
        for j in range(k):
            self._draw_outline(j, means2[j], covs2[j])
        for j, label in enumerate(self._labels):
            if j in flagged and np.all(np.isfinite(means2[j])):
                label.setText(f"⚠ {j + 1}: {flagged[j]}")
                label.setPos(float(means2[j][0]), float(means2[j][1]))
                label.setVisible(True)
                self._anchor_label(label)
            else:
                label.setVisible(False)
        finite = np.all(np.isfinite(self._means2), axis=1)
        if not finite.all():
            self._means2 = np.where(finite[:, None], self._means2, 0.0)
        if restyle:
            for r, row in enumerate(self._ellipses):
                for j, item in enumerate(row):
                    item.setPen(self._pen_for(j, r))
        self._restyle_means()
        self.handles.set_components(means2, covs2, self._radii[0])

    def _draw_outline(self, j: int, mean2: np.ndarray, cov2: np.ndarray) -> None:
        outlines = ellipse_outlines(mean2, cov2, self._radii, _N_OUTLINE)
        for r, outline in enumerate(outlines):
            item = self._ellipses[r][j]
            if np.all(np.isfinite(outline)) and not self._centres_only:
                item.setData(outline[:, 0], outline[:, 1], skipFiniteCheck=True)
                item.setVisible(True)
            else:
                item.setVisible(False)

    @Slot(int, object, object)
    def _on_handles_moved(self, k: int, mean2: np.ndarray, cov2: np.ndarray) -> None:
        if k >= len(self._means2) or k >= len(self._palette):
            return
        self._means2[k] = mean2
        self._draw_outline(k, mean2, cov2)
        self._labels[k].setPos(float(mean2[0]), float(mean2[1]))
        self._restyle_means()

    def set_editing(self, covariance_type: str | None) -> None:
        """Let the person drag means and axis handles under this covariance type's rules.

        None turns editing off (the markers stay, drags pan the plot).  'diag' handles stretch
        without turning, 'spherical' ones keep a circle, 'tied' ones say in their tooltip that
        every component changes with the one dragged; ``CENTRES`` (K-means) moves the markers
        only.
        """
        self.handles.set_editing(covariance_type)

    def _restyle_means(self) -> None:
        key = (self._palette.tobytes(), frozenset(self._flagged), self._highlight)
        if key != self._means_style[0]:  # brushes and pens only when the style changed
            brushes = [pg.mkBrush(_qcolor(c)) for c in self._palette]
            pens = [pg.mkPen(_WARNING if k in self._flagged else "w",
                             width=3 if k == self._highlight else 1.5)
                    for k in range(len(self._palette))]
            sizes = [19 if k == self._highlight else 13 for k in range(len(self._palette))]
            self._means_style = (key, brushes, pens, sizes)
        _, brushes, pens, sizes = self._means_style
        self.means_item.setData(pos=self._means2, brush=brushes, pen=pens, size=sizes, symbol="o")

    def clear_components(self) -> None:
        """Hide the model (Reset): no ellipses, no means, no warnings."""
        for row in self._ellipses:
            for item in row:
                item.setVisible(False)
        for label in self._labels:
            label.setVisible(False)
        self._means2, self._covs2 = np.zeros((0, 2)), np.zeros((0, 2, 2))
        self.means_item.setData(pos=np.zeros((0, 2)))
        self.handles.set_components(np.zeros((0, 2)), np.zeros((0, 2, 2)), self._radii[0])
        self._flagged = set()

    def set_highlight(self, k: int | None) -> None:
        if k != self._highlight:
            self._highlight = k
            for r, row in enumerate(self._ellipses):
                for j, item in enumerate(row):
                    item.setPen(self._pen_for(j, r))
            if len(self._means2) == len(self._palette):
                self._restyle_means()

    @property
    def highlight(self) -> int | None:
        return self._highlight

    def nearest_component(self, x: float, y: float, max_pixels: float = 15.0) -> int | None:
        """The component whose mean marker is within ``max_pixels`` of (x, y), if any."""
        return nearest_marker(self.plot_item, self._means2, x, y, max_pixels)

    # ------------------------------------------------------------------ truth and placed means
    def set_truth(self, means2: np.ndarray | None, covs2: np.ndarray | None) -> None:
        """Dashed grey 1σ ellipses of the mixture that generated the data (None hides them)."""
        for item in self._truth_curves:
            self.plot_item.removeItem(item)
        self._truth_curves = []
        if means2 is not None:
            pen = pg.mkPen(QColor(0, 0, 0, 170), width=1.2, style=Qt.PenStyle.DotLine)
            for m, c in zip(means2, covs2):
                outline = ellipse_outline(m, c, self._radii[0], _N_OUTLINE)
                item = pg.PlotCurveItem(outline[:, 0], outline[:, 1], pen=pen, antialias=True)
                item.setZValue(5)
                self.plot_item.addItem(item)
                self._truth_curves.append(item)
        self._with_truth = means2 is not None
        self._rebuild_legend()

    def set_truth_visible(self, visible: bool) -> None:
        for item in self._truth_curves:
            item.setVisible(visible)

    def set_placed_means(self, points2: np.ndarray) -> None:
        self.placed_item.setData(pos=np.asarray(points2, dtype=np.float64).reshape(-1, 2))

    # ------------------------------------------------------------------ density
    def set_density_visible(self, visible: bool) -> None:
        """Show log p(x) of the mixture given to :meth:`set_density_params` under the points."""
        if bool(visible) != self.density.visible:
            self.density.set_visible(visible)
            self._rebuild_legend()

    def set_density_params(self, params: MixtureParams | None, projection: Projection | None = None) -> None:
        """The mixture whose density the layer shades (None: none); ``projection`` for D > 2.

        Call it with every shown model: it recomputes only when the parameters (compared by
        value) or the view's range changed, and only while the layer is visible.
        """
        message = self.density.legend_text()
        self.density.set_params(params, projection)
        if self.density.visible and self.density.legend_text() != message:
            self._rebuild_legend()

    @property
    def density_revision(self) -> int:
        """How many density grids have been computed: unchanged by a call that changes nothing."""
        return self.density.revision

    # ------------------------------------------------------------------ legend
    def set_class_legend(self, names: Sequence[str] | None, rgb: np.ndarray | None = None) -> None:
        """Name the colours of the points in the legend: one dot per label class (None: none).

        ``names`` and ``rgb`` (``(C, 3)`` in [0, 1]) come from
        :func:`gmm_studio.ui.colors.true_label_colours`, whose colours the points are drawn in.
        """
        key = (tuple(map(str, names or ())), np.asarray(rgb if rgb is not None else [], dtype=float).tobytes())
        if key == self._class_key:
            return  # called at every recolour during a fit: rebuilding the legend costs ~20 ms
        self._class_key = key
        self._class_entries = []
        for name, colour in zip(names or (), np.asarray(rgb if rgb is not None else [], dtype=float)):
            sample = pg.ScatterPlotItem(symbol="o", size=9, pen=None, brush=pg.mkBrush(_qcolor(colour)))
            self._class_entries.append((sample, str(name)))
        self._rebuild_legend()

    def _rebuild_legend(self) -> None:
        entries: list[tuple[pg.GraphicsObject, str]] = []
        for r, radius in enumerate(() if self._centres_only else self._radii):
            style = Qt.PenStyle.SolidLine if r == 0 else Qt.PenStyle.DashLine
            sample = pg.PlotDataItem(pen=pg.mkPen(QColor(40, 40, 40), width=2.5 if r == 0 else 1.3,
                                                  style=style))
            entries.append((sample, radius_label(radius)))
        if self._with_truth:
            sample = pg.PlotDataItem(pen=pg.mkPen(QColor(0, 0, 0), width=1.2, style=Qt.PenStyle.DotLine))
            entries.append((sample, "true mixture (dotted)"))
        if self._centres_only:
            centre = pg.ScatterPlotItem(symbol="o", size=10, pen=pg.mkPen("k"), brush=pg.mkBrush(90, 90, 90))
            entries.append((centre, "K-means centre: each point joins its nearest (no covariances)"))
        warn = pg.PlotDataItem(pen=pg.mkPen(_WARNING, width=2, style=Qt.PenStyle.DashLine))
        entries.append((warn, "empty cluster" if self._centres_only else "collapsed / empty"))
        if self.density.visible:
            swatch = pg.ScatterPlotItem(symbol="s", size=11, pen=None, brush=pg.mkBrush(self.density.sample_colour()))
            entries.append((swatch, self.density.legend_text()))
        self.legend_strip.set_groups([entries, self._class_entries])

    def legend_texts(self) -> list[str]:
        """The legend's entries, in order."""
        return self.legend_strip.texts()

    # ------------------------------------------------------------------ mouse
    @Slot(object)
    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        xy = self.pointer.data_point(event.scenePos())
        if xy is not None:
            self.clicked.emit(*xy)
