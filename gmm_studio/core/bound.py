"""The Jensen bound as a function: L(θ) and B(θ; q) along a slice through parameter space.

EM's central argument, drawn: for the responsibilities q⁽ᵗ⁾ of the E-step at θ⁽ᵗ⁾,

    L(θ)      = (1/N) Σ_n log Σ_k π_k N(x_n | μ_k, Σ_k)                  (mean log-likelihood)
    B(θ; q)   = (1/N) Σ_n Σ_k q_nk log(π_k N(x_n | μ_k, Σ_k) / q_nk)       (Jensen's lower bound)

with B ≤ L everywhere, B = L at θ = θ⁽ᵗ⁾ (the E-step makes the bound tight) and B's maximiser
the M-step's θ⁽ᵗ⁺¹⁾.  The gap is ``L − B = (1/N) Σ_n KL(q_n ‖ p(z | x_n, θ))``.

:func:`bound_slice` evaluates both along a one-dimensional family θ(s):

* the default :data:`LINE` slice ``θ(s) = θ⁽ᵗ⁾ + s·(θ⁽ᵗ⁺¹⁾ − θ⁽ᵗ⁾)``: means linearly, weights
  linearly in log space (then renormalised, so they stay on the simplex), covariances through
  their log-Cholesky factors (off-diagonal entries linearly, the log of the diagonal linearly),
  so every θ(s) is a valid mixture for every s and θ(0) = θ⁽ᵗ⁾, θ(1) = θ⁽ᵗ⁺¹⁾ exactly;
* or one parameter, the others held at θ⁽ᵗ⁾ (:class:`SliceSpec`): a mean's coordinate, a
  weight (the other weights rescaled to keep the sum one) or a log-variance (the covariance
  scaled along one coordinate, its correlations kept).

How it is fast
--------------
Every θ(s) is turned into the engine's coefficients C(s) (``φ(x)·C = log π_k N(x|θ_k)``, see
:mod:`gmm_studio.core.em`), all samples at once as one stack of S·K components.  B is linear in
the sufficient statistics of q, ``B(s) = (Γᵀφ(X))·C(s)/N + H(q)/N``: one pass over the data, then
O(K·D²) per sample.  L needs every point at every s.  Each point is pivoted on the component g
that q gives most of it, ``log p = a_g + log(1 + Σ_{k≠g} exp(a_k − a_g))``: a_g summed over a
group of points is linear in φ again, so the pass over the data costs K − 1 exponentials per
point and sample (one matrix product per cache-sized chunk of rows gives the differences), and
one log per eight points (of the product of their terms, each at least 1), split over the
engine's workers.  Near θ⁽ᵗ⁾ the pivot is the largest term, so nothing overflows; the rare chunk
where an exponential does is redone with a max shift.  Measured by ``benchmarks/bench_bound.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

# The feature map, the data's centred columns, the statistics pass and the E-pass thread pool
# are the engine's own (EMData's internals and em.py's private helpers): the bound must be
# computed exactly as EM computes the log-likelihood, and one copy of them is enough.
from gmm_studio.core import parallel
from gmm_studio.core.em import _PARALLEL_MIN_WORK, EMData
from gmm_studio.core.params import MixtureParams, NotPositiveDefiniteError

__all__ = ["LINE", "BoundSlice", "SliceSpec", "bound_slice", "params_at", "slice_choices"]

SliceKind = Literal["line", "mean", "weight", "log_variance"]

# Differences of log densities below this are clamped to it before exp: e^-700 ≈ 1e-304 adds
# nothing to 1, and exp is slow where its result would be subnormal.
_FLOOR = -700.0
_TINY = np.finfo(np.float64).tiny
# Elements of one chunk's (K−1)·rows·S block of differences (2 MB): measured at N = 1e5, 1 << 16
# to 1 << 20 cost within 10 % of each other, and smaller chunks pay numpy's per-call overhead.
_CHUNK_ELEMENTS = 1 << 18
# The search for B's maximiser: a grid of this many points, narrowing the bracket 32-fold a
# round, to 3·10⁻¹⁰ of the samples' spacing.
_REFINE_POINTS = 65
_REFINE_ROUNDS = 5


@dataclass(frozen=True)
class SliceSpec:
    """Which one-dimensional family θ(s) to draw.

    Parameters
    ----------
    kind : {'line', 'mean', 'weight', 'log_variance'}
        'line': θ⁽ᵗ⁾ + s·(θ⁽ᵗ⁺¹⁾ − θ⁽ᵗ⁾) (s is the abscissa).  The others vary one
        parameter of ``component``, the rest held at θ⁽ᵗ⁾, and the abscissa is the parameter's
        value: 'mean' μ_k's ``coordinate``, 'weight' π_k, 'log_variance' log Σ_k[j, j] with
        j = ``coordinate`` (for 'spherical' the one variance; for 'tied' the shared matrix,
        whatever ``component``).
    component, coordinate : int
        0-based.
    """

    kind: SliceKind = "line"
    component: int = 0
    coordinate: int = 0

    def label(self, names: tuple[str, ...] | None = None, covariance_type: str = "full") -> str:
        """How the abscissa is called, e.g. ``"mean of component 2, x1"``, for axes and menus."""
        if self.kind == "line":
            return "s  (θ(s) = θ⁽ᵗ⁾ + s·(θ⁽ᵗ⁺¹⁾ − θ⁽ᵗ⁾))"
        k = self.component + 1
        name = names[self.coordinate] if names else f"x{self.coordinate + 1}"
        if self.kind == "mean":
            return f"mean of component {k}, {name}"
        if self.kind == "weight":
            return f"weight π of component {k}"
        if covariance_type == "spherical":
            return f"log variance of component {k}"
        if covariance_type == "tied":
            return f"log variance shared by all components, {name}"
        return f"log variance of component {k}, {name}"


LINE = SliceSpec("line")


def slice_choices(params: MixtureParams) -> list[SliceSpec]:
    """Every slice that makes sense for these parameters, the default line first."""
    k, d = params.n_components, params.n_features
    choices = [LINE]
    for c in range(k):
        choices += [SliceSpec("mean", c, j) for j in range(d)]
        if k > 1:
            choices.append(SliceSpec("weight", c))
        if params.covariance_type == "spherical":
            choices.append(SliceSpec("log_variance", c))
        elif params.covariance_type != "tied" or c == 0:
            choices += [SliceSpec("log_variance", c, j) for j in range(d)]
    return choices


@dataclass(frozen=True, eq=False)
class BoundSlice:
    """L and B along one slice, with the points the picture marks.

    Attributes
    ----------
    spec : SliceSpec
    s : ndarray (S,)
        The abscissa (s on the line; the parameter's value on a one-parameter slice).
    log_likelihood, lower_bound : ndarray (S,)
        L(θ(s)) and B(θ(s); q⁽ᵗ⁾), mean per point.
    s_touch : float
        Where θ(s) = θ⁽ᵗ⁾ (0 on the line): the E-step, where B = L.
    s_next : float
        Where θ(s) takes θ⁽ᵗ⁺¹⁾'s value (1 on the line): where the M-step lands.
    s_max : float
        The maximiser of B on the slice (refined between samples); s_next on the line.
    marks : ndarray (3,)
        ``[s_touch, s_next, s_max]``; ``marks_log_likelihood`` and ``marks_lower_bound`` are L
        and B evaluated exactly there, and ``gap = L − B`` = the mean KL(q ‖ posterior).
    """

    spec: SliceSpec
    s: np.ndarray
    log_likelihood: np.ndarray
    lower_bound: np.ndarray
    s_touch: float
    s_next: float
    s_max: float
    marks: np.ndarray
    marks_log_likelihood: np.ndarray
    marks_lower_bound: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """L − B at :attr:`marks` (KL(q ‖ p(z|x, θ)) per point; ≈ 0 at s_touch)."""
        return self.marks_log_likelihood - self.marks_lower_bound


# --------------------------------------------------------------------------- families θ(s)


def _log_cholesky(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strictly lower part and log-diagonal of the Cholesky factors of a (..., D, D) stack."""
    chol = np.linalg.cholesky(cov)
    return np.tril(chol, -1), np.log(np.diagonal(chol, axis1=-2, axis2=-1))


def _from_log_cholesky(lower: np.ndarray, log_diag: np.ndarray) -> np.ndarray:
    d = log_diag.shape[-1]
    chol = lower + np.exp(log_diag)[..., None] * np.eye(d)
    return chol @ np.swapaxes(chol, -1, -2)


def _stack(covariance_type: str, weights: np.ndarray, means: np.ndarray,
           covariances: np.ndarray) -> MixtureParams:
    """S mixtures of K components as one 'mixture' of S·K, component-major (index k·S + s).

    ``weights`` (S, K), ``means`` (S, K, D), ``covariances`` (S, K, D, D) for 'full' and 'tied'
    (so 'tied' becomes 'full': the same features, one matrix per sample), else (S, K, D) or (S, K).
    Component-major order makes each component's S columns contiguous, so the sum over K in
    the L pass adds K contiguous blocks.
    """
    s, k, d = means.shape
    stacked_type = "full" if covariance_type == "tied" else covariance_type
    return MixtureParams(
        stacked_type,
        np.swapaxes(weights, 0, 1).reshape(k * s),
        np.swapaxes(means, 0, 1).reshape(k * s, d),
        np.swapaxes(covariances, 0, 1).reshape((k * s,) + covariances.shape[2:]),
    )


def _per_component(params: MixtureParams) -> np.ndarray:
    """Covariances as (K, D, D) for 'full'/'tied', else in their own (K, D) / (K,) shape."""
    if params.covariance_type in ("full", "tied"):
        return params.full_covariances()
    return np.asarray(params.covariances)


def _line_family(p0: MixtureParams, p1: MixtureParams, s: np.ndarray) -> MixtureParams:
    t = s[:, None]
    log_w = (1.0 - t) * np.log(np.maximum(p0.weights, _TINY)) + t * np.log(np.maximum(p1.weights, _TINY))
    log_w -= log_w.max(axis=1, keepdims=True)
    weights = np.exp(log_w)
    weights /= weights.sum(axis=1, keepdims=True)
    means = p0.means + s[:, None, None] * (p1.means - p0.means)
    c0, c1 = _per_component(p0), _per_component(p1)
    ts = s.reshape((-1,) + (1,) * c0.ndim)
    if p0.covariance_type in ("full", "tied"):
        (l0, g0), (l1, g1) = _log_cholesky(c0), _log_cholesky(c1)
        lower = l0 + ts * (l1 - l0)
        log_diag = g0 + s.reshape((-1,) + (1,) * g0.ndim) * (g1 - g0)
        covariances = _from_log_cholesky(lower, log_diag)
    else:  # variances: linear in log space
        covariances = np.exp(np.log(c0) + ts * (np.log(c1) - np.log(c0)))
    return _stack(p0.covariance_type, weights, means, covariances)


def _parameter_value(params: MixtureParams, spec: SliceSpec) -> float:
    k, j = spec.component, spec.coordinate
    if spec.kind == "mean":
        return float(params.means[k, j])
    if spec.kind == "weight":
        return float(params.weights[k])
    if params.covariance_type == "spherical":
        return float(np.log(params.covariances[k]))
    return float(np.log(params.full_covariances()[k, j, j]))


def _parameter_family(p0: MixtureParams, spec: SliceSpec, v: np.ndarray) -> MixtureParams:
    n, d = len(v), p0.n_features
    c, j = spec.component, spec.coordinate
    weights = np.repeat(p0.weights[None], n, axis=0)
    means = np.repeat(p0.means[None], n, axis=0)
    covariances = np.repeat(_per_component(p0)[None], n, axis=0)
    if spec.kind == "mean":
        means[:, c, j] = v
    elif spec.kind == "weight":
        rest = 1.0 - p0.weights[c]
        scale = (1.0 - v) / rest if rest > 0 else np.zeros_like(v)
        weights *= scale[:, None]
        weights[:, c] = v
    elif p0.covariance_type in ("diag", "spherical"):
        index = (slice(None), c, j) if p0.covariance_type == "diag" else (slice(None), c)
        covariances[index] = np.exp(v)
    else:
        # Σ ↦ D Σ D with D = I except D_jj = exp((v − v₀)/2): Σ_jj becomes exp(v), the
        # correlations stay, and a congruence keeps Σ positive definite.
        factor = np.exp(0.5 * (v - _parameter_value(p0, spec)))
        scale = np.ones((n, d))
        scale[:, j] = factor
        targets = slice(None) if p0.covariance_type == "tied" else slice(c, c + 1)
        covariances[:, targets] *= (scale[:, :, None] * scale[:, None, :])[:, None]
    return _stack(p0.covariance_type, weights, means, covariances)


def _family(p0: MixtureParams, p1: MixtureParams, spec: SliceSpec, s: np.ndarray) -> MixtureParams:
    s = np.atleast_1d(np.asarray(s, dtype=np.float64))
    return _line_family(p0, p1, s) if spec.kind == "line" else _parameter_family(p0, spec, s)


def params_at(params: MixtureParams, next_params: MixtureParams, spec: SliceSpec,
              value: float) -> MixtureParams:
    """θ(value) on a slice as an ordinary mixture (e.g. to draw its ellipses under the cursor)."""
    stack = _family(params, next_params, spec, np.array([float(value)]))
    covariances = stack.covariances
    if params.covariance_type == "tied":
        covariances = covariances[0]
    return MixtureParams(params.covariance_type, stack.weights, stack.means, covariances)


def _default_range(p0: MixtureParams, p1: MixtureParams, spec: SliceSpec,
                   span: tuple[float, float]) -> tuple[float, float]:
    if spec.kind == "line":
        return span
    v0, v1 = _parameter_value(p0, spec), _parameter_value(p1, spec)
    if spec.kind == "mean":
        c, j = spec.component, spec.coordinate
        scale = float(np.sqrt(p0.full_covariances()[c, j, j]))
    elif spec.kind == "weight":
        scale = 0.1
    else:
        scale = 1.0
    pad = max(0.5 * abs(v1 - v0), scale)
    lo, hi = min(v0, v1) - pad, max(v0, v1) + pad
    if spec.kind == "weight":  # a weight lives in (0, 1)
        lo, hi = max(lo, 1e-3), min(hi, 1.0 - 1e-3)
    return lo, hi


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, eq=False)
class _Rows:
    """One block of rows for the L pass, its points grouped by pivot (see
    :meth:`_Evaluator.log_likelihood`)."""

    xt: np.ndarray  # (D, rows): the block's centred points, group after group
    edges: np.ndarray  # (K + 1,): group g is columns edges[g]:edges[g + 1]
    neg_entropy: float  # Σ q log q over the block's rows

    @classmethod
    def group(cls, xt: np.ndarray, q: np.ndarray) -> _Rows:
        k = q.shape[1]
        # A stable sort of small integers is a radix sort.
        pivot = np.argmax(q, axis=1).astype(np.int16 if k < 2**15 else np.intp)
        order = np.argsort(pivot, kind="stable")
        # 0·log tiny is 0: 0·log 0 = 0, as the entropy needs.
        neg_entropy = float(np.einsum("nk,nk->", q, np.log(np.maximum(q, _TINY))))
        return cls(np.take(xt, order, axis=1), np.searchsorted(pivot[order], np.arange(k + 1)),
                   neg_entropy)


class _Evaluator:
    """L and B for stacks of parameters, given the data and q.  Any thread.

    ``samples`` is about how many values of s the L pass will take (it decides the row blocks
    the workers share).
    """

    def __init__(self, data: EMData, responsibilities: np.ndarray, samples: int):
        q = responsibilities
        self.inner = data._data
        self.n, self.k = q.shape
        self.statistics = self.inner.statistics(q)  # (K, W) = Γᵀφ(X)
        blocks = parallel.row_blocks(self.n, max(self.k - 1, 1) * samples, _PARALLEL_MIN_WORK)
        xt = self.inner.xt
        self.rows = parallel.map_blocks(
            lambda b: _Rows.group(xt[:, b[0]:b[1]], q[b[0]:b[1]]), blocks)
        # The entropy term of the bound.
        self.neg_entropy = sum(r.neg_entropy for r in self.rows)

    def coefficients(self, stack: MixtureParams) -> np.ndarray:
        """(W, K, S) coefficients of a component-major stack of S mixtures."""
        c = self.inner.features.coefficients(stack, self.inner.center)
        return c.reshape(c.shape[0], self.k, -1)

    def lower_bound(self, coefficients: np.ndarray) -> np.ndarray:
        return (np.einsum("kw,wks->s", self.statistics, coefficients) - self.neg_entropy) / self.n

    def log_likelihood(self, coefficients: np.ndarray) -> np.ndarray:
        """Mean L per sample s.

        Each point n is pivoted on its component g = argmax_k q_nk:

            log p(x_n | θ(s)) = a_ng(s) + log(1 + Σ_{k≠g} exp(a_nk(s) − a_ng(s)))

        with a_nk = φ(x_n)·C_k.  The a_ng part is linear in φ, so a group's sum over its points
        is one product with its summed features; only the K − 1 differences need every point
        (one exponential fewer per point and sample than a plain log-sum-exp, and no max to
        take: near θ⁽ᵗ⁾ the pivot is the largest term, so nothing overflows).
        """
        differences = [self._differences(coefficients, g) for g in range(self.k)]
        parts = parallel.map_blocks(lambda rows: self._block(coefficients, differences, rows),
                                    self.rows)
        return sum(parts) / self.n

    @staticmethod
    def _differences(coefficients: np.ndarray, g: int
                     ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """For pivot g: the features that matter (None: all), the (K−1, W', S) coefficients of
        a_k − a_g, and each feature's (2, W') least and largest coefficient (or 0).

        A feature whose coefficient is the same in every component drops out of the
        differences (the quadratic ones for tied covariances): the product is narrower.
        """
        others = [j for j in range(coefficients.shape[1]) if j != g]
        d = coefficients[:, others, :] - coefficients[:, g : g + 1, :]  # (W, K−1, S)
        used = np.flatnonzero(np.any(d != 0.0, axis=(1, 2)))
        if len(used) == len(d):
            used = None
        else:
            d = d[used]
        return used, np.ascontiguousarray(np.swapaxes(d, 0, 1)), np.stack(
            [d.min(axis=(1, 2), initial=0.0), d.max(axis=(1, 2), initial=0.0)])

    def _block(self, coefficients: np.ndarray, differences: list, block: _Rows,
               shifted: bool = False) -> np.ndarray:
        """Σ_n log p(x_n | θ(s)) over one block of rows, per sample s."""
        features = self.inner.features
        w, k, s = coefficients.shape
        rows = max(16, _CHUNK_ELEMENTS // (max(k - 1, 1) * s))
        phi = features.buffer(min(rows, block.xt.shape[1]))
        # Point-major per component: the sum over k and the folds below run over contiguous memory.
        dens = np.empty((k - 1, phi.shape[1], s))
        total = np.zeros(s)
        for g in range(k):
            used, diff, diff_range = differences[g]
            lo, hi = block.edges[g], block.edges[g + 1]
            summed = np.zeros(w)  # Σ φ over this group's rows: their pivot terms a_g, below
            for start in range(lo, hi, rows):
                stop = min(start + rows, hi)
                f = features.compute(block.xt[:, start:stop], phi)
                summed += f.sum(axis=1)
                if k > 1:
                    if used is not None:
                        f = f[used]
                    a = dens[:, : stop - start]
                    np.matmul(f.T, diff, out=a)
                    if shifted:
                        total += _shifted_log1p_sum(a)
                        continue
                    # The least a_k − a_g can be here, from each feature's range: far above
                    # _FLOOR unless components lie far apart, and cheaper than a.min().
                    f_range = np.stack([f.min(axis=1), f.max(axis=1)])
                    least = (f_range[:, None] * diff_range[None]).min(axis=(0, 1)).sum()
                    total += _log1p_sum(a, least < _FLOOR)
            total += summed @ coefficients[:, g, :]
        if not (shifted or np.isfinite(total).all()):
            # An exponential or a product overflowed somewhere: the block again, max-shifted.
            return self._block(coefficients, differences, block, shifted=True)
        return total


def _log1p_sum(a: np.ndarray, may_underflow: bool) -> np.ndarray:
    """Σ_n log(1 + Σ_j exp(a[j, n, s])) per s, ``a`` overwritten; inf where an exponential or
    a product overflows.  ``may_underflow``: whether some a may lie below _FLOOR.

    The log is taken of products of about 8 points' terms, an eighth of the logs: every factor
    is at least 1, so no product underflows.
    """
    if may_underflow and a.min() < _FLOOR:
        # exp is some 30× slower where its result is subnormal; e^FLOOR is lost beside 1.
        np.maximum(a, _FLOOR, out=a)
    with np.errstate(over="ignore"):
        np.exp(a, out=a)
        u = a[0]
        for j in range(1, len(a)):
            u += a[j]
        u += 1.0
        rows = len(u)
        for _ in range(3):  # fold the rows onto their first ⌈rows/2⌉, three times
            half = rows // 2
            u[:half] *= u[rows - half : rows]
            rows -= half
        return np.log(u[:rows]).sum(axis=0)


def _shifted_log1p_sum(a: np.ndarray) -> np.ndarray:
    """:func:`_log1p_sum` with each term's largest exponent taken out first (slow, exact)."""
    shift = np.maximum(a.max(axis=0), 0.0)
    with np.errstate(under="ignore"):
        u = np.exp(-shift) + np.exp(a - shift).sum(axis=0)
    return (np.log(u) + shift).sum(axis=0)


def _refined_maximum(function, s: np.ndarray, best: int) -> float:
    """The maximiser of a smooth ``function`` (vectorised) between the neighbours of sample
    ``best``, by ever finer grids (each holds the last one's best point, so B never drops)."""
    a, b = s[max(best - 1, 0)], s[min(best + 1, len(s) - 1)]
    x = s[best]
    for _ in range(_REFINE_ROUNDS):
        grid = np.linspace(a, b, _REFINE_POINTS)
        i = int(np.argmax(function(grid)))
        a, b, x = grid[max(i - 1, 0)], grid[min(i + 1, _REFINE_POINTS - 1)], grid[i]
    return float(x)


def bound_slice(
    data: EMData,
    params: MixtureParams,
    next_params: MixtureParams | None = None,
    *,
    responsibilities: np.ndarray | None = None,
    reg_covar: float = 1e-6,
    spec: SliceSpec = LINE,
    n_points: int = 200,
    span: tuple[float, float] = (-0.5, 1.5),
) -> BoundSlice:
    """L(θ(s)) and B(θ(s); q⁽ᵗ⁾) along a slice through θ⁽ᵗ⁾ = ``params``.

    Runs on any thread (it touches no shared state; large data use the engine's workers, and
    BLAS is limited to one thread while it runs).

    Parameters
    ----------
    data : EMData
        The data, prepared for ``params.covariance_type``.
    params : MixtureParams
        θ⁽ᵗ⁾, the parameters of the E-step (an 'E' snapshot's ``params``).
    next_params : MixtureParams, optional
        θ⁽ᵗ⁺¹⁾ (the following 'M' snapshot's ``params``); computed by one M-step with
        ``reg_covar`` when not given.
    responsibilities : ndarray (N, K), optional
        q⁽ᵗ⁾ (the 'E' snapshot's ``responsibilities``); recomputed from ``params`` when not
        given (history snapshots drop them).
    spec : SliceSpec
        The family θ(s); default the straight line from θ⁽ᵗ⁾ to θ⁽ᵗ⁺¹⁾.
    n_points : int
        Samples of s.
    span : (float, float)
        The range of s on the line.  One-parameter slices choose a range around the current
        and the M-step's value of that parameter.

    Raises
    ------
    ValueError
        When the parameters do not fit the data, the slice does not exist for them, or a
        covariance is not positive definite (there is no bound to draw).
    """
    if params.covariance_type != data.covariance_type or params.n_features != data.n_features:
        raise ValueError(
            f"Parameters for {params.n_features}-D {params.covariance_type!r} covariances do not "
            f"fit {data.n_features}-D data prepared for {data.covariance_type!r}."
        )
    if spec not in slice_choices(params):
        raise ValueError(f"No slice {spec} for {params.n_components} components in "
                         f"{params.n_features}-D: choose one of slice_choices(params).")
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2; got {n_points}.")
    # Every product here is small (chunks of rows, stacks of D×D factors): BLAS threads of
    # its own would cost more than they give, and with one engine worker (the window on two
    # cores) the passes run inline, where BLAS is otherwise left as it is.
    try:
        with parallel.single_threaded_blas():
            if responsibilities is None:
                responsibilities = data.responsibilities(params)
            if next_params is None:
                next_params = data.params_from_responsibilities(responsibilities, reg_covar)
            evaluator = _Evaluator(data, np.asarray(responsibilities, dtype=np.float64),
                                   int(n_points) + 3)
            lo, hi = _default_range(params, next_params, spec, span)
            s = np.linspace(lo, hi, int(n_points))

            def bound_at(values: np.ndarray) -> np.ndarray:
                return evaluator.lower_bound(evaluator.coefficients(
                    _family(params, next_params, spec, values)))

            lower = bound_at(s)
            best = int(np.argmax(lower))
            s_max = _refined_maximum(bound_at, s, best)
            if spec.kind == "line":
                s_touch, s_next = 0.0, 1.0
            else:
                s_touch = _parameter_value(params, spec)
                s_next = _parameter_value(next_params, spec)
            if np.ptp(lower) <= 1e-12 * (1.0 + abs(lower[best])):
                s_max = s_next  # converged: B is flat, and the M-step stays where it is
            marks = np.array([s_touch, s_next, s_max])
            everything = evaluator.coefficients(
                _family(params, next_params, spec, np.concatenate([s, marks])))
            log_likelihood = evaluator.log_likelihood(everything)
            mark_lower = evaluator.lower_bound(everything[:, :, len(s):])
    except NotPositiveDefiniteError as exc:
        raise ValueError(
            f"Component {exc.component + 1}'s covariance is not positive definite along this "
            "slice, so there is no bound to draw. Raise reg_covar or re-seed the component."
        ) from None
    return BoundSlice(
        spec, s, log_likelihood[: len(s)], lower, s_touch, s_next, s_max, marks,
        log_likelihood[len(s):], mark_lower,
    )
