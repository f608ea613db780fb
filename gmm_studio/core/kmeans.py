"""Lloyd's K-means as a generator of snapshots: the hard limit of EM, watched the same way.

The course notes start here: every point belongs to exactly one cluster (hard r_nk ∈ {0, 1}),
each cluster has one mean, and the two are improved in turn.  :func:`kmeans_steps` yields a
:class:`KMeansSnapshot` after the start and after each half-step,

* 'assign' — every point joins its nearest centre (the E-step's hard analogue),
* 'update' — every centre moves to the mean of its points (the M-step's analogue),

so the live window, stepping and scrubbing drive K-means exactly as they drive
:func:`gmm_studio.core.em.em_steps`.  Both half-steps lower the objective
J = Σ_n ‖x_n − μ_{z_n}‖² (the within-cluster sum of squares).

How a K-means snapshot maps onto an EM :class:`~gmm_studio.core.em.Snapshot` (it *is* one, a
subclass, so the session layer and the exports take it unchanged):

==================  ==========================================================================
field               K-means meaning
==================  ==========================================================================
half_step           'init', 'assign' (≙ 'E'), 'update' (≙ 'M'); see :data:`EM_HALF_STEP`
params              a spherical MixtureParams: weights = cluster sizes / N, means = centres,
                    variances = each cluster's mean squared distance per coordinate
responsibilities    one-hot r_nk (N, K) of the latest assignment; None at 'init'
log_likelihood      −J / N (higher is better, so the likelihood view climbs as for EM)
lower_bound         the same (there is no bound gap in K-means)
objective, labels   J itself, and z_n as integers (None at 'init')
diagnostics/events  cluster sizes; an 'empty' event when a cluster loses every point
==================  ==========================================================================

Empty clusters keep their centre (scikit-learn moves them to far points instead); the
equivalence with scikit-learn is for runs in which no cluster empties.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from gmm_studio.core.em import (
    ComponentDiagnostics,
    DegeneracyEvent,
    EMData,
    Snapshot,
    check_data,
    em_steps,
)
from gmm_studio.core.generate import adjusted_rand_index
from gmm_studio.core.geometry import nearest_centres
from gmm_studio.core.init import (
    check_init_method,
    check_random_state,
    random_responsibilities,
    seed_rows,
    kmeans_plusplus,
)
from gmm_studio.core.params import MixtureParams

__all__ = ["EM_HALF_STEP", "Comparison", "KMeansResult", "KMeansSnapshot", "compare_with_em",
           "initial_centres", "kmeans_fit", "kmeans_steps"]

#: The EM half-step each K-means half-step plays the part of (for views that place points by it).
EM_HALF_STEP = {"init": "init", "assign": "E", "update": "M"}

# A cluster of one point (or of identical points) has zero spread; its drawn circle gets this
# fraction of the data's mean variance so a MixtureParams consumer never meets a zero variance.
_VARIANCE_FLOOR = 1e-6


@dataclass(frozen=True, eq=False)
class KMeansSnapshot(Snapshot):
    """The state of Lloyd's K-means after one half-step (immutable; see the module's table).

    Attributes (beyond :class:`~gmm_studio.core.em.Snapshot`)
    ----------
    objective : float
        J = Σ_n ‖x_n − μ_{z_n}‖² with the snapshot's labels and centres; inf at 'init'.
    labels : ndarray of int (N,) or None
        The cluster of every point (read-only); None at 'init' or when not kept.
    """

    objective: float = np.inf
    labels: np.ndarray | None = None

    @property
    def centres(self) -> np.ndarray:
        return self.params.means

    def without_responsibilities(self) -> KMeansSnapshot:
        """A light copy for history: centres and figures, no N×K or N arrays."""
        return KMeansSnapshot(
            self.restart, self.iteration, self.half_step, self.params, None,
            self.log_likelihood, self.lower_bound, self.diagnostics, self.converged, self.events,
            self.objective, None,
        )


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class _State:
    """The data and the pieces every snapshot is built from."""

    def __init__(self, x: np.ndarray, keep: bool):
        self.x = x
        self.n, self.d = x.shape
        self.keep = keep
        self.floor = _VARIANCE_FLOOR * max(float(np.var(x, axis=0).mean()), np.finfo(float).tiny)

    def snapshot(self, restart, iteration, half_step, centres, labels, distances, converged=False):
        k = len(centres)
        if labels is None:
            counts = np.zeros(k)
            variances = np.full(k, self.floor)
            objective = np.inf
            resp = None
        else:
            counts = np.bincount(labels, minlength=k).astype(np.float64)
            sq = distances**2
            objective = float(sq.sum())
            spread = np.bincount(labels, weights=sq, minlength=k)
            with np.errstate(invalid="ignore", divide="ignore"):
                variances = np.where(counts > 0, spread / (np.maximum(counts, 1) * self.d), 0.0)
            variances = np.maximum(variances, self.floor)
            resp = None
            if self.keep:
                resp = np.zeros((self.n, k))
                resp[np.arange(self.n), labels] = 1.0
                resp = _readonly(resp)
                labels = _readonly(labels.copy())
            else:
                labels = None
        weights = counts / self.n if counts.sum() > 0 else np.full(k, 1.0 / k)
        params = MixtureParams("spherical", weights, centres, variances)
        diagnostics = ComponentDiagnostics(_readonly(counts.copy()), _readonly(variances.copy()),
                                           _readonly(np.ones(k)))
        events = ()
        if half_step != "init":
            events = tuple(
                DegeneracyEvent(j, "empty", f"Cluster {j + 1} is empty: no point is nearest to "
                                f"its centre, which stays where it is. Re-seed it or lower K.",
                                ("re-seed the component", "lower K"))
                for j in np.flatnonzero(counts == 0)
            )
        value = -objective / self.n
        return KMeansSnapshot(restart, iteration, half_step, params, resp, value, value,
                              diagnostics, converged, events, objective, labels)


def kmeans_steps(
    x: np.ndarray,
    centres: np.ndarray,
    *,
    max_iter: int = 300,
    tol: float = 1e-4,
    stop: threading.Event | None = None,
    keep_responsibilities: bool = True,
    restart: int = 0,
) -> Iterator[KMeansSnapshot]:
    """Run Lloyd's K-means from ``centres`` and yield a snapshot after every half-step.

    First 'init' (the given centres), then per iteration t = 1, 2, … an 'assign' and an
    'update'.  K-means stops after the update of iteration t when the assignment did not
    change (a fixed point: nothing moves any more) or the centres moved by at most ``tol``
    (the sum over clusters of the squared shift, relative to the data's mean variance, as in
    scikit-learn); that snapshot has ``converged=True``.  It also stops after ``max_iter``
    iterations or when ``stop`` is set (checked between half-steps).

    Runs on whichever thread iterates it; touches no shared state.

    Parameters
    ----------
    x : array (N, D)
    centres : array (K, D)
        The initial centres (clicked, from :func:`initial_centres`, or EM's initial means).
    """
    x = check_data(x)
    centres = np.array(centres, dtype=np.float64)
    if centres.ndim != 2 or centres.shape[1] != x.shape[1] or not 1 <= len(centres) <= len(x):
        raise ValueError(
            f"Initial centres must have shape (K, {x.shape[1]}) with 1 <= K <= {len(x)} (the "
            f"number of points); got {centres.shape}."
        )
    if not np.all(np.isfinite(centres)):
        raise ValueError("Initial centres contain NaN or infinite values: place them in the data.")
    state = _State(x, keep_responsibilities)
    threshold = tol * float(np.var(x, axis=0).mean())
    yield state.snapshot(restart, 0, "init", centres, None, None)
    previous = None
    for iteration in range(1, max_iter + 1):
        if stop is not None and stop.is_set():
            return
        labels, distances = nearest_centres(x, centres)
        yield state.snapshot(restart, iteration, "assign", centres, labels, distances)
        if stop is not None and stop.is_set():
            return
        counts = np.bincount(labels, minlength=len(centres))
        sums = np.zeros_like(centres)
        _sum_rows(sums, labels, x)
        moved = centres.copy()
        filled = counts > 0
        moved[filled] = sums[filled] / counts[filled, None]
        shift = float(((moved - centres) ** 2).sum())
        centres = moved
        converged = (previous is not None and np.array_equal(labels, previous)) or shift <= threshold
        distances = np.sqrt(((x - centres[labels]) ** 2).sum(axis=1))
        yield state.snapshot(restart, iteration, "update", centres, labels, distances, converged)
        if converged:
            return
        previous = labels


def _sum_rows(sums: np.ndarray, labels: np.ndarray, x: np.ndarray) -> None:
    """Per-cluster sums of the rows of ``x``: one bincount per coordinate (no Python per point)."""
    k = len(sums)
    for j in range(x.shape[1]):
        sums[:, j] = np.bincount(labels, weights=x[:, j], minlength=k)


def initial_centres(x: np.ndarray, n_clusters: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """Initial centres by one of the engine's initialisations.

    'kmeans' and 'k-means++': k-means++ seeds (running K-means to start K-means would show
    nothing); 'random_from_data': distinct random points; 'random': the means of random
    responsibilities (all near the data's mean, the hardest start).
    """
    check_init_method(method)
    if method in ("kmeans", "k-means++"):
        return x[kmeans_plusplus(x, n_clusters, rng)]
    if method == "random":
        resp = random_responsibilities(len(x), n_clusters, rng)
        return (resp.T @ x) / resp.sum(axis=0)[:, None]
    return x[seed_rows(x, n_clusters, method, rng)]


@dataclass(frozen=True, eq=False)
class KMeansResult:
    """A finished K-means fit (the best of its restarts).

    ``labels`` are each point's nearest *final* centre (as scikit-learn reports them);
    ``inertia`` is J for those; ``params`` is the spherical view of the final snapshot;
    ``restarts`` holds every restart's snapshots without the N-sized arrays; ``events`` are
    the best run's last diagnoses (an empty cluster).
    """

    centres: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    converged: bool
    params: MixtureParams
    restarts: tuple[tuple[KMeansSnapshot, ...], ...]
    events: tuple[DegeneracyEvent, ...] = ()

    def responsibilities(self) -> np.ndarray:
        """One-hot (N, K) of :attr:`labels`."""
        resp = np.zeros((len(self.labels), len(self.centres)))
        resp[np.arange(len(self.labels)), self.labels] = 1.0
        return resp


def kmeans_fit(
    x: np.ndarray,
    n_clusters: int,
    *,
    init: str | np.ndarray = "kmeans",
    n_init: int = 1,
    max_iter: int = 300,
    tol: float = 1e-4,
    random_state: int | np.random.Generator | None = 0,
) -> KMeansResult:
    """Fit K-means ``n_init`` times (from given centres, or from ``init``'s method) and keep the best."""
    x = check_data(x, n_clusters)
    rng = check_random_state(random_state)
    runs = []
    for restart in range(1 if isinstance(init, np.ndarray) else max(1, int(n_init))):
        start = init if isinstance(init, np.ndarray) else initial_centres(x, n_clusters, init, rng)
        snapshots = [s.without_responsibilities() for s in
                     kmeans_steps(x, start, max_iter=max_iter, tol=tol, restart=restart,
                                  keep_responsibilities=False)]
        final = snapshots[-1]
        labels, distances = nearest_centres(x, final.centres)
        runs.append((float((distances**2).sum()), final, labels, tuple(snapshots)))
    inertia, final, labels, _ = min(runs, key=lambda r: r[0])
    return KMeansResult(final.centres, labels, inertia, final.iteration, final.converged,
                        final.params, tuple(r[3] for r in runs), final.events)


@dataclass(frozen=True, eq=False)
class Comparison:
    """K-means and EM run to the end from the same initial means.

    ``kmeans_ari`` and ``em_ari`` compare their hard partitions (EM's most responsible
    component) with the known labels; None without labels.
    """

    kmeans: KMeansSnapshot
    em: Snapshot
    kmeans_ari: float | None
    em_ari: float | None


def compare_with_em(
    x: np.ndarray,
    initial: MixtureParams,
    labels: np.ndarray | None = None,
    *,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
) -> Comparison:
    """Run K-means from ``initial.means`` and EM from ``initial``; score both against ``labels``.

    Any thread.  ``tol`` and ``max_iter`` are EM's; K-means runs to its fixed point.
    """
    x = check_data(x, initial.n_components)
    *_, em = em_steps(EMData(x, initial.covariance_type), initial, tol=tol, reg_covar=reg_covar,
                      max_iter=max_iter)
    *_, km = kmeans_steps(x, initial.means, tol=0.0)
    if labels is None or em.responsibilities is None or km.labels is None:
        return Comparison(km, em, None, None)
    return Comparison(km, em, adjusted_rand_index(labels, km.labels),
                      adjusted_rand_index(labels, em.responsibilities.argmax(axis=1)))
