"""EM on a worker thread that reports every half-step.

Structure (see DESIGN.md, "The thread bridge")
----------------------------------------------
* :class:`FitWorker` — a parentless ``QObject`` that :func:`gmm_studio.ui.threads.start_worker`
  runs on its own thread.  ``run`` drives :func:`gmm_studio.core.em.em_steps` for every restart and emits one
  ``iteration_done(run_id, FitUpdate)`` per half-step, then exactly one of
  ``fit_finished(run_id, FitResult)``, ``fit_failed(run_id, str)`` or
  ``fit_cancelled(run_id, last_snapshot)``; those three end the thread.
* :class:`FitController` — lives on the GUI thread, starts runs (each with a new id), forwards
  pause / resume / step / speed to the current worker, drops payloads of stale runs, and joins
  every thread on :meth:`FitController.shutdown`.

Control is cooperative and thread-safe: a ``threading.Event`` for stop (checked between
half-steps, and its ``wait(timeout)`` is the animation delay, so Stop interrupts a delay at
once) and a ``threading.Condition`` the worker blocks on while paused.  Nothing in this module
touches a widget.
"""

from __future__ import annotations

import dataclasses
import threading
import traceback
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from gmm_studio.core.em import EMData, Snapshot, em_steps
from gmm_studio.core.geometry import match_colors, permute_params
from gmm_studio.core.init import check_random_state, initialize, params_from_means, reseed_component
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings
from gmm_studio.ui import colors as colors_mod
from gmm_studio.ui import threads

__all__ = ["FitController", "FitRequest", "FitResult", "FitUpdate", "FitWorker", "point_colors"]

COLOR_MODES = ("blend", "hard", "uncertainty")


def point_colors(resp: np.ndarray | None, palette: np.ndarray, mode: str) -> np.ndarray | None:
    """Per-point colours for responsibilities under a colour mode.  Any thread.

    'blend' mixes component colours by γ; 'hard' takes the most responsible component's colour;
    'uncertainty' shades by 1 − max_k γ (dark = contested).  Returned packed, ``(N,)`` uint32
    ARGB32-premultiplied, ready for ``PointCloud.set_colors``: the worker thread calls this for
    every E-step, so the GUI thread does no per-point colour arithmetic (~6–20 ms at N = 1e6).
    """
    if resp is None:
        return None
    if mode == "hard":
        rgba = colors_mod.hard_label_colors(resp, palette)
    elif mode == "uncertainty":
        rgba = colors_mod.uncertainty_shading(resp, palette, mode="grey")
    else:
        rgba = colors_mod.blend_colors(resp, palette)
    return colors_mod.pack_argb32_premultiplied(rgba)


@dataclass(frozen=True, eq=False)
class FitRequest:
    """Everything a run needs; immutable, built on the GUI thread, read on the worker thread.

    ``start`` says where restart 0 begins: 'fresh' (the initialiser in ``settings``), 'params'
    (``params`` as given: continue, imported model), 'means' (``means`` clicked by a person) or
    'reseed' (``params`` with component ``reseed`` moved).  Later restarts are always fresh.
    Fresh initialisations are permuted to match ``reference_means`` (colours stay put).
    """

    data: EMData
    x: np.ndarray
    settings: FitSettings
    palette: np.ndarray
    start: str = "fresh"
    params: MixtureParams | None = None
    means: np.ndarray | None = None
    reseed: int | None = None
    start_iteration: int = 0
    previous_log_likelihood: float = -np.inf
    reference_means: np.ndarray | None = None
    delay: float = 0.0
    color_mode: str = "blend"
    paused: bool = False
    target: str | None = None
    skip_init: bool = False
    run_id: int = 0


@dataclass(frozen=True, eq=False)
class FitUpdate:
    """One half-step for the GUI: the snapshot and, when γ changed, the points' colours.

    ``colors`` is what :func:`point_colors` returns (packed ``(N,)`` uint32, computed on the
    worker thread); the same array object as the previous update's when γ did not change, so
    the GUI can skip redrawing identical colours by identity.
    """

    run_id: int
    snapshot: Snapshot
    colors: np.ndarray | None
    color_mode: str


@dataclass(frozen=True, eq=False)
class FitResult:
    """How a run ended: the best restart's final snapshot (with γ) and its colours.

    ``reason`` is 'converged', 'max_iter' or 'degenerate' (no restart could go on).
    """

    run_id: int
    final: Snapshot
    best_restart: int
    finals: tuple[Snapshot, ...]
    colors: np.ndarray | None
    color_mode: str
    reason: str


class FitWorker(QObject):
    """Runs one fit (all restarts) on its own thread.  Control methods: any thread."""

    iteration_done = Signal(int, object)
    fit_finished = Signal(int, object)
    fit_failed = Signal(int, str)
    fit_cancelled = Signal(int, object)

    def __init__(self, request: FitRequest) -> None:
        super().__init__()  # no parent: it is moved to its thread
        self._request = request
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._paused = request.paused
        self._target = request.target
        self._delay = float(request.delay)
        self._color_mode = request.color_mode
        self._last: Snapshot | None = None

    # ------------------------------------------------------------------ control, any thread
    def request_stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused, self._target = False, None
            self._cond.notify_all()

    def step(self, target: str) -> None:
        """Run until the next snapshot whose half-step is ``target`` ('E' or 'M'), then pause."""
        with self._cond:
            self._paused, self._target = True, target
            self._cond.notify_all()

    def set_delay(self, seconds: float) -> None:
        self._delay = float(seconds)

    def set_color_mode(self, mode: str) -> None:
        self._color_mode = mode

    @property
    def paused(self) -> bool:
        return self._paused and self._target is None

    # ------------------------------------------------------------------ worker thread
    @Slot()
    def run(self) -> None:
        """Worker thread: drive EM to the end, a stop, or a failure; emit exactly one ending."""
        rid = self._request.run_id
        try:
            result = self._run()
        except Exception as exc:  # noqa: BLE001 - reported to the person, never a crash
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.fit_failed.emit(rid, f"The fit stopped with an error: {detail}")
            return
        if result is None:
            self.fit_cancelled.emit(rid, self._last)
        else:
            self.fit_finished.emit(rid, result)

    def _gate(self) -> bool:
        """Block while paused with no step asked for; False once stopped."""
        with self._cond:
            while self._paused and self._target is None and not self._stop.is_set():
                self._cond.wait()
        return not self._stop.is_set()

    def _initial(self, restart: int, rng: np.random.Generator,
                 reference: np.ndarray | None) -> MixtureParams:
        req, s = self._request, self._request.settings
        if restart == 0 and req.start == "params":
            return req.params
        if restart == 0 and req.start == "means":
            return params_from_means(req.data, req.x, req.means, s.reg_covar)
        if restart == 0 and req.start == "reseed":
            return reseed_component(req.data, req.x, req.params, req.reseed, rng)
        method = s.init_params if s.init_params != "click" else "kmeans"
        params = initialize(req.data, req.x, s.n_components, method, rng, s.reg_covar)
        if reference is not None and len(reference) and reference.shape[1] == params.n_features:
            params = permute_params(params, match_colors(reference, params.means))
        return params

    def _run(self) -> FitResult | None:
        req, s = self._request, self._request.settings
        rng = check_random_state(int(s.seed))
        n_init = 1 if req.start in ("params", "reseed") else int(s.n_init)
        reference = req.reference_means
        finals: list[Snapshot] = []
        colors = None
        last_resp = None
        for restart in range(n_init):
            if not self._gate():
                return None
            params = self._initial(restart, rng, reference)
            first = restart == 0
            steps = em_steps(
                req.data, params, tol=s.tol, reg_covar=s.reg_covar, max_iter=s.max_iter,
                stop=self._stop, keep_responsibilities=True, restart=restart,
                start_iteration=req.start_iteration if first else 0,
                previous_log_likelihood=req.previous_log_likelihood if first else -np.inf,
            )
            snapshot = None
            while True:
                if snapshot is not None and not self._gate():
                    return None
                snapshot = next(steps, None)
                if snapshot is None:
                    break
                if self._stop.is_set():
                    return None
                if first and req.skip_init and snapshot.half_step == "init":
                    # continuing a history: the start is the state already shown
                    self._last = snapshot
                    snapshot = None
                    continue
                if snapshot.responsibilities is not last_resp:
                    last_resp = snapshot.responsibilities
                    colors = point_colors(last_resp, req.palette, self._color_mode)
                elif snapshot.half_step == "init":
                    colors = None
                self._last = snapshot
                self.iteration_done.emit(req.run_id, FitUpdate(req.run_id, snapshot, colors,
                                                               self._color_mode))
                with self._cond:
                    if self._target is not None and snapshot.half_step == self._target:
                        self._target = None
                    running = not self._paused
                if running and self._delay > 0 and self._stop.wait(self._delay):
                    return None
            if self._stop.is_set():
                return None
            finals.append(self._last)
            reference = self._last.params.means
        return self._result(finals)

    def _result(self, finals: list[Snapshot]) -> FitResult:
        req = self._request
        usable = [i for i, f in enumerate(finals) if not any(e.fatal for e in f.events)]
        if not usable:
            last = finals[-1]
            colors = point_colors(last.responsibilities, req.palette, self._color_mode)
            return FitResult(req.run_id, last, len(finals) - 1, tuple(finals), colors,
                             self._color_mode, "degenerate")
        best = max(usable, key=lambda i: finals[i].log_likelihood)
        final = finals[best]
        if final.responsibilities is None or best != len(finals) - 1:
            final = dataclasses.replace(final, responsibilities=req.data.responsibilities(final.params))
        colors = point_colors(final.responsibilities, req.palette, self._color_mode)
        reason = "converged" if final.converged else "max_iter"
        return FitResult(req.run_id, final, best, tuple(finals), colors, self._color_mode, reason)


class FitController(QObject):
    """Starts and steers fits from the GUI thread; re-emits only the current run's events.

    Signals carry the payload only (the run id is checked here): ``iteration_done(FitUpdate)``,
    ``fit_finished(FitResult)``, ``fit_failed(str)``, ``fit_cancelled(Snapshot | None)``.
    """

    iteration_done = Signal(object)
    fit_finished = Signal(object)
    fit_failed = Signal(str)
    fit_cancelled = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._next_id = 0
        self._current: int | None = None
        self._live: dict[int, tuple[QThread, FitWorker]] = {}

    # ------------------------------------------------------------------ queries
    @property
    def current_run_id(self) -> int | None:
        return self._current

    def is_active(self) -> bool:
        """A run is going on (running or paused)."""
        return self._current is not None

    def is_paused(self) -> bool:
        worker = self._worker()
        return worker is not None and worker.paused

    def threads(self) -> list[QThread]:
        """This controller's threads that are still running.  GUI thread."""
        self._reap()
        return [t for t, _ in self._live.values()]

    def _worker(self) -> FitWorker | None:
        if self._current is None or self._current not in self._live:
            return None
        return self._live[self._current][1]

    # ------------------------------------------------------------------ commands
    def start(self, request: FitRequest) -> int:
        """Cancel any current run and start ``request`` on a new thread; returns its run id."""
        self.cancel()
        self._next_id += 1
        rid = self._next_id
        request = dataclasses.replace(request, run_id=rid)
        worker = FitWorker(request)
        worker.iteration_done.connect(self._on_worker_iteration_done)
        worker.fit_finished.connect(self._on_worker_fit_finished)
        worker.fit_failed.connect(self._on_worker_fit_failed)
        worker.fit_cancelled.connect(self._on_worker_fit_cancelled)
        self._reap()
        thread = threads.start_worker(worker, f"gmm-fit-{rid}",
                                      (worker.fit_finished, worker.fit_failed, worker.fit_cancelled))
        self._live[rid] = (thread, worker)
        self._current = rid
        return rid

    def cancel(self) -> None:
        """Stop the current run (cooperatively); its later signals are dropped as stale."""
        worker = self._worker()
        if worker is not None:
            worker.request_stop()
        self._current = None

    def stop(self) -> None:
        """Stop the current run and let its ``fit_cancelled`` through (the Stop button)."""
        worker = self._worker()
        if worker is not None:
            worker.request_stop()

    def pause(self) -> None:
        if (w := self._worker()) is not None:
            w.pause()

    def resume(self) -> None:
        if (w := self._worker()) is not None:
            w.resume()

    def step(self, target: str) -> None:
        if (w := self._worker()) is not None:
            w.step(target)

    def set_delay(self, seconds: float) -> None:
        if (w := self._worker()) is not None:
            w.set_delay(seconds)

    def set_color_mode(self, mode: str) -> None:
        if (w := self._worker()) is not None:
            w.set_color_mode(mode)

    def shutdown(self) -> None:
        """Stop every run and join every thread (closing the window).  GUI thread; blocks
        until each worker reaches its next half-step boundary."""
        self._current = None
        for _, worker in self._live.values():
            worker.request_stop()
        for thread, _ in self._live.values():
            threads.join(thread)
        self._live.clear()

    # ------------------------------------------------------------------ worker signals
    def _is_current(self, rid: int) -> bool:
        return self._current is not None and rid == self._current

    @Slot(int, object)
    def _on_worker_iteration_done(self, rid: int, update: object) -> None:
        if self._is_current(rid):
            self.iteration_done.emit(update)

    @Slot(int, object)
    def _on_worker_fit_finished(self, rid: int, result: object) -> None:
        if self._is_current(rid):
            self._current = None
            self.fit_finished.emit(result)

    @Slot(int, str)
    def _on_worker_fit_failed(self, rid: int, message: str) -> None:
        if self._is_current(rid):
            self._current = None
            self.fit_failed.emit(message)

    @Slot(int, object)
    def _on_worker_fit_cancelled(self, rid: int, last: object) -> None:
        if self._is_current(rid):
            self._current = None
            self.fit_cancelled.emit(last)

    def _reap(self) -> None:
        """Forget runs whose thread has ended (Qt deletes it and its worker).  GUI thread."""
        self._live = {rid: tw for rid, tw in self._live.items() if threads.is_running(tw[0])}
