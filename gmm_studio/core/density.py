"""The mixture density p(x) itself, on grids the views draw: a plane's log p and 1-D curves.

* :func:`density_grid` — log p(x) of a 2-D mixture on a regular grid over given view bounds,
  for a heatmap or filled contours under the points.  For D > 2 pass the view's
  :class:`~gmm_studio.core.geometry.Projection`: the mixture is projected first (P μ_k,
  P Σ_k Pᵀ), which is *exactly* the density of the projected data's distribution — the
  marginal in the plotted plane, not a slice through it.
* :func:`density_1d` — for D = 1: each component's weighted density π_k N(x | μ_k, σ_k²) and
  their sum, the mixture density, on a grid (the histogram view draws them over the data).
* :func:`histogram_edges` (Freedman–Diaconis bins) and :func:`stacked_histogram` (the
  histogram as a density, split per bin by the responsibilities of its points).

Both go through the engine's own log densities (Cholesky factors, log-sum-exp).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm_studio.core.em import EMData
from gmm_studio.core.geometry import Projection
from gmm_studio.core.params import MixtureParams, NotPositiveDefiniteError

__all__ = [
    "Density1D",
    "DensityGrid",
    "density_1d",
    "density_grid",
    "freedman_diaconis_bins",
    "histogram_edges",
    "project_mixture",
    "stacked_histogram",
]

#: More bins than this are not drawn (a million points would otherwise ask for ~1000s).
MAX_BINS = 1000


@dataclass(frozen=True, eq=False)
class DensityGrid:
    """log p on a grid: ``log_density[i, j]`` is at ``(x[j], y[i])`` (rows follow y).

    ``projected`` says the density is that of the mixture projected on the plotted plane.
    """

    x: np.ndarray
    y: np.ndarray
    log_density: np.ndarray
    projected: bool

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return float(self.x[0]), float(self.x[-1]), float(self.y[0]), float(self.y[-1])


@dataclass(frozen=True, eq=False)
class Density1D:
    """``weighted[k]`` = π_k N(x | μ_k, σ_k²) at the grid ``x``; ``mixture`` is their sum."""

    x: np.ndarray
    weighted: np.ndarray
    mixture: np.ndarray


def project_mixture(params: MixtureParams, projection: Projection) -> MixtureParams:
    """The 2-D 'full' mixture of P x when x follows ``params`` (weights kept)."""
    means, covariances = projection.project_params(params)
    return MixtureParams("full", params.weights, means, covariances)


def _log_density(params: MixtureParams, points: np.ndarray) -> np.ndarray:
    try:
        return EMData(points, params.covariance_type).log_prob_norm(params)
    except NotPositiveDefiniteError as exc:
        raise ValueError(
            f"Component {exc.component + 1}'s covariance is not positive definite, so the "
            "mixture has no density to draw. Raise reg_covar or re-seed the component."
        ) from None


def density_grid(
    params: MixtureParams,
    bounds: tuple[float, float, float, float],
    shape: tuple[int, int] = (160, 160),
    projection: Projection | None = None,
) -> DensityGrid:
    """log p(x) on a ``shape = (ny, nx)`` grid over ``bounds = (x_min, x_max, y_min, y_max)``.

    Any thread.  2-D parameters are used as they are; for any other dimension give the
    ``projection`` the view shows (the density is then the projected mixture's).

    Raises
    ------
    ValueError
        For empty bounds, a dimension without a projection, or a covariance that is not
        positive definite.
    """
    x_min, x_max, y_min, y_max = (float(b) for b in bounds)
    if not (np.isfinite([x_min, x_max, y_min, y_max]).all() and x_max > x_min and y_max > y_min):
        raise ValueError(f"View bounds must be finite with min < max; got {bounds}.")
    ny, nx = (int(v) for v in shape)
    if nx < 2 or ny < 2:
        raise ValueError(f"The grid needs at least 2×2 points; got shape {shape}.")
    projected = params.n_features != 2
    if projection is not None or projected:
        if projection is None:
            raise ValueError(
                f"A {params.n_features}-D mixture needs the view's projection to be drawn in "
                "the plane."
            )
        params = project_mixture(params, projection)
    xs, ys = np.linspace(x_min, x_max, nx), np.linspace(y_min, y_max, ny)
    grid = np.column_stack([np.tile(xs, ny), np.repeat(ys, nx)])
    log_density = _log_density(params, grid).reshape(ny, nx)
    log_density.setflags(write=False)
    return DensityGrid(xs, ys, log_density, projected)


def _variances_1d(params: MixtureParams) -> np.ndarray:
    return params.full_covariances()[:, 0, 0]


def density_1d(params: MixtureParams, x: np.ndarray) -> Density1D:
    """Weighted component densities and the mixture density of a 1-D mixture at ``x``.  Any thread."""
    if params.n_features != 1:
        raise ValueError(f"density_1d draws 1-D mixtures; these parameters are {params.n_features}-D.")
    x = np.asarray(x, dtype=np.float64).ravel()
    variances = _variances_1d(params)
    if not np.all(variances > 0):
        bad = int(np.flatnonzero(~(variances > 0))[0])
        raise ValueError(f"Component {bad + 1} has a variance that is not positive: no density.")
    z = (x[None, :] - params.means[:, :1]) ** 2 / variances[:, None]
    weighted = params.weights[:, None] * np.exp(-0.5 * z) / np.sqrt(2.0 * np.pi * variances[:, None])
    return Density1D(x, weighted, weighted.sum(axis=0))


def freedman_diaconis_bins(x: np.ndarray) -> int:
    """The number of bins of width 2·IQR·N^(−1/3) over the data's range (Sturges' rule when
    the IQR is zero, e.g. for data with many ties), between 1 and :data:`MAX_BINS`."""
    x = np.asarray(x, dtype=np.float64).ravel()
    span = float(x.max() - x.min()) if len(x) else 0.0
    if span <= 0:
        return 1
    q75, q25 = np.percentile(x, [75, 25])
    width = 2.0 * (q75 - q25) * len(x) ** (-1.0 / 3.0)
    bins = span / width if width > 0 else np.log2(len(x)) + 1.0
    return int(min(max(np.ceil(bins), 1), MAX_BINS))


def histogram_edges(x: np.ndarray, bins: int | None = None) -> np.ndarray:
    """Equal-width bin edges over the data's range: ``bins`` of them, or Freedman–Diaconis'."""
    x = np.asarray(x, dtype=np.float64).ravel()
    count = freedman_diaconis_bins(x) if bins is None else int(bins)
    if not 1 <= count <= MAX_BINS:
        raise ValueError(f"The number of bins must be between 1 and {MAX_BINS}; got {bins}.")
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:  # every value equal: one bin of unit width around it
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, count + 1)


def stacked_histogram(
    x: np.ndarray, edges: np.ndarray, responsibilities: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The histogram as a density (area one) and, given γ (N, K), its split per component.

    Returns ``heights`` (B,) and ``parts`` (K, B) with ``parts[k, b]`` = Σ_{n in bin b} γ_nk
    / (N · width_b), so the parts of a bin add up to its height (None without γ).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    widths = np.diff(edges)
    scale = 1.0 / (len(x) * widths)
    counts, _ = np.histogram(x, edges)
    heights = counts * scale
    if responsibilities is None:
        return heights, None
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(widths) - 1)
    parts = np.stack([np.bincount(which, weights=responsibilities[:, k], minlength=len(widths))
                      for k in range(responsibilities.shape[1])])
    return heights, parts * scale
