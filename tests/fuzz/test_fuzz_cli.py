"""Fuzzing the command line with flags and values drawn from its own parser.

Whatever the arguments, ``gmm_studio.cli.main(argv)`` either succeeds (exit 0,
every output it names readable: model files load, CSVs parse) or refuses (exit 2,
one ``gmm-studio: error:`` line on stderr, the last, after at most some
``warning:`` lines).  It never raises, never prints a traceback, never changes
the bytes of the data file ``fit`` or ``sweep`` reads (nor its hard link's) and
never leaves a temporary file.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import tempfile

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_studio.cli import build_parser, main
from gmm_studio.core.export import load_model_json

#: Output options: their value is a file the command may write.
OUTPUTS = ("--out", "--assignments", "--history", "--truth")
#: Paths, relative to the example's folder: fresh names, the input under other
#: names (itself, ./, a hard link, a symlink), a folder, a missing folder.
PATHS = ("a.csv", "b.json", "c.csv", "data.csv", "./data.csv", "hard.csv", "soft.csv", "sub",
         "sub/../a.csv", "missing/x.csv")
#: Values for every other option: valid, edge and nonsense.  No value here asks for
#: hours of work (--n 1e8, --n-init 1000 are accepted but not drawn).
VALUES = ("0", "1", "2", "3", "5", "-1", "2.5", "1e3", "1e9", "1e12", "nan", "inf", "-inf",
          "1e-200", "1e308", "", "abc", "1-3", "0-2", "3-1", "2,3", "x1", "x2", "label", "x1,x2",
          "full", "diag", "tied", "spherical", "full,diag", "all", "5%", "0.9", "0.05", "bic",
          "heldout_ll", "train_ll", "kmeans", "random", "moons", "rings", "rotated", "drop",
          "impute", "imbalanced", "1,2,3", "=cmd|' /C calc'!A0")


def _commands() -> dict[str, list[argparse.Action]]:
    """Each subcommand's optional actions, read from the real parser."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: [a for a in p._actions if a.option_strings and "-h" not in a.option_strings]
            for name, p in sub.choices.items()}


COMMANDS = _commands()
#: Small sizes first (later flags override), so an example takes milliseconds.
BASE = {"fit": ["-k", "2"], "sweep": ["--k", "1-2", "--n-init", "1"], "generate": ["--n", "60"]}


@st.composite
def argvs(draw):
    command = draw(st.sampled_from(sorted(COMMANDS)))
    argv = [command]
    if command != "generate":
        argv.append(draw(st.sampled_from(["data.csv", "data.csv", "./data.csv", "hard.csv", "sub",
                                          "missing.csv"])))
    argv += BASE[command]
    for action in draw(st.lists(st.sampled_from(COMMANDS[command]), max_size=6)):
        argv.append(draw(st.sampled_from(action.option_strings)))
        if action.nargs == 0:
            continue
        if action.option_strings[-1] in OUTPUTS:
            argv.append(draw(st.sampled_from(PATHS)))
        elif action.choices:
            argv.append(draw(st.sampled_from(list(action.choices) + ["nonsense"])))
        else:
            argv.append(draw(st.sampled_from(VALUES)))
    if draw(st.integers(0, 20)) == 0:
        argv.insert(draw(st.integers(1, len(argv))), draw(st.sampled_from(["--bogus", "-z", "--"])))
    return argv


def _data(folder: str) -> bytes:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(5, 1, (30, 2))])
    text = "x1,x2,label\n" + "".join(f"{a!r},{b!r},{i // 30}\n" for i, (a, b) in enumerate(x))
    with open(os.path.join(folder, "data.csv"), "w") as handle:
        handle.write(text)
    os.link(os.path.join(folder, "data.csv"), os.path.join(folder, "hard.csv"))
    os.symlink(os.path.join(folder, "data.csv"), os.path.join(folder, "soft.csv"))
    os.mkdir(os.path.join(folder, "sub"))
    return text.encode()


def _check_output(path: str, is_model: bool) -> None:
    if is_model:
        load_model_json(path)
    else:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows and all(len(row) == len(rows[0]) for row in rows)


@settings(max_examples=120, deadline=None)
@given(argv=argvs())
def test_cli_exits_0_with_valid_outputs_or_2_with_one_line(argv):
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        original = _data(folder)
        os.chdir(folder)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
        finally:
            os.chdir(here)
        stderr = err.getvalue()
        assert "Traceback" not in stderr
        # (generate reads nothing: overwriting data.csv is what it was asked to do)
        for name in ("data.csv", "hard.csv") if argv[0] != "generate" else ():
            with open(os.path.join(folder, name), "rb") as handle:
                assert handle.read() == original, f"{argv} changed {name}"
        assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]
        lines = stderr.splitlines()
        assert all(line.startswith("warning: ") for line in lines[:-1]), stderr
        if code == 0:
            assert not lines or lines[-1].startswith("warning: "), stderr
            written = {flag: value for flag, value in zip(argv, argv[1:]) if flag in OUTPUTS}
            for flag, value in written.items():  # the last of a repeated flag is the one used
                if os.path.exists(os.path.join(folder, value)):
                    is_model = flag == "--truth" or (flag == "--out" and argv[0] == "fit")
                    _check_output(os.path.join(folder, value), is_model)
        else:
            assert code == 2, (argv, code, stderr)
            assert lines and lines[-1].startswith("gmm-studio: error: "), stderr
