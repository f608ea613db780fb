"""The run state machine's vocabulary: the states, the commands, and the refusal error.

Which command is possible in which state (and why not) is decided by
:meth:`gmm_studio.session.Session.why_not`; this module only names things, so the window,
the CLI and the tests can share the names.
"""

from __future__ import annotations

import enum

__all__ = ["COMMANDS", "MAX_REG_COVAR", "CommandRefused", "RunState"]

#: "Raise reg_covar" multiplies it by 1000, up to this.
MAX_REG_COVAR = 1e3


class RunState(enum.Enum):
    """Where the fit is.

    IDLE      no fit yet (maybe a given model or placed means waiting); Run/Step start one.
    RUNNING   a task is running EM to its end.
    PAUSED    a fit was interrupted between half-steps (Pause, or a Step that reached its
              half-step, an edit by hand); Run, Resume or Step continues it.
    STEPPING  a task is running EM up to the next E or M half-step.
    FINISHED  the fit converged, reached max_iter, degenerated or was stopped.
    FAILED    the fit raised an error (the message says which); Run starts a new one.
    """

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STEPPING = "stepping"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def busy(self) -> bool:
        """A fit task is going on."""
        return self in (RunState.RUNNING, RunState.STEPPING)


#: Every command of :meth:`Session.can` / :meth:`Session.why_not`.
COMMANDS: tuple[str, ...] = (
    "run", "pause", "resume", "step", "step_e", "step_m", "stop", "reset", "scrub", "go_live",
    "place_mean", "clear_placed", "raise_reg_covar", "reseed", "lower_k", "show_model",
)


class CommandRefused(ValueError):
    """A command is not possible now; the message says why (a disabled button's tooltip).

    ``command`` names it.  A refused command changes nothing.
    """

    def __init__(self, command: str, reason: str):
        self.command = command
        self.reason = reason
        super().__init__(reason)
