"""The status line of the shown state: where in the fit, its figures, and the run state.

The figures say what was computed where.  An E-step computes L(θ⁽ᵗ⁾), the mean log-likelihood
of the parameters it used, and makes the Jensen bound touch it.  An M-step moves to θ⁽ᵗ⁺¹⁾, the
maximum of that bound: it knows B(θ⁽ᵗ⁺¹⁾), not L(θ⁽ᵗ⁺¹⁾), which the next E-step computes and
which is at least B.  So after an M-step the line shows the bound and how far the M-step raised
it above L(θ⁽ᵗ⁾) (B's value at θ⁽ᵗ⁾), never L(θ⁽ᵗ⁾) beside B(θ⁽ᵗ⁺¹⁾) as if they were of the
same θ; after an E-step, Δ is the change of L since the E-step before, unless an edit by hand
or a given model came between them (an edit is no EM step).  K-means states show WCSS/N, its
Δ, and why they converged.  Owner thread.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from gmm_studio.core.em import Snapshot
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.session.state import RunState

if TYPE_CHECKING:
    from gmm_studio.session.session import Session

__all__ = ["half_step_name", "status_text"]

_STATE_WORDS = {RunState.RUNNING: "running", RunState.STEPPING: "stepping", RunState.PAUSED: "paused",
                RunState.FINISHED: "finished", RunState.FAILED: "failed", RunState.IDLE: "ready"}


def half_step_name(snap: Snapshot) -> str:
    """'E' or 'M' for EM; 'assign' or 'update' for a K-means state (its half-steps run as E and M)."""
    if isinstance(snap, KMeansSnapshot):
        return {"E": "assign", "M": "update"}.get(snap.half_step, snap.half_step)
    return snap.half_step


def status_text(session: Session) -> str:
    """The status line for the session's shown state ("No model yet." without one)."""
    h, shown = session.history, session.shown
    snap, index = shown.snapshot, shown.index
    if snap is None:
        return "No model yet." if session.dataset is not None else "No data yet."
    origin = h.origins[index]
    if origin == "model":
        parts = [f"a given model (iteration {snap.iteration})"]
    elif origin == "edit":
        parts = [f"iteration {snap.iteration}: edited by hand"]
    elif snap.half_step == "init":
        parts = [f"iteration {snap.iteration}: initial parameters"]
    else:
        parts = [f"iteration {snap.iteration}, after {half_step_name(snap)}-step"]
    if session.fit_restarts > 1 or snap.restart > 0 or len(h.finals()) > 1:
        parts.append(f"restart {snap.restart + 1}")
    parts += _figures(session, snap, index, origin)
    parts.append(_convergence_text(session, snap, index) if snap.converged else "not converged")
    if h.cursor is not None:
        parts.append("(scrubbing history — press Live to return)")
    else:
        parts.append(_STATE_WORDS[session.state])
    return " · ".join(parts)


def _figures(session: Session, snap: Snapshot, index: int, origin: str) -> list[str]:
    if not math.isfinite(snap.log_likelihood):
        return []
    kmeans = isinstance(snap, KMeansSnapshot)
    if snap.half_step == "M" and not kmeans and origin == "fit":
        if any(e.fatal for e in snap.events) or not math.isfinite(snap.lower_bound):
            return [f"log-likelihood L(θ⁽ᵗ⁾) {snap.log_likelihood:.5f} per point at the E-step; "
                    "the new θ is degenerate, so neither B nor L can be computed at it"]
        rise = snap.lower_bound - snap.log_likelihood
        if abs(rise) < 1e-9 * max(1.0, abs(snap.log_likelihood)):
            rise = 0.0  # rounding at convergence: B(θ⁽ᵗ⁺¹⁾) ≥ B(θ⁽ᵗ⁾) = L(θ⁽ᵗ⁾)
        later = ("EM converged without computing it" if snap.converged
                 else "it is known after the next E-step")
        return [f"lower bound B(θ⁽ᵗ⁺¹⁾) {snap.lower_bound:.5f} per point, {rise:+.2e} above L(θ⁽ᵗ⁾)",
                f"the log-likelihood L at the new θ is ≥ B: {later}"]
    # K-means: WCSS/N itself (the mean squared distance to the nearest centre), which falls
    parts = [f"WCSS/N {-snap.log_likelihood:.5f}" if kmeans else f"log-likelihood {snap.log_likelihood:.5f} per point"]
    delta = None if origin != "fit" else _delta(session, index)
    if delta is not None:
        parts.append(f"Δ {-delta if kmeans else delta:+.2e}")
    return parts


def _convergence_text(session: Session, snap: Snapshot, index: int) -> str:
    """Why a converged state converged: K-means stops when no centre moved by more than ``tol``
    times the data's mean variance (no point changing cluster is the case where none moved)."""
    if not isinstance(snap, KMeansSnapshot) or not index:
        return "converged"
    before = session.history[index - 1].params.means  # the assign: centres before
    variance = float(np.var(session.x, axis=0).mean())
    moved = float(((snap.params.means - before) ** 2).sum()) / max(variance, np.finfo(float).tiny)
    if moved == 0.0:
        return "converged: no point changed cluster"
    return (f"converged: the centres moved {moved:.1e} of the data's variance "
            f"(≤ tol {session.settings.tol:g})")


def _delta(session: Session, index: int) -> float | None:
    """The change of the E-steps' figure since the E-step before, within one run of EM steps
    (an edit or a given model between them breaks it: the figures would be of different fits)."""
    h = session.history
    restart = h[index].restart
    values = []
    for i in range(index, -1, -1):
        entry = h[i]
        if entry.restart != restart:
            continue
        if h.origins[i] != "fit":
            break
        if entry.half_step == "E":
            values.append(entry.log_likelihood)
            if len(values) == 2:
                break
    if len(values) == 2 and all(math.isfinite(v) for v in values):
        return values[0] - values[1]
    return None
