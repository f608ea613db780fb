"""Plane geometry for drawing mixtures: ellipses, coverage, 2-D projections, colour matching.

Qt-free (numpy + scipy), so the views stay thin and everything here is tested without a display.

* :func:`ellipse_outline` — the closed curve ``{μ + r·L·u : |u| = 1}`` of a 2×2 covariance.
* :func:`coverage_of_radius` / :func:`radius_for_coverage` — a Mahalanobis radius r encloses
  ``chi2.cdf(r², dim)`` of a Gaussian's mass (39.3 % for r = 1 and 86.5 % for r = 2 in 2-D).
* :class:`Projection` — how D-dimensional data and components are shown in the plane: the first
  two principal components (default for D > 2) or two chosen columns.  Components are projected
  exactly: ``P Σ_k Pᵀ`` is the covariance of the projected Gaussian.
* :func:`match_colors` — permute a new run's components so each keeps the colour of the
  component it replaces (Hungarian assignment on squared distances between means).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from gmm_studio.core.params import MixtureParams

__all__ = [
    "Projection",
    "coverage_of_radius",
    "ellipse_outline",
    "lift_point",
    "match_colors",
    "permute_params",
    "radius_for_coverage",
]


def coverage_of_radius(radius: float, dim: int = 2) -> float:
    """Fraction of a ``dim``-dimensional Gaussian's mass within Mahalanobis distance ``radius``.

    ``P(|z|² ≤ r²) = chi2.cdf(r², dim)``: 0.393 for r = 1 and 0.865 for r = 2 in the plane.
    """
    if radius < 0:
        raise ValueError(f"radius must be non-negative; got {radius!r}.")
    return float(chi2.cdf(float(radius) ** 2, dim))


def radius_for_coverage(coverage: float, dim: int = 2) -> float:
    """The Mahalanobis radius whose ellipse holds ``coverage`` (0 < coverage < 1) of the mass."""
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must lie strictly between 0 and 1; got {coverage!r}.")
    return float(np.sqrt(chi2.ppf(float(coverage), dim)))


def ellipse_outline(mean2: np.ndarray, cov2x2: np.ndarray, radius: float, n: int = 100) -> np.ndarray:
    """Closed outline of the ellipse ``(x-μ)ᵀ Σ⁻¹ (x-μ) = radius²``, shape ``(n + 1, 2)``.

    The last point repeats the first so the curve closes when drawn as a polyline.  A singular
    or slightly indefinite Σ (a collapsed component) gives a flat ellipse rather than NaN:
    negative eigenvalues are clipped to zero.  Non-finite input gives non-finite output; callers
    skip those.
    """
    mean2 = np.asarray(mean2, dtype=np.float64).reshape(2)
    cov = np.asarray(cov2x2, dtype=np.float64).reshape(2, 2)
    t = np.linspace(0.0, 2.0 * np.pi, int(n) + 1)
    t[-1] = 0.0  # close exactly
    circle = np.column_stack([np.cos(t), np.sin(t)])
    if not np.all(np.isfinite(cov)):
        return np.full((int(n) + 1, 2), np.nan)
    sym = 0.5 * (cov + cov.T)
    eigval, eigvec = np.linalg.eigh(sym)
    scale = eigvec * np.sqrt(np.clip(eigval, 0.0, None))  # columns scaled by sqrt(λ)
    return mean2 + float(radius) * circle @ scale.T


@dataclass(frozen=True, eq=False)
class Projection:
    """A linear map from D-dimensional data to the plane the data view shows.

    ``project(x) = (x - offset) @ matrix.T``.  Build it with :meth:`pca` or :meth:`columns`.

    Attributes
    ----------
    matrix : ndarray of shape (2, D)
    offset : ndarray of shape (D,)
    axis_titles : tuple of two str
        What each axis shows, e.g. ``"PC1 (72.9 % of variance)"`` or a column name.
    kind : {'pca', 'columns'}
    """

    matrix: np.ndarray
    offset: np.ndarray
    axis_titles: tuple[str, str]
    kind: str = "columns"

    @classmethod
    def columns(cls, n_features: int, i: int = 0, j: int = 1,
                names: Sequence[str] | None = None) -> Projection:
        """Show column ``i`` horizontally and column ``j`` vertically (no offset).

        With one feature the vertical axis is constant zero.
        """
        d = int(n_features)
        names = list(names) if names is not None else [f"x{c + 1}" for c in range(d)]
        m = np.zeros((2, d))
        if not 0 <= i < d:
            raise ValueError(f"column {i} does not exist in {d}-D data.")
        m[0, i] = 1.0
        if d >= 2:
            if not 0 <= j < d:
                raise ValueError(f"column {j} does not exist in {d}-D data.")
            m[1, j] = 1.0
            titles = (names[i], names[j])
        else:
            titles = (names[i], "(none: one feature)")
        return cls(m, np.zeros(d), titles, "columns")

    @classmethod
    def pca(cls, x: np.ndarray) -> Projection:
        """The first two principal components of ``x`` (numpy SVD of the centred data).

        Signs are fixed so each component's largest loading is positive (stable across runs).
        """
        x = np.asarray(x, dtype=np.float64)
        d = x.shape[1]
        offset = x.mean(axis=0)
        centred = x - offset
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        var = s**2
        total = var.sum()
        m = np.zeros((2, d))
        titles = []
        for r in range(2):
            if r < vt.shape[0]:
                v = vt[r]
                if v[np.argmax(np.abs(v))] < 0:
                    v = -v
                m[r] = v
                share = 100.0 * var[r] / total if total > 0 else 0.0
                titles.append(f"PC{r + 1} ({share:.1f} % of variance)")
            else:
                titles.append(f"PC{r + 1} (none)")
        return cls(m, offset, (titles[0], titles[1]), "pca")

    @classmethod
    def default_for(cls, x: np.ndarray, names: Sequence[str] | None = None) -> Projection:
        """Columns 1 and 2 when the data have at most two features, else principal components."""
        d = np.asarray(x).shape[1]
        return cls.columns(d, 0, 1, names) if d <= 2 else cls.pca(x)

    def project_points(self, x: np.ndarray) -> np.ndarray:
        """``(N, D)`` → ``(N, 2)`` float64."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "columns" and x.shape[1] >= 2:
            i, j = int(np.argmax(self.matrix[0])), int(np.argmax(self.matrix[1]))
            return np.column_stack([x[:, i], x[:, j]])
        return (x - self.offset) @ self.matrix.T

    def project_params(self, params: MixtureParams) -> tuple[np.ndarray, np.ndarray]:
        """Projected means ``(K, 2)`` and exact projected covariances ``P Σ_k Pᵀ`` ``(K, 2, 2)``."""
        means2 = (params.means - self.offset) @ self.matrix.T
        full = params.full_covariances()
        covs2 = np.einsum("ad,kde,be->kab", self.matrix, full, self.matrix)
        return means2, covs2


def match_colors(previous_means: np.ndarray, new_means: np.ndarray) -> np.ndarray:
    """Permutation ``perm`` so that ``new_means[perm]`` lines up with ``previous_means``.

    Minimises the total squared distance between paired means (``linear_sum_assignment``).
    Component ``j`` of the permuted run takes the place (and colour) of previous component
    ``j``.  When the new run has more components, the unmatched ones follow in their original
    order; when it has fewer, the matched ones are kept in the order of the previous indices.

    Returns
    -------
    ndarray of int, shape (K_new,)
    """
    prev = np.asarray(previous_means, dtype=np.float64)
    new = np.asarray(new_means, dtype=np.float64)
    k_new = len(new)
    if len(prev) == 0 or k_new == 0 or prev.shape[1:] != new.shape[1:]:
        return np.arange(k_new)
    cost = ((prev[:, None, :] - new[None, :, :]) ** 2).sum(axis=2)
    cost = np.where(np.isfinite(cost), cost, np.finfo(np.float64).max / (4 * max(cost.size, 1)))
    rows, cols = linear_sum_assignment(cost)
    order = np.argsort(rows)
    rows, cols = rows[order], cols[order]
    if k_new <= len(prev):
        return cols.astype(np.intp)
    perm = np.empty(k_new, dtype=np.intp)
    perm[rows] = cols
    rest = [c for c in range(k_new) if c not in set(cols.tolist())]
    perm[len(prev):] = rest
    return perm


def permute_params(params: MixtureParams, perm: np.ndarray) -> MixtureParams:
    """The same mixture with its components reordered: component j becomes ``params[perm[j]]``."""
    perm = np.asarray(perm, dtype=np.intp)
    covs = params.covariances if params.covariance_type == "tied" else params.covariances[perm]
    return MixtureParams(params.covariance_type, params.weights[perm], params.means[perm], covs)


def lift_point(projection: Projection, xy: np.ndarray, base: np.ndarray) -> np.ndarray:
    """A D-dimensional point that projects to ``xy`` and is otherwise ``base`` (e.g. the data mean).

    Used to turn a click in the plane into an initial mean: the projection's rows are
    orthonormal, so ``base + (xy - project(base)) @ matrix`` projects exactly onto ``xy``.
    """
    base = np.asarray(base, dtype=np.float64)
    xy = np.asarray(xy, dtype=np.float64).reshape(2)
    here = (base - projection.offset) @ projection.matrix.T
    return base + (xy - here) @ projection.matrix
