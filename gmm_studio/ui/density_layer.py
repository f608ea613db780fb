"""The density layer: log p(x) of the shown mixture as a heatmap under the points.

The grid is :func:`gmm_studio.core.density.density_grid` over exactly the visible range; for
D > 2 it is the density of the *projected* mixture (P μ_k, P Σ_k Pᵀ), the marginal in the plotted
plane, which the legend says.  The image is recomputed only when the mixture, the projection or
the visible range change (range changes coalesced to one per turn of the event loop) and only
while the layer is shown; :attr:`DensityLayer.revision` counts
the grids computed.  Colours: the top is the highest component peak, ``log π_k − log 2π −
½ log det Σ_k`` in the plane, so the shading does not shift as the person pans; the scale spans
:data:`SPAN_NATS` below it (about 4.5σ around a lone component), and lower densities are clear.
GUI thread only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QTimer, Slot
from PySide6.QtGui import QColor

from gmm_studio.core.density import density_grid, project_mixture
from gmm_studio.core.geometry import Projection
from gmm_studio.core.params import MixtureParams

__all__ = ["DensityLayer", "SPAN_NATS"]

#: The colour scale covers this many nats of log p below the highest peak.
SPAN_NATS = 10.0
#: Grid points per side: a 200×200 grid costs a few ms at K = 10 (benchmarks/bench_density.py).
GRID_SIDE = 200
#: Clear at low density, a muted blue-violet at the peaks: under the component colours of the
#: points, not competing with them.
_STOPS = np.array([0.0, 0.35, 0.75, 1.0])
_COLOURS = np.array([[255, 255, 255, 0], [214, 218, 240, 200], [150, 158, 212, 225], [96, 104, 176, 235]],
                    dtype=np.ubyte)


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is b or (a is not None and b is not None and a.shape == b.shape and np.array_equal(a, b))


def _same_mixture(a: MixtureParams | None, b: MixtureParams | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.covariance_type == b.covariance_type and _same(a.weights, b.weights)
            and _same(a.means, b.means) and _same(a.covariances, b.covariances))


def _same_projection(a: Projection | None, b: Projection | None) -> bool:
    if a is None or b is None:
        return a is b
    return _same(a.matrix, b.matrix) and _same(a.offset, b.offset)


def peak_log_density(params: MixtureParams, projection: Projection | None) -> float:
    """The highest single component peak of the plane's mixture, ``max_k log π_k N(μ_k | μ_k, Σ_k)``.

    The mixture's own maximum is at least this and, unless peaks pile up, barely more.
    """
    plane = params if projection is None else project_mixture(params, projection)
    _, logdet = np.linalg.slogdet(plane.full_covariances())
    with np.errstate(divide="ignore"):
        peaks = np.log(plane.weights) - np.log(2.0 * np.pi) - 0.5 * logdet
    return float(np.max(peaks))


class DensityLayer(QObject):
    """An ``ImageItem`` of log p(x) beneath the points of ``plot_item``.

    Parameters
    ----------
    plot_item : the data view's plot.
    side : grid points per side.
    """

    def __init__(self, plot_item: pg.PlotItem, side: int = GRID_SIDE) -> None:
        super().__init__(plot_item)
        self._plot_item = plot_item
        self._shape = (int(side), int(side))
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-20)  # beneath the point cloud (-10)
        self.image.setLookupTable(pg.ColorMap(_STOPS, _COLOURS).getLookupTable(nPts=256, alpha=True))
        self.image.setVisible(False)
        plot_item.addItem(self.image, ignoreBounds=True)
        self._visible = False
        self._params: MixtureParams | None = None
        self._projection: Projection | None = None
        self._drawn: tuple | None = None  # (params, projection, bounds) of the image shown
        self._revision = 0
        self._message = ""
        # A pan sends a range change per mouse move: redraw once the queued moves are handled,
        # so a grid that takes longer than a move does not fall further and further behind.
        self._range_timer = QTimer(self, singleShot=True, interval=0)
        self._range_timer.timeout.connect(self._on_range_timer_timeout)
        plot_item.getViewBox().sigRangeChanged.connect(self._on_view_box_range_changed)

    # ------------------------------------------------------------------ state
    @property
    def revision(self) -> int:
        """How many density grids have been computed (the same state twice computes one)."""
        return self._revision

    @property
    def visible(self) -> bool:
        return self._visible

    @property
    def projected(self) -> bool:
        """True when the image is the density of a mixture projected from D > 2."""
        return self._params is not None and self._params.n_features != 2

    def legend_text(self) -> str:
        """What the layer shows, for the legend."""
        if self._message:
            return self._message
        if self.projected:
            return "shading: log p, density of the projected mixture in this plane"
        return "shading: log p(x), the mixture's density"

    def sample_colour(self) -> QColor:
        """A colour of the scale for the legend's swatch."""
        return QColor(*(int(c) for c in _COLOURS[2]))

    def set_visible(self, visible: bool) -> None:
        """Show or hide the layer; showing it draws the current state if it is not drawn yet."""
        self._visible = bool(visible)
        self._refresh()

    def set_params(self, params: MixtureParams | None, projection: Projection | None = None) -> None:
        """The mixture to shade (None: nothing) and, for D ≠ 2, the view's projection.

        Cheap when nothing changed: the arrays are compared, not their identity, so the window
        may call this on every redraw.
        """
        if _same_mixture(params, self._params) and _same_projection(projection, self._projection):
            return
        self._params, self._projection = params, projection
        self._refresh()

    # ------------------------------------------------------------------ drawing
    def _bounds(self) -> tuple[float, float, float, float]:
        (x0, x1), (y0, y1) = self._plot_item.getViewBox().viewRange()
        return float(x0), float(x1), float(y0), float(y1)

    def _refresh(self) -> None:
        if not self._visible or self._params is None:
            self.image.setVisible(False)
            return
        bounds = self._bounds()
        drawn = self._drawn
        if drawn is not None and drawn[0] is self._params and drawn[1] is self._projection and drawn[2] == bounds:
            self.image.setVisible(not self._message)
            return
        self._drawn = (self._params, self._projection, bounds)
        self._revision += 1
        projection = self._projection if self._params.n_features != 2 else None
        try:
            grid = density_grid(self._params, bounds, self._shape, projection)
        except ValueError:
            # A collapsed component has no density: say so in the legend rather than draw nothing silently.
            self._message = "shading: none, a covariance is not positive definite"
            self.image.setVisible(False)
            return
        self._message = ""
        top = peak_log_density(self._params, projection)
        self.image.setImage(grid.log_density, levels=(top - SPAN_NATS, top), autoLevels=False)
        # Grid values sit at the cells' centres: the image reaches half a cell past the samples.
        x0, x1, y0, y1 = bounds
        ny, nx = self._shape
        half_x, half_y = 0.5 * (x1 - x0) / (nx - 1), 0.5 * (y1 - y0) / (ny - 1)
        self.image.setRect(QRectF(x0 - half_x, y0 - half_y, x1 - x0 + 2 * half_x, y1 - y0 + 2 * half_y))
        self.image.setVisible(True)

    @Slot()
    def _on_view_box_range_changed(self, *_args) -> None:
        if self._visible:
            self._range_timer.start()

    @Slot()
    def _on_range_timer_timeout(self) -> None:
        self._refresh()
