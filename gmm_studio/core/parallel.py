"""The engine's threads, decided in one place: how many workers, and one BLAS thread each.

A pass over large data is split into one block of rows per worker thread;
numpy releases the GIL inside its kernels, so the blocks run at once.  Each
worker must then run a *single-threaded* BLAS: OpenBLAS would otherwise start
its own threads inside every worker and oversubscribe the cores (measured at
N = 1e5, K = 10, full covariances: one BLAS thread per worker made an EM
iteration 1.8–2.1× faster at D = 5, 20 and 50).

Two facts shape :func:`single_threaded_blas`:

- OpenBLAS's thread count is process-wide, not per thread.  Several workers (or
  a sweep's cells) that each set and restore it would race: the first to finish
  would restore the multi-threaded BLAS under the others.  So the limit is
  reference-counted: the first to enter sets one thread, the last to leave
  restores the previous count.
- threadpoolctl (3.8) lets only one "controlling" thread change a process-wide
  OpenBLAS and silently ignores the others, so the thread that sets the limit
  is not always the one that restores it.  Every change here is made under one
  lock and then hands control back (``clear_controlling_thread(force=True)``),
  so whichever thread comes next can make the next change.
- ``threadpoolctl.threadpool_limits`` rescans the loaded libraries on every call
  (about 4 ms measured here, too much per pass); a ``ThreadpoolController``
  made once and reused costs about 20 µs per limit.

The number of workers defaults to every core this process may run on; the
window sets ``cores - 1`` (:func:`set_worker_count`) so the GUI thread keeps a
core while EM runs.  Qt-free; every function may be called from any thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from threadpoolctl import OpenBLASController, ThreadpoolController

__all__ = ["available_cores", "lower_this_thread", "map_blocks", "row_blocks", "serial_passes",
           "set_background_priority", "set_worker_count", "single_threaded_blas", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_local = threading.local()  # per thread: whether passes run serially (serial_passes)
_workers: int | None = None  # None: every available core
_pool: ThreadPoolExecutor | None = None
_controller: ThreadpoolController | None = None
_blas_users = 0
_blas_restore = None  # the threadpoolctl limiter that restores the previous BLAS threads


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def worker_count() -> int:
    """How many threads the engine splits a large pass over."""
    with _lock:
        return available_cores() if _workers is None else _workers


def set_worker_count(workers: int | None) -> None:
    """Use ``workers`` threads for the engine's passes (None: every core).

    The window calls ``set_worker_count(max(1, available_cores() - 1))`` so its
    GUI thread keeps a core.  Passes already running finish with the old pool.
    Raises ``ValueError`` for a count below 1.
    """
    global _workers, _pool
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"The number of engine workers must be an integer >= 1; got {workers!r}.")
    with _lock:
        if workers == _workers:
            return
        _workers = workers
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=False)


_background_nice = 0  # added to the nice value of every background thread (0: unchanged)


def set_background_priority(nice: int) -> None:
    """Run the engine's workers (and whoever calls :func:`lower_this_thread`) ``nice`` steps
    below normal priority, so a thread that must answer at once — the window's GUI thread —
    wins a core whenever it needs one, while EM still uses every core the rest of the time.
    Linux only (where a thread has its own nice value); elsewhere it does nothing."""
    global _background_nice, _pool
    with _lock:
        _background_nice = int(nice)
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=False)


def lower_this_thread() -> None:
    """Give the calling thread the background priority (see :func:`set_background_priority`)."""
    if _background_nice and hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           min(19, current + _background_nice))
        except OSError:  # not allowed here: priority is a nicety, never a failure
            pass


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            n = available_cores() if _workers is None else _workers
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="gmm-engine",
                                       initializer=lower_this_thread)
        return _pool


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the enclosed work with BLAS limited to one thread (reference-counted, process-wide).

    Enter it around work that runs beside other busy threads of this process
    (the engine's workers do; so should a sweep's concurrent cells).
    """
    global _controller, _blas_users, _blas_restore
    with _lock:
        if _blas_users == 0:
            if _controller is None:
                # Made on first use, after numpy and scipy have loaded their BLAS copies.
                _controller = ThreadpoolController()
            _blas_restore = _controller.limit(limits=1, user_api="blas")
            OpenBLASController.clear_controlling_thread(force=True)
        _blas_users += 1
    try:
        yield
    finally:
        with _lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_restore.restore_original_limits()
                OpenBLASController.clear_controlling_thread(force=True)
                _blas_restore = None


def _limited(function: Callable[[T], R]) -> Callable[[T], R]:
    def run(item: T) -> R:
        with single_threaded_blas():
            return function(item)
    return run


def map_blocks(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[function(item) for item in items]``, on the engine's workers when there are several.

    One item runs inline on the calling thread with BLAS as it is (a single
    large product may use BLAS's own threads); several run on the pool, each
    with a single-threaded BLAS.  Results come back in the order of ``items``.
    """
    if len(items) == 1 or worker_count() == 1 or getattr(_local, "serial", False):
        return [function(item) for item in items]
    return list(_executor().map(_limited(function), items))


@contextmanager
def serial_passes() -> Iterator[None]:
    """Passes started on this thread within the block run on this thread alone.

    For callers that already keep every core busy with tasks of their own (a
    sweep's cells, one per core): splitting each task's passes as well would
    oversubscribe the cores.  Such a task runs as::

        with parallel.serial_passes(), parallel.single_threaded_blas():
            ...  # em_steps, initialize, scoring
    """
    previous = getattr(_local, "serial", False)
    _local.serial = True
    try:
        yield
    finally:
        _local.serial = previous


#: A large pass is cut into this many blocks of rows whatever the number of workers, and
#: their sums are added in block order: the result is the same, to the last bit, on 1 worker
#: or on 8 (a sweep on worker processes equals the sequential one).
PASS_BLOCKS = 8


def row_blocks(n_rows: int, work_per_row: int, min_work: int) -> list[tuple[int, int]]:
    """Contiguous row ranges: :data:`PASS_BLOCKS` of them when the pass does at least
    ``min_work``, else one (a short pass gains nothing from more threads).

    The cut depends on the pass alone, never on :func:`worker_count` or on
    :func:`serial_passes`; those decide only how many threads run the blocks
    (:func:`map_blocks`).
    """
    if n_rows * work_per_row < min_work or n_rows < 2 * PASS_BLOCKS:
        return [(0, n_rows)]
    edges = [round(i * n_rows / PASS_BLOCKS) for i in range(PASS_BLOCKS + 1)]
    return list(zip(edges[:-1], edges[1:]))
