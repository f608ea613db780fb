"""Sweep K and the covariance type, and score every model: how a person chooses K.

The training log-likelihood always rises with K — without bound when a
component collapses onto one point — so it cannot choose K by itself.  A sweep
fits every (K, covariance type) *cell* with ``n_init`` restarts and scores each
restart with the penalised criteria (BIC, AIC, ICL: lower is better, as in
scikit-learn) and with the mean per-point log-likelihood on the training rows
and on held-out validation rows (higher is better).  The held-out likelihood
does not keep rising: once the extra components only fit noise in the
training rows, it falls.

Every fit drives the one EM engine (:func:`gmm_studio.core.em.em_steps`) with
``keep_responsibilities=False``.  The data are split once (seeded), prepared
once per covariance type (:class:`~gmm_studio.core.em.EMData`) and shared by
every K and restart; k-means initialisation runs on a subsample
(``SweepSettings.init_subsample``).

Cells are independent, so they run on worker processes
(:mod:`gmm_studio.core.sweep_pool`): a small cell is bound by the engine's Python
bookkeeping, which holds the GIL, so threads overlapped only its numpy kernels (two
threads were 1.0–1.25× faster than one at N = 10⁴; two processes are about 1.7×,
``benchmarks/bench_sweep.py``).  Each cell draws from its own seeded stream, so the
results do not depend on the number of workers or on which worker ran which cell.

Qt-free: runs on whichever thread calls :func:`run_sweep`.
"""

from __future__ import annotations

import csv
import io
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np

from gmm_studio.core import parallel
from gmm_studio.core.em import DegeneracyEvent, DegenerateMixtureError, EMData, check_data
from gmm_studio.core.export import atomic_write_text
from gmm_studio.core.init import check_init_method
from gmm_studio.core.params import (
    COVARIANCE_TYPES,
    MixtureParams,
    check_choice,
    check_covariance_type,
    n_parameters,
)
from gmm_studio.core.restarts import RestartPolicy, best_restart, run_restart
from gmm_studio.core.selection import aic, bic, icl

__all__ = [
    "CRITERIA",
    "CRITERION_LABELS",
    "LOWER_IS_BETTER",
    "CellResult",
    "RestartScore",
    "SweepResult",
    "SweepSettings",
    "run_sweep",
]

#: Criterion keys, in the order the GUI lists them.
CRITERIA: tuple[str, ...] = ("bic", "aic", "icl", "train_ll", "heldout_ll")
CRITERION_LABELS: Mapping[str, str] = MappingProxyType({
    "bic": "BIC",
    "aic": "AIC",
    "icl": "ICL",
    "train_ll": "training log-likelihood",
    "heldout_ll": "held-out log-likelihood",
})
#: scikit-learn's sign for the penalised criteria; the likelihoods are better when higher.
LOWER_IS_BETTER: Mapping[str, bool] = MappingProxyType({
    "bic": True, "aic": True, "icl": True, "train_ll": False, "heldout_ll": False,
})

Status = Literal["ok", "NA"]


def check_criterion(criterion: str) -> str:
    return check_choice("criterion", criterion, CRITERIA)


@dataclass(frozen=True)
class SweepSettings:
    """What a sweep fits.  Invalid settings raise ``ValueError`` on construction.

    Parameters
    ----------
    k_values : tuple of int, default 1..9
        The numbers of components to try (sorted, duplicates removed).
    covariance_types : tuple of str, default all four
        Any of 'full', 'tied', 'diag', 'spherical'.
    n_init : int, default 5
        Restarts per cell; the restart with the highest training log-likelihood is kept.
    validation_fraction : float, default 0.2
        Fraction of the rows, drawn at random with ``seed``, held out of every fit
        to measure the held-out log-likelihood; 0 fits on all rows (no held-out value).
    seed : int, default 0
        Seeds the split and every cell's initialisations (each cell has its own
        stream, so results do not depend on the order cells run in).
    tol, reg_covar, max_iter
        As for :class:`~gmm_studio.core.mixture.GaussianMixture`.
    init_params : str, default 'kmeans'
        The initialiser (:data:`gmm_studio.core.init.INIT_METHODS`).
    init_subsample : int or None, default 2000
        With 'kmeans', run k-means (k-means++ seeds, then Lloyd's iterations) on
        at most this many random training rows, then put every row in its
        nearest centre's component.  On clustered data the centres barely move
        with more rows, and EM refines them anyway; it makes a restart several
        times cheaper at N = 10⁴.  None: k-means on every row, exactly as
        :class:`~gmm_studio.core.mixture.GaussianMixture` does.
    """

    k_values: tuple[int, ...] = tuple(range(1, 10))
    covariance_types: tuple[str, ...] = COVARIANCE_TYPES
    n_init: int = 5
    validation_fraction: float = 0.2
    seed: int = 0
    tol: float = 1e-3
    reg_covar: float = 1e-6
    max_iter: int = 100
    init_params: str = "kmeans"
    init_subsample: int | None = 2000

    def __post_init__(self) -> None:
        ks = tuple(sorted({int(k) for k in self.k_values}))
        if not ks or ks[0] < 1:
            raise ValueError(f"k_values must hold at least one integer >= 1; got {self.k_values!r}.")
        types = tuple(dict.fromkeys(check_covariance_type(t) for t in self.covariance_types))
        if not types:
            raise ValueError("covariance_types must name at least one covariance type.")
        if int(self.n_init) < 1:
            raise ValueError(f"n_init must be at least 1; got {self.n_init!r}.")
        if not 0.0 <= float(self.validation_fraction) < 1.0:
            raise ValueError(
                f"validation_fraction must be in [0, 1); got {self.validation_fraction!r}. "
                "Use 0 for no held-out rows, e.g. 0.2 to hold out a fifth."
            )
        for name, value in (("tol", self.tol), ("reg_covar", self.reg_covar)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number; got {value!r}.")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be at least 1; got {self.max_iter!r}.")
        if int(self.seed) < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}.")
        check_init_method(self.init_params)
        if self.init_subsample is not None and int(self.init_subsample) < 1:
            raise ValueError(
                f"init_subsample must be a positive number of rows or None; got {self.init_subsample!r}."
            )
        object.__setattr__(self, "k_values", ks)
        object.__setattr__(self, "covariance_types", types)
        object.__setattr__(self, "n_init", int(self.n_init))
        object.__setattr__(self, "max_iter", int(self.max_iter))
        object.__setattr__(self, "seed", int(self.seed))


@dataclass(frozen=True)
class RestartScore:
    """One restart's scores (criterion key → value), or why it failed.

    ``degeneracy`` describes a collapsed or empty component in the final state:
    such a restart has scores, but its likelihood is inflated, so it is only
    chosen when no restart of the cell is clean.
    """

    restart: int
    values: Mapping[str, float]
    n_iter: int
    converged: bool
    failure: str = ""
    degeneracy: str = ""
    events: tuple[DegeneracyEvent, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.failure and not self.degeneracy


@dataclass(frozen=True, eq=False)
class CellResult:
    """The outcome of one (K, covariance type) cell.

    Attributes
    ----------
    n_components, covariance_type
    status : {'ok', 'NA'}
        'NA' when the fits degenerated: every restart failed, or the best one
        ended with a collapsed, empty or singular component (its likelihood is
        meaningless).  ``reason`` then says what happened.
    reason : str
    params : MixtureParams or None
        The best restart's fitted model (also for 'NA' cells when one exists).
    values : mapping of criterion → float
        The best restart's scores (NaN for 'NA' cells and for ``heldout_ll``
        without a validation split).
    restarts : tuple of RestartScore
        Every restart, for the spread of the criteria.
    seconds : float
        Wall time of the cell.
    """

    n_components: int
    covariance_type: str
    status: Status
    reason: str = ""
    params: MixtureParams | None = None
    values: Mapping[str, float] = field(default_factory=dict)
    restarts: tuple[RestartScore, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def value(self, criterion: str) -> float:
        """The best restart's value, NaN for an 'NA' cell."""
        return float(self.values.get(check_criterion(criterion), np.nan)) if self.ok else np.nan

    def restart_values(self, criterion: str) -> np.ndarray:
        """The finite values of the clean restarts, or of every scored one if none is clean."""
        check_criterion(criterion)
        values = [r.values[criterion] for r in self._usable_restarts()]
        values = np.asarray(values, dtype=np.float64)
        return values[np.isfinite(values)]

    def spread(self, criterion: str) -> tuple[float, float]:
        """(min, max) over the successful restarts; NaNs when there are none or the cell is NA."""
        values = self.restart_values(criterion)
        if not self.ok or len(values) == 0:
            return np.nan, np.nan
        return float(values.min()), float(values.max())

    @property
    def n_iter(self) -> int:
        best = self._best_restart()
        return best.n_iter if best else 0

    @property
    def converged(self) -> bool:
        best = self._best_restart()
        return bool(best and best.converged)

    def _usable_restarts(self) -> list[RestartScore]:
        clean = [r for r in self.restarts if r.clean]
        return clean or [r for r in self.restarts if not r.failure]

    def _best_restart(self) -> RestartScore | None:
        """The restart the one restart policy (:func:`gmm_studio.core.restarts.best_restart`)
        keeps, ranked by the training log-likelihood."""
        best = best_restart([None if r.failure else r for r in self.restarts],
                            scores=[r.values.get("train_ll", np.nan) for r in self.restarts])
        return None if best is None else self.restarts[best]


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Every finished cell of a sweep.

    ``cells`` are ordered by covariance type (as in the settings) then K.  When
    the sweep was cancelled, ``cancelled`` is True and unfinished cells are absent.
    """

    settings: SweepSettings
    cells: tuple[CellResult, ...]
    cancelled: bool
    n_train: int
    n_validation: int
    seconds: float

    def cell(self, n_components: int, covariance_type: str) -> CellResult | None:
        for c in self.cells:
            if c.n_components == n_components and c.covariance_type == covariance_type:
                return c
        return None

    def best(self, criterion: str = "bic") -> CellResult:
        """The cell with the best value of ``criterion`` (ties: the smaller K, then type order).

        Raises ``ValueError`` when no finished cell has a value for it (all NA,
        nothing finished, or ``heldout_ll`` without a validation split).
        """
        check_criterion(criterion)
        scored = [c for c in self.cells if math.isfinite(c.value(criterion))]
        if not scored:
            why = (" (the sweep held out no validation rows)"
                   if criterion == "heldout_ll" and self.n_validation == 0 else "")
            raise ValueError(f"No cell has a {CRITERION_LABELS[criterion]} value{why}.")
        sign = 1.0 if LOWER_IS_BETTER[criterion] else -1.0
        types = self.settings.covariance_types
        return min(scored, key=lambda c: (sign * c.value(criterion), c.n_components,
                                          types.index(c.covariance_type)))

    @property
    def columns(self) -> tuple[str, ...]:
        return ("K", *self.settings.covariance_types)

    def table(self, criterion: str = "bic") -> list[tuple]:
        """A row per K: ``(K, value per covariance type...)`` in :attr:`columns` order.

        A value is NaN for an 'NA' cell and None for a cell that did not run.
        """
        check_criterion(criterion)
        rows = []
        for k in self.settings.k_values:
            row: list = [k]
            for t in self.settings.covariance_types:
                c = self.cell(k, t)
                row.append(None if c is None else c.value(criterion))
            rows.append(tuple(row))
        return rows

    def to_csv_text(self) -> str:
        """One line per cell: status, every criterion with its min and max over restarts."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        header = ["K", "covariance_type", "status"]
        for c in CRITERIA:
            header += [c, f"{c}_min", f"{c}_max"]
        header += ["n_restarts_ok", "n_iter", "converged", "seconds", "reason"]
        writer.writerow(header)
        for cell in self.cells:
            row: list = [cell.n_components, cell.covariance_type, cell.status]
            for c in CRITERIA:
                lo, hi = cell.spread(c)
                row += [_fmt(cell.value(c)), _fmt(lo), _fmt(hi)]
            row += [sum(1 for r in cell.restarts if not r.failure), cell.n_iter,
                    cell.converged, f"{cell.seconds:.3f}", cell.reason]
            writer.writerow(row)
        return buffer.getvalue()

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_csv_text` atomically: a reader never sees half a file.

        Raises :class:`gmm_studio.core.export.ExportError` (an ``OSError``) with a
        plain message when the file cannot be written.
        """
        atomic_write_text(path, self.to_csv_text())


def _fmt(value: float) -> str:
    return "" if not math.isfinite(value) else repr(float(value))


# --------------------------------------------------------------------------- fitting


class _Prepared:
    """The split data, prepared once per covariance type; shared read-only by all cells."""

    def __init__(self, x: np.ndarray, settings: SweepSettings):
        n = len(x)
        n_val = int(round(settings.validation_fraction * n))
        if settings.validation_fraction > 0:
            n_val = max(1, n_val)
        n_train = n - n_val
        if n_train < 1:
            raise ValueError(
                f"Holding out {n_val} of {n} rows leaves none to fit: lower validation_fraction."
            )
        rows = np.random.default_rng(settings.seed).permutation(n)
        self.x_train = np.ascontiguousarray(x[np.sort(rows[n_val:])])
        self.x_val = np.ascontiguousarray(x[np.sort(rows[:n_val])]) if n_val else None
        self.train = {t: EMData(self.x_train, t) for t in settings.covariance_types}
        self.val = ({t: EMData(self.x_val, t) for t in settings.covariance_types}
                    if n_val else None)
        self.settings = settings


def _score(prepared: _Prepared, params: MixtureParams) -> dict[str, float]:
    """Every criterion for fitted parameters, from one pass over the training rows."""
    t = params.covariance_type
    data = prepared.train[t]
    n = data.n_samples
    total, entropy = data.log_likelihood_and_entropy(params)
    p = n_parameters(t, params.n_components, params.n_features)
    held_out = (prepared.val[t].mean_log_likelihood(params)
                if prepared.val is not None else np.nan)
    return {
        "bic": float(bic(total, p, n)),
        "aic": float(aic(total, p)),
        "icl": float(icl(total, p, n, entropy)),
        "train_ll": total / n,
        "heldout_ll": float(held_out),
    }


def _fit_restart(prepared: _Prepared, k: int, t: str, restart: int, rng: np.random.Generator,
                 stop: threading.Event | None) -> tuple[RestartScore, MixtureParams | None]:
    """One initialisation and EM run: its score and final parameters (None when it failed)."""
    s = prepared.settings
    data = prepared.train[t]
    try:
        policy = RestartPolicy(k, s.init_params, s.n_init, s.tol, s.reg_covar, s.max_iter,
                               init_subsample=s.init_subsample)
        last = None
        for last in run_restart(data, prepared.x_train, policy, restart, rng, stop=stop):
            pass
        if stop is not None and stop.is_set():
            return RestartScore(restart, {}, 0, False, "cancelled"), None
        fatal = [e for e in last.events if e.fatal]
        if fatal:
            raise DegenerateMixtureError(tuple(fatal))
        values = _score(prepared, last.params)
        if not all(math.isfinite(v) for key, v in values.items() if key != "heldout_ll"):
            raise FloatingPointError("the fitted model's log-likelihood is not finite")
    except (DegenerateMixtureError, ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        return RestartScore(restart, {}, 0, False, str(exc) or type(exc).__name__), None
    note = " ".join(e.message for e in last.events)
    return (RestartScore(restart, values, last.iteration, last.converged, degeneracy=note,
                         events=last.events), last.params)


def _fit_cell(prepared: _Prepared, k: int, t: str,
              stop: threading.Event | None) -> CellResult | None:
    """All restarts of one cell; None when cancelled before it finished.  Worker thread."""
    s = prepared.settings
    began = time.perf_counter()
    if k > prepared.x_train.shape[0]:
        return CellResult(k, t, "NA", f"K = {k} exceeds the {prepared.x_train.shape[0]} "
                          "training rows.", seconds=0.0)
    # One stream per cell, so results do not depend on which worker ran which cell.
    rng = np.random.default_rng([s.seed, k, COVARIANCE_TYPES.index(t)])
    scores, params_of = [], {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        for restart in range(s.n_init):
            if stop is not None and stop.is_set():
                return None
            score, params = _fit_restart(prepared, k, t, restart, rng, stop)
            if score.failure == "cancelled":
                return None
            scores.append(score)
            params_of[restart] = params
    seconds = time.perf_counter() - began
    cell = CellResult(k, t, "ok", "", restarts=tuple(scores), seconds=seconds)
    best = cell._best_restart()
    if best is None:
        reasons = dict.fromkeys(r.failure for r in scores)
        return CellResult(k, t, "NA", "Every restart failed: " + " ".join(reasons),
                          restarts=tuple(scores), seconds=seconds)
    # A collapsed best means every restart collapsed: its likelihood is meaningless.
    status = "NA" if best.degeneracy else "ok"
    return CellResult(k, t, status, best.degeneracy, params_of[best.restart], best.values,
                      tuple(scores), seconds)


def _cell_order(settings: SweepSettings) -> list[tuple[int, str]]:
    """K ascending (the table and plot fill from the top), types interleaved."""
    return [(k, t) for k in settings.k_values for t in settings.covariance_types]


def run_sweep(
    x: np.ndarray,
    settings: SweepSettings | None = None,
    *,
    on_cell: Callable[[CellResult], None] | None = None,
    cancel: threading.Event | None = None,
    max_workers: int = 2,
) -> SweepResult:
    """Fit every (K, covariance type) cell and score it.

    Parameters
    ----------
    x : array of shape (N, D)
    settings : SweepSettings, optional
    on_cell : callable, optional
        Called with each :class:`CellResult` as its cell finishes, on the thread
        that runs ``run_sweep`` (never in a worker).
    cancel : threading.Event, optional
        When set, running fits stop at their next half-step, queued cells are
        dropped, and the finished cells are returned with ``cancelled=True``.
    max_workers : int, default 2
        Worker processes fitting cells at once (:mod:`gmm_studio.core.sweep_pool`), each on
        one core; 1 runs every cell on the calling thread, on one core.  The results are the
        same to the last bit either way.

    Returns
    -------
    SweepResult
    """
    settings = settings or SweepSettings()
    began = time.perf_counter()
    x = check_data(x)
    prepared = _Prepared(x, settings)
    cancel = cancel if cancel is not None else threading.Event()
    done: list[CellResult] = []

    def finish(cell: CellResult | None) -> None:
        if cell is not None:
            done.append(cell)
            if on_cell is not None:
                on_cell(cell)

    cells = _cell_order(settings)
    if max_workers <= 1:
        # One worker is one core: the cells' passes are not split over threads either.
        with parallel.serial_passes(), parallel.single_threaded_blas():
            for k, t in cells:
                if cancel.is_set():
                    break
                finish(_fit_cell(prepared, k, t, cancel))
    else:
        _run_in_processes(x, settings, cells, max_workers, cancel, finish)
    types = settings.covariance_types
    done.sort(key=lambda c: (types.index(c.covariance_type), c.n_components))
    return SweepResult(settings, tuple(done), cancel.is_set(), len(prepared.x_train),
                       0 if prepared.x_val is None else len(prepared.x_val),
                       time.perf_counter() - began)


def _run_in_processes(x: np.ndarray, settings: SweepSettings, cells: list[tuple[int, str]],
                      workers: int, cancel: threading.Event,
                      finish: Callable[[CellResult | None], None]) -> None:
    """The cells on the sweep pool's processes, results handed to ``finish`` as they come."""
    from concurrent.futures.process import BrokenProcessPool

    from gmm_studio.core import sweep_pool

    executor = sweep_pool.pool(workers)
    generation = sweep_pool.new_generation()
    data = sweep_pool.SharedData(x)
    try:
        # Largest K first: the long cells start early, so no worker idles at the end.
        tasks = [(sweep_pool.submit_cell, (executor, data, settings, k, t, generation))
                 for k, t in sorted(cells, key=lambda cell: -cell[0])]
        _drain(tasks, workers, cancel, finish, on_cancel=sweep_pool.new_generation)
    except BrokenProcessPool as exc:
        sweep_pool.forget_pool()
        raise RuntimeError("A sweep worker process ended unexpectedly (out of memory?); "
                           "run the sweep again, or with fewer rows or K values.") from exc
    finally:
        data.close()


def _drain(tasks: Iterable[tuple[Callable, tuple]], max_workers: int,
           cancel: threading.Event, finish: Callable[[CellResult | None], None],
           on_cancel: Callable[[], object]) -> None:
    """Keep ``max_workers`` tasks in flight, hand results to ``finish`` in completion order.

    Only a few tasks are queued at a time, so a cancel drops the rest at once; ``on_cancel``
    tells the running ones to stop at their next half-step.
    """
    queue = iter(tasks)
    running: set[Future] = set()
    cancelled = False
    while True:
        if cancel.is_set() and not cancelled:
            cancelled = True
            on_cancel()
        while len(running) < max_workers and not cancel.is_set():
            task = next(queue, None)
            if task is None:
                break
            running.add(task[0](*task[1]))
        if not running:
            return
        finished, running = wait(running, timeout=0.05, return_when=FIRST_COMPLETED)
        for future in finished:
            finish(future.result())
