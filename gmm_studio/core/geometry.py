"""Plane geometry for drawing mixtures: ellipses, coverage, 2-D projections, colour matching.

Qt-free (numpy + scipy), so the views stay thin and everything here is tested without a display.

* :func:`ellipse_outline` — the closed curve ``{μ + r·L·u : |u| = 1}`` of a 2×2 covariance.
* :func:`coverage_of_radius` / :func:`radius_for_coverage` — a Mahalanobis radius r encloses
  the χ²(dim) probability of r², ``P(dim/2, r²/2)`` (regularised incomplete gamma), of a
  Gaussian's mass: 39.3 % for r = 1 and 86.5 % for r = 2 in 2-D.
* :class:`Projection` — how D-dimensional data and components are shown in the plane: the first
  two principal components (default for D > 2) or two chosen columns.  Components are projected
  exactly: ``P Σ_k Pᵀ`` is the covariance of the projected Gaussian.
* :func:`match_colors` — permute a new run's components so each keeps the colour of the
  component it replaces (Hungarian assignment on squared distances between means).
* :func:`match_labels` — pair the classes of a label column with the components they overlap
  most (Hungarian assignment on the contingency table), so true labels can wear the colours of
  the components that found them.

Nothing of scipy is imported with this module, which the window needs at once:
``scipy.stats`` cost about a second of start-up for one χ² function, which in the plane is
``1 - exp(-r²/2)`` (``scipy.special``'s incomplete gamma for other dimensions), and
``scipy.optimize`` is imported where an assignment is first solved.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gmm_studio.core.params import MixtureParams

__all__ = [
    "Projection",
    "nearest_centres",
    "coverage_of_radius",
    "ellipse_outline",
    "ellipse_outlines",
    "lift_point",
    "match_colors",
    "label_classes",
    "match_labels",
    "permute_params",
    "radius_for_coverage",
]


def coverage_of_radius(radius: float, dim: int = 2) -> float:
    """Fraction of a ``dim``-dimensional Gaussian's mass within Mahalanobis distance ``radius``.

    ``P(|z|² ≤ r²)`` for ``|z|² ~ χ²(dim)``, which is the regularised lower incomplete gamma
    function ``P(dim/2, r²/2)`` (``1 - exp(-r²/2)`` in the plane): 0.393 for r = 1 and 0.865
    for r = 2.
    """
    if radius < 0:
        raise ValueError(f"radius must be non-negative; got {radius!r}.")
    if dim == 2:  # the plane the views draw in: closed form, no scipy at start-up
        return float(-np.expm1(-0.5 * float(radius) ** 2))
    from scipy.special import gammainc

    return float(gammainc(0.5 * dim, 0.5 * float(radius) ** 2))


def radius_for_coverage(coverage: float, dim: int = 2) -> float:
    """The Mahalanobis radius whose ellipse holds ``coverage`` (0 < coverage < 1) of the mass."""
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must lie strictly between 0 and 1; got {coverage!r}.")
    if dim == 2:
        return float(np.sqrt(-2.0 * np.log1p(-float(coverage))))
    from scipy.special import gammaincinv

    return float(np.sqrt(2.0 * gammaincinv(0.5 * dim, float(coverage))))


def ellipse_outline(mean2: np.ndarray, cov2x2: np.ndarray, radius: float, n: int = 100) -> np.ndarray:
    """Closed outline of the ellipse ``(x-μ)ᵀ Σ⁻¹ (x-μ) = radius²``, shape ``(n + 1, 2)``.

    The last point repeats the first so the curve closes when drawn as a polyline.  A singular
    or slightly indefinite Σ (a collapsed component) gives a flat ellipse rather than NaN:
    negative eigenvalues are clipped to zero.  Non-finite input gives non-finite output; callers
    skip those.
    """
    return ellipse_outlines(mean2, cov2x2, (radius,), n)[0]


def ellipse_outlines(mean2: np.ndarray, cov2x2: np.ndarray, radii, n: int = 100) -> np.ndarray:
    """:func:`ellipse_outline` at each of ``radii``, shape ``(len(radii), n + 1, 2)``: one
    eigendecomposition for all (the window redraws every component's contours each frame)."""
    mean2 = np.asarray(mean2, dtype=np.float64).reshape(2)
    cov = np.asarray(cov2x2, dtype=np.float64).reshape(2, 2)
    radii = np.asarray(radii, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(cov)):
        return np.full((len(radii), int(n) + 1, 2), np.nan)
    sym = 0.5 * (cov + cov.T)
    eigval, eigvec = np.linalg.eigh(sym)
    scale = eigvec * np.sqrt(np.clip(eigval, 0.0, None))  # columns scaled by sqrt(λ)
    unit = _unit_circle(int(n)) @ scale.T
    return mean2 + radii[:, None, None] * unit


@functools.lru_cache(maxsize=8)
def _unit_circle(n: int) -> np.ndarray:
    t = np.linspace(0.0, 2.0 * np.pi, n + 1)
    t[-1] = 0.0  # close exactly
    circle = np.column_stack([np.cos(t), np.sin(t)])
    circle.setflags(write=False)
    return circle


#: Columns whose spreads differ by more than this factor are "on different scales" (the import
#: dialog warns at the same ratio when standardising is off).
SCALE_RATIO_WARNING = 100.0
#: A principal component is "dominated" by a column holding this share of its squared loadings.
_DOMINANT_LOADING = 0.9


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
    note : str
        A sentence for the person when the picture may mislead (principal components of
        columns on very different scales are mostly the widest column); empty otherwise.
    """

    matrix: np.ndarray
    offset: np.ndarray
    axis_titles: tuple[str, str]
    kind: str = "columns"
    note: str = ""

    @classmethod
    def columns(cls, n_features: int, i: int = 0, j: int = 1,
                names: Sequence[str] | None = None) -> Projection:
        """Show column ``i`` horizontally and column ``j`` vertically (no offset).

        With one feature the vertical axis is constant zero.
        """
        d = int(n_features)
        names = list(names) if names is not None else _default_names(d)
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
    def pca(cls, x: np.ndarray, names: Sequence[str] | None = None) -> Projection:
        """The first two principal components of ``x`` (numpy SVD of the centred data).

        Signs are fixed so each component's largest loading is positive (stable across runs).
        When the columns' spreads differ by more than :data:`SCALE_RATIO_WARNING` and a
        component is almost one column, its axis title and :attr:`note` say so: such a "PC1
        100 %" is the widest column's units, not the shape of the data.
        """
        x = np.asarray(x, dtype=np.float64)
        d = x.shape[1]
        names = list(names) if names is not None else _default_names(d)
        offset = x.mean(axis=0)
        centred = x - offset
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        var = s**2
        total = var.sum()
        std = centred.std(axis=0)
        positive = std[std > 0]
        ratio = float(positive.max() / positive.min()) if positive.size else 1.0
        m = np.zeros((2, d))
        titles, dominated = [], []
        for r in range(2):
            if r < vt.shape[0]:
                v = vt[r]
                if v[np.argmax(np.abs(v))] < 0:
                    v = -v
                m[r] = v
                share = 100.0 * var[r] / total if total > 0 else 0.0
                top = int(np.argmax(v**2))
                if ratio > SCALE_RATIO_WARNING and v[top] ** 2 >= _DOMINANT_LOADING:
                    # Short enough for the axis: the note says the rest.
                    advice = "" if dominated else "; standardise to compare shapes"
                    titles.append(f"PC{r + 1} ({share:.1f} %, dominated by {names[top]}{advice})")
                    dominated.append(f"PC{r + 1} is mostly column {names[top]}")
                else:
                    titles.append(f"PC{r + 1} ({share:.1f} % of variance)")
            else:
                titles.append(f"PC{r + 1} (none)")
        note = ""
        if dominated:
            note = (f"The columns' spreads differ by {ratio:,.0f}×, so {' and '.join(dominated)}: "
                    "the picture shows units, not shapes. Standardise the columns "
                    "(import option) to compare shapes.")
        return cls(m, offset, (titles[0], titles[1]), "pca", note)

    @classmethod
    def default_for(cls, x: np.ndarray, names: Sequence[str] | None = None) -> Projection:
        """Columns 1 and 2 when the data have at most two features, else principal components."""
        d = np.asarray(x).shape[1]
        return cls.columns(d, 0, 1, names) if d <= 2 else cls.pca(x, names)

    def project_points(self, x: np.ndarray) -> np.ndarray:
        """``(N, D)`` → ``(N, 2)`` float64.

        Columns 1 and 2 of 2-D data are ``x`` itself, not a copy (160 MB at 1e7 points):
        treat the result as read-only.
        """
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "columns" and x.shape[1] >= 2:
            i, j = int(np.argmax(self.matrix[0])), int(np.argmax(self.matrix[1]))
            if (i, j) == (0, 1) and x.shape[1] == 2:
                return x
            return np.column_stack([x[:, i], x[:, j]])
        return (x - self.offset) @ self.matrix.T

    def project_params(self, params: MixtureParams) -> tuple[np.ndarray, np.ndarray]:
        """Projected means ``(K, 2)`` and exact projected covariances ``P Σ_k Pᵀ`` ``(K, 2, 2)``."""
        means2 = (params.means - self.offset) @ self.matrix.T
        full = params.full_covariances()
        covs2 = np.einsum("ad,kde,be->kab", self.matrix, full, self.matrix)
        return means2, covs2


def _default_names(d: int) -> list[str]:
    return [f"x{c + 1}" for c in range(d)]


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
    from scipy.optimize import linear_sum_assignment  # ~0.1 s to import; not at start-up

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


def label_classes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct labels in reading order and each point's class index.

    Labels arrive as strings; when every one is a number they are ordered as numbers
    ("2" before "10"), otherwise alphabetically.

    Returns
    -------
    classes : ndarray of str, shape (C,)
    codes : ndarray of int, shape (N,)
        ``classes[codes[n]]`` is point n's label.
    """
    text = np.asarray(labels).astype(str).ravel()
    names, codes = np.unique(text, return_inverse=True)
    try:
        order = np.argsort([float(n) for n in names], kind="stable")
    except ValueError:
        return names, codes.astype(np.intp)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return names[order], rank[codes].astype(np.intp)


def match_labels(labels: np.ndarray, assignments: np.ndarray,
                 n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Pair each class of ``labels`` with a component of the fit, one to one, by overlap.

    Builds the contingency table ``T[c, k]`` = number of points of class c assigned to
    component k, and picks the pairing with the largest total overlap (Hungarian assignment,
    ``linear_sum_assignment`` on ``-T``).  Components' labels are arbitrary, so this is how
    "class setosa is the blue component" is found.

    Parameters
    ----------
    labels : array of shape (N,)
        The label column (any values; compared as strings).
    assignments : array of int, shape (N,)
        Hard assignments in ``[0, n_components)``, e.g. the argmax of the responsibilities.
    n_components : int
        K.

    Returns
    -------
    classes : ndarray of str, shape (C,)
        As :func:`label_classes` orders them.
    component : ndarray of int, shape (C,)
        The component matched to each class; -1 for classes left over when C > K.
    """
    classes, codes = label_classes(labels)
    assignments = np.asarray(assignments, dtype=np.intp).ravel()
    if assignments.shape != codes.shape:
        raise ValueError(f"{codes.size} labels but {assignments.size} assignments; pass one per point.")
    k = int(n_components)
    if assignments.size and (assignments.min() < 0 or assignments.max() >= k):
        raise ValueError(f"assignments must lie in [0, {k}); got {assignments.min()}..{assignments.max()}.")
    component = np.full(len(classes), -1, dtype=np.intp)
    if k == 0 or len(classes) == 0:
        return classes, component
    from scipy.optimize import linear_sum_assignment  # ~0.1 s to import; not at start-up

    table = np.zeros((len(classes), k), dtype=np.int64)
    np.add.at(table, (codes, assignments), 1)
    rows, cols = linear_sum_assignment(-table)
    component[rows] = cols
    return classes, component


#: Rows per call of scipy's ``vq`` in :func:`nearest_centres` (~10 ms each).
_NEAREST_ROWS = 1 << 18


def nearest_centres(x: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest centre and its Euclidean distance (scipy's ``vq``), block by block.

    ``vq`` holds the GIL for its whole call: 0.3 s at 1e7 rows, which froze the window while
    a fit began.  In blocks of :data:`_NEAREST_ROWS` rows the GIL is let go between them.
    Any thread.
    """
    from scipy.cluster.vq import vq  # scipy.cluster costs ~0.3 s to import: not at start-up

    x = np.asarray(x, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    n = len(x)
    labels = np.empty(n, dtype=np.intp)
    distances = np.empty(n)
    for start in range(0, n, _NEAREST_ROWS):
        stop = min(start + _NEAREST_ROWS, n)
        labels[start:stop], distances[start:stop] = vq(x[start:stop], centres, check_finite=False)
    return labels, distances
