"""Time a K sweep with GMM Studio's engine against the same sweep with scikit-learn.

The sweep: K = 1..9 × the four covariance types × 5 restarts per cell on N 2-D
points (default 1e4, four rotated components), tol 1e-3, max_iter 100,
reg_covar 1e-6, k-means initialisation, a fifth of the rows held out.  Each cell
is scored with BIC, AIC, ICL, training and held-out log-likelihood.

Reference: ``sklearn.mixture.GaussianMixture(n_init=5)`` per cell, sequential,
fitted on the same training rows and scored the same way (``bic``, ``aic``,
``score``, and ICL from ``predict_proba``).

Ours is run three ways — on the calling thread (``seq``), on a pool of two
threads (``thread``, what the program does), on a pool of two 'spawn' processes
(``process``, start-up included, defined here only) — so the pool choice in
:mod:`gmm_studio.core.sweep` can be checked on this machine.  The sweep uses its
default k-means initialisation on a 2000-row subsample; scikit-learn runs k-means
on every row.  OpenBLAS's thread pool makes tiny LAPACK calls very slow on a busy
machine: compare with ``OPENBLAS_NUM_THREADS=1``.  Rounds are interleaved (every variant once per round) so a busy
machine slows them alike; the median over rounds is reported.

Run from the repository root::

    python benchmarks/bench_sweep.py [--n 10000] [--rounds 3] [--variants seq thread process sklearn]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from gmm_studio.core.generate import GeneratorSettings, generate  # noqa: E402
from gmm_studio.core.selection import entropy  # noqa: E402
from gmm_studio.core.sweep import (  # noqa: E402
    SweepResult,
    SweepSettings,
    _cell_order,
    _fit_cell,
    _Prepared,
    run_sweep,
)

# ------------------------------------------------------------- the process-pool variant
# Not in gmm_studio: it lost (see the module docstring of gmm_studio.core.sweep).

_worker_prepared: _Prepared | None = None


def _init_worker(x: np.ndarray, settings: SweepSettings) -> None:
    global _worker_prepared
    _worker_prepared = _Prepared(x, settings)


def _fit_cell_in_worker(k: int, t: str):
    return _fit_cell(_worker_prepared, k, t, None)


def run_sweep_processes(x: np.ndarray, settings: SweepSettings) -> SweepResult:
    """The same cells on two 'spawn' processes (start-up included)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context, initializer=_init_worker,
                             initargs=(x, settings)) as pool:
        cells = list(pool.map(_fit_cell_in_worker, *zip(*_cell_order(settings))))
    prepared = _Prepared(x, settings)
    return SweepResult(settings, tuple(cells), False, len(prepared.x_train),
                       len(prepared.x_val), 0.0)


def sweep_ours(x: np.ndarray, settings: SweepSettings, variant: str) -> str:
    if variant == "seq":
        result = run_sweep(x, settings, max_workers=1)
    elif variant == "thread":
        result = run_sweep(x, settings, max_workers=2)
    else:
        result = run_sweep_processes(x, settings)
    best = result.best("bic")
    na = sum(1 for c in result.cells if not c.ok)
    return f"BIC picks K={best.n_components} {best.covariance_type}; {na} NA cells"


def sweep_sklearn(x: np.ndarray, settings: SweepSettings) -> str:
    from sklearn.mixture import GaussianMixture

    prepared = _Prepared(x, settings)
    train, val = prepared.x_train, prepared.x_val
    best = (np.inf, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in settings.k_values:
            for t in settings.covariance_types:
                gm = GaussianMixture(
                    k, covariance_type=t, tol=settings.tol, reg_covar=settings.reg_covar,
                    max_iter=settings.max_iter, n_init=settings.n_init, random_state=settings.seed,
                ).fit(train)
                b = gm.bic(train)
                gm.aic(train)
                b + 2.0 * entropy(gm.predict_proba(train))  # ICL
                gm.score(train)
                gm.score(val)
                if b < best[0]:
                    best = (b, f"K={k} {t}")
    return f"BIC picks {best[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, default=1e4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=["seq", "thread", "process", "sklearn"],
                        choices=["seq", "thread", "process", "sklearn"])
    args = parser.parse_args()

    x = generate(GeneratorSettings(n_components=4, n_samples=int(args.n), seed=1)).values
    settings = SweepSettings()
    print(f"N={len(x)}, K={settings.k_values[0]}..{settings.k_values[-1]}, "
          f"{len(settings.covariance_types)} types, {settings.n_init} restarts, "
          f"{args.rounds} round(s)", flush=True)
    times: dict[str, list[float]] = {v: [] for v in args.variants}
    cpu: dict[str, list[float]] = {v: [] for v in args.variants}
    for round_ in range(args.rounds):
        for variant in args.variants:
            began, began_cpu = time.perf_counter(), time.process_time()
            if variant == "sklearn":
                note = sweep_sklearn(x, settings)
            else:
                note = sweep_ours(x, settings, variant)
            times[variant].append(time.perf_counter() - began)
            cpu[variant].append(time.process_time() - began_cpu)
            print(f"  round {round_ + 1} {variant:8s} {times[variant][-1]:7.2f} s wall "
                  f"{cpu[variant][-1]:7.2f} s cpu  ({note})", flush=True)
    print("median seconds (wall, cpu of this process), and sklearn / this:")
    for variant in args.variants:
        line = (f"  {variant:8s} {statistics.median(times[variant]):7.2f} wall "
                f"{statistics.median(cpu[variant]):7.2f} cpu")
        if "sklearn" in times and variant != "sklearn":
            # Per round, so a load spike on a shared machine hits both sides of a ratio alike.
            ratios = [s / o for s, o in zip(times["sklearn"], times[variant])]
            line += (f"   ratio of medians {statistics.median(times['sklearn']) / statistics.median(times[variant]):5.1f}x"
                     f", median per-round ratio {statistics.median(ratios):5.1f}x")
        print(line)


if __name__ == "__main__":
    main()
