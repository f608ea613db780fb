"""Seconds per EM iteration: GMM Studio's engine beside scikit-learn, in the same run.

    python benchmarks/bench_em.py [--quick]

Both start from the same parameters and run a fixed number of iterations
(tol=0), so the work is identical.  Set-up (validation, initialisation, the
final E-step) is excluded by timing fits of 2 and 2 + m iterations: the
figure is the median over repeats of (T(2 + m) - T(2)) / m.  Also reports peak memory of our fit (tracemalloc)
against the budget "twice the N×K float64 responsibilities plus the data".
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.mixture import GaussianMixture as SklearnMixture

from gmm_studio.core import GaussianMixture


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


def per_iteration(estimator_cls, x, init, k, iterations: int, repeats: int) -> float:
    """Seconds per EM iteration, set-up excluded: (T(2 + m) - T(2)) / m, median of repeats."""

    def fit_seconds(max_iter: int) -> float:
        model = estimator_cls(k, covariance_type="full", tol=0.0, max_iter=max_iter, **init)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter reached on purpose
            t0 = time.perf_counter()
            model.fit(x)
            return time.perf_counter() - t0

    times = []
    for _ in range(repeats):
        times.append((fit_seconds(2 + iterations) - fit_seconds(2)) / iterations)
    return statistics.median(times)


def peak_memory_mb(x, init, k, iterations: int) -> float:
    tracemalloc.start()
    model = GaussianMixture(k, covariance_type="full", tol=0.0, max_iter=iterations, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    k = 10
    cases = [(10_000, 2), (100_000, 2), (1_000_000, 2), (100_000, 5), (1_000_000, 5)]
    if args.quick:
        cases = [(10_000, 2), (100_000, 2), (100_000, 5)]
    print(f"{'N':>9} {'D':>2} {'K':>3} {'ours s/iter':>12} {'sklearn s/iter':>15} {'speed-up':>9}"
          f" {'peak MB':>8} {'budget MB':>10}")
    for n, d in cases:
        x, init = problem(n, d, k)
        iterations = 10 if n >= 1_000_000 else 20
        repeats = 3
        ours = per_iteration(GaussianMixture, x, init, k, iterations, repeats)
        ref = per_iteration(SklearnMixture, x, init, k, iterations, repeats)
        peak = peak_memory_mb(x, init, k, 3)
        budget = (2 * n * k * 8 + x.nbytes) / 2**20
        print(f"{n:>9} {d:>2} {k:>3} {ours:>12.4f} {ref:>15.4f} {ref / ours:>8.1f}x"
              f" {peak:>8.1f} {budget:>10.1f}", flush=True)


if __name__ == "__main__":
    main()
