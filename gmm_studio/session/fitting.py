"""The work the session hands its runner to fit: EM from a starting point, restarts, best-of-n.

:func:`fit_work` turns a :class:`FitPlan` (immutable, built on the owner thread) into a
``work(cancel)`` generator for the :class:`~gmm_studio.session.tasks.Runner`: it yields every
new :class:`~gmm_studio.core.em.Snapshot` (with γ).  It runs on
the runner's thread and touches nothing but its plan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from gmm_studio.core.em import EMData, Snapshot, em_steps
from gmm_studio.core import restarts
from gmm_studio.core.geometry import match_colors, permute_params
from gmm_studio.core.kmeans import EM_HALF_STEP, initial_centres, kmeans_steps
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings

__all__ = ["FitPlan", "best_restart", "fit_work", "restart_rng"]


def restart_rng(seed: int, restart: int) -> np.random.Generator:
    """The random generator of restart ``restart``: each restart's start depends only on the
    seed and its index, so a fit paused and resumed between restarts starts the same ones."""
    return np.random.default_rng(int(seed) if restart == 0 else [int(seed), int(restart)])


def best_restart(finals: dict[int, Snapshot]) -> int | None:
    """The restart to keep, from each restart's final snapshot (keyed by restart index);
    None when none is usable.  The rule is the estimator's: :func:`gmm_studio.core.restarts.best_restart`."""
    keys = list(finals)
    best = restarts.best_restart([finals[key] for key in keys])
    return None if best is None else keys[best]


@dataclass(frozen=True, eq=False)
class FitPlan:
    """Where a fit task starts, how far it goes, and what it continues.

    Attributes
    ----------
    data, x : EMData and its (N, D) array
    settings : FitSettings
    start : {'fresh', 'params', 'means', 'reseed'}
        How the first restart begins: the initialiser in ``settings``, ``params`` as given
        (continuing a history), ``means`` placed by a person, or ``params`` with component
        ``reseed`` moved.  Later restarts are always fresh.
    restart : int
        Index of the first restart this task runs; it runs up to ``settings.n_init - 1``
        (a given model or a re-seed is planned with ``n_init = 1``).
    start_iteration, previous_log_likelihood
        Continue a history (see :func:`~gmm_studio.core.em.em_steps`).
    first_max_iter : int or None
        Iterations left for the first restart when it continues an interrupted one (None:
        ``settings.max_iter``), so a paused fit stops where an uninterrupted one would.
    skip : int
        How many leading snapshots of the first restart are already in the history (1: the
        'init'; 2: the 'init' and an E-step, when continuing after an E-step).
    until : {'E', 'M'} or None
        Stop after the first new snapshot of this half-step (a Step); None runs to the end.
    delay : callable returning seconds
        Teaching speed: waited (interruptibly) after each snapshot while running.
    reference_means : array or None
        Fresh starts are permuted to match these, so colours stay with their components.
    """

    data: EMData
    x: np.ndarray
    settings: FitSettings
    start: str = "fresh"
    params: MixtureParams | None = None
    means: np.ndarray | None = None
    reseed: int | None = None
    restart: int = 0
    start_iteration: int = 0
    previous_log_likelihood: float = -np.inf
    skip: int = 0
    first_max_iter: int | None = None
    until: str | None = None
    delay: Callable[[], float] = field(default=lambda: 0.0)
    reference_means: np.ndarray | None = None


def _initial(plan: FitPlan, restart: int, reference: np.ndarray | None) -> MixtureParams:
    s = plan.settings
    start = None
    if restart == plan.restart and plan.start == "params":
        start = restarts.Start.from_params(plan.params)
    elif restart == plan.restart and plan.start == "means":
        start = restarts.Start.from_means(plan.means)
    elif restart == plan.restart and plan.start == "reseed":
        start = restarts.Start.reseed(plan.params, plan.reseed)

    def arrange(_restart: int, params: MixtureParams) -> MixtureParams:
        if reference is not None and reference.shape[1:] == params.means.shape[1:]:
            return permute_params(params, match_colors(reference, params.means))
        return params

    # restarts.initial_params follows ``start`` for "restart 0"; here that is this task's first.
    index = 0 if start is not None else restart
    return restarts.initial_params(plan.data, plan.x, restarts.RestartPolicy.from_settings(s),
                                   index, restart_rng(s.seed, restart), start, arrange)


def _kmeans_steps(plan: FitPlan, restart: int, reference: np.ndarray | None, cancel,
                  max_iter: int, start_iteration: int) -> Iterator[Snapshot]:
    """Lloyd's K-means for ``plan``, its half-steps named as EM's ('assign' → 'E', 'update' →
    'M') so the history, stepping and scrubbing treat them alike; the snapshots stay
    :class:`~gmm_studio.core.kmeans.KMeansSnapshot` s, which the views label assign/update."""
    s = plan.settings
    if restart == plan.restart and plan.start != "fresh":  # continued, placed or re-seeded
        centres = _initial(plan, restart, reference).means
    else:  # a fresh start seeds centres (running K-means to start K-means would show nothing)
        centres = initial_centres(plan.x, s.n_components, s.init_params, restart_rng(s.seed, restart))
        if reference is not None and reference.shape[1:] == centres.shape[1:]:
            centres = centres[match_colors(reference, centres)]
    for snapshot in kmeans_steps(plan.x, centres, max_iter=max_iter, tol=s.tol, stop=cancel,
                                 restart=restart):
        yield replace(snapshot, half_step=EM_HALF_STEP[snapshot.half_step],
                      iteration=snapshot.iteration + start_iteration)


def fit_work(plan: FitPlan) -> Callable[[threading.Event], Iterator[Snapshot]]:
    """The runner work for ``plan``: yields each new snapshot (with γ), in order.

    Returns 'step' when a Step reached its half-step, 'end' when every restart has ended
    (the session then keeps the best with :func:`best_restart`).
    """

    def work(cancel: threading.Event):
        s = plan.settings
        reference = plan.reference_means
        for restart in range(plan.restart, max(plan.restart, s.n_init - 1) + 1):
            first = restart == plan.restart
            max_iter = plan.first_max_iter if first and plan.first_max_iter is not None else s.max_iter
            if s.algorithm == "kmeans":
                steps = _kmeans_steps(plan, restart, reference, cancel, max_iter,
                                      plan.start_iteration if first else 0)
            else:
                steps = em_steps(
                    plan.data, _initial(plan, restart, reference), tol=s.tol, reg_covar=s.reg_covar,
                    max_iter=max_iter, stop=cancel, restart=restart,
                    start_iteration=plan.start_iteration if first else 0,
                    previous_log_likelihood=plan.previous_log_likelihood if first else -np.inf,
                )
            skip = plan.skip if first else 0
            last = None
            for snapshot in steps:
                last = snapshot
                if skip:
                    skip -= 1
                    continue
                yield snapshot
                if plan.until is not None and snapshot.half_step == plan.until:
                    return "step"
                delay = plan.delay()
                if cancel.wait(delay) if delay > 0 else cancel.is_set():
                    return "cancelled"
            if cancel.is_set():
                return "cancelled"
            if last is not None:
                reference = last.params.means
        return "end"

    return work
