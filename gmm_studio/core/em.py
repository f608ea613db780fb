"""The one EM implementation: a generator of immutable snapshots.

Everything that fits a mixture — the estimator's ``fit``, the live window, the K
sweep, the command line — drives :func:`em_steps`.  It yields a
:class:`Snapshot` after initialisation and after every E-step and every M-step,
so a caller can watch, step, pause or stop EM between half-steps.

How it is fast
--------------
Every log density the mixture needs is a quadratic form in x, so with the
feature row ``φ(x) = [x_i·x_j (i ≤ j), x_i, 1]`` the weighted log densities of
all components are one matrix product ``φ(X) @ C`` (C holds, per component,
the precision entries, the linear term and the constant).  The same features
give the M-step's sufficient statistics ``Γᵀ φ(X)`` (effective counts, first
and second moments).  One pass over the data, in cache-sized chunks, therefore
does the whole E-step *and* gathers what the M-step needs: no per-point Python,
no N×K temporaries besides the responsibilities themselves, and BLAS does the
heavy lifting.  For D = 2 the features are the five numbers x², xy, y², x, y.
The data are centred once so the expanded quadratic forms stay accurate; what
is left is a rounding error of about eps·(|x − x̄| / σ_k)², negligible unless a
component is some 10⁶ of its own widths away from the data's mean (there
scikit-learn's per-component centring is more accurate).

The Jensen lower bound
----------------------
EM maximises ``L(q, θ) = Σ_n Σ_k q_nk log(π_k N(x_n|θ_k) / q_nk) ≤ log p(X|θ)``.
The E-step sets q to the responsibilities, which makes the bound tight
(L = log-likelihood); the M-step raises L by changing θ.  At the M-step's own
parameters ``Σ_n q_nk (x_n − μ_k)(x_n − μ_k)ᵀ = N_k (Σ_k − reg_covar·I)``, so the
bound after the M-step costs O(K·D²) to evaluate, and every snapshot carries it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from gmm_studio.core import parallel
from gmm_studio.core.params import (
    MixtureParams,
    NotPositiveDefiniteError,
    check_covariance_type,
)

HalfStep = Literal["init", "E", "M"]

_LOG_2PI = np.log(2.0 * np.pi)
_EPS = np.finfo(np.float64).eps
# Larger magnitudes are refused: sums of squares over many points would overflow.
LARGE_VALUE = 1e150


class DegenerateMixtureError(ValueError):
    """EM cannot continue: a covariance is not positive definite or not finite.

    ``events`` holds the diagnosed :class:`DegeneracyEvent` objects; the message
    names the components and the remedies.
    """

    def __init__(self, events: tuple[DegeneracyEvent, ...]):
        self.events = events
        super().__init__(" ".join(e.message for e in events))


@dataclass(frozen=True)
class DegeneracyEvent:
    """A diagnosed problem with one component.

    ``kind`` is 'collapsed' (its mass sits on a point or a lower-dimensional
    subspace, so its likelihood grows without bound), 'empty' (it carries less
    than one point of weight) or 'singular' (its covariance is not positive
    definite or not finite: EM cannot go on).  ``remedies`` are short labels of
    what a person can do; the GUI shows one button per remedy.
    """

    component: int
    kind: Literal["collapsed", "empty", "singular"]
    message: str
    remedies: tuple[str, ...] = ("raise reg_covar", "re-seed the component", "lower K")

    @property
    def fatal(self) -> bool:
        return self.kind == "singular"


@dataclass(frozen=True)
class ComponentDiagnostics:
    """Per-component health: effective count, smallest eigenvalue and condition number of Σ_k."""

    effective_counts: np.ndarray
    min_eigenvalues: np.ndarray
    condition_numbers: np.ndarray


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The state of EM after one half-step.  Immutable: safe to hand across threads.

    Attributes
    ----------
    restart : int
        Which of the ``n_init`` initialisations this belongs to (0-based).
    iteration : int
        0 for the initial state; the E- and M-step of iteration t both carry t.
    half_step : {'init', 'E', 'M'}
    params : MixtureParams
        The parameters after this half-step (an E-step leaves them unchanged).
    responsibilities : ndarray of shape (N, K) or None
        γ_nk of the latest E-step (read-only); None for 'init' or when the run
        was asked not to keep them.
    log_likelihood : float
        Mean per-sample log-likelihood of the parameters the latest E-step used
        (scikit-learn's ``lower_bound_``); -inf at 'init'.
    lower_bound : float
        Mean per-sample Jensen bound L(q, θ) with q = responsibilities and
        θ = params.  Equal to ``log_likelihood`` after an E-step; after an
        M-step it is the raised bound.
    converged : bool
        Set on the M-step whose log-likelihood changed by less than ``tol``.
    events : tuple of DegeneracyEvent
    diagnostics : ComponentDiagnostics
    """

    restart: int
    iteration: int
    half_step: HalfStep
    params: MixtureParams
    responsibilities: np.ndarray | None
    log_likelihood: float
    lower_bound: float
    diagnostics: ComponentDiagnostics
    converged: bool = False
    events: tuple[DegeneracyEvent, ...] = field(default=())

    def without_responsibilities(self) -> Snapshot:
        """A light copy for history: same parameters and figures, no N×K array."""
        return Snapshot(
            self.restart, self.iteration, self.half_step, self.params, None,
            self.log_likelihood, self.lower_bound, self.diagnostics, self.converged, self.events,
        )


# --------------------------------------------------------------------------- features


class _Features:
    """The quadratic feature map φ(x) = [x_i x_j (i ≤ j), x_i, 1] for one covariance type.

    'diag' and 'spherical' only need the squares x_i², the others every product.
    """

    def __init__(self, n_features: int, covariance_type: str):
        d = n_features
        if covariance_type in ("full", "tied"):
            rows, cols = np.triu_indices(d)
        else:
            rows = cols = np.arange(d)
        self.pair_rows, self.pair_cols = rows, cols
        self.n_quadratic = len(rows)
        self.width = self.n_quadratic + d + 1
        self.n_features = d

    def buffer(self, n_rows: int) -> np.ndarray:
        """Scratch space for φ of up to ``n_rows`` points, feature-major (width, n_rows)."""
        out = np.empty((self.width, n_rows))
        out[-1] = 1.0  # the constant feature never changes
        return out

    def compute(self, xt: np.ndarray, out: np.ndarray) -> np.ndarray:
        """φ of the points in the columns of ``xt`` (D, n), written into ``out`` from :meth:`buffer`.

        Returns the (width, n) view.  Feature-major rows are contiguous, so every
        product below is one vectorised pass; there is no per-point work.
        """
        n, q, d = xt.shape[1], self.n_quadratic, self.n_features
        f = out[:, :n]
        if d == 1:
            np.multiply(xt[0], xt[0], out=f[0])
        elif d == 2 and q == 3:
            # The program's main case, spelt out: x², xy, y².
            np.multiply(xt[0], xt[0], out=f[0])
            np.multiply(xt[0], xt[1], out=f[1])
            np.multiply(xt[1], xt[1], out=f[2])
        else:
            np.multiply(xt[self.pair_rows], xt[self.pair_cols], out=f[:q])
        f[q : q + d] = xt
        return f

    def coefficients(self, params: MixtureParams, center: np.ndarray,
                     precision_cholesky: np.ndarray | None = None) -> np.ndarray:
        """C of shape (width, K) with φ(x - center) @ C = log π_k + log N(x | μ_k, Σ_k).

        Raises :class:`NotPositiveDefiniteError` when a covariance is not positive definite.
        """
        pc = params.precisions_cholesky() if precision_cholesky is None else precision_cholesky
        d = params.n_features
        means = params.means - center
        precisions = _full_precisions(params, pc)
        c = np.empty((self.width, params.n_components))
        quad = precisions[:, self.pair_rows, self.pair_cols]  # (K, q)
        off_diagonal = self.pair_rows != self.pair_cols
        quad = np.where(off_diagonal, -quad, -0.5 * quad)  # x_i x_j appears twice in xᵀPx
        c[: self.n_quadratic] = quad.T
        pm = np.einsum("kij,kj->ki", precisions, means)
        c[self.n_quadratic : self.n_quadratic + d] = pm.T
        c[-1] = _log_normaliser(params, pc) - 0.5 * np.einsum("ki,ki->k", pm, means)
        return c


def _log_normaliser(params: MixtureParams, precision_cholesky: np.ndarray) -> np.ndarray:
    """log π_k - D/2 log 2π + ½ log|Σ_k⁻¹| per component."""
    # A weight of exactly 0 becomes the smallest positive float: log π stays finite
    # (about -708, so the component takes no responsibility) and no inf - inf appears.
    log_weights = np.log(np.maximum(params.weights, np.finfo(np.float64).tiny))
    return (log_weights - 0.5 * params.n_features * _LOG_2PI
            + 0.5 * _log_det_precisions(params, precision_cholesky))


def _full_precisions(params: MixtureParams, precision_cholesky: np.ndarray) -> np.ndarray:
    """Σ_k⁻¹ as a (K, D, D) stack, from the precision Cholesky factors."""
    k, d = params.n_components, params.n_features
    pc = precision_cholesky
    t = params.covariance_type
    if t == "full":
        return pc @ np.swapaxes(pc, 1, 2)
    if t == "tied":
        return np.broadcast_to(pc @ pc.T, (k, d, d))
    if t == "diag":
        return pc[:, :, None] ** 2 * np.eye(d)
    return pc[:, None, None] ** 2 * np.eye(d)


def _log_det_precisions(params: MixtureParams, precision_cholesky: np.ndarray) -> np.ndarray:
    """log |Σ_k⁻¹| per component, from the precision Cholesky factors."""
    pc = precision_cholesky
    k, d = params.n_components, params.n_features
    t = params.covariance_type
    if t == "full":
        return 2.0 * np.log(np.diagonal(pc, axis1=1, axis2=2)).sum(axis=1)
    if t == "tied":
        return np.full(k, 2.0 * np.log(np.diag(pc)).sum())
    if t == "diag":
        return 2.0 * np.log(pc).sum(axis=1)
    return 2.0 * d * np.log(pc)


def _precision_traces(params: MixtureParams, precision_cholesky: np.ndarray) -> np.ndarray:
    """tr Σ_k⁻¹ per component (= the squared Frobenius norm of its Cholesky factor)."""
    pc = precision_cholesky
    k, d = params.n_components, params.n_features
    t = params.covariance_type
    if t == "full":
        return np.einsum("kij,kij->k", pc, pc)
    if t == "tied":
        return np.full(k, np.sum(pc * pc))
    if t == "diag":
        return np.sum(pc * pc, axis=1)
    return d * pc * pc


# --------------------------------------------------------------------------- paths

# Two ways to compute a pass.  The quadratic-feature path (module docstring) does one
# matrix product with φ(X), whose width grows as D²/2; the per-component path
# centres the data on each component and multiplies by its precision Cholesky
# factor, as scikit-learn does (O(chunk·D) scratch, O(K·D²) parameters).
# Crossover measured on this machine (Haswell, OpenBLAS 0.3.30, one thread, CPU
# seconds per EM iteration, N = 2·10⁴, K = 10, full; quadratic / per-component):
#   D = 10: 0.0069 / 0.0172   D = 20: 0.0195 / 0.0329   D = 30: 0.0391 / 0.0505
#   D = 40: 0.0577 / 0.0707   D = 50: 0.0961 / 0.0888   D = 64: 0.137 / 0.131
#   D = 80: 0.308 / 0.169     D = 100: 0.493 / 0.275
# (scikit-learn, same settings: D = 20: 0.072, D = 50: 0.175).  Beyond about 48
# features φ(X) costs more than it saves, and its chunk × D²/2 scratch grows.
_QUADRATIC_MAX_FEATURES = 48
# The quadratic path expands the quadratic forms about the data's mean, which costs
# about eps·m² of accuracy, m being a component's Mahalanobis distance from that
# mean.  Beyond this loss (m ≈ 700 of its own widths) the per-component path is used
# for that pass, so results stay within 1e-8 of scikit-learn's.
_EXPANSION_LIMIT = 1e-10
# Rows per chunk: the chunk's features and responsibilities stay in cache.
_CHUNK_ELEMENTS = 1 << 16
# Rows per chunk of the per-component path: (rows × D) scratch per component.
_CHUNK_ELEMENTS_WIDE = 1 << 18
# Below this much work (rows × columns handled per row) a pass is too short to gain
# from a second thread.
_PARALLEL_MIN_WORK = 1 << 19
# Rounding of a scatter computed by the expansion about the data's mean, in units of
# eps·shift²: sums over every point lose up to this much (a component on one point
# measured 3e-13 where 0 is exact).  Safe: the quadratic path only runs when each
# component's variance is at least shift² / 5·10⁵, some 5 orders above this floor.
_EXPANSION_ROUNDING_ULPS = 1e5
# Rounding of a computed scatter, in units of eps: sums over many points lose a few
# hundred ulps at most (pairwise and blocked BLAS summation).
_ROUNDING_ULPS = 64


@dataclass(frozen=True, eq=False)
class _Model:
    """Parameters prepared for a pass: Cholesky factors, normalisers, and the
    quadratic-path coefficients when the expansion about the data's mean is accurate."""

    params: MixtureParams
    precision_cholesky: np.ndarray
    log_normaliser: np.ndarray  # log π_k - D/2 log 2π + ½ log|Σ_k⁻¹|
    coefficients: np.ndarray | None


@dataclass
class _Pass:
    """What one E-pass produced."""

    log_likelihood_total: float
    expected: float  # Σ γ·(log π_k + log N(x|θ_k)) under the E-step's parameters
    responsibilities: np.ndarray | None  # what the snapshot shows (read-only), or None
    statistics: np.ndarray | None  # (K, width) = Γᵀφ(X) on the quadratic path
    resp: np.ndarray | None  # γ for the per-component M-step (or the shown array)


@dataclass(frozen=True, eq=False)
class _MStep:
    """New parameters and what the collapse test needs.

    ``shift`` is where the M-step expanded its quadratic forms, relative to the
    new means (the data's mean on the quadratic path, 0 on the per-component
    one); each component's scatter is its covariance less reg_covar.
    """

    params: MixtureParams
    shift: np.ndarray
    resp_sum: np.ndarray


def _row_max_logsumexp(out: np.ndarray) -> np.ndarray:
    """Turn log π N in ``out`` (rows, K) into responsibilities in place; return log p per row.

    Row-wise max and sum over K columns: numpy's axis=1 reductions on short rows
    are several times slower than K column passes and a gemv.
    """
    k = out.shape[1]
    row_max = out[:, 0].copy()
    for j in range(1, k):
        np.maximum(row_max, out[:, j], out=row_max)
    row_max[~np.isfinite(row_max)] = 0.0
    out -= row_max[:, None]
    np.exp(out, out=out)
    row_sum = out @ np.ones(k)
    out /= row_sum[:, None]
    return np.log(row_sum) + row_max


class _Buffers:
    """The (N, K) responsibility arrays of one EM run, reused once nobody else holds them.

    A fresh γ per E-step costs the kernel its page zeroing: at N = 1e6, K = 10 (80 MB) about a
    quarter of the engine's time went to system time, twice that in the window, whose GUI
    thread frees the previous γ while the engine faults in the next one (measured with
    benchmarks/bench_stall.py).  An array is taken again only when this pool holds the last
    reference to it (CPython's reference count; a view of it counts too), so no snapshot that
    anyone still holds is ever written to.  Kept: the one a consumer shows, the one on its way
    to it (a window drawing a frame behind EM holds both) and the one being written — or, for
    a γ over :data:`_SPARE_BYTES` (1e7 points), only two, so memory stays within 2.5 × (data +
    γ); there EM is slow enough for the window to keep up.  Used by one run, on the thread
    that iterates it.
    """

    def __init__(self) -> None:
        self._arrays: list[np.ndarray] = []

    def take(self, shape: tuple[int, int]) -> np.ndarray:
        for i in reversed(range(len(self._arrays))):  # the most recently used free one first
            # References: the list, and getrefcount's own argument.
            if self._arrays[i].shape == shape and sys.getrefcount(self._arrays[i]) <= 2:
                array = self._arrays.pop(i)
                array.setflags(write=True)
                break
        else:
            array = np.empty(shape)
        keep = 3 if array.nbytes <= _SPARE_BYTES else 2
        self._arrays = self._arrays[-(keep - 1):] + [array]
        return array


#: Above this size (bytes) of one γ, :class:`_Buffers` keeps two arrays instead of three.
_SPARE_BYTES = 256 * 2**20


class _Data:
    """The data, prepared for both paths, and every pass over it.  Any thread."""

    def __init__(self, x: np.ndarray, covariance_type: str):
        self.x = x  # validated, C-contiguous, in the caller's coordinates
        self.n_samples, self.n_features = x.shape
        self.covariance_type = covariance_type
        self.center = x.mean(axis=0)
        self.magnitude = np.abs(x).max(axis=0)
        self.quadratic = self.n_features <= _QUADRATIC_MAX_FEATURES
        self._xt: np.ndarray | None = None
        self._features: _Features | None = None
        if self.quadratic:  # every pass uses them: build them now, not in a worker
            self._xt = np.ascontiguousarray((x - self.center).T)
            self._features = _Features(self.n_features, covariance_type)
        self._xtx: np.ndarray | None = None
        self._resolved: dict[float, np.ndarray | None] = {}

    @property
    def xt(self) -> np.ndarray:
        """The data centred and feature-major: each feature's values contiguous in memory.

        Built on first use (wide data need it only for the quadratic features of
        :mod:`gmm_studio.core.bound`)."""
        if self._xt is None:
            self._xt = np.ascontiguousarray((self.x - self.center).T)
        return self._xt

    @property
    def features(self) -> _Features:
        if self._features is None:
            self._features = _Features(self.n_features, self.covariance_type)
        return self._features

    # ------------------------------------------------------------------ models

    def model(self, params: MixtureParams) -> _Model:
        """Prepare parameters for a pass.  Raises :class:`NotPositiveDefiniteError`."""
        pc = params.precisions_cholesky()
        coefficients = None
        if self.quadratic and self._expansion_holds(params, pc):
            coefficients = self.features.coefficients(params, self.center, pc)
        return _Model(params, pc, _log_normaliser(params, pc), coefficients)

    def _expansion_holds(self, params: MixtureParams, pc: np.ndarray) -> bool:
        offset = params.means - self.center
        t = params.covariance_type
        if t == "full":
            y = np.einsum("ki,kij->kj", offset, pc)
        elif t == "tied":
            y = offset @ pc
        elif t == "diag":
            y = offset * pc
        else:
            y = offset * pc[:, None]
        return bool(_EPS * np.max(np.sum(y * y, axis=1)) <= _EXPANSION_LIMIT)

    # ------------------------------------------------------------------ E-pass

    def e_pass(self, model: _Model, keep_responsibilities: bool,
               buffers: _Buffers | None = None) -> _Pass:
        """One E-step: responsibilities (log-sum-exp), log-likelihood and what the M-step needs.

        Large data are split into one contiguous block of rows per engine worker
        (:mod:`gmm_studio.core.parallel`); each block's sums are added in block
        order, so the result does not depend on thread timing.  γ is written into an
        array from ``buffers`` when given (every entry is overwritten).
        """
        n, k = self.n_samples, model.params.n_components
        quadratic = model.coefficients is not None
        keep_all = keep_responsibilities or not quadratic  # the per-component M-step needs γ
        resp = None if not keep_all else np.empty((n, k)) if buffers is None else buffers.take((n, k))
        work = k if quadratic else k * self.n_features
        blocks = parallel.row_blocks(n, work, _PARALLEL_MIN_WORK)
        block = self._quadratic_block if quadratic else self._component_block
        parts = parallel.map_blocks(lambda b: block(model, b[0], b[1], resp), blocks)
        total = sum(p[0] for p in parts)
        if quadratic:
            statistics = parts[0][1]
            for part in parts[1:]:
                statistics += part[1]
            statistics = statistics.T
            expected = float(np.einsum("kw,wk->", statistics, model.coefficients))
        else:
            statistics, expected = None, sum(p[1] for p in parts)
        if resp is not None:
            resp.setflags(write=False)
        return _Pass(total, expected, resp if keep_responsibilities else None, statistics, resp)

    def _quadratic_block(
        self, model: _Model, first: int, last: int, resp_all: np.ndarray | None
    ) -> tuple[float, np.ndarray]:
        """The quadratic-path E-pass over rows [first, last), in cache-sized chunks."""
        coefficients = model.coefficients
        k = coefficients.shape[1]
        rows = self._chunk_rows(k)
        size = min(rows, last - first)
        features = self.features.buffer(size)
        scratch = np.empty((size, k)) if resp_all is None else None
        statistics = np.zeros((self.features.width, k))
        total = 0.0
        for start in range(first, last, rows):
            stop = min(start + rows, last)
            f = self.features.compute(self.xt[:, start:stop], features)
            out = resp_all[start:stop] if resp_all is not None else scratch[: stop - start]
            np.matmul(f.T, coefficients, out=out)
            total += float(_row_max_logsumexp(out).sum())
            statistics += f @ out
        return total, statistics

    def _component_log_prob(self, model: _Model, start: int, stop: int, out: np.ndarray) -> None:
        """log π_k + log N(x | θ_k) for rows [start, stop) into ``out``, one component at a time.

        Each component's points are centred on its own mean before its precision
        factor is applied, so accuracy does not depend on where the data lie.
        """
        params, pc = model.params, model.precision_cholesky
        chunk = self.x[start:stop]
        t = params.covariance_type
        for j in range(params.n_components):
            diff = chunk - params.means[j]
            if t == "full":
                y = diff @ pc[j]
            elif t == "tied":
                y = diff @ pc
            else:
                y = np.multiply(diff, pc[j], out=diff)
            out[:, j] = model.log_normaliser[j] - 0.5 * np.einsum("ij,ij->i", y, y)

    def _wide_rows(self) -> int:
        return max(64, _CHUNK_ELEMENTS_WIDE // self.n_features)

    def _component_block(
        self, model: _Model, first: int, last: int, resp_all: np.ndarray
    ) -> tuple[float, float]:
        """The per-component E-pass over rows [first, last): log-likelihood and Σγ·log πN."""
        rows = self._wide_rows()
        total = expected = 0.0
        log_prob = np.empty((min(rows, last - first), model.params.n_components))
        for start in range(first, last, rows):
            stop = min(start + rows, last)
            out = resp_all[start:stop]
            lp = log_prob[: stop - start]
            self._component_log_prob(model, start, stop, lp)
            out[...] = lp
            total += float(_row_max_logsumexp(out).sum())
            expected += float(np.einsum("ij,ij->", out, lp))
        return total, expected

    def weighted_log_prob(self, model: _Model) -> np.ndarray:
        """log π_k + log N(x_n | θ_k) for every sample, shape (N, K); chunked like the E-pass."""
        n, k = self.n_samples, model.params.n_components
        out = np.empty((n, k))
        if model.coefficients is None:
            rows = self._wide_rows()
            for start in range(0, n, rows):
                stop = min(start + rows, n)
                self._component_log_prob(model, start, stop, out[start:stop])
            return out
        rows = self._chunk_rows(k)
        features = self.features.buffer(min(rows, n))
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            f = self.features.compute(self.xt[:, start:stop], features)
            np.matmul(f.T, model.coefficients, out=out[start:stop])
        return out

    # ------------------------------------------------------------------ M-step

    def m_step(self, e: _Pass, used: _Model, reg_covar: float) -> _MStep:
        """New parameters from an E-pass, with scikit-learn's algebra (and its 10·eps on N_k).

        The quadratic path's statistics are used when the new parameters are
        still close enough to the data's mean for the expansion (or positive
        definite at all); otherwise the per-component M-step runs, on the
        pass's γ or, when those were not kept, on γ recomputed per component.
        """
        if e.statistics is not None:
            step = self._m_step_quadratic(e.statistics, reg_covar)
            try:
                if self.model(step.params).coefficients is not None:
                    return step
            except NotPositiveDefiniteError:
                pass
        resp = e.resp
        if resp is None:
            resp = self.e_pass(_Model(used.params, used.precision_cholesky, used.log_normaliser,
                                      None), False).resp
        return self._m_step_components(resp, reg_covar)

    def params_from_responsibilities(self, resp: np.ndarray, reg_covar: float) -> MixtureParams:
        if self.quadratic:
            params = self._quadratic_params(self.statistics(resp), reg_covar)
            if params is not None:
                return params
        return self._m_step_components(resp, reg_covar).params

    def params_from_labels(self, labels: np.ndarray, k: int, reg_covar: float) -> MixtureParams:
        """params_from_responsibilities for hard labels, without their (N, K) one-hot array:
        at N = 1e7, K = 10 that is 800 MB, paged in by the kernel for every initialisation.
        Only the per-component fallback (wide data, or far from the data's mean) makes one."""
        if self.quadratic:
            chunk = np.zeros((min(self._chunk_rows(k), len(labels)), k))

            def one_hot(start: int, stop: int) -> np.ndarray:
                rows = chunk[: stop - start]
                rows.fill(0.0)
                rows[np.arange(stop - start), labels[start:stop]] = 1.0
                return rows

            params = self._quadratic_params(self._statistics(len(labels), k, one_hot), reg_covar)
            if params is not None:
                return params
        resp = np.zeros((len(labels), k))
        resp[np.arange(len(labels)), labels] = 1.0
        return self._m_step_components(resp, reg_covar).params

    def _quadratic_params(self, statistics: np.ndarray, reg_covar: float) -> MixtureParams | None:
        """The quadratic path's M-step from Γᵀφ(X), or None where the expansion cannot be trusted."""
        step = self._m_step_quadratic(statistics, reg_covar)
        try:
            if self.model(step.params).coefficients is not None:
                return step.params
        except NotPositiveDefiniteError:
            pass
        return None

    def statistics(self, resp: np.ndarray) -> np.ndarray:
        """Γᵀφ(X) for given responsibilities (an M-step without an E-step)."""
        return self._statistics(*resp.shape, lambda start, stop: resp[start:stop])

    def _chunk_rows(self, k: int) -> int:
        """Rows per chunk of the quadratic path: its features and γ stay in cache."""
        return max(256, _CHUNK_ELEMENTS // max(k, self.features.width))

    def _statistics(self, n: int, k: int, resp_rows) -> np.ndarray:
        """Γᵀφ(X), ``resp_rows(start, stop)`` giving γ's rows [start, stop), in cache-sized chunks."""
        rows = self._chunk_rows(k)
        features = self.features.buffer(min(rows, n))
        statistics = np.zeros((self.features.width, k))
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            statistics += self.features.compute(self.xt[:, start:stop], features) @ resp_rows(start, stop)
        return statistics.T

    @property
    def xtx(self) -> np.ndarray:
        """XᵀX of the centred data, which the quadratic 'tied' M-step needs."""
        if self._xtx is None:
            self._xtx = self.xt @ self.xt.T
        return self._xtx

    def _m_step_quadratic(self, statistics: np.ndarray, reg_covar: float) -> _MStep:
        feats, t = self.features, self.covariance_type
        q, d = feats.n_quadratic, self.n_features
        resp_sum = statistics[:, -1]
        nk = resp_sum + 10 * _EPS
        first = statistics[:, q : q + d]
        means = first / nk[:, None]
        weights = nk / nk.sum()
        second = statistics[:, :q]
        if t == "full":
            s2 = np.empty((len(nk), d, d))
            s2[:, feats.pair_rows, feats.pair_cols] = second
            s2[:, feats.pair_cols, feats.pair_rows] = second
            # Σ_n γ (x-μ)(x-μ)ᵀ expanded: S2 - μ S1ᵀ - S1 μᵀ + (Σγ) μμᵀ
            outer_ms = means[:, :, None] * first[:, None, :]
            scatter = (
                s2 - outer_ms - np.swapaxes(outer_ms, 1, 2)
                + resp_sum[:, None, None] * means[:, :, None] * means[:, None, :]
            ) / nk[:, None, None]
            covariances = scatter + reg_covar * np.eye(d)
        elif t == "tied":
            shared = (self.xtx - np.einsum("k,ki,kj->ij", nk, means, means)) / nk.sum()
            covariances = shared + reg_covar * np.eye(d)
        else:
            variances = second / nk[:, None] - means**2
            if t == "spherical":
                covariances = variances.mean(axis=1) + reg_covar
            else:
                covariances = variances + reg_covar
        params = MixtureParams(t, weights, means + self.center, covariances)
        return _MStep(params, -means, resp_sum)

    def _m_step_components(self, resp: np.ndarray, reg_covar: float) -> _MStep:
        """scikit-learn's M-step: each component's scatter about its own new mean."""
        n, k = resp.shape
        d, t = self.n_features, self.covariance_type
        resp_sum = resp.sum(axis=0)
        nk = resp_sum + 10 * _EPS
        means = (resp.T @ self.x) / nk[:, None]
        blocks = parallel.row_blocks(n, k * d * (d if t in ("full", "tied") else 1),
                                     _PARALLEL_MIN_WORK)
        if t in ("full", "tied") and n < len(blocks) * d:
            # Each block sums its own K×D×D scatter: with fewer rows than features per
            # block that costs more memory than the data; one block lets BLAS thread.
            blocks = [(0, n)]
        parts = parallel.map_blocks(lambda b: self._scatter_block(resp, means, b[0], b[1]), blocks)
        covariances = parts[0]
        for part in parts[1:]:
            covariances += part
        del parts
        # In place: at D = 2000 every K×D×D temporary is 32 MB per component.
        if t == "full":
            covariances /= nk[:, None, None]
            np.einsum("kii->ki", covariances)[...] += reg_covar
        elif t == "tied":
            covariances /= nk.sum()
            np.einsum("ii->i", covariances)[...] += reg_covar
        else:
            covariances /= nk[:, None]
            if t == "spherical":
                covariances = covariances.mean(axis=1)
            covariances += reg_covar
        covariances.setflags(write=False)  # handed over to MixtureParams without a copy
        weights = nk / nk.sum()
        params = MixtureParams(t, weights, means, covariances)
        return _MStep(params, np.zeros((k, d)), resp_sum)

    def _scatter_block(self, resp: np.ndarray, means: np.ndarray, first: int, last: int
                       ) -> np.ndarray:
        """Σ_n γ_nk (x_n - μ_k)(x_n - μ_k)ᵀ over rows [first, last) (summed over k for 'tied',
        only the diagonal for 'diag' and 'spherical')."""
        from scipy.linalg.blas import dgemm  # scipy.linalg loads on first use (start-up)

        k, d = means.shape
        t = self.covariance_type
        shape = {"full": (k, d, d), "tied": (d, d)}.get(t, (k, d))
        out = np.zeros(shape)
        rows = self._wide_rows()
        for start in range(first, last, rows):
            stop = min(start + rows, last)
            chunk = self.x[start:stop]
            for j in range(k):
                diff = chunk - means[j]
                gamma = resp[start:stop, j]
                if t in ("full", "tied"):
                    target = out[j] if t == "full" else out
                    # target += (γ·diff)ᵀ diff, accumulated in place by BLAS (no D×D
                    # temporary): on the transposed, Fortran-ordered views it reads
                    # targetᵀ += diffᵀ (γ·diff).
                    weighted = gamma[:, None] * diff
                    dgemm(1.0, diff.T, weighted.T, beta=1.0, c=target.T, trans_b=1,
                          overwrite_c=1)
                else:
                    out[j] += gamma @ (diff * diff)
        return out

    # ------------------------------------------------------------------ collapse

    def resolved_directions(self, reg_covar: float) -> np.ndarray | None:
        """Directions in which the data themselves spread beyond reg_covar and rounding.

        None when that is every direction (the usual case); else a (D, r) basis.
        A component can only be said to collapse in these: along a constant
        column every component, K = 1 included, has no scatter of its own.
        """
        if reg_covar not in self._resolved:
            n, d = self.n_samples, self.n_features
            floor = reg_covar + (_ROUNDING_ULPS * _EPS * self.magnitude) ** 2
            scale = 1.0 / np.sqrt(np.maximum(floor, np.finfo(np.float64).tiny))
            # The data centred and in units of their floor: resolved where variance > 1.
            z = (self.x - self.center) * scale
            if n <= d:
                # Fewer points than features: the data span at most n - 1 directions, found
                # from the n×n Gram matrix (cheap) instead of the D×D covariance.
                values, vectors = np.linalg.eigh(z @ z.T / n)
                keep = values > 1.0
                basis = (z.T @ vectors[:, keep]) / np.sqrt(n * values[keep])
                self._resolved[reg_covar] = basis * scale[:, None]
            else:
                whitened = z.T @ z / n
                del z
                diagonal = np.einsum("ii->i", whitened)
                diagonal -= 1.0
                if _positive_definite(whitened[None])[0]:
                    self._resolved[reg_covar] = None
                else:
                    diagonal += 1.0
                    values, vectors = np.linalg.eigh(whitened)
                    self._resolved[reg_covar] = vectors[:, values > 1.0] * scale[:, None]
        return self._resolved[reg_covar]

    def collapsed(self, step: _MStep, reg_covar: float) -> np.ndarray:
        """Which components have collapsed, judged in their own units.

        A component has collapsed when, in some direction the data resolve, its
        scatter (covariance less reg_covar) is no larger than reg_covar plus the
        rounding of its computation: about eps·shift² for the expansion, and the
        float resolution (eps·|x|)² of the data near it — not when it is small
        beside the whole data set.
        """
        params = step.params
        k, t = params.n_components, params.covariance_type
        c = params.covariances
        if t == "full":
            variances = np.einsum("kii->ki", c) - reg_covar
        elif t == "tied":
            variances = np.broadcast_to(np.diag(c) - reg_covar, step.shift.shape)
        else:
            variances = np.broadcast_to((c if t == "diag" else c[:, None]) - reg_covar,
                                        step.shift.shape)
        near = np.minimum(np.abs(params.means) + np.sqrt(np.maximum(variances, 0.0)),
                          self.magnitude)
        floor = (reg_covar + _EXPANSION_ROUNDING_ULPS * _EPS * step.shift**2
                 + (_ROUNDING_ULPS * _EPS * near) ** 2)  # (K, D)
        basis = self.resolved_directions(reg_covar)
        if basis is not None and basis.shape[1] == 0:
            return np.zeros(k, dtype=bool)
        if t in ("diag", "spherical") and basis is None:
            return ~np.all(variances > floor, axis=1)
        collapsed = np.empty(k, dtype=bool)
        for j in range(k):
            if t in ("full", "tied"):
                excess = np.array(c[j] if t == "full" else c)  # one D×D temporary at a time
                np.einsum("ii->i", excess)[...] -= reg_covar + floor[j]
            else:
                excess = np.diag(variances[j] - floor[j])
            if basis is not None:
                excess = basis.T @ excess @ basis
            collapsed[j] = not _positive_definite(excess[None])[0]
        return collapsed


def _positive_definite(stack: np.ndarray) -> np.ndarray:
    """Whether each matrix of a (K, D, D) stack is positive definite (by Cholesky)."""
    try:
        np.linalg.cholesky(stack)
        return np.ones(len(stack), dtype=bool)
    except np.linalg.LinAlgError:
        result = np.empty(len(stack), dtype=bool)
        for j, matrix in enumerate(stack):
            try:
                np.linalg.cholesky(matrix)
                result[j] = True
            except np.linalg.LinAlgError:
                result[j] = False
        return result


def _bound_after_m_step(step: _MStep, model: _Model, reg_covar: float) -> float:
    """Σ_nk γ_nk log π_k N(x_n | θ_k) at the M-step's own parameters, in O(K·D²).

    With μ_k and Σ_k the M-step's, Σ_n γ_nk (x_n-μ_k)(x_n-μ_k)ᵀ = N_k (Σ_k - reg_covar·I),
    so the quadratic term is N_k (D - reg_covar·tr Σ_k⁻¹): no pass over the data.
    """
    params = step.params
    nk = step.resp_sum + 10 * _EPS
    quadratic = nk * (params.n_features - reg_covar * _precision_traces(params, model.precision_cholesky))
    return float(np.dot(step.resp_sum, model.log_normaliser) - 0.5 * quadratic.sum())


# --------------------------------------------------------------------------- diagnosis


def _spectrum(params: MixtureParams) -> tuple[np.ndarray, np.ndarray]:
    """Smallest eigenvalue and condition number of every Σ_k (NaN/inf when not finite)."""
    c, t, k = params.covariances, params.covariance_type, params.n_components
    if t in ("diag", "spherical"):
        eig = c.reshape(k, -1)
    else:
        stack = c[None] if t == "tied" else c
        eig = np.full(stack.shape[:2], np.nan)
        finite = np.all(np.isfinite(stack), axis=(1, 2))
        if stack.shape[1] <= _QUADRATIC_MAX_FEATURES:
            if finite.any():
                eig[finite] = np.linalg.eigvalsh(stack[finite])
        else:  # one D×D workspace at a time on wide data
            for j in np.flatnonzero(finite):
                eig[j] = np.linalg.eigvalsh(stack[j])
        eig = np.broadcast_to(eig, (k, eig.shape[1]))
    with np.errstate(invalid="ignore"):
        min_eig, max_eig = eig.min(axis=1), eig.max(axis=1)
    min_eig = np.where(np.all(np.isfinite(eig), axis=1), min_eig, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        condition = np.where(min_eig > 0, max_eig / min_eig, np.inf)
    return min_eig, condition


def _diagnose(
    params: MixtureParams, effective_counts: np.ndarray, collapsed: np.ndarray | None,
) -> tuple[ComponentDiagnostics, tuple[DegeneracyEvent, ...]]:
    """Per-component diagnostics and the degeneracy events they reveal.

    Without ``collapsed`` (parameters that did not come from an M-step) only the
    fatal problems are looked for.
    """
    min_eig, condition = _spectrum(params)
    events = []
    for k in range(params.n_components):
        n_k = effective_counts[k]
        label = f"Component {k + 1}"
        if not min_eig[k] > 0:
            events.append(DegeneracyEvent(
                k, "singular",
                f"{label} has a covariance that is not positive definite "
                f"(smallest eigenvalue {min_eig[k]:.3g}, {n_k:.3g} points of weight): EM cannot "
                "continue. Raise reg_covar (e.g. to 1e-3), re-seed the component, or lower K.",
            ))
        elif collapsed is None:
            continue
        elif n_k < _ONE_POINT:
            events.append(DegeneracyEvent(
                k, "empty",
                f"{label} is empty: it carries {n_k:.3g} points of weight. Re-seed the "
                "component or lower K.",
                ("re-seed the component", "lower K"),
            ))
        elif collapsed[k]:
            events.append(DegeneracyEvent(
                k, "collapsed",
                f"{label} has collapsed: its {n_k:.3g} points of weight lie on a point or a "
                f"lower-dimensional subspace, so its variance there (smallest eigenvalue "
                f"{min_eig[k]:.3g}) comes only from reg_covar and its likelihood grows without "
                "bound. Raise reg_covar, re-seed the component, or lower K.",
            ))
    diagnostics = ComponentDiagnostics(
        _readonly(effective_counts), _readonly(min_eig), _readonly(condition)
    )
    return diagnostics, tuple(events)


#: Less weight than this is 'empty'.  A component sitting on one point carries a hair under
#: one point of weight (the others keep an exp(-d²/2σ²) share of it): that is a collapse, not
#: an empty component, and the message would say "empty: it carries 1 points".
_ONE_POINT = 0.9995


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _model_or_event(
    data: _Data, params: MixtureParams
) -> tuple[_Model | None, tuple[DegeneracyEvent, ...]]:
    """The prepared parameters, or a fatal event when a Cholesky factorisation fails."""
    try:
        return data.model(params), ()
    except NotPositiveDefiniteError as exc:
        component = exc.component
        return None, (DegeneracyEvent(
            component, "singular",
            f"Component {component + 1} has a covariance that is not positive definite, so EM "
            "cannot continue. Raise reg_covar (e.g. to 1e-3), re-seed the component, or lower K.",
        ),)


# --------------------------------------------------------------------------- driver


def check_data(x: np.ndarray, n_components: int | None = None) -> np.ndarray:
    """Validate data for EM and return it as a C-contiguous float64 (N, D) array.

    Raises ``ValueError`` with a message saying what is wrong and what to do.
    """
    if np.iscomplexobj(x):
        raise ValueError("Data are complex numbers: pass real ones (e.g. X.real or abs(X)).")
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Data must be numeric (an N×D array of numbers): {exc}.") from None
    if x.ndim == 1:
        raise ValueError(
            f"Data must be 2-D with shape (n_samples, n_features); got a 1-D array of "
            f"{x.shape[0]} values. Use X.reshape(-1, 1) for one feature or X.reshape(1, -1) "
            "for one sample."
        )
    if x.ndim != 2:
        raise ValueError(f"Data must be 2-D with shape (n_samples, n_features); got shape {x.shape}.")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"Data are empty (shape {x.shape}): load at least one point with one feature.")
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x).all(axis=1)))
        raise ValueError(
            f"Data contain NaN or infinite values in {bad} row(s): drop or impute them first."
        )
    if np.max(np.abs(x)) > LARGE_VALUE:
        raise ValueError(
            f"Data contain values beyond {LARGE_VALUE:g}, where EM's sums of squares overflow: "
            "standardise the columns first."
        )
    if n_components is not None and x.shape[0] < n_components:
        raise ValueError(
            f"Expected n_samples >= n_components but got n_components = {n_components}, "
            f"n_samples = {x.shape[0]}: lower K or load more data."
        )
    return np.ascontiguousarray(x)

class EMData:
    """Data prepared once for any number of EM runs (centred, with a feature map).

    Build it once per dataset and covariance type and pass it to :func:`em_steps`
    so restarts and re-seeds do not redo the preparation.  Any thread.
    """

    def __init__(self, x: np.ndarray, covariance_type: str):
        self._data = _Data(check_data(x), check_covariance_type(covariance_type))

    @property
    def n_samples(self) -> int:
        return self._data.n_samples

    @property
    def n_features(self) -> int:
        return self._data.n_features

    @property
    def covariance_type(self) -> str:
        return self._data.covariance_type

    def check_params(self, params: MixtureParams) -> None:
        """Raise ``ValueError`` unless ``params`` can be used on these data."""
        inner = self._data
        if params.covariance_type != inner.covariance_type or params.n_features != inner.n_features:
            raise ValueError(
                f"Parameters for {params.n_features}-D {params.covariance_type!r} covariances "
                f"do not fit {inner.n_features}-D data prepared for {inner.covariance_type!r}."
            )
        check_n_components(params.n_components, inner.n_samples)

    def params_from_responsibilities(self, resp: np.ndarray, reg_covar: float) -> MixtureParams:
        """The M-step for given responsibilities (how every initialiser makes parameters)."""
        return self._data.params_from_responsibilities(resp, check_reg_covar(reg_covar))

    def params_from_labels(self, labels: np.ndarray, n_components: int, reg_covar: float) -> MixtureParams:
        """The M-step for hard labels (each point wholly in component ``labels[n]``), the same
        as for their one-hot responsibilities but without making that (N, K) array."""
        labels = np.asarray(labels, dtype=np.intp)
        if labels.shape != (self.n_samples,):
            raise ValueError(f"{len(labels)} labels for {self.n_samples} points.")
        return self._data.params_from_labels(labels, n_components, check_reg_covar(reg_covar))

    def responsibilities(self, params: MixtureParams) -> np.ndarray:
        """γ (N, K) for these parameters: one E-step, nothing else changes."""
        return self._data.e_pass(self._data.model(params), True).responsibilities

    def mean_log_likelihood(self, params: MixtureParams) -> float:
        return self._data.e_pass(self._data.model(params), False).log_likelihood_total / self.n_samples

    def log_likelihood_and_entropy(self, params: MixtureParams) -> tuple[float, float]:
        """Total log-likelihood and EN(γ) = -Σ γ log γ, in one pass that keeps no N×K array
        (on the quadratic path; the per-component one holds γ during the pass).

        Σ γ log γ = Σ γ·(log π N) - Σ log p(x), and the E-pass gathers Σ γ·(log π N).
        """
        e = self._data.e_pass(self._data.model(params), keep_responsibilities=False)
        return e.log_likelihood_total, max(e.log_likelihood_total - e.expected, 0.0)

    def weighted_log_prob(self, params: MixtureParams) -> np.ndarray:
        """log π_k + log N(x_n | μ_k, Σ_k), shape (N, K)."""
        return self._data.weighted_log_prob(self._data.model(params))

    def log_prob_norm(self, params: MixtureParams) -> np.ndarray:
        """log p(x_n | θ) per sample."""
        from scipy.special import logsumexp  # loads on first use (start-up)

        return logsumexp(self.weighted_log_prob(params), axis=1)


def check_n_components(n_components: int, n_samples: int) -> int:
    """Return ``n_components`` or raise a ``ValueError`` saying what to change."""
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
            or n_components < 1:
        raise ValueError(f"n_components must be an integer >= 1; got {n_components!r}.")
    if n_components > n_samples:
        raise ValueError(
            f"Expected n_samples >= n_components but got n_components = {n_components}, "
            f"n_samples = {n_samples}: lower K to at most {n_samples} or load more data."
        )
    return int(n_components)


def check_reg_covar(reg_covar: float) -> float:
    """Return ``reg_covar`` as a float or raise a ``ValueError``."""
    if isinstance(reg_covar, bool) or not isinstance(reg_covar, (int, float, np.number)) \
            or not np.isfinite(reg_covar) or reg_covar < 0:
        raise ValueError(f"reg_covar must be a non-negative number; got {reg_covar!r}.")
    return float(reg_covar)


def _check_run_options(tol: float, max_iter: int) -> None:
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.number)) \
            or not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a non-negative number; got {tol!r}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0; got {max_iter!r}.")


def em_steps(
    data: EMData | np.ndarray,
    initial: MixtureParams,
    *,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    stop: threading.Event | None = None,
    keep_responsibilities: bool = True,
    restart: int = 0,
    start_iteration: int = 0,
    previous_log_likelihood: float = -np.inf,
) -> Iterator[Snapshot]:
    """Run EM from ``initial`` and yield a :class:`Snapshot` after every half-step.

    The first snapshot is the initial state ('init'); then, per iteration, one
    'E' and one 'M' snapshot.  EM stops after the M-step whose E-step
    log-likelihood changed by less than ``tol`` (that snapshot has
    ``converged=True``), after ``max_iter`` iterations, when ``stop`` is set
    (checked between half-steps, so stopping is immediate), or after a snapshot
    that carries a fatal :class:`DegeneracyEvent`.

    Runs on whichever thread iterates it; it touches no shared state, so several
    runs may go on at once in different threads.  Large passes are split over
    the engine's workers (:mod:`gmm_studio.core.parallel`).

    Parameters
    ----------
    data : EMData or array of shape (N, D)
    initial : MixtureParams
        Any parameters: from an initialiser, from clicked means, from a saved model.
    start_iteration, previous_log_likelihood
        Continue a history: iteration numbers go on from ``start_iteration`` and
        the first convergence test compares with ``previous_log_likelihood``.

    Raises
    ------
    ValueError
        At once (before the first snapshot) when the parameters do not fit the
        data (other D or covariance type, more components than points) or an
        option is out of range.
    """
    if not isinstance(data, EMData):
        data = EMData(data, initial.covariance_type)
    data.check_params(initial)
    reg_covar = check_reg_covar(reg_covar)
    _check_run_options(tol, max_iter)
    return _run(data._data, initial, tol, reg_covar, max_iter, stop, keep_responsibilities,
                restart, start_iteration, previous_log_likelihood)


def _run(
    inner: _Data, params: MixtureParams, tol: float, reg_covar: float, max_iter: int,
    stop: threading.Event | None, keep_responsibilities: bool, restart: int,
    start_iteration: int, previous_log_likelihood: float,
) -> Iterator[Snapshot]:
    """The generator behind :func:`em_steps` (whose checks run before the first ``next``)."""
    n = inner.n_samples
    diagnostics, events = _diagnose(params, params.weights * n, None)
    model = None
    if not events:
        model, events = _model_or_event(inner, params)
    yield Snapshot(restart, start_iteration, "init", params, None, -np.inf, -np.inf, diagnostics,
                   False, events)
    if model is None or any(e.fatal for e in events):
        return
    log_likelihood = previous_log_likelihood
    buffers = _Buffers()
    for iteration in range(start_iteration + 1, start_iteration + max_iter + 1):
        if stop is not None and stop.is_set():
            return
        previous = log_likelihood
        e = None  # the previous γ is the consumer's now (or free for reuse)
        e = inner.e_pass(model, keep_responsibilities, buffers)
        log_likelihood = e.log_likelihood_total / n
        yield Snapshot(restart, iteration, "E", params, e.responsibilities, log_likelihood,
                       log_likelihood, diagnostics, False, ())
        if stop is not None and stop.is_set():
            return
        step = inner.m_step(e, model, reg_covar)
        model = None  # its factors are K×D×D: let them go before the new ones are made
        params = step.params
        diagnostics, events = _diagnose(params, step.resp_sum, None)
        new_model = None
        if not events:
            diagnostics, events = _diagnose(params, step.resp_sum, inner.collapsed(step, reg_covar))
            new_model, singular = _model_or_event(inner, params)
            events += singular
        if new_model is None:
            yield Snapshot(restart, iteration, "M", params, e.responsibilities, log_likelihood,
                           log_likelihood, diagnostics, False, events)
            return
        # L(q, θ_new) = Σ γ log π N(θ_new) - Σ γ log γ, and Σ γ log γ = E-step's Σ γ log π N - log p.
        lower_bound = (e.log_likelihood_total + _bound_after_m_step(step, new_model, reg_covar)
                       - e.expected) / n
        converged = abs(log_likelihood - previous) < tol
        yield Snapshot(restart, iteration, "M", params, e.responsibilities, log_likelihood,
                       lower_bound, diagnostics, converged, events)
        if converged:
            return
        model = new_model
