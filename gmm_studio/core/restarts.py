"""The restart policy, in one place: how restarts start, run and which one wins.

The estimator (:class:`gmm_studio.core.GaussianMixture`), the K sweep and the
window's fit all fit a mixture the same way: ``n_init`` initialisations, each
run through the one EM engine (:func:`gmm_studio.core.em.em_steps`), and the
best usable one kept.  This module is that policy, so the three cannot drift.

The API
-------
:class:`RestartPolicy`
    What every restart shares: K, the initialiser, ``n_init``, ``tol``,
    ``reg_covar``, ``max_iter``, given ``weights_init`` / ``means_init`` /
    ``precisions_init`` (scikit-learn's meaning: they replace what the
    initialiser estimates, at every restart) and an optional k-means subsample.
    ``RestartPolicy.from_settings(FitSettings)`` builds it from the window's
    settings.
:class:`Start`
    Where restart 0 begins when not from the initialiser:
    ``Start.from_params(params)`` (a warm start, an imported model, continuing
    a history), ``Start.from_means(means)`` (means a person placed) or
    ``Start.reseed(params, k)`` (the remedy for a collapsed or empty component:
    component k moved to where the model explains the data worst).  A
    ``from_params`` or ``reseed`` start means a single restart; with placed
    means the later restarts start fresh.
:func:`fit_restarts`
    A generator over every snapshot of every restart, in order (restart 0's
    'init', E, M, ..., then restart 1's 'init', ...).  A restart's final
    snapshot is its last one; :func:`finals_of` picks them out of a recorded
    sequence.  Iterate it at whatever pace suits (the window pauses between
    snapshots); set ``stop`` to end it at the next half-step.
:func:`run_restart`
    One restart's snapshots (what :func:`fit_restarts` chains); for callers
    that handle each restart on its own, as the sweep does.
:func:`best_restart`
    Which restart wins: among the usable ones (a final snapshot without a fatal
    event), clean ones (no event at all) always beat degenerate ones (collapsed
    or empty components, whose likelihood is meaningless), and within a tier the
    highest final log-likelihood wins (ties: the earlier restart).

Example, as the estimator does it::

    data = EMData(x, "full")
    policy = RestartPolicy(n_components=3, n_init=5)
    snapshots = [s.without_responsibilities()
                 for s in fit_restarts(data, x, policy, check_random_state(0))]
    finals = finals_of(snapshots)
    best = finals[best_restart(finals)]

How the other callers switch to it:

* The window's fit worker: ``policy = RestartPolicy.from_settings(settings)``; its
  request's start becomes ``Start.from_params(params, start_iteration, previous_ll)``,
  ``Start.from_means(means, ...)`` or ``Start.reseed(params, k, ...)`` (None for a fresh
  fit); then ``for snapshot in fit_restarts(data, x, policy, check_random_state(seed),
  start=start, stop=stop_event, keep_responsibilities=True, arrange=match_colours)``.  The
  generator does nothing between ``next`` calls, so pausing and stepping stay in the
  worker's loop; ``arrange`` (a closure over the worker's reference means) permutes each
  fresh start.  At the end: ``best = best_restart(finals)``; None means every restart
  degenerated.
* The sweep, which scores and catches failures per restart: ``for last in
  run_restart(data, x_train, policy, restart, rng, stop=cancel): pass`` inside its try,
  with ``RestartPolicy(k, ..., init_subsample=s.init_subsample)`` and one rng per cell;
  then ``best_restart(finals, scores=train_ll)`` with None for a failed restart.

Everything here runs on whichever thread calls it and shares no state.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gmm_studio.core.em import EMData, Snapshot, em_steps
from gmm_studio.core.init import initialize, params_from_means, reseed_component
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import CLICK_INIT, FitSettings

__all__ = [
    "RestartPolicy",
    "Start",
    "best_restart",
    "finals_of",
    "fit_restarts",
    "initial_params",
    "run_restart",
]

#: Called with (restart, params) for every fresh initialisation; returns the params to start
#: from.  The window uses it to permute components so colours stay put.
Arrange = Callable[[int, MixtureParams], MixtureParams]


@dataclass(frozen=True, eq=False)
class RestartPolicy:
    """What every restart of one fit shares (scikit-learn's names and meanings).

    Parameters
    ----------
    n_components : int
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}
    n_init : int
        Restarts of a fresh fit (a :class:`Start` from parameters runs one).
    tol, reg_covar, max_iter
        Passed to :func:`~gmm_studio.core.em.em_steps`.
    weights_init, means_init, precisions_init : array or None
        Given parts of every fresh initialisation; they replace what the
        initialiser estimated.
    init_subsample : int or None
        Run k-means on at most this many random rows (the sweep's many restarts).
    """

    n_components: int
    init_params: str = "kmeans"
    n_init: int = 1
    tol: float = 1e-3
    reg_covar: float = 1e-6
    max_iter: int = 100
    weights_init: np.ndarray | None = None
    means_init: np.ndarray | None = None
    precisions_init: np.ndarray | None = None
    init_subsample: int | None = None

    @classmethod
    def from_settings(cls, settings: FitSettings) -> RestartPolicy:
        """The policy of the window's settings; 'click' restarts after the first use k-means."""
        method = "kmeans" if settings.init_params == CLICK_INIT else settings.init_params
        return cls(int(settings.n_components), method, int(settings.n_init), float(settings.tol),
                   float(settings.reg_covar), int(settings.max_iter))


@dataclass(frozen=True, eq=False)
class Start:
    """Where restart 0 begins when it does not come from the initialiser.

    Build one with :meth:`from_params`, :meth:`from_means` or :meth:`reseed`.
    ``start_iteration`` and ``previous_log_likelihood`` continue a history:
    iteration numbers go on from there and the first convergence test compares
    with that log-likelihood.
    """

    kind: Literal["params", "means", "reseed"]
    params: MixtureParams | None = None
    means: np.ndarray | None = None
    component: int = 0
    start_iteration: int = 0
    previous_log_likelihood: float = -np.inf

    @classmethod
    def from_params(cls, params: MixtureParams, start_iteration: int = 0,
                    previous_log_likelihood: float = -np.inf) -> Start:
        """Continue from ``params`` (warm start, imported model, a stopped run): one restart."""
        return cls("params", params, None, 0, start_iteration, previous_log_likelihood)

    @classmethod
    def from_means(cls, means: np.ndarray, start_iteration: int = 0,
                   previous_log_likelihood: float = -np.inf) -> Start:
        """Restart 0 around means a person placed (each point joins its nearest mean)."""
        return cls("means", None, np.asarray(means, dtype=np.float64), 0, start_iteration,
                   previous_log_likelihood)

    @classmethod
    def reseed(cls, params: MixtureParams, component: int, start_iteration: int = 0,
               previous_log_likelihood: float = -np.inf) -> Start:
        """The remedy: ``params`` with ``component`` re-seeded where the fit is worst; one restart."""
        return cls("reseed", params, None, int(component), start_iteration,
                   previous_log_likelihood)

    @property
    def single(self) -> bool:
        """A start that replaces the whole fit, so no fresh restarts follow."""
        return self.kind in ("params", "reseed")


def initial_params(
    data: EMData, x: np.ndarray, policy: RestartPolicy, restart: int, rng: np.random.Generator,
    start: Start | None = None, arrange: Arrange | None = None,
) -> MixtureParams:
    """The parameters restart ``restart`` begins from.

    Restart 0 follows ``start`` when one is given; every other start is fresh
    (the policy's initialiser with its given parts), drawn from ``rng`` and
    passed through ``arrange``.
    """
    if restart == 0 and start is not None:
        if start.kind == "params":
            return start.params
        if start.kind == "means":
            return params_from_means(data, x, start.means, policy.reg_covar)
        return reseed_component(data, x, start.params, start.component, rng)
    params = initialize(
        data, x, policy.n_components, policy.init_params, rng, policy.reg_covar,
        policy.weights_init, policy.means_init, policy.precisions_init, policy.init_subsample,
    )
    return params if arrange is None else arrange(restart, params)


def run_restart(
    data: EMData, x: np.ndarray, policy: RestartPolicy, restart: int, rng: np.random.Generator,
    *, start: Start | None = None, stop: threading.Event | None = None,
    keep_responsibilities: bool = False, arrange: Arrange | None = None,
) -> Iterator[Snapshot]:
    """Initialise restart ``restart`` and yield its EM snapshots ('init' first)."""
    params = initial_params(data, x, policy, restart, rng, start, arrange)
    continued = restart == 0 and start is not None
    yield from em_steps(
        data, params, tol=policy.tol, reg_covar=policy.reg_covar, max_iter=policy.max_iter,
        stop=stop, keep_responsibilities=keep_responsibilities, restart=restart,
        start_iteration=start.start_iteration if continued else 0,
        previous_log_likelihood=start.previous_log_likelihood if continued else -np.inf,
    )


def fit_restarts(
    data: EMData, x: np.ndarray, policy: RestartPolicy, rng: np.random.Generator,
    *, start: Start | None = None, stop: threading.Event | None = None,
    keep_responsibilities: bool = False, arrange: Arrange | None = None,
) -> Iterator[Snapshot]:
    """Every snapshot of every restart, in order; ends early once ``stop`` is set.

    ``policy.n_init`` restarts, or one when ``start`` replaces the fit
    (:attr:`Start.single`).  The rng is shared, so restart r's start depends
    on the restarts before it, exactly as in scikit-learn.
    """
    n_restarts = 1 if start is not None and start.single else policy.n_init
    for restart in range(n_restarts):
        if stop is not None and stop.is_set():
            return
        yield from run_restart(data, x, policy, restart, rng, start=start, stop=stop,
                               keep_responsibilities=keep_responsibilities, arrange=arrange)


def finals_of(snapshots: Sequence[Snapshot]) -> list[Snapshot]:
    """The last snapshot of each restart in a recorded :func:`fit_restarts` sequence."""
    finals: list[Snapshot] = []
    for snapshot in snapshots:
        if finals and finals[-1].restart == snapshot.restart and snapshot.half_step != "init":
            finals[-1] = snapshot
        else:
            finals.append(snapshot)
    return finals


def best_restart(finals: Sequence[Snapshot | None],
                 scores: Sequence[float] | None = None) -> int | None:
    """Index of the winning restart, or None when no restart is usable.

    Parameters
    ----------
    finals : sequence of Snapshot or None
        Each restart's final snapshot; None for a restart that failed outright.
    scores : sequence of float, optional
        What to rank by, higher is better (the sweep's own scores); by default
        each final snapshot's ``log_likelihood``.

    A restart whose final state has a fatal event (EM could not go on) is not
    usable.  Clean restarts (no event) beat degenerate ones whatever their
    likelihood — a collapsing component's likelihood grows without bound — and
    within a tier the highest score wins; ties go to the earlier restart.
    """
    ranked = []
    for index, final in enumerate(finals):
        if final is None or any(e.fatal for e in final.events):
            continue
        score = float(final.log_likelihood if scores is None else scores[index])
        if math.isnan(score):
            score = -math.inf
        ranked.append((not final.events, score, -index))
    if not ranked:
        return None
    return -max(ranked)[2]
