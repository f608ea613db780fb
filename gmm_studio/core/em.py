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
(L = log-likelihood); the M-step raises L by changing θ.  Because
``Σ_n q_nk log π_k N(x_n|θ_k)`` is linear in the sufficient statistics, the bound
after the M-step costs O(K·D²) to evaluate, and every snapshot carries it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import logsumexp

from gmm_studio.core.params import MixtureParams, NotPositiveDefiniteError

HalfStep = Literal["init", "E", "M"]

_LOG_2PI = np.log(2.0 * np.pi)
_EPS = np.finfo(np.float64).eps
# Rows per chunk: the chunk's features and responsibilities stay in cache.
_CHUNK_ELEMENTS = 1 << 16
# Larger magnitudes are refused: sums of squares over many points would overflow.
LARGE_VALUE = 1e150
# A component whose scatter (its covariance less reg_covar), measured in units of
# each feature's standard deviation, has an eigenvalue below this has collapsed
# onto a point or a line.  Per-feature units keep the test fair to data whose
# columns differ by orders of magnitude (incomes beside fractions).
_COLLAPSE_RELATIVE = 1e-8


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
        if d == 2 and q == 3:
            # The program's main case, spelt out: x², xy, y².
            np.multiply(xt[0], xt[0], out=f[0])
            np.multiply(xt[0], xt[1], out=f[1])
            np.multiply(xt[1], xt[1], out=f[2])
        else:
            np.multiply(xt[self.pair_rows], xt[self.pair_cols], out=f[:q])
        f[q : q + d] = xt
        return f

    def coefficients(self, params: MixtureParams, center: np.ndarray) -> np.ndarray:
        """C of shape (width, K) with φ(x - center) @ C = log π_k + log N(x | μ_k, Σ_k).

        Raises :class:`NotPositiveDefiniteError` when a covariance is not positive definite.
        """
        k, d = params.n_components, params.n_features
        means = params.means - center
        precision_cholesky = params.precisions_cholesky()
        precisions = _full_precisions(params, precision_cholesky)
        log_det_precision = _log_det_precisions(params, precision_cholesky)
        c = np.empty((self.width, k))
        quad = precisions[:, self.pair_rows, self.pair_cols]  # (K, q)
        off_diagonal = self.pair_rows != self.pair_cols
        quad = np.where(off_diagonal, -quad, -0.5 * quad)  # x_i x_j appears twice in xᵀPx
        c[: self.n_quadratic] = quad.T
        pm = np.einsum("kij,kj->ki", precisions, means)
        c[self.n_quadratic : self.n_quadratic + d] = pm.T
        # A weight of exactly 0 becomes the smallest positive float: log π stays finite
        # (about -708, so the component takes no responsibility) and no inf - inf appears.
        log_weights = np.log(np.maximum(params.weights, np.finfo(np.float64).tiny))
        c[-1] = (
            log_weights
            - 0.5 * d * _LOG_2PI
            + 0.5 * log_det_precision
            - 0.5 * np.einsum("ki,ki->k", pm, means)
        )
        return c


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


# --------------------------------------------------------------------------- passes

# Below this many N·K entries a pass is too short to gain from a second core.
_PARALLEL_MIN_ELEMENTS = 1 << 19
_WORKERS = os.cpu_count() or 1
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The process-wide pool of E-pass threads, one per core (created on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=_WORKERS,
                                       thread_name_prefix="gmm-e-pass")
        return _POOL


def _row_blocks(n: int, k: int) -> list[tuple[int, int]]:
    """Contiguous row ranges, one per core for large passes, a single one otherwise."""
    if _WORKERS == 1 or n * k < _PARALLEL_MIN_ELEMENTS:
        return [(0, n)]
    edges = np.linspace(0, n, _WORKERS + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


@dataclass
class _Pass:
    """What one pass over the data produced: the E-step and the M-step's statistics."""

    log_likelihood_total: float
    statistics: np.ndarray  # (K, width) = Γᵀ φ(X)
    responsibilities: np.ndarray | None


class _Data:
    """The centred data, its features and the scratch space for chunked passes."""

    def __init__(self, x: np.ndarray, covariance_type: str):
        self.n_samples, self.n_features = x.shape
        self.center = x.mean(axis=0)
        # Centred and feature-major: each feature's values are contiguous in memory.
        self.xt = np.ascontiguousarray((x - self.center).T)
        self.features = _Features(self.n_features, covariance_type)
        self.covariance_type = covariance_type
        spread = np.std(self.xt, axis=1)
        self.feature_scale = np.where(spread > 0, spread, 1.0)  # a constant column keeps unit scale
        self._xtx: np.ndarray | None = None

    @property
    def xtx(self) -> np.ndarray:
        """XᵀX of the centred data, which the 'tied' M-step needs."""
        if self._xtx is None:
            self._xtx = self.xt @ self.xt.T
        return self._xtx

    def chunk_rows(self, n_components: int) -> int:
        return max(256, _CHUNK_ELEMENTS // max(n_components, self.features.width))

    def e_pass(self, coefficients: np.ndarray, keep_responsibilities: bool) -> _Pass:
        """One pass: responsibilities (log-sum-exp), log-likelihood and Γᵀφ(X).

        Large data are split into one contiguous block of rows per core; numpy
        releases the GIL inside its kernels, so the blocks run in parallel.
        Each block's sums are added in block order, so the result does not
        depend on thread timing.
        """
        n, k = self.n_samples, coefficients.shape[1]
        resp_all = np.empty((n, k)) if keep_responsibilities else None
        blocks = _row_blocks(n, k)
        if len(blocks) == 1:
            parts = [self._e_block(coefficients, 0, n, resp_all)]
        else:
            parts = list(_pool().map(
                lambda block: self._e_block(coefficients, block[0], block[1], resp_all), blocks))
        total = sum(p[0] for p in parts)
        statistics = parts[0][1]
        for _, block_statistics in parts[1:]:
            statistics += block_statistics
        if resp_all is not None:
            resp_all.setflags(write=False)
        return _Pass(total, statistics, resp_all)

    def _e_block(
        self, coefficients: np.ndarray, first: int, last: int, resp_all: np.ndarray | None
    ) -> tuple[float, np.ndarray]:
        """The E-pass over rows [first, last), in cache-sized chunks.  Any thread."""
        k = coefficients.shape[1]
        rows = self.chunk_rows(k)
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
            # Row-wise max and sum over K columns: numpy's axis=1 reductions on
            # short rows are several times slower than K column passes and a gemv.
            row_max = out[:, 0].copy()
            for j in range(1, k):
                np.maximum(row_max, out[:, j], out=row_max)
            row_max[~np.isfinite(row_max)] = 0.0
            out -= row_max[:, None]
            np.exp(out, out=out)
            row_sum = out @ np.ones(k)
            out /= row_sum[:, None]
            total += float(np.log(row_sum).sum() + row_max.sum())
            statistics += f @ out
        return total, statistics.T

    def statistics(self, resp: np.ndarray) -> np.ndarray:
        """Γᵀφ(X) for given responsibilities (an M-step without an E-step)."""
        n, k = resp.shape
        rows = self.chunk_rows(k)
        features = self.features.buffer(min(rows, n))
        statistics = np.zeros((self.features.width, k))
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            statistics += self.features.compute(self.xt[:, start:stop], features) @ resp[start:stop]
        return statistics.T

    def weighted_log_prob(self, coefficients: np.ndarray) -> np.ndarray:
        """log π_k + log N(x_n | θ_k) for every sample, shape (N, K); chunked like the E-pass."""
        n, k = self.n_samples, coefficients.shape[1]
        rows = self.chunk_rows(k)
        features = self.features.buffer(min(rows, n))
        out = np.empty((n, k))
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            f = self.features.compute(self.xt[:, start:stop], features)
            np.matmul(f.T, coefficients, out=out[start:stop])
        return out


# --------------------------------------------------------------------------- M-step


def _m_step(
    data: _Data, statistics: np.ndarray, covariance_type: str, reg_covar: float
) -> tuple[MixtureParams, np.ndarray]:
    """New parameters from Γᵀφ(X), with scikit-learn's algebra (and its 10·eps on N_k).

    Returns the parameters (in the original coordinates) and the covariances
    *without* ``reg_covar`` (K, D, D) for the degeneracy diagnosis.
    """
    feats = data.features
    q, d = feats.n_quadratic, data.n_features
    resp_sum = statistics[:, -1]
    nk = resp_sum + 10 * _EPS
    first = statistics[:, q : q + d]
    means = first / nk[:, None]
    weights = nk / nk.sum()
    second = statistics[:, :q]
    if covariance_type in ("full", "tied"):
        s2 = np.empty((len(nk), d, d))
        s2[:, feats.pair_rows, feats.pair_cols] = second
        s2[:, feats.pair_cols, feats.pair_rows] = second
        if covariance_type == "full":
            # Σ_n γ (x-μ)(x-μ)ᵀ expanded: S2 - μ S1ᵀ - S1 μᵀ + (Σγ) μμᵀ
            outer_ms = means[:, :, None] * first[:, None, :]
            scatter = (
                s2 - outer_ms - np.swapaxes(outer_ms, 1, 2)
                + resp_sum[:, None, None] * means[:, :, None] * means[:, None, :]
            ) / nk[:, None, None]
            covariances = scatter + reg_covar * np.eye(d)
        else:
            shared = (data.xtx - np.einsum("k,ki,kj->ij", nk, means, means)) / nk.sum()
            scatter = np.broadcast_to(shared, (len(nk), d, d))
            covariances = shared + reg_covar * np.eye(d)
    else:
        variances = second / nk[:, None] - means**2
        if covariance_type == "spherical":
            variances = variances.mean(axis=1, keepdims=True) * np.ones((1, d))
            covariances = variances[:, 0] + reg_covar
        else:
            covariances = variances + reg_covar
        scatter = variances[:, :, None] * np.eye(d)
    params = MixtureParams(covariance_type, weights, means + data.center, covariances)
    return params, scatter


def _diagnose(
    params: MixtureParams, scatter: np.ndarray, effective_counts: np.ndarray,
    feature_scale: np.ndarray | None,
) -> tuple[ComponentDiagnostics, tuple[DegeneracyEvent, ...]]:
    """Per-component diagnostics and the degeneracy events they reveal.

    Without ``feature_scale`` (parameters that did not come from an M-step)
    only the fatal problems are looked for.
    """
    full = params.full_covariances()
    finite = np.all(np.isfinite(full), axis=(1, 2))
    eig = np.full((params.n_components, params.n_features), np.nan)
    if finite.any():
        eig[finite] = np.linalg.eigvalsh(full[finite])
    min_eig = eig.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        condition = np.where(min_eig > 0, eig.max(axis=1) / min_eig, np.inf)
    scatter_min = np.full(params.n_components, np.inf)
    scatter_finite = np.all(np.isfinite(scatter), axis=(1, 2))
    if feature_scale is not None and scatter_finite.any():
        in_units = scatter[scatter_finite] / np.outer(feature_scale, feature_scale)
        scatter_min[scatter_finite] = np.linalg.eigvalsh(in_units)[:, 0]
    events = []
    for k in range(params.n_components):
        n_k = effective_counts[k]
        label = f"Component {k + 1}"
        if not finite[k] or not min_eig[k] > 0:
            events.append(DegeneracyEvent(
                k, "singular",
                f"{label} has a covariance that is not positive definite "
                f"(smallest eigenvalue {min_eig[k]:.3g}, {n_k:.3g} points of weight): EM cannot "
                "continue. Raise reg_covar (e.g. to 1e-3), re-seed the component, or lower K.",
            ))
        elif n_k < 1.0:
            events.append(DegeneracyEvent(
                k, "empty",
                f"{label} is empty: it carries {n_k:.3g} points of weight. Re-seed the "
                "component or lower K.",
                ("re-seed the component", "lower K"),
            ))
        elif not scatter_min[k] > _COLLAPSE_RELATIVE:
            events.append(DegeneracyEvent(
                k, "collapsed",
                f"{label} has collapsed: its {n_k:.3g} points of weight lie on a point or a "
                f"line, so its variance (smallest eigenvalue {min_eig[k]:.3g}) comes only "
                "from reg_covar and its likelihood grows without bound. Raise reg_covar, "
                "re-seed the component, or lower K.",
            ))
    diagnostics = ComponentDiagnostics(
        _readonly(effective_counts), _readonly(min_eig), _readonly(condition)
    )
    return diagnostics, tuple(events)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _prior_diagnose(
    params: MixtureParams, n_samples: int
) -> tuple[ComponentDiagnostics, tuple[DegeneracyEvent, ...]]:
    """Diagnostics for parameters that did not come from an M-step (no scatter known)."""
    counts = params.weights * n_samples
    diagnostics, events = _diagnose(params, params.full_covariances(), counts, None)
    return diagnostics, tuple(e for e in events if e.fatal)


def _coefficients_or_event(
    data: _Data, params: MixtureParams
) -> tuple[np.ndarray | None, tuple[DegeneracyEvent, ...]]:
    """The E-step coefficients, or a fatal event when a Cholesky factorisation fails."""
    try:
        return data.features.coefficients(params, data.center), ()
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
        self._data = _Data(check_data(x), covariance_type)

    @property
    def n_samples(self) -> int:
        return self._data.n_samples

    @property
    def n_features(self) -> int:
        return self._data.n_features

    @property
    def covariance_type(self) -> str:
        return self._data.covariance_type

    def params_from_responsibilities(self, resp: np.ndarray, reg_covar: float) -> MixtureParams:
        """The M-step for given responsibilities (how every initialiser makes parameters)."""
        params, _ = _m_step(self._data, self._data.statistics(resp), self.covariance_type, reg_covar)
        return params

    def responsibilities(self, params: MixtureParams) -> np.ndarray:
        """γ (N, K) for these parameters: one E-step, nothing else changes."""
        coefficients = self._data.features.coefficients(params, self._data.center)
        return self._data.e_pass(coefficients, keep_responsibilities=True).responsibilities

    def mean_log_likelihood(self, params: MixtureParams) -> float:
        coefficients = self._data.features.coefficients(params, self._data.center)
        return self._data.e_pass(coefficients, False).log_likelihood_total / self.n_samples

    def log_likelihood_and_entropy(self, params: MixtureParams) -> tuple[float, float]:
        """Total log-likelihood and EN(γ) = -Σ γ log γ, in one pass that keeps no N×K array.

        Σ γ log γ = Σ γ·(log π N) - Σ log p(x): the first sum is the E-pass's
        statistics against its coefficients, so the entropy costs O(K·D²).
        """
        coefficients = self._data.features.coefficients(params, self._data.center)
        e = self._data.e_pass(coefficients, keep_responsibilities=False)
        expected = float(np.einsum("kw,wk->", e.statistics, coefficients))
        return e.log_likelihood_total, max(e.log_likelihood_total - expected, 0.0)

    def weighted_log_prob(self, params: MixtureParams) -> np.ndarray:
        """log π_k + log N(x_n | μ_k, Σ_k), shape (N, K)."""
        return self._data.weighted_log_prob(self._data.features.coefficients(params, self._data.center))

    def log_prob_norm(self, params: MixtureParams) -> np.ndarray:
        """log p(x_n | θ) per sample."""
        return logsumexp(self.weighted_log_prob(params), axis=1)

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
    runs may go on at once in different threads.

    Parameters
    ----------
    data : EMData or array of shape (N, D)
    initial : MixtureParams
        Any parameters: from an initialiser, from clicked means, from a saved model.
    start_iteration, previous_log_likelihood
        Continue a history: iteration numbers go on from ``start_iteration`` and
        the first convergence test compares with ``previous_log_likelihood``.
    """
    if not isinstance(data, EMData):
        data = EMData(data, initial.covariance_type)
    inner = data._data
    if initial.covariance_type != inner.covariance_type or initial.n_features != inner.n_features:
        raise ValueError(
            f"Parameters for {initial.n_features}-D {initial.covariance_type!r} covariances "
            f"do not fit {inner.n_features}-D data prepared for {inner.covariance_type!r}."
        )
    params = initial
    n = inner.n_samples
    diagnostics, events = _prior_diagnose(params, n)
    coefficients = None
    if not events:
        coefficients, events = _coefficients_or_event(inner, params)
    yield Snapshot(restart, start_iteration, "init", params, None, -np.inf, -np.inf, diagnostics,
                   False, events)
    if coefficients is None or any(e.fatal for e in events):
        return
    log_likelihood = previous_log_likelihood
    for iteration in range(start_iteration + 1, start_iteration + max_iter + 1):
        if stop is not None and stop.is_set():
            return
        previous = log_likelihood
        e = inner.e_pass(coefficients, keep_responsibilities)
        log_likelihood = e.log_likelihood_total / n
        yield Snapshot(restart, iteration, "E", params, e.responsibilities, log_likelihood,
                       log_likelihood, diagnostics, False, ())
        if stop is not None and stop.is_set():
            return
        params, scatter = _m_step(inner, e.statistics, params.covariance_type, reg_covar)
        diagnostics, events = _diagnose(params, scatter, e.statistics[:, -1], inner.feature_scale)
        new_coefficients = None
        if not any(ev.fatal for ev in events):
            new_coefficients, singular = _coefficients_or_event(inner, params)
            events += singular
        if new_coefficients is None:
            yield Snapshot(restart, iteration, "M", params, e.responsibilities, log_likelihood,
                           log_likelihood, diagnostics, False, events)
            return
        # L(q, θ_new) = L(q, θ_old) + Σ_k S_k·(C_new_k - C_old_k): linear in the statistics.
        gain = float(np.einsum("kw,wk->", e.statistics, new_coefficients - coefficients))
        lower_bound = log_likelihood + gain / n
        converged = abs(log_likelihood - previous) < tol
        yield Snapshot(restart, iteration, "M", params, e.responsibilities, log_likelihood,
                       lower_bound, diagnostics, converged, events)
        if converged:
            return
        coefficients = new_coefficients
