"""Seconds per EM iteration and peak memory: GMM Studio's engine beside scikit-learn, same run.

    python benchmarks/bench_em.py [--quick] [--only speed|memory|blas]

Speed: both start from the same parameters and run a fixed number of
iterations (tol=0), so the work is identical.  Set-up (validation,
initialisation, the final E-step) is excluded by timing fits of 2 and 2 + m
iterations: the figure is the median over repeats of (T(2 + m) - T(2)) / m,
ours and scikit-learn's interleaved so a busy machine slows both alike.  The
1-D row sits beside the 2-D one of the same N: "ns/pt" is the time per point
per iteration, which the engine's 1-D path should match.

Memory: peak traced allocation (tracemalloc; numpy reports its buffers to it) of
one whole fit on wide data (D = 2000, N = 300), ours beside scikit-learn's.

BLAS: the cost of entering and leaving the engine's single-threaded-BLAS limit
(``gmm_studio.core.parallel.single_threaded_blas``), which every pass split over
the engine's workers pays.

The machine's load average is printed first: the figures are only comparable
within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.mixture import GaussianMixture as SklearnMixture  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from gmm_studio.core import GaussianMixture, parallel  # noqa: E402


def problem(n: int, d: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=5.0, size=(k, d))
    x = centers[rng.integers(k, size=n)] + rng.normal(size=(n, d))
    init = dict(
        weights_init=np.full(k, 1.0 / k),
        means_init=x[rng.choice(n, k, replace=False)],
        precisions_init=np.tile(np.eye(d), (k, 1, 1)),
    )
    return x, init


def fit_seconds(estimator_cls, x, init, k, max_iter: int, tol: float = 0.0) -> float:
    model = estimator_cls(k, covariance_type="full", tol=tol, max_iter=max_iter, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached on purpose; wide data collapse
        t0 = time.perf_counter()
        model.fit(x)
        return time.perf_counter() - t0


def per_iteration(x, init, k, iterations: int, repeats: int) -> tuple[float, float, float]:
    """Seconds per EM iteration, set-up excluded, median of repeats: ours, scikit-learn's
    as it comes (multi-threaded BLAS) and scikit-learn's with one BLAS thread (which is
    faster on a busy machine, where OpenBLAS's threads wait for cores)."""
    times: list[list[float]] = [[], [], []]

    def seconds(cls) -> float:
        long = fit_seconds(cls, x, init, k, 2 + iterations)
        return (long - fit_seconds(cls, x, init, k, 2)) / iterations

    for _ in range(repeats):
        times[0].append(seconds(GaussianMixture))
        times[1].append(seconds(SklearnMixture))
        with threadpool_limits(1, user_api="blas"):
            times[2].append(seconds(SklearnMixture))
    ours, ref, ref_single = (statistics.median(t) for t in times)
    return ours, ref, ref_single


def speed(quick: bool) -> None:
    k = 10
    cases = [(10_000, 2), (100_000, 2), (1_000_000, 2), (1_000_000, 1), (100_000, 5),
             (100_000, 20), (100_000, 50), (1_000_000, 5)]
    if quick:
        cases = [(100_000, 2), (100_000, 1), (100_000, 20), (100_000, 50)]
    print(f"speed, K = {k}, full covariances, {parallel.worker_count()} engine workers")
    print(f"{'N':>9} {'D':>3} {'ours s/iter':>12} {'sklearn':>9} {'speed-up':>9}"
          f" {'sklearn 1-BLAS':>15} {'speed-up':>9} {'ours ns/pt':>11}")
    for n, d in cases:
        x, init = problem(n, d, k)
        iterations = 5 if n * d >= 5_000_000 else 10
        ours, ref, single = per_iteration(x, init, k, iterations, repeats=3)
        print(f"{n:>9} {d:>3} {ours:>12.4f} {ref:>9.4f} {ref / ours:>8.2f}x"
              f" {single:>15.4f} {single / ours:>8.2f}x {ours / n * 1e9:>11.1f}", flush=True)


def peak_mb(estimator_cls, x, init, k, max_iter: int, tol: float) -> float:
    tracemalloc.start()
    fit_seconds(estimator_cls, x, init, k, max_iter, tol)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def memory(quick: bool) -> None:
    n, d, k = (300, 2000, 2) if not quick else (300, 1000, 2)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(n // 2, d)), rng.normal(size=(n - n // 2, d)) + 2.0])
    init = dict(weights_init=np.full(k, 1.0 / k), means_init=x[[0, n - 1]],
                precisions_init=np.tile(np.eye(d), (k, 1, 1)))
    data_mb = x.nbytes / 2**20
    params_mb = k * d * d * 8 / 2**20
    print(f"\npeak memory of one fit (tol 1e-3, converges in a few iterations), N = {n},"
          f" D = {d}, K = {k}, full; data {data_mb:.1f} MB, one K×D×D array {params_mb:.1f} MB")
    ours = peak_mb(GaussianMixture, x, init, k, 100, 1e-3)
    ref = peak_mb(SklearnMixture, x, init, k, 100, 1e-3)
    engine = engine_peak_mb(x, init, k)
    print(f"GaussianMixture.fit {ours:8.1f} MB   sklearn {ref:8.1f} MB   ratio {ours / ref:.2f}")
    print(f"engine alone        {engine:8.1f} MB   sklearn {ref:8.1f} MB   ratio {engine / ref:.2f}"
          "   (em_steps, no history kept)", flush=True)


def engine_peak_mb(x, init, k) -> float:
    """Peak of the engine itself: the same fit through em_steps, keeping no snapshots
    (GaussianMixture also keeps every iteration's parameters in ``restarts_``)."""
    from gmm_studio.core import EMData, MixtureParams, em_steps

    covariances = np.linalg.inv(init["precisions_init"])
    start = MixtureParams("full", init["weights_init"], init["means_init"], covariances)
    del covariances
    tracemalloc.start()
    for _ in em_steps(EMData(x, "full"), start, tol=1e-3, keep_responsibilities=False):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def blas(quick: bool) -> None:
    from threadpoolctl import threadpool_info

    rounds = 200 if quick else 2000
    with parallel.single_threaded_blas():  # first use builds the controller: not timed
        pass
    t0 = time.perf_counter()
    for _ in range(rounds):
        with parallel.single_threaded_blas():
            pass
    cost = (time.perf_counter() - t0) / rounds
    inside = parallel.map_blocks(
        lambda _: sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}),
        [0, 1])
    outside = sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
    print(f"\nBLAS limit: {cost * 1e6:.1f} µs to enter and leave; BLAS threads inside the"
          f" engine's workers {inside}, outside {outside}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", choices=("speed", "memory", "blas"))
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name, part in (("speed", speed), ("memory", memory), ("blas", blas)):
        if args.only in (None, name):
            part(args.quick)


if __name__ == "__main__":
    main()
