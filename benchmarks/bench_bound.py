"""Milliseconds for one bound slice (L and B at 200 values of s) beside 200 plain L evaluations.

    python benchmarks/bench_bound.py [--n 100000] [--k 3] [--d 2] [--repeats 5]

The slice is the default line from an E-step's θ⁽ᵗ⁾ to the next M-step's θ⁽ᵗ⁺¹⁾, with the
E-step's responsibilities given (as the E snapshot carries them).  The reference is the obvious
way: ``EMData.mean_log_likelihood`` once per sample, 200 times, measured in the same run.
The target is 50 ms at N = 1e5 (issue 9).  Medians over the repeats.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from gmm_studio.core.bound import bound_slice  # noqa: E402
from gmm_studio.core.em import EMData, em_steps  # noqa: E402
from gmm_studio.core.params import MixtureParams  # noqa: E402


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


def median_ms(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--covariance", default="full")
    args = parser.parse_args()

    data, e, m = problem(args.n, args.d, args.k, args.covariance)

    def ours() -> None:
        bound_slice(data, e.params, m.params, responsibilities=e.responsibilities,
                    n_points=args.points)

    one = MixtureParams(e.params.covariance_type, m.params.weights, m.params.means,
                        m.params.covariances)

    def reference() -> None:
        data.mean_log_likelihood(one)

    ours()  # warm the thread pool and the caches
    ours_ms = median_ms(ours, args.repeats)
    reference()
    reference_ms = args.points * median_ms(reference, 5 * args.repeats)
    print(f"N={args.n} K={args.k} D={args.d} {args.covariance}, {args.points} samples of s")
    print(f"  bound_slice (L and B, 200 s + 3 marks): {ours_ms:8.1f} ms   (target 50 ms)")
    print(f"  reference: one mean_log_likelihood x {args.points}:   {reference_ms:8.1f} ms")
    print(f"  ratio reference / ours: {reference_ms / ours_ms:5.1f}x")


if __name__ == "__main__":
    main()
