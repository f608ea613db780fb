"""The fit task of a session: what it starts from, how it is started, and how it ends.

:class:`FitControl` plans each task (fresh, continuing the shown state, the next restart,
a re-seed), hands it to the runner, takes its snapshots into the history, and concludes the
fit with one restart policy (:func:`~gmm_studio.session.fitting.best_restart`).  A counter
identifies the current task: Pause, Stop, Reset or a new task make every later callback of the
old one a no-op.  Owner thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gmm_studio.core.em import Snapshot
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.core.settings import CLICK_INIT
from gmm_studio.session.fitting import FitPlan, best_restart, fit_work
from gmm_studio.session.state import RunState
from gmm_studio.core.words import counted

if TYPE_CHECKING:
    from gmm_studio.session.session import Session

__all__ = ["FitControl", "FitOutcome", "components_coincide", "data_spread"]


def components_coincide(params, spread: float) -> bool:
    """True when K > 1 means lie within 5 % of the data's ``spread`` (:func:`data_spread`)
    of each other, or within half the width (√(tr Σ_k / D)) of the narrowest component.

    The second test catches the saddle point of random responsibilities whatever K and the
    covariance type: there the means sat 0.01-0.22 of a component's width apart, against 3-27
    for k-means fits of the same data (demo and 1-D data, K = 2-8, every type); 5 % of the
    data's spread alone missed most of them.
    """
    if params.n_components < 2:
        return False
    apart = float(np.ptp(params.means, axis=0).max())
    covariances = params.full_covariances()
    narrowest = float(np.sqrt(min(np.trace(c) for c in covariances) / covariances.shape[-1]))
    return apart < 0.05 * spread or apart < 0.5 * narrowest


def data_spread(x: np.ndarray) -> float:
    """√(Σ_j var x_j): how far the data spread.  O(N): the session works it out once per
    dataset, with the loading, not at the end of every fit (~0.1 s at 1e7 points)."""
    return float(np.sqrt(np.var(x, axis=0).sum()))


@dataclass(frozen=True, eq=False)
class FitOutcome:
    """How a fit ended (the payload of ``Session.fit_ended``).

    ``reason``: 'converged', 'max_iter', 'degenerate', 'stopped' or 'failed'.  ``final`` is the
    live snapshot afterwards (light, no γ) or None; ``best_restart`` the restart kept when
    ``n_restarts`` > 1; ``message`` a sentence for the status line.
    """

    reason: str
    final: Snapshot | None
    best_restart: int | None
    n_restarts: int
    message: str


class FitControl:
    """Starts, follows and ends the fit tasks of one session."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._token = 0  # the current fit task; callbacks of any other are dropped
        self.restarts = 1  # restarts the fit in progress runs (1 once it has ended)

    def continues_shown(self) -> bool:
        """Whether Step/Resume would continue the shown state (same K and covariance type)."""
        shown = self._session.history.shown
        s = self._session.settings
        # K-means states are spherical whatever the covariance type: they continue K-means.
        same_kind = (isinstance(shown, KMeansSnapshot) if s.algorithm == "kmeans"
                     else shown is not None and shown.params.covariance_type == s.covariance_type)
        return same_kind and shown.params.n_components == s.n_components

    def restart_ended(self) -> bool:
        """Whether the live entry ends its restart: converged, degenerate, or at max_iter."""
        history = self._session.history
        n = len(history)
        if not n:
            return False
        last = history[n - 1]
        if any(e.fatal for e in history.events_at(n - 1)):
            return True
        return last.half_step == "M" and (last.converged or last.iteration >= self._session.settings.max_iter)

    # ------------------------------------------------------------------ planning
    def plan(self, until: str | None, fresh: bool) -> FitPlan | None:
        """What the next task does; None when the paused fit has nothing left to run.

        Continuing truncates the history after the cursor; a fresh start clears it.
        """
        session, history = self._session, self._session.history
        s = session.settings
        data = session.emdata(s.covariance_type)
        delay = lambda: session.delay  # noqa: E731 - read by the running task at each half-step
        if not fresh and self.continues_shown():
            if history.truncate_to_shown():
                session._after_history_change()
            i = len(history) - 1
            snap = history[i]
            # A fit in progress continues as if never interrupted: the next restart after a
            # finished one, and only the iterations its max_iter leaves.
            in_progress = session.state is RunState.PAUSED
            if in_progress and self.restart_ended():
                if snap.restart + 1 >= self.restarts:
                    return None
                return FitPlan(data, session.x, s.replace(n_init=self.restarts), restart=snap.restart + 1,
                               until=until, delay=delay, reference_means=snap.params.means)
            after_e = snap.half_step == "E"
            start_iteration = snap.iteration - (1 if after_e else 0)
            return FitPlan(
                data, session.x, s.replace(n_init=self.restarts), start="params", params=snap.params,
                restart=snap.restart, start_iteration=start_iteration,
                previous_log_likelihood=history.previous_log_likelihood(i), skip=2 if after_e else 1,
                first_max_iter=s.max_iter - start_iteration if in_progress else None,
                until=until, delay=delay)
        shown = history.shown
        reference = None if shown is None else np.array(shown.params.means)
        history.clear()
        session._after_history_change()
        self.restarts = s.n_init
        placed = session.placed_means
        if s.init_params == CLICK_INIT and len(placed):
            return FitPlan(data, session.x, s, start="means", means=placed, until=until, delay=delay)
        return FitPlan(data, session.x, s, until=until, delay=delay, reference_means=reference)

    def reseed_plan(self, component: int) -> FitPlan:
        """Continue the shown state with ``component`` moved (the history after it is dropped)."""
        session = self._session
        if session.history.truncate_to_shown():
            session._after_history_change()
        shown = session.history.shown
        self.restarts = 1
        return FitPlan(session.emdata(shown.params.covariance_type), session.x,
                       session.settings.replace(n_init=1), start="reseed", params=shown.params,
                       reseed=component, restart=shown.restart, start_iteration=shown.iteration,
                       delay=lambda: session.delay)

    # ------------------------------------------------------------------ running
    def launch(self, plan: FitPlan | None, state: RunState) -> None:
        """Start ``plan`` as the fit task, the session entering ``state`` (RUNNING or STEPPING)."""
        if plan is None:  # a paused fit whose last restart had ended: it is over
            self._conclude()
            return
        self._token += 1
        token = self._token
        self._session._set_state(state)
        self._session.shown.refresh()
        self._session.runner.start(
            "fit", fit_work(plan),
            on_yielded=lambda snap: self._on_yielded(token, snap),
            on_finished=lambda end: self._on_finished(token, end),
            on_failed=lambda exc: self._on_failed(token, exc),
        )

    def drop(self) -> None:
        """Cancel the fit task, if any; whatever it still reports is dropped."""
        self._token += 1
        self._session.runner.cancel("fit")

    def stop(self) -> None:
        """Stop here: the fit ends with what it reached."""
        self.drop()
        self.restarts = 1
        self._finish(FitOutcome("stopped", self._session.history.shown, None, 1,
                                "Stopped. Step continues from here; Run starts a new fit."))

    # The runner's callbacks are changes of the session like its commands (Session._changing).
    def _on_yielded(self, token: int, snapshot: Snapshot) -> None:
        if token != self._token:
            return
        with self._session._changing():
            self._session.history.append(snapshot)
            self._session._emit(self._session.snapshot_added, snapshot)
            self._session.shown.refresh()

    def _on_finished(self, token: int, end: str) -> None:
        if token != self._token:
            return
        self._token += 1
        last = self._session.history.shown
        with self._session._changing():
            if end == "step" and (not self.restart_ended() or last.restart < self.restarts - 1):
                self._session._set_state(RunState.PAUSED)
                self._session.shown.refresh()
                return
            self._conclude()

    def _on_failed(self, token: int, exc: BaseException) -> None:
        if token != self._token:
            return
        self._token += 1
        self.restarts = 1
        with self._session._changing():
            self._finish(FitOutcome("failed", self._session.history.shown, None, 1,
                                    f"The fit stopped with an error: {exc}"), RunState.FAILED)

    def _conclude(self) -> None:
        """The fit is over: keep the best restart (shown live) and say how it ended."""
        history = self._session.history
        finals = history.finals()
        best = best_restart(finals)
        reason = "degenerate" if best is None else "converged" if finals[best].converged else "max_iter"
        if best is not None and history.move_restart_last(best):
            self._session._after_history_change()
        final = history.shown
        n = len(finals)
        self.restarts = 1
        words = {"converged": "converged", "max_iter": "stopped at max_iter (not converged)",
                 "degenerate": "stopped: a component degenerated"}[reason]
        extra = f" Best of {n} restarts: #{best + 1}." if n > 1 and best is not None else ""
        if reason == "converged" and components_coincide(final.params, self._session.data_spread):
            extra += (" All components sit on top of each other: a saddle point of the likelihood "
                      "(e.g. random responsibilities average every mean to the data mean), not a "
                      "fit. Try the 'random data points' or 'kmeans' initialisation.")
        self._finish(FitOutcome(reason, final, best, n,
                                f"{_algorithm_name(final)} {words} after "
                                f"{counted(final.iteration, 'iteration')}.{extra}"))

    def _finish(self, outcome: FitOutcome, state: RunState = RunState.FINISHED) -> None:
        session = self._session
        session.last_outcome = outcome
        session._set_state(state)
        session.shown.refresh()
        session._emit(session.fit_ended, outcome)


def _algorithm_name(snapshot: Snapshot) -> str:
    return "K-means" if isinstance(snapshot, KMeansSnapshot) else "EM"
