"""Worker processes for the K sweep: independent cells on every core.

A sweep's cells are independent, but one cell at N = 10⁴ is a few hundred small EM
iterations whose Python bookkeeping holds the GIL, so threads overlap only the numpy
kernels (two threads were measured 1.0–1.25× faster than one).  Processes do not share a
GIL.  This module keeps one small pool of them for the life of the program:

- started with the 'forkserver' method: a clean server process (never a fork of the GUI
  process, whose Qt and BLAS threads could hold locks at the moment of a fork) preloads
  the engine once; each worker is forked from it, so a worker starts in milliseconds once
  the server is up (about 0.6 s, paid on the first sweep or by :func:`warm_up`);
- the data go through one block of shared memory per sweep, not a pickle per cell; each
  worker prepares the split (``_Prepared``) once per sweep and keeps it for the next cells;
- cancellation is a shared generation counter: a sweep's cells stop at their next
  half-step as soon as the counter moves on (cancel, or a newer sweep), so Cancel stays
  immediate without a per-sweep ``Event`` (those can only be inherited, not sent);
- each worker runs with single-threaded BLAS and a single-threaded E-pass, so two workers
  on two cores do not oversubscribe them.

Results equal the sequential run's exactly: every cell draws from its own seeded stream.
Qt-free; the functions here run on whichever thread calls :func:`gmm_studio.core.sweep.run_sweep`.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import shared_memory

import numpy as np

__all__ = ["SharedData", "cells_in_flight", "pool", "submit_cell", "warm_up"]

_POOL: ProcessPoolExecutor | None = None
_POOL_WORKERS = 0
_GENERATION = None  # multiprocessing.Value('q'): the sweep whose cells may run
_LOCK = threading.Lock()
_IN_FLIGHT: set[Future] = set()  # cells submitted and not yet ended


def pool(workers: int) -> ProcessPoolExecutor:
    """The program's sweep pool with ``workers`` processes (created, or re-created, on demand)."""
    global _POOL, _POOL_WORKERS, _GENERATION
    with _LOCK:
        if _POOL is None or _POOL_WORKERS != workers:
            if _POOL is not None:
                _POOL.shutdown(wait=False, cancel_futures=True)
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["gmm_studio.core.sweep"])
            _GENERATION = context.Value("q", 0)
            _POOL = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                        initargs=(_GENERATION,))
            _POOL_WORKERS = workers
        return _POOL


def warm_up(workers: int) -> list[Future]:
    """Start the pool's ``workers`` processes now, so the first sweep does not wait for them.

    Returns at once; the futures are done when the processes are up.
    """
    executor = pool(workers)
    return [executor.submit(int) for _ in range(workers)]


def forget_pool() -> None:
    """Drop a broken pool (a worker died); the next sweep starts a new one."""
    global _POOL
    with _LOCK:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


def new_generation() -> int:
    """Make every running cell stale and return the number the next sweep's cells carry."""
    with _GENERATION.get_lock():
        _GENERATION.value += 1
        return _GENERATION.value


class SharedData:
    """The sweep's data in one block of shared memory, for the workers to map.  Caller's thread."""

    def __init__(self, x: np.ndarray):
        self._block = shared_memory.SharedMemory(create=True, size=max(1, x.nbytes))
        np.ndarray(x.shape, x.dtype, buffer=self._block.buf)[...] = x
        self.key = (self._block.name, x.shape, x.dtype.str)

    def close(self) -> None:
        self._block.close()
        self._block.unlink()


def submit_cell(executor: ProcessPoolExecutor, data: SharedData, settings, k: int,
                covariance_type: str, generation: int) -> Future:
    """Fit one (K, type) cell in a worker; the future's result is its CellResult or None."""
    future = executor.submit(_fit_cell_in_worker, data.key, settings, k, covariance_type,
                             generation)
    _IN_FLIGHT.add(future)
    future.add_done_callback(_IN_FLIGHT.discard)
    return future


def cells_in_flight() -> int:
    """How many submitted cells have not ended yet (0 once every sweep has returned)."""
    return len(_IN_FLIGHT)


# --------------------------------------------------------------------------- in the workers

_WORKER_GENERATION = None
_WORKER_PREPARED: tuple | None = None  # (data key, settings, _Prepared) of the latest sweep


class _Stale:
    """``stop`` for em_steps: set once the shared generation has moved past this sweep's."""

    def __init__(self, generation: int):
        self.generation = generation

    def is_set(self) -> bool:
        return _WORKER_GENERATION.value != self.generation


def _init_worker(generation) -> None:
    global _WORKER_GENERATION
    from threadpoolctl import threadpool_limits

    from gmm_studio.core import parallel

    _WORKER_GENERATION = generation
    threadpool_limits(1)
    parallel.set_worker_count(1)


def _attach(name: str) -> shared_memory.SharedMemory:
    """Map the parent's block without taking it over: the parent alone unlinks it.

    Before Python 3.13 attaching always registers the name with the resource tracker, which
    the forkserver's workers share with the parent: registering twice is harmless there, and
    the parent's ``unlink`` unregisters it.
    """
    try:
        return shared_memory.SharedMemory(name=name, track=False)
    except TypeError:  # Python < 3.13
        return shared_memory.SharedMemory(name=name)


def _fit_cell_in_worker(key, settings, k: int, covariance_type: str, generation: int):
    global _WORKER_PREPARED
    from gmm_studio.core.sweep import _fit_cell, _Prepared

    stop = _Stale(generation)
    if stop.is_set():
        return None
    if _WORKER_PREPARED is None or _WORKER_PREPARED[:2] != (key, settings):
        name, shape, dtype = key
        block = _attach(name)
        try:
            x = np.ndarray(shape, np.dtype(dtype), buffer=block.buf)
            prepared = _Prepared(x, settings)  # copies the rows it keeps
        finally:
            block.close()
        _WORKER_PREPARED = (key, settings, prepared)
    return _fit_cell(_WORKER_PREPARED[2], k, covariance_type, stop)
