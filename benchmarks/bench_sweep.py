"""Time a K sweep with GMM Studio's engine against the same sweep with scikit-learn.

The sweep: K = 1..9 × the four covariance types × 5 restarts per cell on N 2-D
points (1e4 and 1e5 by default, four rotated components), tol 1e-3, max_iter 100,
reg_covar 1e-6, k-means initialisation, a fifth of the rows held out.  Each cell
is scored with BIC, AIC, ICL, training and held-out log-likelihood.

Reference: ``sklearn.mixture.GaussianMixture(n_init=5)`` per cell, sequential,
fitted on the same training rows and scored the same way (``bic``, ``aic``,
``score``, and ICL from ``predict_proba``).

Ours runs with 1 worker (every cell on the calling thread) and with 2 worker
processes (:mod:`gmm_studio.core.sweep_pool`, what the program does).  The pool is
started once, before the rounds, and its start-up is printed on its own: the program
starts it in the background before the first sweep.  Rounds are interleaved (every
variant once per round) so a busy machine slows them alike; medians over rounds and
per-round ratios are reported.

Run from the repository root::

    python benchmarks/bench_sweep.py [--n 1e4 1e5] [--rounds 3] [--variants 1 2 sklearn]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from gmm_studio.core import sweep_pool  # noqa: E402
from gmm_studio.core.generate import GeneratorSettings, generate  # noqa: E402
from gmm_studio.core.selection import entropy  # noqa: E402
from gmm_studio.core.sweep import SweepSettings, _Prepared, run_sweep  # noqa: E402


def sweep_ours(x: np.ndarray, settings: SweepSettings, workers: int) -> tuple[str, object]:
    result = run_sweep(x, settings, max_workers=workers)
    best = result.best("bic")
    na = sum(1 for c in result.cells if not c.ok)
    return f"BIC picks K={best.n_components} {best.covariance_type}; {na} NA cells", result


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
    parser.add_argument("--n", type=float, nargs="+", default=[1e4, 1e5])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=["1", "2", "sklearn"],
                        choices=["1", "2", "sklearn"])
    args = parser.parse_args()
    settings = SweepSettings()
    began = time.perf_counter()
    for future in sweep_pool.warm_up(2):
        future.result()
    print(f"worker pool start-up (once per program): {time.perf_counter() - began:.2f} s")
    for n in args.n:
        x = generate(GeneratorSettings(n_components=4, n_samples=int(n), seed=1)).values
        print(f"N={len(x)}, K={settings.k_values[0]}..{settings.k_values[-1]}, "
              f"{len(settings.covariance_types)} types, {settings.n_init} restarts, "
              f"{args.rounds} round(s)", flush=True)
        times: dict[str, list[float]] = {v: [] for v in args.variants}
        results = {}
        for round_ in range(args.rounds):
            for variant in args.variants:
                began = time.perf_counter()
                if variant == "sklearn":
                    note = sweep_sklearn(x, settings)
                else:
                    note, results[variant] = sweep_ours(x, settings, int(variant))
                times[variant].append(time.perf_counter() - began)
                print(f"  round {round_ + 1} {variant:>7s} {times[variant][-1]:7.2f} s  ({note})",
                      flush=True)
        if "1" in results and "2" in results:
            same = all(dict(a.values) == dict(b.values)
                       for a, b in zip(results["1"].cells, results["2"].cells))
            print(f"  2 workers give the same scores as 1, to the last bit: {same}")
        print("  median seconds, and per-round speed-ups:")
        for variant in args.variants:
            line = f"    {variant:>7s} {statistics.median(times[variant]):7.2f} s"
            for ref in ("1", "sklearn"):
                if ref in times and variant != ref and not (ref == "1" and variant == "sklearn"):
                    ratios = [r / o for r, o in zip(times[ref], times[variant])]
                    line += f"   {ref}/this {statistics.median(ratios):5.2f}x"
            print(line)


if __name__ == "__main__":
    main()
