"""Milliseconds for one bound slice (L and B at 200 values of s) beside 200 plain L evaluations.

    python benchmarks/bench_bound.py [--n 100000] [--k 3] [--d 2,1] [--covariance all]
                                     [--points 200] [--repeats 9] [--workers N]

One row per covariance type ('all': full, tied, diag, spherical) and dimension.  The slice is the
default line from an E-step's θ⁽ᵗ⁾ to the next M-step's θ⁽ᵗ⁺¹⁾, with the E-step's
responsibilities given (as the E snapshot carries them).  The reference is the obvious way:
``EMData.mean_log_likelihood`` once per sample, 200 times.  Ours and the reference are timed
interleaved, so a busy machine slows both alike; the figures are medians over the repeats (the
reference's single call times the number of samples).  The target is 50 ms at N = 1e5, K = 3
(issue 9).  ``--workers`` sets the engine's worker count (default every core; the window uses
one core fewer).  The machine's load average is printed first: figures compare only within one
run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from gmm_studio.core import parallel  # noqa: E402
from gmm_studio.core.bound import bound_slice  # noqa: E402
from gmm_studio.core.em import EMData, em_steps  # noqa: E402
from gmm_studio.core.params import COVARIANCE_TYPES, MixtureParams  # noqa: E402

TARGET_MS = 50.0


def problem(n: int, d: int, k: int, covariance_type: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, d))
    x = centres[rng.integers(k, size=n)] + rng.normal(size=(n, d))
    data = EMData(x, covariance_type)
    init = MixtureParams("full", np.full(k, 1.0 / k), x[rng.choice(n, k, replace=False)],
                         np.tile(np.eye(d), (k, 1, 1)))
    if covariance_type != "full":
        init = data.params_from_responsibilities(data.responsibilities(init), 1e-6)
    steps = em_steps(data, init, max_iter=2, tol=0.0)
    snapshots = [next(steps) for _ in range(5)]  # init, E1, M1, E2, M2
    return data, snapshots[3], snapshots[4]


def seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure(n: int, d: int, k: int, covariance_type: str, points: int, repeats: int
            ) -> tuple[float, float]:
    """Median milliseconds of one slice and of ``points`` plain L evaluations."""
    data, e, m = problem(n, d, k, covariance_type)

    def ours() -> None:
        bound_slice(data, e.params, m.params, responsibilities=e.responsibilities,
                    n_points=points)

    def reference() -> None:
        data.mean_log_likelihood(m.params)

    ours()  # warm the thread pool and the caches
    reference()
    ours_s, reference_s = [], []
    for _ in range(repeats):
        ours_s.append(seconds(ours))
        reference_s.append(points * statistics.median(seconds(reference) for _ in range(3)))
    return 1e3 * statistics.median(ours_s), 1e3 * statistics.median(reference_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--d", default="2,1", help="dimensions, comma-separated")
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--covariance", default="all", choices=("all",) + COVARIANCE_TYPES)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    parallel.set_worker_count(args.workers)
    types = COVARIANCE_TYPES if args.covariance == "all" else (args.covariance,)

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"{parallel.worker_count()} engine workers")
    print(f"N={args.n} K={args.k}, {args.points} samples of s (+ 3 marks), medians of "
          f"{args.repeats}; target {TARGET_MS:.0f} ms")
    print(f"{'covariance':<11}{'D':>3}{'bound_slice ms':>16}{'reference ms':>14}"
          f"{'reference/ours':>16}{'target':>8}")
    for d in (int(v) for v in args.d.split(",")):
        for covariance_type in types:
            ours_ms, reference_ms = measure(args.n, d, args.k, covariance_type, args.points,
                                            args.repeats)
            verdict = "met" if ours_ms <= TARGET_MS else "MISSED"
            print(f"{covariance_type:<11}{d:>3}{ours_ms:>16.1f}{reference_ms:>14.1f}"
                  f"{reference_ms / ours_ms:>15.1f}x{verdict:>8}")


if __name__ == "__main__":
    main()
