"""Which command is possible in which state, and the sentence saying why not.

One function, :func:`refusal`, so the rules are read in one place; a disabled button shows its
sentence as the tooltip.  Owner thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gmm_studio.core.settings import CLICK_INIT, MAX_COMPONENTS
from gmm_studio.session.state import MAX_REG_COVAR, RunState

if TYPE_CHECKING:
    from gmm_studio.session.session import Session

__all__ = ["refusal"]

_NO_DATA = "Open or generate data first."
_BUSY = {
    RunState.RUNNING: "A fit is running: Pause or Stop it first.",
    RunState.STEPPING: "A step is in progress: wait for it, or Stop.",
}
_REMEDY = {"raise_reg_covar": "raise reg_covar", "reseed": "re-seed the component", "lower_k": "lower K"}


def refusal(session: Session, command: str) -> str | None:
    """None when ``command`` is possible in ``session`` now, else why not."""
    if session.dataset is None:
        return _NO_DATA
    state = session.state
    history = session.history
    if command in ("run", "step", "step_e", "step_m", "resume"):
        return _start_refusal(session, command)
    if command == "pause":
        if state is RunState.RUNNING:
            return None
        if state is RunState.PAUSED:
            return "Already paused: Run or Resume continues."
        if state is RunState.STEPPING:
            return "A step is in progress: it stops by itself after its half-step."
        return "No fit is running."
    if command == "stop":
        return None if state.busy or state is RunState.PAUSED else "No fit to stop."
    if command == "reset":
        if state is RunState.IDLE and not len(history) and not len(session.placed_means):
            return "Nothing to reset yet."
        return None
    if command == "scrub":
        if state.busy:
            return "Pause the fit to scrub back through it."
        return None if len(history) >= 2 else "No history to scrub yet: Run or Step first."
    if command == "go_live":
        return None if history.cursor is not None else "Already showing the live state."
    if command == "place_mean":
        if session.settings.init_params != CLICK_INIT:
            return "Choose 'click to place means' as the initialisation to place means."
        if state is not RunState.IDLE or len(history):
            return "Means are placed before a fit: Reset first."
        if len(session.placed_means) >= MAX_COMPONENTS:
            return f"At most {MAX_COMPONENTS} means: Reset to start over."
        return None
    if command == "clear_placed":
        if not len(session.placed_means):
            return "No means placed."
        return None if state is RunState.IDLE and not len(history) else "The fit has started: Reset instead."
    if command in _REMEDY:
        return _remedy_refusal(session, command)
    return None  # show_model: any state with data; the model itself is checked when given


def _start_refusal(session: Session, command: str) -> str | None:
    state = session.state
    if state in _BUSY:
        return _BUSY[state]
    if command == "resume":
        return None if state is RunState.PAUSED else "No paused fit to resume."
    fresh = command == "run" and state in (RunState.FINISHED, RunState.FAILED) \
        and session.history.cursor is None
    if not fresh and session.continues_shown():
        if any(e.fatal for e in session.history.events_at(session.history.shown_index)):
            return ("The shown model is degenerate: raise reg_covar, re-seed the component or "
                    "lower K, or Reset.")
        return None
    s = session.settings
    if s.init_params == CLICK_INIT:
        if not len(session.placed_means):
            return ("Initialisation is 'click to place means': click in the data view to place "
                    "the initial means first.")
        k = len(session.placed_means)
    else:
        k = s.n_components
    return session.k_problem(k)


def _remedy_refusal(session: Session, command: str) -> str | None:
    if session.state is RunState.STEPPING:
        return _BUSY[RunState.STEPPING]
    wanted = _REMEDY[command]
    if not any(wanted in e.remedies for e in session.shown.events):
        return "No degenerate component is shown: nothing to remedy."
    s = session.settings
    if command == "raise_reg_covar" and s.reg_covar >= MAX_REG_COVAR:
        return f"reg_covar is already at its largest ({MAX_REG_COVAR:g})."
    if command == "lower_k":
        if s.n_components <= 1:
            return "K is already 1."
        return session.k_problem(s.n_components - 1)
    return None
