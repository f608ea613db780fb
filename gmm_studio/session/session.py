"""The session a person works in: data, settings, the run state machine and its commands.

:class:`Session` owns everything the window used to keep in its fields.  It never starts a
thread: background work (EM, γ of a scrubbed state, comparisons) goes to the
:class:`~gmm_studio.session.tasks.Runner` it is given, whose callbacks arrive on the owner
thread.  Every public method runs on the owner thread (the GUI thread in the window).
What the shown state looks like (γ, comparisons, events) is kept by
:class:`~gmm_studio.session.shown.ShownModel`; the history by
:class:`~gmm_studio.session.history.History`.
"""

from __future__ import annotations

import functools

import numpy as np
from psygnal import Signal

from gmm_studio.core.em import EMData
from gmm_studio.core.geometry import Projection, lift_point
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings
from gmm_studio.session.fit_control import FitControl, FitOutcome, data_spread
from gmm_studio.session.edits import fill_edit_figures, shown_entry
from gmm_studio.session.history import History
from gmm_studio.session.notify import Notifier
from gmm_studio.session.rules import refusal
from gmm_studio.session.session_file import SessionRecord, read_session_file, write_session_file
from gmm_studio.session.shown import ShownModel
from gmm_studio.session.state import COMMANDS, MAX_REG_COVAR, CommandRefused, RunState
from gmm_studio.session.tasks import Runner

__all__ = ["FitOutcome", "Session"]


def _one_change(method):
    """A session command is one change: its signals go out when it has finished
    (:mod:`gmm_studio.session.notify`)."""
    @functools.wraps(method)
    def command(self, *args, **kwargs):
        with self._changing():
            return method(self, *args, **kwargs)
    return command


class Session:
    """Owns the dataset, settings, history, run state and selection; observable by signals.

    Signals (all emitted on the owner thread)
    -----------------------------------------
    Every command finishes changing the session before any of its signals is emitted, so a
    slot always reads a consistent session (the shown entry is in the history, the projection
    fits the data); a state signal carries the value the session holds when it goes out; and a
    slot that raises cannot leave the session half-changed: the other signals are still
    emitted, then the error is raised to the command's caller (:mod:`gmm_studio.session.notify`).

    state_changed(RunState)
    dataset_changed(Dataset)           a new dataset (history, placed means, selection cleared)
    settings_changed(FitSettings)
    projection_changed(Projection)
    history_changed()                  cleared, truncated, reordered, restored or an edit's
                                       figure filled in: redraw from :attr:`history`
    snapshot_added(Snapshot)           one new half-step, with its γ (append to the curves);
                                       left out when the same change redraws the whole history
    shown_changed(Snapshot | None)     the state the views show (live or scrubbed)
    responsibilities_changed(ndarray | None)  γ (N, K) of the shown state
    comparison_changed(ModelComparison | None)  figures for the shown model (None while
                                       running or being computed: never stale)
    events_changed(tuple)              degeneracy events of the shown state
    placed_changed(ndarray)            the placed means, (P, D)
    selection_changed(int | None)      the selected component
    fit_ended(FitOutcome)

    Attributes (read them; change them through the methods)
    -------------------------------------------------------
    runner : Runner
    history : History            light snapshots, the live γ, the scrub cursor
    shown : ShownModel           the shown snapshot, its γ, events, comparison, status text
    dataset, truth, truth_labels, import_options, projection, selected
    last_outcome : FitOutcome or None
    """

    state_changed = Signal(object)
    dataset_changed = Signal(object)
    settings_changed = Signal(object)
    projection_changed = Signal(object)
    history_changed = Signal()
    snapshot_added = Signal(object)
    shown_changed = Signal(object)
    responsibilities_changed = Signal(object)
    comparison_changed = Signal(object)
    events_changed = Signal(object)
    placed_changed = Signal(object)
    selection_changed = Signal(object)
    fit_ended = Signal(object)

    def __init__(self, runner: Runner, settings: FitSettings | None = None) -> None:
        self.runner = runner
        self.history = History()
        self._settings = settings if settings is not None else FitSettings()
        self._state = RunState.IDLE
        self.dataset = None
        self._x = np.zeros((0, 2))
        self.data_spread = 0.0  # √(Σ var) of the data (FitControl tells a saddle point by it)
        self.truth: MixtureParams | None = None
        self.truth_labels: np.ndarray | None = None
        self.import_options = None
        self.projection: Projection | None = None
        self._emdata: dict[str, EMData] = {}
        self._placed: list[np.ndarray] = []
        self.selected: int | None = None
        self._delay = 0.0
        self.last_outcome: FitOutcome | None = None
        # Signals wait until a change is finished (gmm_studio.session.notify); the state
        # signals carry the value the session holds when they go out.
        notifier = Notifier(
            {"state_changed": lambda: (self._state,), "dataset_changed": lambda: (self.dataset,),
             "settings_changed": lambda: (self._settings,),
             "projection_changed": lambda: (self.projection,), "history_changed": tuple,
             "shown_changed": lambda: (self.shown.snapshot,),
             "responsibilities_changed": lambda: (self.shown.responsibilities,),
             "comparison_changed": lambda: (self.shown.comparison,),
             "events_changed": lambda: (self.shown.events,),
             "placed_changed": lambda: (self.placed_means,),
             "selection_changed": lambda: (self.selected,)},
            covered={"snapshot_added": "history_changed"})
        self._changing, self._emit = notifier.changing, notifier.emit
        self.shown = ShownModel(self)
        self._fit = FitControl(self)

    # ================================================================== reading
    @property
    def state(self) -> RunState:
        """Where the run state machine is."""
        return self._state

    @property
    def settings(self) -> FitSettings:
        """The settings the next fit uses."""
        return self._settings

    @property
    def x(self) -> np.ndarray:
        """The data EM sees, (N, D) float64."""
        return self._x

    @property
    def placed_means(self) -> np.ndarray:
        """The means placed by clicking, (P, D) in data coordinates."""
        d = self._x.shape[1]
        return np.array(self._placed).reshape(-1, d)

    @property
    def delay(self) -> float:
        """Seconds a running fit waits after each half-step (teaching speed)."""
        return self._delay

    @property
    def fit_restarts(self) -> int:
        """How many restarts the fit in progress runs (1 once a fit has finished)."""
        return self._fit.restarts

    def emdata(self, covariance_type: str) -> EMData:
        """The data prepared for EM with ``covariance_type`` (cached per type)."""
        if covariance_type not in self._emdata:
            self._emdata[covariance_type] = EMData(self._x, covariance_type)
        return self._emdata[covariance_type]

    def can(self, command: str) -> bool:
        """Whether ``command`` (one of :data:`COMMANDS`) is possible now."""
        return self.why_not(command) is None

    def why_not(self, command: str) -> str | None:
        """None when ``command`` is possible now, else a short reason (a disabled button's tooltip)."""
        if command not in COMMANDS:
            raise ValueError(f"Unknown command {command!r}: choose one of {', '.join(COMMANDS)}.")
        return refusal(self, command)

    def _check(self, command: str) -> None:
        reason = self.why_not(command)
        if reason is not None:
            raise CommandRefused(command, reason)

    # ================================================================== data and settings
    @_one_change
    def set_dataset(self, dataset, truth: MixtureParams | None = None, truth_labels=None,
                    import_options=None) -> None:
        """Install ``dataset`` (a :class:`~gmm_studio.core.dataio.Dataset`); forgets the fit.

        ``truth`` is the mixture that generated the data and ``truth_labels`` (N,) ints the
        component of each point (-1 for outliers), when known.  ``import_options`` are kept for
        session files.
        """
        x = np.ascontiguousarray(np.asarray(dataset.values, dtype=np.float64))
        if truth is not None and truth.n_features != x.shape[1]:
            raise ValueError(f"The true mixture is {truth.n_features}-D but the data are {x.shape[1]}-D.")
        if truth_labels is not None:
            truth_labels = np.asarray(truth_labels, dtype=np.int64)
            if truth_labels.shape != (x.shape[0],):
                raise ValueError(f"{truth_labels.size} true labels for {x.shape[0]} points: give one per point.")
        self._cancel_all()
        self.dataset, self._x, self.truth, self.truth_labels = dataset, x, truth, truth_labels
        self.data_spread = data_spread(x)
        self.import_options = import_options
        self._emdata = {}
        self.shown.set_labels(dataset.labels)
        self.projection = Projection.default_for(x, dataset.columns)
        self._placed = []
        self.selected = None
        self.history.clear()
        self._fit.restarts = 1
        self.last_outcome = None
        try:  # prepared with the loading (~60 ms at 1e6), not as a stall when Run is pressed
            self.emdata(self._settings.covariance_type)
        except ValueError:
            pass  # data EM cannot use: Run says why
        self._emit(self.dataset_changed, dataset)
        self._emit(self.projection_changed, self.projection)
        self._set_state(RunState.IDLE)
        self._after_history_change()
        self._emit(self.placed_changed, self.placed_means)
        self._emit(self.selection_changed, None)

    @_one_change
    def set_settings(self, settings: FitSettings) -> None:
        """Use ``settings`` for the next fit.  Raises ValueError (a sentence) when they cannot fit
        the data, e.g. more components than points; nothing changes then."""
        if not isinstance(settings, FitSettings):
            raise TypeError(f"settings must be a FitSettings; got {type(settings).__name__}.")
        problem = self.k_problem(settings.n_components)
        if problem is not None:
            raise ValueError(problem)
        if settings != self._settings:
            self._settings = settings
            self._emit(self.settings_changed, settings)

    def update_settings(self, **changes) -> None:
        """:meth:`set_settings` with some fields changed (bad values raise ValueError)."""
        self.set_settings(self._settings.replace(**changes))

    def continues_shown(self) -> bool:
        """Whether Step/Resume would continue the shown state (same K and covariance type)."""
        return self._fit.continues_shown()

    def k_problem(self, k: int) -> str | None:
        """Why ``k`` components cannot be fitted to the data (more than points), or None."""
        n = self._x.shape[0]
        if self.dataset is not None and k > n:
            return (f"K = {k} components need at least {k} points, but the data have {n}: "
                    "lower K or load more data.")
        return None

    @_one_change
    def set_projection(self, projection: Projection) -> None:
        """Show the data through ``projection`` (placed means keep their D-dimensional place)."""
        if self.dataset is None or projection.matrix.shape[1] != self._x.shape[1]:
            raise ValueError("The projection must map the open data's "
                             f"{self._x.shape[1]} features.")
        self.projection = projection
        self._emit(self.projection_changed, projection)

    def set_delay(self, seconds: float) -> None:
        """Teaching speed: the pause between half-steps of a running fit (read by the running task)."""
        self._delay = max(0.0, float(seconds))

    @_one_change
    def select(self, component: int | None) -> None:
        """Select a component of the shown model (None: none)."""
        shown = self.history.shown
        if component is not None:
            k = 0 if shown is None else shown.params.n_components
            if not 0 <= component < k:
                raise ValueError(f"No component {component + 1}: the shown model has {k}.")
        if component != self.selected:
            self.selected = component
            self._emit(self.selection_changed, component)

    # ================================================================== fit commands
    @_one_change
    def run(self) -> None:
        """Run EM to the end from the shown model: a paused fit (as :meth:`resume`), a given or
        edited model or a scrubbed state; after a finished fit (shown live) a fresh one."""
        self._check("run")
        fresh = self._state in (RunState.FINISHED, RunState.FAILED) and self.history.cursor is None
        self._fit.launch(self._fit.plan(until=None, fresh=fresh), RunState.RUNNING)

    @_one_change
    def step(self) -> None:
        """One iteration: up to and including the next M-step (just the M after an E-step)."""
        self._check("step")
        self._fit.launch(self._fit.plan(until="M", fresh=False), RunState.STEPPING)

    @_one_change
    def step_e(self) -> None:
        """Up to and including the next E-step."""
        self._check("step_e")
        self._fit.launch(self._fit.plan(until="E", fresh=False), RunState.STEPPING)

    @_one_change
    def step_m(self) -> None:
        """Up to and including the next M-step (after an E-step: that iteration's M, never E again)."""
        self._check("step_m")
        self._fit.launch(self._fit.plan(until="M", fresh=False), RunState.STEPPING)

    @_one_change
    def pause(self) -> None:
        """Interrupt the running fit between half-steps, keeping everything it reached."""
        self._check("pause")
        self._fit.drop()
        self._set_state(RunState.PAUSED)
        self.shown.refresh()

    @_one_change
    def resume(self) -> None:
        """Continue the paused fit from the shown state (a new task); :meth:`run` does the same
        while paused, ``resume`` is the name Pause's button takes."""
        self._check("resume")
        self._fit.launch(self._fit.plan(until=None, fresh=False), RunState.RUNNING)

    def toggle(self) -> None:
        """Space: pause a running fit, resume a paused one, else run."""
        for command in ("pause", "resume", "run"):
            if self.can(command):
                getattr(self, command)()
                return
        self._check("run")

    @_one_change
    def stop(self) -> None:
        """End the fit here; Step continues from what it reached, Run starts afresh."""
        self._check("stop")
        self._fit.stop()

    @_one_change
    def reset(self) -> None:
        """Forget the fit, the placed means and any given model: back to IDLE."""
        self._check("reset")
        self._cancel_all()
        self.history.clear()
        self._placed = []
        self._fit.restarts = 1
        self._set_state(RunState.IDLE)
        self._after_history_change()
        self._emit(self.placed_changed, self.placed_means)

    @_one_change
    def scrub(self, index: int) -> None:
        """Show the state after half-step ``index`` of the history (the last index = live)."""
        self._check("scrub")
        try:
            self.history.scrub(int(index))
        except IndexError as exc:
            raise CommandRefused("scrub", str(exc)) from None
        self.shown.refresh()

    @_one_change
    def go_live(self) -> None:
        """Show the live state again after scrubbing."""
        self._check("go_live")
        self.history.go_live()
        self.shown.refresh()

    @_one_change
    def place_mean(self, xy) -> None:
        """Place an initial mean where the person clicked, ``xy`` in the projected plane; K follows."""
        self._check("place_mean")
        point = lift_point(self.projection, np.asarray(xy, dtype=np.float64), self._x.mean(axis=0))
        self._placed.append(point)
        self._settings = self._settings.replace(n_components=len(self._placed))
        self._emit(self.settings_changed, self._settings)
        self._emit(self.placed_changed, self.placed_means)

    @_one_change
    def clear_placed(self) -> None:
        """Forget the placed means (before a fit)."""
        self._check("clear_placed")
        self._placed = []
        self._emit(self.placed_changed, self.placed_means)

    @_one_change
    def show_model(self, params: MixtureParams, keep_history: bool = False) -> None:
        """Show ``params`` (an imported model, a sweep cell, an edit) as one history entry.

        Run or Step continues EM from it.  By default it replaces the history (IDLE); with
        ``keep_history`` it is an edit of the shown state (:mod:`gmm_studio.session.edits`)
        following the shown entry, dropping anything after it (PAUSED).  Raises
        :class:`CommandRefused` when it does not fit the data.
        """
        self._check("show_model")
        if params.n_features != self._x.shape[1]:
            raise CommandRefused("show_model", f"The model is {params.n_features}-D but the data are "
                                 f"{self._x.shape[1]}-D: open the data it was fitted to.")
        problem = self.k_problem(params.n_components)
        if problem is not None:
            raise CommandRefused("show_model", problem)
        self._fit.drop()
        base = self.history.shown if keep_history else None
        if keep_history:
            self.history.truncate_to_shown()
        else:
            self.history.clear()
        self.history.append(*shown_entry(base, params, self.emdata))
        self._fit.restarts = 1
        # moved K-means centres are spherical: the covariance type EM would use stays the person's
        kind = {} if isinstance(base, KMeansSnapshot) else {"covariance_type": params.covariance_type}
        self._settings = self._settings.replace(n_components=params.n_components, **kind)
        self._emit(self.settings_changed, self._settings)
        self._set_state(RunState.PAUSED if keep_history else RunState.IDLE)
        self._after_history_change()
        fill_edit_figures(self)

    # ------------------------------------------------------------------ remedies
    @_one_change
    def raise_reg_covar(self) -> None:
        """Remedy: multiply reg_covar by 1000 (up to 1e3) and run a new fit."""
        self._check("raise_reg_covar")
        reg = min(MAX_REG_COVAR, max(self._settings.reg_covar, 1e-9) * 1000)
        self._fit.drop()
        self.update_settings(reg_covar=reg)
        self._fit.launch(self._fit.plan(until=None, fresh=True), RunState.RUNNING)

    @_one_change
    def lower_k(self) -> None:
        """Remedy: one component fewer, and run a new fit.

        With placed means, the degenerate component's mean is the one removed.
        """
        self._check("lower_k")
        self._fit.drop()
        if len(self._placed) == self._settings.n_components:
            del self._placed[self.shown.events[0].component]
            self._emit(self.placed_changed, self.placed_means)
        self.update_settings(n_components=self._settings.n_components - 1)
        self._fit.launch(self._fit.plan(until=None, fresh=True), RunState.RUNNING)

    @_one_change
    def reseed(self, component: int | None = None) -> None:
        """Remedy: move ``component`` (default: the first degenerate one) and continue EM."""
        self._check("reseed")
        events = self.shown.events
        k = events[0].component if component is None else int(component)
        shown = self.history.shown
        if not 0 <= k < shown.params.n_components:
            raise CommandRefused("reseed", f"No component {k + 1} to re-seed.")
        self._fit.drop()
        self._fit.launch(self._fit.reseed_plan(k), RunState.RUNNING)

    # ================================================================== session files
    def record(self) -> SessionRecord:
        """Everything needed to carry on exactly here (what a session file holds)."""
        if self.dataset is None:
            raise ValueError("There is no session to save yet: open or generate data first.")
        h = self.history
        return SessionRecord(self.dataset, self.truth, self.truth_labels, self.import_options,
                             self._settings, self.projection, self.placed_means, self.selected,
                             h.entries, h.origins, h.cursor, self._state, self._fit.restarts, self._delay)

    def save_session(self, path) -> None:
        """Write the session to ``path`` (atomically).  A running fit is saved as paused.

        Raises ``ExportError`` (an OSError with a sentence) when the file cannot be written.
        """
        write_session_file(path, self.record())

    @_one_change
    def open_session(self, path) -> None:
        """Carry on from the session file at ``path``: data, settings, history, scrub position.

        Raises :class:`~gmm_studio.session.session_file.SessionFileError` (a ValueError saying
        what is wrong) for a damaged, truncated or newer file; this session is then untouched.
        """
        record = read_session_file(path)
        # The settings first: their signal then goes out before the new data's, so a view that
        # hands its settings back on new data (the control panel) already holds the file's.
        self._settings = record.settings
        self._emit(self.settings_changed, record.settings)
        self.set_dataset(record.dataset, record.truth, record.truth_labels, record.import_options)
        self.projection = record.projection
        self._emit(self.projection_changed, record.projection)
        self._placed = list(record.placed)
        self._emit(self.placed_changed, self.placed_means)
        self.history.restore(list(record.entries), list(record.origins), record.cursor)
        self._fit.restarts = record.fit_restarts
        self._delay = record.delay
        self._set_state(RunState.PAUSED if record.state.busy else record.state)
        self._after_history_change()
        fill_edit_figures(self)  # an edit saved before its figure was computed
        self.select(record.selected)

    def _cancel_all(self) -> None:
        self._fit.drop()
        self.shown.cancel()

    # ================================================================== helpers
    def _set_state(self, state: RunState) -> None:
        if state is not self._state:
            self._state = state
            self._emit(self.state_changed, state)

    def _after_history_change(self) -> None:
        if self.selected is not None:
            shown = self.history.shown
            if shown is None or self.selected >= shown.params.n_components:
                self.selected = None
                self._emit(self.selection_changed, None)
        self._emit(self.history_changed)
        self.shown.refresh()

