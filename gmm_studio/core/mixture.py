"""``GaussianMixture``: scikit-learn's estimator interface on GMM Studio's EM engine.

Swap it in for ``sklearn.mixture.GaussianMixture``: same constructor, same
methods, same fitted attributes and shapes.  Given the same initial parameters
it follows the same log-likelihood trajectory (the tests prove it to 1e-8).
On top, it keeps every restart's history (``restarts_``), diagnoses collapsing
components instead of failing with a ``LinAlgError``, and offers ``icl``.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from gmm_studio.core.diagnosis import describe_events
from gmm_studio.core.em import (
    DegenerateMixtureError,
    EMData,
    Snapshot,
    check_data,
)
from gmm_studio.core.init import check_init_method, check_random_state
from gmm_studio.core.params import (
    MixtureParams,
    check_covariance_type,
    covariance_shape,
    n_parameters,
)
from gmm_studio.core.restarts import RestartPolicy, Start, best_restart, fit_restarts
from gmm_studio.core.selection import aic, bic, icl


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the log-likelihood settled.

    The core's own class, so the core runs without scikit-learn;
    :mod:`gmm_studio.sklearn` warns with ``sklearn.exceptions.ConvergenceWarning``.
    """


class DegeneracyWarning(UserWarning):
    """A component collapsed or emptied during the fit (see ``GaussianMixture.events_``)."""


class NotFittedError(ValueError, AttributeError):
    """The estimator is used before ``fit`` (both bases, as scikit-learn's class has)."""

# What fit says when no restart could finish: scikit-learn's sentence, then the diagnosis.
_ILL_DEFINED = (
    "Fitting the mixture model failed because some components have ill-defined empirical "
    "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
    "number of components, increase reg_covar, or scale the input data."
)


def _refuse_sparse(X: object) -> None:
    # A scipy sparse matrix can only exist once scipy.sparse is imported: no need to import
    # it (at start-up) to recognise one.
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(X):
        raise TypeError(
            "Sparse data was passed, but GaussianMixture needs a dense array: pass "
            "X.toarray() (a mixture's covariances are dense whatever the data)."
        )


class _Progress:
    """scikit-learn's ``verbose`` output: a line per initialisation and per ``interval`` iterations.

    ``verbose=1`` prints the lines; ``verbose>=2`` adds the time since the last
    line and the change of the log-likelihood.
    """

    def __init__(self, verbose: int, interval: int) -> None:
        self.verbose, self.interval = verbose, interval
        self.began = self.last = time.perf_counter()
        self.previous = -np.inf

    def show(self, snapshot: Snapshot) -> None:
        if snapshot.half_step == "init":
            print(f"Initialization {snapshot.restart}")
            self.began = self.last = time.perf_counter()
            self.previous = -np.inf
        elif snapshot.half_step == "M":
            change, self.previous = snapshot.log_likelihood - self.previous, snapshot.log_likelihood
            if snapshot.iteration % self.interval == 0:
                if self.verbose == 1:
                    print(f"  Iteration {snapshot.iteration}")
                else:
                    now = time.perf_counter()
                    print(f"  Iteration {snapshot.iteration}\t time lapse {now - self.last:.5f}s"
                          f"\t ll change {change:.5f}")
                    self.last = now

    def end(self, final: Snapshot) -> None:
        state = "converged" if final.converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {state}.")
        else:
            print(f"Initialization {state}. time lapse {time.perf_counter() - self.began:.5f}s"
                  f"\t lower bound {final.log_likelihood:.5f}.")


#: Above this many bytes of parameters per half-step (wide data: D = 2000 makes 61 MB), a
#: restart's history keeps its first and last snapshots only, plus every log-likelihood.
HISTORY_PARAMS_BYTES = 1 << 20


@dataclass(frozen=True)
class RestartHistory:
    """One initialisation's run: every half-step's snapshot, without responsibilities.

    For models whose parameters exceed :data:`HISTORY_PARAMS_BYTES` per half-step only the
    initial and the final snapshot are kept (``lower_bounds`` still has every iteration):
    a whole history of wide covariances would need more memory than the fit itself.
    """

    restart: int
    snapshots: tuple[Snapshot, ...]
    e_step_log_likelihoods: tuple[float, ...] = ()

    @property
    def final(self) -> Snapshot:
        return self.snapshots[-1]

    @property
    def lower_bounds(self) -> list[float]:
        """The mean log-likelihood at every E-step (scikit-learn's ``lower_bounds_``)."""
        return list(self.e_step_log_likelihoods)

    @property
    def converged(self) -> bool:
        return self.final.converged


class GaussianMixture:
    """Gaussian mixture model fitted by Expectation–Maximization.

    Parameters are those of ``sklearn.mixture.GaussianMixture`` with the same
    meanings and defaults; ``tol`` applies to the change of the mean
    per-sample log-likelihood between iterations.

    Parameters
    ----------
    n_components : int, default 1
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default 'full'
    tol : float, default 1e-3
    reg_covar : float, default 1e-6
        Added to the diagonal of every covariance; keeps them positive definite.
    max_iter : int, default 100
    n_init : int, default 1
        Number of initialisations; the best (highest final log-likelihood) is kept
        and all are recorded in ``restarts_``.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default 'kmeans'
    weights_init, means_init, precisions_init : array-like, optional
    random_state : int, numpy Generator or RandomState, optional
    warm_start : bool, default False
        Continue from the previous fit's parameters (one initialisation).
    verbose : int, default 0
        1 prints a line per initialisation and every ``verbose_interval``
        iterations; 2 adds timings and the log-likelihood's change.
    verbose_interval : int, default 10

    Fitted attributes are float32 when ``X`` is float32 (EM itself runs in
    float64), as in scikit-learn; so are ``predict_proba`` and
    ``score_samples`` for float32 ``X`` on such a model.

    Attributes
    ----------
    weights_, means_, covariances_, precisions_, precisions_cholesky_
        In scikit-learn's shapes for the covariance type.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean per-sample log-likelihood of the best run at its last E-step.
    lower_bounds_ : list of float
        That value at every iteration of the best run.
    restarts_ : list of RestartHistory
        Every initialisation's full history (parameters per half-step).
    events_ : tuple of DegeneracyEvent
        Degeneracies diagnosed in the best run's last state.
    n_features_in_ : int
    """

    # The classes the scikit-learn adapter (gmm_studio.sklearn) replaces with scikit-learn's.
    _convergence_warning: type[Warning] = ConvergenceWarning
    _degeneracy_warning: type[Warning] | None = DegeneracyWarning

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: np.ndarray | None = None,
        means_init: np.ndarray | None = None,
        precisions_init: np.ndarray | None = None,
        random_state: int | np.random.Generator | np.random.RandomState | None = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # ------------------------------------------------------------------ scikit-learn API

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in (
            "n_components", "covariance_type", "tol", "reg_covar", "max_iter", "n_init",
            "init_params", "weights_init", "means_init", "precisions_init", "random_state",
            "warm_start", "verbose", "verbose_interval")}

    def set_params(self, **params) -> GaussianMixture:
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Unknown parameter {name!r} for GaussianMixture; valid ones are "
                    + ", ".join(sorted(valid)) + "."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        return f"GaussianMixture(n_components={self.n_components}, covariance_type={self.covariance_type!r})"

    def fit(self, X: np.ndarray, y: object = None) -> GaussianMixture:
        """Fit the mixture with EM (``n_init`` initialisations, the best kept)."""
        self.fit_predict(X, y)
        return self

    def fit_predict(self, X: np.ndarray, y: object = None) -> np.ndarray:
        """Fit the mixture and return the most probable component of every sample."""
        for _ in self.fit_steps(X):
            pass
        return self.predict(X)

    def fit_steps(
        self, X: np.ndarray, stop: threading.Event | None = None, keep_responsibilities: bool = False
    ) -> Iterator[Snapshot]:
        """Fit while yielding every snapshot of every restart (what ``fit`` runs on).

        When the iteration ends the estimator holds the best restart's
        parameters, exactly as after ``fit``.  Setting ``stop`` ends the fit at
        the next half-step; the best state reached so far is kept.
        """
        x, dtype = self._as_data(X, reset=True)
        self._check_parameters(x)
        data = EMData(x, self.covariance_type)
        progress = _Progress(self.verbose, self.verbose_interval) if self.verbose else None
        warm = self.warm_start and hasattr(self, "converged_")
        policy = RestartPolicy(
            self.n_components, self.init_params, self.n_init, self.tol, self.reg_covar,
            self.max_iter, self.weights_init, self.means_init, self.precisions_init,
        )
        start = Start.from_params(self._params(), previous_log_likelihood=self.lower_bound_) if warm else None
        histories: list[RestartHistory] = []
        record: list[Snapshot] = []
        lls: list[float] = []
        for snapshot in fit_restarts(data, x, policy, check_random_state(self.random_state),
                                     start=start, stop=stop,
                                     keep_responsibilities=keep_responsibilities):
            if snapshot.half_step == "init" and record:
                histories.append(self._finish_restart(record, lls, progress))
                record, lls = [], []
            if snapshot.half_step == "E":
                lls.append(snapshot.log_likelihood)
            if len(record) > 1 and snapshot.params.covariances.nbytes > HISTORY_PARAMS_BYTES:
                record.pop()  # wide: keep the first and the latest state only
            record.append(snapshot.without_responsibilities())
            if progress is not None:
                progress.show(snapshot)
            yield snapshot
        if record:
            histories.append(self._finish_restart(record, lls, progress))
        self._adopt_best(histories, dtype, stopped=stop is not None and stop.is_set())

    @staticmethod
    def _finish_restart(record: list[Snapshot], lls: list[float],
                        progress: _Progress | None) -> RestartHistory:
        if progress is not None:
            progress.end(record[-1])
        return RestartHistory(record[0].restart, tuple(record), tuple(lls))

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` has finished (scikit-learn's protocol; plain Python here)."""
        return hasattr(self, "means_")

    def _adopt_best(self, histories: list[RestartHistory], dtype: np.dtype,
                    stopped: bool = False) -> None:
        best = best_restart([h.final for h in histories])
        if best is None:
            error = DegenerateMixtureError(histories[-1].final.events)
            error.args = (f"{_ILL_DEFINED} {error}",)
            raise error
        self.restarts_ = histories
        final = histories[best].final
        # Parameters that EM has already replaced at a converged M-step are the
        # newest; the E-step log-likelihood belongs to the previous ones, as in
        # scikit-learn.
        self._set_params(final.params, dtype)
        self.converged_ = final.converged
        self.n_iter_ = final.iteration
        self.lower_bounds_ = histories[best].lower_bounds
        self.lower_bound_ = self.lower_bounds_[-1] if self.lower_bounds_ else -np.inf
        self.events_ = final.events
        if final.events and self._degeneracy_warning is not None:
            warnings.warn(describe_events(final.events), self._degeneracy_warning, stacklevel=3)
        if not self.converged_ and not stopped and self.max_iter > 0 and final.iteration > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                self._convergence_warning, stacklevel=3,
            )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable component of every sample."""
        return self._weighted_log_prob(X)[0].argmax(axis=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Responsibilities γ_nk, shape (N, K)."""
        from scipy.special import logsumexp  # ~0.2 s to import: when first asked, not at start-up

        wlp, dtype = self._weighted_log_prob(X)
        return np.exp(wlp - logsumexp(wlp, axis=1, keepdims=True)).astype(dtype, copy=False)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """log p(x_n) under the mixture, per sample."""
        from scipy.special import logsumexp  # ~0.2 s to import: when first asked, not at start-up

        wlp, dtype = self._weighted_log_prob(X)
        return logsumexp(wlp, axis=1).astype(dtype, copy=False)

    def score(self, X: np.ndarray, y: object = None) -> float:
        """Mean per-sample log-likelihood."""
        return float(self.score_samples(X).mean())

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw from the fitted mixture: pick k with probability π_k, then x ~ N(μ_k, Σ_k).

        Returns ``(X, y)`` sorted by component, as scikit-learn does.
        """
        self._check_fitted()
        if n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples}. Sampling needs at least one "
                "sample: ask for n_samples >= 1."
            )
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        full = self._params().full_covariances()
        x = np.vstack([
            rng.multivariate_normal(mean, cov, int(count))
            for mean, cov, count in zip(self.means_, full, counts)
        ])
        y = np.repeat(np.arange(self.n_components), counts)
        return x, y

    def bic(self, X: np.ndarray) -> float:
        """Bayesian information criterion on X (lower is better)."""
        x = self._check_x(X)[0]
        return bic(self.score(x) * len(x), self._n_parameters(), len(x))

    def aic(self, X: np.ndarray) -> float:
        """Akaike information criterion on X (lower is better)."""
        x = self._check_x(X)[0]
        return aic(self.score(x) * len(x), self._n_parameters())

    def icl(self, X: np.ndarray) -> float:
        """Integrated completed likelihood on X: BIC plus twice the entropy of the
        responsibilities (lower is better; penalises overlapping components)."""
        x = self._check_x(X)[0]
        total, entropy = EMData(x, self.covariance_type_fitted_).log_likelihood_and_entropy(self._params())
        return icl(total, self._n_parameters(), len(x), entropy)

    # ------------------------------------------------------------------ helpers

    def params(self) -> MixtureParams:
        """The fitted parameters as an immutable :class:`MixtureParams`."""
        self._check_fitted()
        return self._params()

    def _params(self) -> MixtureParams:
        return MixtureParams(self.covariance_type_fitted_, self.weights_, self.means_, self.covariances_)

    def _set_params(self, params: MixtureParams, dtype: np.dtype) -> None:
        self.weights_ = np.array(params.weights, dtype=dtype)
        self.means_ = np.array(params.means, dtype=dtype)
        self.covariances_ = np.array(params.covariances, dtype=dtype)
        self.precisions_cholesky_ = params.precisions_cholesky().astype(dtype)
        self.precisions_ = params.precisions().astype(dtype)
        self.n_features_in_ = params.n_features
        self.covariance_type_fitted_ = params.covariance_type

    def _n_parameters(self) -> int:
        return n_parameters(self.covariance_type_fitted_, len(self.means_), self.n_features_in_)

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                "This GaussianMixture is not fitted yet: call fit(X) before using it."
            )

    def _as_data(self, X: object, reset: bool) -> tuple[np.ndarray, np.dtype]:
        """X as the engine's float64 (N, D) array, and the dtype results are given in.

        ``reset`` is True in ``fit`` (any number of features) and False after it
        (the fitted number).  float32 data keep float32 results, as in scikit-learn.
        """
        _refuse_sparse(X)
        dtype = np.dtype(np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64)
        x = check_data(X, self.n_components if reset else None)
        if not reset and x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but this GaussianMixture was fitted with "
                f"{self.n_features_in_}."
            )
        return x, dtype

    def _check_x(self, X: object) -> tuple[np.ndarray, np.dtype]:
        """Validated data after fit and the dtype of results on it (float32 only if both are)."""
        self._check_fitted()
        x, dtype = self._as_data(X, reset=False)
        return x, np.result_type(dtype, self.means_.dtype)

    def _weighted_log_prob(self, X: object) -> tuple[np.ndarray, np.dtype]:
        x, dtype = self._check_x(X)
        params = self._params()
        return EMData(x, params.covariance_type).weighted_log_prob(params), dtype

    def _check_parameters(self, x: np.ndarray) -> None:
        """Validate the constructor's options against the data: clear ValueErrors."""
        check_covariance_type(self.covariance_type)
        check_init_method(self.init_params)
        k, d = self.n_components, x.shape[1]
        for name, value, low in (("n_components", k, 1), ("n_init", self.n_init, 1),
                                 ("max_iter", self.max_iter, 0), ("verbose", self.verbose, 0),
                                 ("verbose_interval", self.verbose_interval, 1)):
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
        for name, value in (("tol", self.tol), ("reg_covar", self.reg_covar)):
            if not isinstance(value, (int, float, np.number)) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative number; got {value!r}.")
        for name in ("weights_init", "means_init", "precisions_init"):
            value = getattr(self, name)
            if value is not None and not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
                raise ValueError(f"{name} contains NaN or infinite values: give finite numbers.")
        if self.warm_start and hasattr(self, "means_"):
            previous = (self.means_.shape[0], self.covariance_type_fitted_, self.n_features_in_)
            if previous != (k, self.covariance_type, d):
                raise ValueError(
                    "warm_start continues the previous fit, which had "
                    f"n_components={previous[0]}, covariance_type={previous[1]!r} and "
                    f"{previous[2]} features; this call asks for n_components={k}, "
                    f"covariance_type={self.covariance_type!r} on {d} features. Set "
                    "warm_start=False to start afresh."
                )
        # Each message begins with scikit-learn's own words (code matches on them), then says
        # what to give instead.
        if self.weights_init is not None:
            w = np.asarray(self.weights_init, dtype=np.float64)
            if w.shape != (k,):
                raise ValueError(
                    f"The parameter 'weights' should have the shape of ({k},), but got "
                    f"{w.shape}: weights_init must have shape ({k},), one weight per component."
                )
            if np.any(w < 0) or np.any(w > 1):
                # scikit-learn's sentence names the smallest weight "max value" and the
                # largest "min value"; its words are kept and the order spelt out.
                raise ValueError(
                    "The parameter 'weights' should be in the range [0, 1], but got max value "
                    f"{w.min():.5f}, min value {w.max():.5f} (smallest weight first, then the "
                    "largest): weights_init must lie between 0 and 1 and sum to 1."
                )
            single = np.asarray(self.weights_init).dtype == np.float32
            if not np.isclose(w.sum(), 1.0, rtol=0.0, atol=1e-6 if single else 1e-8):
                raise ValueError(
                    "The parameter 'weights' should be normalized, but got sum(weights) = "
                    f"{w.sum():.5f}: weights_init must be non-negative and sum to 1."
                )
        if self.means_init is not None:
            m = np.asarray(self.means_init, dtype=np.float64)
            if m.shape != (k, d):
                raise ValueError(
                    f"The parameter 'means' should have the shape of ({k}, {d}), but got "
                    f"{m.shape}: means_init must have shape ({k}, {d}), one row per component."
                )
        if self.precisions_init is not None:
            p = np.asarray(self.precisions_init, dtype=np.float64)
            kind = self.covariance_type
            expected = covariance_shape(kind, k, d)
            if p.shape != expected:
                raise ValueError(
                    f"The parameter '{kind} precision' should have the shape of {expected}, "
                    f"but got {p.shape}: precisions_init for covariance_type={kind!r} must "
                    f"have shape {expected}."
                )
            matrices = p.reshape(-1, d, d) if kind in ("full", "tied") else None
            if matrices is not None:
                symmetric = np.allclose(matrices, np.swapaxes(matrices, 1, 2))
                if not symmetric or np.any(np.linalg.eigvalsh(matrices) <= 0):
                    raise ValueError(
                        f"'{kind} precision' should be symmetric, positive-definite: "
                        "precisions_init must be symmetric positive definite matrices."
                    )
            elif np.any(p <= 0):
                raise ValueError(
                    f"'{kind} precision' should be positive: every precisions_init value "
                    "must be above 0."
                )
