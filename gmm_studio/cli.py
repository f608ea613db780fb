"""Headless commands: ``gmm-studio fit | generate | sweep``.

Everything the window does that is not drawing, from a terminal or a script::

    gmm-studio generate --k 3 --n 500 --seed 1 --out data.csv --truth truth.json
    gmm-studio fit data.csv -k 3 --label-column label --out model.json --assignments points.csv
    gmm-studio sweep data.csv --k 1-8 --covariance full,diag --criterion bic

Imports only :mod:`gmm_studio.core` — never Qt — so it runs on servers without a
display.  Exit status 0 on success, 2 on bad input or options, with one line
``gmm-studio: error: ...`` on stderr and no traceback; 143 when terminated
(SIGTERM), 130 when interrupted.  Warnings from the fit (no convergence, a
collapsed component) are one ``warning: ...`` line each.

Outputs (``--out``, ``--assignments``, ``--history``, ``--truth``) are checked before
any work: none may be the data file or another output (compared by resolved path
and by device and inode, so symlinks and hard links count), and folders, devices
(``/dev/null`` too), pipes and sockets are refused.  A symlink is written through
to its target.  Every file is written atomically (see :mod:`gmm_studio.core.export`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from typing import NoReturn, TextIO

import numpy as np

from gmm_studio.core.generate import (
    MAX_COMPONENTS,
    MAX_FEATURES,
    MAX_OUTLIER_FRACTION,
    MAX_SAMPLES,
    MAX_SEPARATION,
    MIN_FEATURES,
    MIN_SEPARATION,
)
from gmm_studio.core.params import COVARIANCE_TYPES

PROG = "gmm-studio"


class UsageError(Exception):
    """Bad command-line options; the message is shown after ``gmm-studio: error:``."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors become one line instead of usage + exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# --------------------------------------------------------------------------- argument types


#: Upper bounds of the sizes people type.  They keep a typo (an extra zero or six)
#: from becoming hours of work or an allocation the machine cannot make, and each
#: is printed in --help.
MAX_K = 1000
MAX_N_INIT = 1000
MAX_ITER = 100_000
MAX_JOBS = 64
MAX_SEED = 2**32 - 1


def _integer(text: str) -> int | None:
    """``text`` as an integer (``1000``, ``1e6``), or None."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _int_in(low: int, high: int):
    """An argparse type: an integer from ``low`` to ``high``."""

    def parse(text: str) -> int:
        value = _integer(text)
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high:,}, got {text!r}")
        return value

    return parse


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def _fraction(text: str) -> float:
    """A fraction in [0, 1], written as 0.05 or 5%."""
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw[:-1] if percent else raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction such as 0.05 or 5%, got {text!r}") from None
    return value / 100.0 if percent else value


def _covariance_type(text: str) -> str:
    if text not in COVARIANCE_TYPES:
        raise argparse.ArgumentTypeError(
            f"invalid covariance type {text!r} (choose from {', '.join(COVARIANCE_TYPES)})"
        )
    return text


def _covariance_list(text: str) -> tuple[str, ...]:
    if text.strip() == "all":
        return COVARIANCE_TYPES
    items = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    if not items:
        raise argparse.ArgumentTypeError("expected covariance types such as full,diag")
    for item in items:
        _covariance_type(item)
    return items


def _column_list(text: str) -> tuple[str, ...]:
    items = tuple(c.strip() for c in text.split(","))
    if not all(items):
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {text!r}")
    return items


def _k_range(text: str) -> tuple[int, ...]:
    """``3``, ``1-9`` or ``2,4,8`` (or a mix: ``1-3,6``), every K from 1 to MAX_K."""
    values: set[int] = set()
    try:
        for part in text.split(","):
            low, dash, high = part.strip().partition("-")
            low = int(low)
            high = int(high) if dash else low
            if high < low:
                raise ValueError
            if low < 1 or high > MAX_K:
                raise argparse.ArgumentTypeError(f"every K must be from 1 to {MAX_K}; got {text!r}")
            values.update(range(low, high + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected K as a number, a range such as 1-9, or a list such as 2,4,8; got {text!r}"
        ) from None
    return tuple(sorted(values))


# --------------------------------------------------------------------------- parser


_OUTPUT_RULES = (
    "Outputs are written atomically (a half-written file never replaces an old one) and "
    "checked before any work: none may be the data file or another output (symlinks and "
    "hard links included); folders, devices such as /dev/null, pipes and sockets are "
    "refused; a symlink is written through to its target."
)


def build_parser() -> argparse.ArgumentParser:
    """The ``gmm-studio`` command-line parser (subcommands fit, generate, sweep)."""
    parser = _Parser(
        prog=PROG,
        description="Fit, generate and compare Gaussian mixture models without the window.",
        epilog="Run 'gmm-studio COMMAND --help' for a command's options. Exit status: 0 done, "
               "2 bad input or options (one 'gmm-studio: error:' line says what to change).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fit = commands.add_parser(
        "fit", help="fit a Gaussian mixture to a data file and report it",
        description="Fit a Gaussian mixture by EM to a CSV/TSV/TXT/.npy file, print a summary, "
                    "and optionally export the model, per-point assignments and the "
                    "log-likelihood history.",
        epilog=_OUTPUT_RULES,
    )
    fit.add_argument("data", metavar="DATA", help="data file (.csv, .tsv, .txt, .dat or .npy)")
    fit.add_argument("-k", "--k", dest="k", type=_int_in(1, MAX_K), required=True,
                     help=f"number of components K, 1 to {MAX_K} and at most the number of rows")
    _add_data_options(fit)
    fit.add_argument("--covariance", type=_covariance_type, default="full",
                     help="covariance type: " + ", ".join(COVARIANCE_TYPES) + " (default full)")
    fit.add_argument("--seed", type=_int_in(0, MAX_SEED), default=0,
                     help=f"random seed of the initialisation, 0 to {MAX_SEED} (default 0)")
    fit.add_argument("--n-init", type=_int_in(1, MAX_N_INIT), default=1,
                     help=f"number of initialisations, 1 to {MAX_N_INIT}; the best is kept "
                          "(default 1)")
    fit.add_argument("--max-iter", type=_int_in(0, MAX_ITER), default=100,
                     help=f"maximum EM iterations per initialisation, 0 to {MAX_ITER:,} "
                          "(default 100)")
    fit.add_argument("--tol", type=_non_negative_float, default=1e-3,
                     help="stop when the mean log-likelihood changes by less (default 1e-3)")
    fit.add_argument("--reg-covar", type=_non_negative_float, default=1e-6,
                     help="added to every covariance's diagonal (default 1e-6)")
    fit.add_argument("--init", dest="init_params", default="kmeans",
                     choices=("kmeans", "k-means++", "random", "random_from_data"),
                     help="initialisation (default kmeans)")
    fit.add_argument("--algorithm", choices=("em", "kmeans"), default="em",
                     help="em (a Gaussian mixture, default) or kmeans (Lloyd's K-means: hard "
                          "assignments; the model file holds its centres as a spherical mixture)")
    fit.add_argument("--out", metavar="MODEL.json", help="write the fitted model as JSON")
    fit.add_argument("--assignments", metavar="POINTS.csv",
                     help="write each row's component, responsibilities and uncertainty")
    fit.add_argument("--history", metavar="LL.csv",
                     help="write the log-likelihood L and the bound B after every half-step of "
                          "every restart (each of the row's own parameters: L is empty on M rows, "
                          "it is the next E row's)")
    fit.set_defaults(run=_run_fit)

    gen = commands.add_parser(
        "generate", help="draw a synthetic data set from a known mixture",
        description="Draw points by the mixture's generative process and write them as CSV "
                    "(columns x1..xD and label; outliers have label -1). The CSV is written "
                    "as it is drawn, so memory does not grow with --n.",
        epilog=_OUTPUT_RULES,
    )
    gen.add_argument("--k", type=_int_in(1, MAX_COMPONENTS), default=3,
                     help=f"number of components, 1 to {MAX_COMPONENTS} (default 3)")
    gen.add_argument("--n", type=_int_in(1, MAX_SAMPLES), default=1000,
                     help=f"number of points, K to {MAX_SAMPLES:,}; may be written 1e6 "
                          "(default 1000)")
    gen.add_argument("--dim", type=_int_in(MIN_FEATURES, MAX_FEATURES), default=2,
                     help=f"dimension D, {MIN_FEATURES} to {MAX_FEATURES} (default 2); in 1-D "
                          "the Gaussian shapes differ only in their widths, and moons and rings "
                          "need 2")
    gen.add_argument("--shape", default="rotated",
                     help="spherical, axis_aligned, rotated, random, anisotropic, moons, rings or "
                          "uniform_square (default rotated)")
    gen.add_argument("--separation", type=float, default=3.0,
                     help="distance between the closest means in standard deviations, "
                          f"{MIN_SEPARATION:g} to {MAX_SEPARATION:g} (default 3)")
    gen.add_argument("--weights", default="equal",
                     help="equal, imbalanced, or K comma-separated positive numbers (default equal)")
    gen.add_argument("--outliers", type=_fraction, default=0.0,
                     help=f"fraction of uniform background points, 0 to {MAX_OUTLIER_FRACTION:g}, "
                          "e.g. 0.05 or 5%% (default 0)")
    gen.add_argument("--seed", type=_int_in(0, MAX_SEED), default=0,
                     help=f"random seed, 0 to {MAX_SEED} (default 0)")
    gen.add_argument("--out", required=True, metavar="DATA.csv", help="where to write the points")
    gen.add_argument("--truth", metavar="TRUTH.json",
                     help="write the generating mixture as a model file (Gaussian shapes only)")
    gen.set_defaults(run=_run_generate)

    sweep = commands.add_parser(
        "sweep", help="fit a range of K and covariance types and choose one",
        description="Fit every K and covariance type, score each by a criterion, print the "
                    "table and the best model.",
        epilog=_OUTPUT_RULES,
    )
    sweep.add_argument("data", metavar="DATA", help="data file (.csv, .tsv, .txt, .dat or .npy)")
    sweep.add_argument("--k", dest="k", type=_k_range, default=tuple(range(1, 10)),
                       help=f"values of K from 1 to {MAX_K}: 1-9, 2,4,8 or 3 (default 1-9)")
    _add_data_options(sweep)
    sweep.add_argument("--covariance", type=_covariance_list, default=("full",),
                       help="comma-separated covariance types, or all (default full)")
    sweep.add_argument("--n-init", type=_int_in(1, MAX_N_INIT), default=5,
                       help=f"initialisations per K and type, 1 to {MAX_N_INIT} (default 5)")
    sweep.add_argument("--criterion", default="bic",
                       help="bic, aic, icl (lower is better), train_ll or heldout_ll (higher is "
                            "better) (default bic)")
    sweep.add_argument("--validation", type=_fraction, default=0.2,
                       help="fraction of rows held out for heldout_ll, e.g. 0.2 or 20%%; 0 for "
                            "none (default 0.2)")
    sweep.add_argument("--jobs", type=_int_in(1, MAX_JOBS), default=2,
                       help=f"fits run at once, 1 to {MAX_JOBS} (default 2)")
    sweep.add_argument("--seed", type=_int_in(0, MAX_SEED), default=0,
                       help=f"random seed, 0 to {MAX_SEED} (default 0)")
    sweep.add_argument("--max-iter", type=_int_in(0, MAX_ITER), default=100,
                       help=f"maximum EM iterations per fit, 0 to {MAX_ITER:,} (default 100)")
    sweep.add_argument("--tol", type=_non_negative_float, default=1e-3,
                       help="convergence tolerance (default 1e-3)")
    sweep.add_argument("--reg-covar", type=_non_negative_float, default=1e-6,
                       help="added to every covariance's diagonal (default 1e-6)")
    sweep.add_argument("--out", metavar="SWEEP.csv", help="write the table of scores as CSV")
    sweep.set_defaults(run=_run_sweep)
    return parser


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--columns", type=_column_list,
                        help="comma-separated columns to use (default: every numeric column "
                             "except row indexes, constant columns and the label column; a "
                             "note on stderr names what was left out)")
    parser.add_argument("--label-column", metavar="NAME",
                        help="column of known classes: excluded from the fit, compared by ARI "
                             "(default: a column named label, class, species, ... or a lone "
                             "text column)")
    parser.add_argument("--standardize", action="store_true",
                        help="scale every column to mean 0 and standard deviation 1 first")
    parser.add_argument("--missing", choices=("drop", "impute"), default="drop",
                        help="drop rows with missing values or fill them with column means "
                             "(default drop)")


# --------------------------------------------------------------------------- helpers


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


class _Warnings:
    """Collect warnings raised inside a block and print each once as ``warning: ...``."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def __enter__(self) -> _Warnings:
        self._context = warnings.catch_warnings(record=True)
        self.caught = self._context.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._context.__exit__(*exc_info)
        seen: set[str] = set()
        for item in self.caught:
            text = _one_line(item.message)
            if text not in seen:
                seen.add(text)
                print(f"warning: {text}", file=self.stream)


def _load(args: argparse.Namespace, err: TextIO):
    """Read the data as the import dialog would by default; say on ``err`` what was left out."""
    from gmm_studio.core.dataio import (
        ImportOptions,
        looks_like_labels,
        prepare_dataset,
        read_table,
        scale_warning,
        suggest_import,
    )

    table = read_table(args.data)
    options = ImportOptions(
        columns=args.columns, label_column=args.label_column, missing=args.missing,
        standardize=args.standardize,
    )
    suggestion = suggest_import(table, args.label_column)
    suggested = args.columns is None and bool(suggestion.features)  # (with none, prepare_dataset says why)
    if suggested:
        options = suggestion.options(args.missing, args.standardize)
    dataset = prepare_dataset(table, options)
    if suggested and suggestion.excluded:
        print(f"note: {suggestion.notice()}; choose with --columns and --label-column", file=err)
    if not args.standardize and (warning := scale_warning(table, dataset.columns)):
        print(f"warning: {warning} Pass --standardize.", file=err)
    if dataset.label_column is None:
        for name in (c for c in dataset.columns if looks_like_labels(table, c)):
            print(f"warning: column {name!r} is fitted as a feature but holds class ids; if they "
                  f"are known classes, pass --label-column {name} to compare with them instead",
                  file=err)
    return dataset


def _check_files(args: argparse.Namespace, *outputs: str) -> None:
    """Refuse a missing DATA or unusable outputs before any work rather than after it.

    ``outputs`` are option names (``"--out"``); the unset ones are skipped.  (Data
    that is not a regular file, a FIFO or /dev/zero, is refused by the loader.)
    """
    from gmm_studio.core.export import check_output_paths

    data = getattr(args, "data", None)
    if data is not None and not os.path.exists(data):
        raise UsageError(f"{data}: no such file")
    chosen = [(name, getattr(args, name.lstrip("-").replace("-", "_"))) for name in outputs]
    check_output_paths([(name, path) for name, path in chosen if path],
                       [("the data file", data)] if data is not None else ())


def _vector(values: np.ndarray) -> str:
    return "[" + ", ".join(format(float(v), ".4g") for v in values) + "]"


# --------------------------------------------------------------------------- fit


def _run_fit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gmm_studio.core.export import (
        save_model_json,
        write_assignments_csv,
        write_history_csv,
    )
    from gmm_studio.core.generate import adjusted_rand_index
    from gmm_studio.core.mixture import GaussianMixture

    _check_files(args, "--out", "--assignments", "--history")
    dataset = _load(args, err)
    x = dataset.values
    if args.algorithm == "kmeans":
        return _fit_kmeans(args, dataset, out, err)
    gm = GaussianMixture(
        args.k, covariance_type=args.covariance, tol=args.tol, reg_covar=args.reg_covar,
        max_iter=args.max_iter, n_init=args.n_init, init_params=args.init_params,
        random_state=args.seed,
    )
    with _Warnings(err):
        gm.fit(x)
    n, d = x.shape
    resp = gm.predict_proba(x)
    labels = resp.argmax(axis=1)
    log_likelihood = gm.score(x)
    criteria = {"bic": gm.bic(x), "aic": gm.aic(x), "icl": gm.icl(x)}

    print(f"data: {dataset.source}  N={n}  D={d}  columns: {', '.join(dataset.columns)}", file=out)
    for note in dataset.notes:
        print(f"  note: {note}", file=out)
    if dataset.center is not None:
        print("  standardised: the parameters below are in standard units", file=out)
    print(f"model: K={args.k}  covariance={args.covariance}  seed={args.seed}  n_init={args.n_init}",
          file=out)
    print(f"iterations: {gm.n_iter_}  converged: {'yes' if gm.converged_ else 'no'}", file=out)
    print(f"log-likelihood per point: {log_likelihood:.6f}", file=out)
    print(f"BIC: {criteria['bic']:.6g}  AIC: {criteria['aic']:.6g}  ICL: {criteria['icl']:.6g}",
          file=out)
    counts = np.bincount(labels, minlength=args.k)
    for j in range(args.k):
        print(f"  component {j + 1}: weight {gm.weights_[j]:.4f}  points {counts[j]}  "
              f"mean {_vector(gm.means_[j])}", file=out)
    ari = None
    if dataset.labels is not None:
        ari = adjusted_rand_index(dataset.labels, labels)
        print(f"ARI vs {dataset.label_column}: {ari:.4f}", file=out)

    if args.out:
        settings = {
            "data": os.path.abspath(args.data), "n_components": args.k,
            "covariance_type": args.covariance, "tol": args.tol, "reg_covar": args.reg_covar,
            "max_iter": args.max_iter, "n_init": args.n_init, "init_params": args.init_params,
            "seed": args.seed, "label_column": dataset.label_column, "standardize": args.standardize,
            "missing": args.missing,
        }
        if ari is not None:
            settings["ari"] = ari
        save_model_json(
            args.out, gm.params(), columns=dataset.columns, log_likelihood=log_likelihood,
            n_iter=gm.n_iter_, converged=gm.converged_, criteria=criteria, n_samples=n,
            settings=settings, preprocessing={"center": dataset.center, "scale": dataset.scale},
            seed=args.seed,
        )
        print(f"wrote model: {args.out}", file=out)
    if args.assignments:
        write_assignments_csv(args.assignments, dataset.original_values(), dataset.columns, resp,
                              row_index=dataset.row_index)
        print(f"wrote assignments: {args.assignments}", file=out)
    if args.history:
        write_history_csv(args.history, gm.restarts_)
        print(f"wrote history: {args.history}", file=out)
    return 0


def _fit_kmeans(args: argparse.Namespace, dataset, out: TextIO, err: TextIO) -> int:
    """``fit --algorithm kmeans``: Lloyd's K-means, reported and written like an EM fit."""
    from gmm_studio.core.export import save_model_json, write_assignments_csv, write_history_csv
    from gmm_studio.core.generate import adjusted_rand_index
    from gmm_studio.core.kmeans import kmeans_fit

    if args.covariance != "full":
        print("warning: --covariance is ignored by --algorithm kmeans (its clusters are "
              "spheres)", file=err)
    x = dataset.values
    result = kmeans_fit(x, args.k, init=args.init_params, n_init=args.n_init,
                        max_iter=args.max_iter, tol=args.tol, random_state=args.seed)
    for event in result.events:
        print(f"warning: {_one_line(event.message)}", file=err)
    n, d = x.shape
    print(f"data: {dataset.source}  N={n}  D={d}  columns: {', '.join(dataset.columns)}", file=out)
    print(f"model: K-means  K={args.k}  seed={args.seed}  n_init={args.n_init}", file=out)
    print(f"iterations: {result.n_iter}  converged: {'yes' if result.converged else 'no'}", file=out)
    print(f"within-cluster sum of squares: {result.inertia:.6g}", file=out)
    counts = np.bincount(result.labels, minlength=args.k)
    for j in range(args.k):
        print(f"  cluster {j + 1}: points {counts[j]}  centre {_vector(result.centres[j])}", file=out)
    settings = {"data": os.path.abspath(args.data), "algorithm": "kmeans", "n_components": args.k,
                "tol": args.tol, "max_iter": args.max_iter, "n_init": args.n_init,
                "init_params": args.init_params, "seed": args.seed,
                "label_column": args.label_column, "standardize": args.standardize,
                "missing": args.missing, "inertia": result.inertia}
    if dataset.labels is not None:
        settings["ari"] = adjusted_rand_index(dataset.labels, result.labels)
        print(f"ARI vs {args.label_column}: {settings['ari']:.4f}", file=out)
    if args.out:
        save_model_json(args.out, result.params, columns=dataset.columns, n_iter=result.n_iter,
                        converged=result.converged, n_samples=n, settings=settings,
                        preprocessing={"center": dataset.center, "scale": dataset.scale},
                        seed=args.seed)
        print(f"wrote model: {args.out}", file=out)
    if args.assignments:
        write_assignments_csv(args.assignments, dataset.original_values(), dataset.columns,
                              result.responsibilities(), row_index=dataset.row_index)
        print(f"wrote assignments: {args.assignments}", file=out)
    if args.history:
        write_history_csv(args.history, [s for run in result.restarts for s in run])
        print(f"wrote history: {args.history}", file=out)
    return 0


# --------------------------------------------------------------------------- generate


def _parse_weights(text: str) -> str | tuple[float, ...]:
    if text in ("equal", "imbalanced"):
        return text
    try:
        return tuple(float(w) for w in text.split(","))
    except ValueError:
        raise UsageError(
            f"argument --weights: expected equal, imbalanced or comma-separated numbers; got {text!r}"
        ) from None


def _run_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gmm_studio.core.em import EMData
    from gmm_studio.core.export import atomic_write_text, model_to_json, write_csv
    from gmm_studio.core.generate import GeneratorSettings, stream

    settings = GeneratorSettings(
        n_components=args.k, n_samples=args.n, n_features=args.dim,
        weights=_parse_weights(args.weights), separation=args.separation, shape=args.shape,
        outlier_fraction=args.outliers, seed=args.seed,
    )
    _check_files(args, "--out", "--truth")
    # Refuse before writing anything, so a failed command leaves no partial output.
    if args.truth and not settings.is_gaussian:
        raise UsageError(
            f"shape {args.shape!r} is not a Gaussian mixture, so it has no truth to write; "
            "drop --truth or choose a Gaussian shape"
        )
    data = stream(settings)
    # The truth's log-likelihood is summed over the blocks as they are written, so no
    # more than one block of points is ever in memory.
    inlier_ll = [0.0, 0]

    def rows():
        for values, labels in data.blocks():
            if args.truth:
                inliers = values[labels >= 0]
                if len(inliers):
                    ll = EMData(inliers, "full").mean_log_likelihood(data.truth)
                    inlier_ll[0] += ll * len(inliers)
                    inlier_ll[1] += len(inliers)
            for point, label in zip(values.tolist(), labels.tolist()):
                point.append(label)
                yield point

    columns = [f"x{j + 1}" for j in range(settings.n_features)]
    write_csv(args.out, columns + ["label"], rows())
    print(f"generated: {data.description}", file=out)
    print(f"wrote data: {args.out}", file=out)
    if args.truth:
        atomic_write_text(args.truth, model_to_json(
            data.truth, columns=columns, log_likelihood=inlier_ll[0] / inlier_ll[1],
            n_samples=inlier_ll[1],
            settings={"source": "generate", "description": data.description, **asdict(settings)},
            seed=settings.seed,
        ))
        print(f"wrote truth: {args.truth}", file=out)
    return 0


# --------------------------------------------------------------------------- sweep


def _run_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from gmm_studio.core.sweep import CRITERIA, CRITERION_LABELS, SweepSettings, run_sweep
    from gmm_studio.core.export import atomic_write_text

    if args.criterion not in CRITERIA:
        raise UsageError(
            f"argument --criterion: invalid choice {args.criterion!r} (choose from "
            f"{', '.join(CRITERIA)})"
        )
    if args.criterion == "heldout_ll" and args.validation == 0:
        raise UsageError("--criterion heldout_ll needs held-out rows: give --validation above 0")
    _check_files(args, "--out")
    settings = SweepSettings(
        k_values=args.k, covariance_types=args.covariance, n_init=args.n_init,
        validation_fraction=args.validation, seed=args.seed, tol=args.tol,
        reg_covar=args.reg_covar, max_iter=args.max_iter,
    )
    dataset = _load(args, err)
    n, d = dataset.values.shape
    with _Warnings(err):
        result = run_sweep(dataset.values, settings, max_workers=args.jobs)
    label = CRITERION_LABELS[args.criterion]
    print(f"data: {dataset.source}  N={n}  D={d}  columns: {', '.join(dataset.columns)}", file=out)
    for note in dataset.notes:
        print(f"  note: {note}", file=out)
    print(f"fitted on {result.n_train} rows, {result.n_validation} held out; n_init={args.n_init}, "
          f"seed={args.seed}", file=out)
    print(f"{label} by K and covariance type ({'lower' if args.criterion in ('bic', 'aic', 'icl') else 'higher'} "
          "is better; NA = degenerate fit):", file=out)
    width = max(12, *(len(t) + 2 for t in settings.covariance_types))
    print("K".rjust(4) + "".join(t.rjust(width) for t in settings.covariance_types), file=out)
    for row in result.table(args.criterion):
        cells = ["--" if v is None else ("NA" if not math.isfinite(v) else format(v, ".6g"))
                 for v in row[1:]]
        print(str(row[0]).rjust(4) + "".join(c.rjust(width) for c in cells), file=out)
    if args.out:
        atomic_write_text(args.out, result.to_csv_text())
        print(f"wrote sweep: {args.out}", file=out)
    best = result.best(args.criterion)  # ValueError (exit 2) when every cell is NA
    print(f"best: K={best.n_components}  covariance={best.covariance_type}  "
          f"{label} {best.value(args.criterion):.6g}", file=out)
    return 0


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command.  ``argv`` excludes the program name, e.g. ``["fit", "d.csv", "-k", "3"]``.

    Returns the exit status: 0 on success, 2 on bad input or options (after one
    ``gmm-studio: error: ...`` line on stderr), 130 when interrupted.  SIGTERM
    removes the temporary files of an export in progress and raises
    ``SystemExit(143)``.
    """
    out, err = sys.stdout, sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except UsageError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=err)
        return 2
    except SystemExit as exc:  # --help, and argparse's own exits
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    # Bad input reaches the user as one line; anything else is a bug and keeps its traceback.
    from gmm_studio.core.dataio import DataError
    from gmm_studio.core.export import ExportError, ModelFileError, temp_files_removed_on_termination

    try:
        with temp_files_removed_on_termination():
            return args.run(args, out, err)
    except (UsageError, DataError, ModelFileError, ExportError, ValueError, OSError) as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=err)
        return 2
    except MemoryError:
        print(f"{PROG}: error: not enough memory for this {args.command}; use fewer rows, "
              "columns or components", file=err)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=err)
        return 130


if __name__ == "__main__":
    sys.exit(main())
