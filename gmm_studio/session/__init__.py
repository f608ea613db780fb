"""Qt-free application state: the session a person works in (see DESIGN.md, "Layers").

Imports numpy, psygnal and ``gmm_studio.core`` only, never Qt; the window, the CLI and the
tests share it.  :class:`Session` is the entry point; it is given a runner
(:class:`SyncRunner`, :class:`ManualRunner`, or the window's Qt runner).
"""

from gmm_studio.session.history import History
from gmm_studio.session.runners import ManualRunner, SyncRunner
from gmm_studio.session.session import FitOutcome, Session
from gmm_studio.session.session_file import SUFFIX, SessionFileError
from gmm_studio.session.state import COMMANDS, MAX_REG_COVAR, CommandRefused, RunState
from gmm_studio.session.tasks import Runner, Work

__all__ = [
    "COMMANDS",
    "CommandRefused",
    "FitOutcome",
    "History",
    "MAX_REG_COVAR",
    "SUFFIX",
    "ManualRunner",
    "Runner",
    "RunState",
    "Session",
    "SessionFileError",
    "SyncRunner",
    "Work",
]
