"""The headless command line: fit, generate, (sweep); exit codes; one-line errors; no Qt."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest

from gmm_studio.cli import main
from gmm_studio.core.em import EMData
from gmm_studio.core.export import load_model_json

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_MAIN = "import sys; from gmm_studio.cli import main; sys.exit(main(sys.argv[1:]))"


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("gmm-studio: error: "), lines[0]
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.fixture
def data_csv(tmp_path, capsys):
    path = tmp_path / "data.csv"
    assert main(["generate", "--k", "3", "--n", "300", "--seed", "4", "--separation", "6",
                 "--out", str(path), "--truth", str(tmp_path / "truth.json")]) == 0
    capsys.readouterr()
    return path


# --------------------------------------------------------------------------- generate


def test_generate_writes_data_and_truth(tmp_path, capsys):
    out, truth = tmp_path / "d.csv", tmp_path / "t.json"
    assert main(["generate", "--k", "2", "--n", "200", "--dim", "3", "--outliers", "5%",
                 "--seed", "1", "--out", str(out), "--truth", str(truth)]) == 0
    stdout = capsys.readouterr().out
    assert "2 rotated, elongated Gaussian components" in stdout and "seed 1" in stdout
    rows = _rows(out)
    assert list(rows[0]) == ["x1", "x2", "x3", "label"]
    assert len(rows) == 200
    assert sum(r["label"] == "-1" for r in rows) == 10
    model = load_model_json(truth)
    assert model.columns == ("x1", "x2", "x3")
    assert model.params.n_components == 2 and model.metadata["seed"] == 1
    assert model.metadata["settings"]["shape"] == "rotated"

    # the same seed gives the same file
    again = tmp_path / "again.csv"
    assert main(["generate", "--k", "2", "--n", "200", "--dim", "3", "--outliers", "0.05",
                 "--seed", "1", "--out", str(again)]) == 0
    assert again.read_text() == out.read_text()


def test_generate_matches_core_generator(tmp_path, capsys):
    from gmm_studio.core.generate import GeneratorSettings, generate

    out = tmp_path / "d.csv"
    assert main(["generate", "--k", "4", "--n", "120", "--shape", "spherical", "--separation", "4",
                 "--weights", "imbalanced", "--seed", "9", "--out", str(out)]) == 0
    expected = generate(GeneratorSettings(4, 120, 2, "imbalanced", 4.0, "spherical", 0.0, 9))
    rows = _rows(out)
    values = np.array([[float(r["x1"]), float(r["x2"])] for r in rows])
    np.testing.assert_array_equal(values, expected.values)  # written at full precision
    np.testing.assert_array_equal([int(r["label"]) for r in rows], expected.labels)


def test_generate_non_gaussian_shape_refuses_truth(tmp_path, capsys):
    out = tmp_path / "moons.csv"
    code = main(["generate", "--shape", "moons", "--out", str(out), "--truth", str(tmp_path / "t.json")])
    assert code == 2
    assert "no truth" in _error_line(capsys)
    assert os.listdir(tmp_path) == []
    assert main(["generate", "--shape", "moons", "--n", "50", "--out", str(out)]) == 0
    assert len(_rows(out)) == 50


@pytest.mark.parametrize(
    "args, message",
    [
        (["--k", "30"], "argument --k: expected an integer from 1 to 20, got '30'"),
        (["--n", "1e9"], "argument --n: expected an integer from 1 to 100,000,000, got '1e9'"),
        (["--dim", "0"], "argument --dim: expected an integer from 1 to 10"),
        (["--seed", str(2**32)], "argument --seed: expected an integer from 0 to 4,294,967,295"),
        (["--separation", "1e-200"], "separation must be a positive number from 0.01 to 1000"),
        (["--separation", "nan"], "separation must be a positive number"),
        (["--separation", "inf"], "separation must be a positive number"),
        (["--dim", "1", "--shape", "moons"], "needs at least 2 dimensions"),
        (["--weights", "1e308,1e308,1"], "too large to add up"),
        (["--shape", "blobs"], "Unknown shape 'blobs'"),
        (["--outliers", "0.9"], "outlier_fraction"),
        (["--outliers", "lots"], "argument --outliers"),
        (["--weights", "1,2"], "weights has 2 entries"),
        (["--weights", "heavy"], "argument --weights"),
        (["--n", "0"], "argument --n"),
        (["--separation", "-1"], "separation"),
    ],
)
def test_generate_bad_options(tmp_path, capsys, args, message):
    assert main(["generate", "--out", str(tmp_path / "d.csv"), *args]) == 2
    assert message in _error_line(capsys)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- fit


def test_fit_prints_summary_and_exports(tmp_path, data_csv, capsys):
    model, points, history = tmp_path / "m.json", tmp_path / "p.csv", tmp_path / "h.csv"
    code = main(["fit", str(data_csv), "-k", "3", "--label-column", "label", "--seed", "2",
                 "--n-init", "2", "--out", str(model), "--assignments", str(points),
                 "--history", str(history)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    out = captured.out
    for text in ("N=300", "D=2", "K=3", "covariance=full", "iterations:", "converged: yes",
                 "log-likelihood per point:", "BIC:", "AIC:", "ICL:", "component 3: weight",
                 "ARI vs label: 1.0000"):
        assert text in out, text

    loaded = load_model_json(model)
    assert loaded.columns == ("x1", "x2")
    assert loaded.metadata["n_samples"] == 300 and loaded.metadata["seed"] == 2
    assert loaded.metadata["settings"]["n_init"] == 2
    x = np.array([[float(r["x1"]), float(r["x2"])] for r in _rows(data_csv)])
    ll = EMData(x, "full").mean_log_likelihood(loaded.params)
    assert abs(ll - loaded.metadata["log_likelihood"]) <= 1e-12
    assert f"log-likelihood per point: {ll:.6f}" in out

    rows = _rows(points)
    assert list(rows[0]) == ["row", "x1", "x2", "component", "resp_1", "resp_2", "resp_3",
                             "uncertainty"]
    assert len(rows) == 300 and rows[5]["row"] == "5"
    np.testing.assert_array_equal([[float(r["x1"]), float(r["x2"])] for r in rows], x)
    resp = np.array([[float(r[f"resp_{j}"]) for j in (1, 2, 3)] for r in rows])
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, atol=1e-12)

    hist = _rows(history)
    assert {r["restart"] for r in hist} == {"0", "1"}
    assert {r["half_step"] for r in hist} == {"init", "E", "M"}


def test_fit_standardized_exports_preprocessing(tmp_path, data_csv, capsys):
    model = tmp_path / "m.json"
    assert main(["fit", str(data_csv), "-k", "2", "--columns", "x2,x1", "--standardize",
                 "--covariance", "diag", "--out", str(model)]) == 0
    assert "standardised" in capsys.readouterr().out
    loaded = load_model_json(model)
    assert loaded.columns == ("x2", "x1")
    assert loaded.params.covariance_type == "diag"
    std = loaded.preprocessing["standardization"]
    assert std is not None and std["center"].shape == (2,)


def test_fit_warns_about_a_label_like_feature(data_csv, capsys):
    assert main(["fit", str(data_csv), "-k", "2", "--columns", "x1,x2,label"]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    # (fitting a discrete column usually collapses components too: more warning lines)
    assert lines[0].startswith("warning: column 'label' is fitted as a feature")
    assert all(line.startswith("warning: ") for line in lines)


def test_fit_estimator_warnings_are_single_lines(data_csv, capsys):
    assert main(["fit", str(data_csv), "-k", "3", "--columns", "x1,x2", "--max-iter", "1",
                 "--tol", "0"]) == 0
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == ["warning: Best performing initialization did not converge. Try different "
                     "init parameters, or increase max_iter, tol, or check for degenerate data."]
    assert "converged: no" in captured.out


def test_fit_degenerate_data_warns_not_crashes(tmp_path, capsys):
    path = tmp_path / "dup.csv"
    path.write_text("a,b\n" + "1,1\n" * 20 + "5,5\n6,4\n5,6\n4,5\n")
    code = main(["fit", str(path), "-k", "2"])
    captured = capsys.readouterr()
    assert code == 0
    assert "Traceback" not in captured.err
    warnings = captured.err.strip().splitlines()
    assert warnings and all(line.startswith("warning: ") for line in warnings)
    assert any("collapsed" in line for line in warnings)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "{data}", "-k", "x"], "argument -k/--k"),
        (["fit", "{data}", "-k", "0"], "expected an integer from 1 to 1,000"),
        (["fit", "{data}", "-k", "3", "--n-init", "1e12"], "argument --n-init"),
        (["fit", "{data}", "-k", "3", "--max-iter", "1e9"], "argument --max-iter"),
        (["fit", "{tmp}", "-k", "3"], "is a folder; choose a data file"),
        (["fit", "{data}"], "required: -k"),
        (["fit", "{data}", "-k", "3", "--bogus"], "unrecognized arguments: --bogus"),
        (["fit", "{data}", "-k", "3", "--covariance", "round"], "invalid covariance type"),
        (["fit", "{missing}", "-k", "3"], "no such file"),
        (["fit", "{data}", "-k", "3", "--columns", "x1,nope"], "nope"),
        (["fit", "{data}", "-k", "3", "--label-column", "nope"], "nope"),
        (["fit", "{data}", "-k", "301", "--label-column", "label"], "n_samples"),
        (["fit", "{data}", "-k", "3", "--tol", "-1"], "argument --tol"),
        (["fit", "{data}", "-k", "3", "--out", "{tmp}/no/such/m.json"], "does not exist"),
        (["fit", "{data}", "-k", "3", "--assignments", "{tmp}"], "is a folder"),
        (["fit", "{notdata}", "-k", "2"], ""),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, data_csv, capsys, argv, message):
    notdata = tmp_path / "notes.csv"
    notdata.write_text("name,comment\nalpha,hello\nbeta,world\n")
    before = set(os.listdir(tmp_path))
    values = {"data": str(data_csv), "missing": str(tmp_path / "missing.csv"), "tmp": str(tmp_path),
              "notdata": str(notdata)}
    code = main([a.format(**values) for a in argv])
    assert code == 2
    assert message in _error_line(capsys)
    assert set(os.listdir(tmp_path)) == before  # nothing written


def test_failed_write_is_one_line(tmp_path, data_csv, capsys, monkeypatch):
    import errno

    from gmm_studio.core import export

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export.os, "fsync", full)
    assert main(["fit", str(data_csv), "-k", "2", "--columns", "x1,x2",
                 "--out", str(tmp_path / "m.json")]) == 2
    assert "disk is full" in _error_line(capsys)
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("command", [[], ["fit"], ["generate"], ["sweep"]])
def test_help(capsys, command):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gmm-studio")
    if command == ["fit"]:
        for option in ("-k", "--covariance", "--columns", "--label-column", "--standardize",
                       "--seed", "--n-init", "--max-iter", "--tol", "--reg-covar", "--out",
                       "--assignments", "--history"):
            assert option in out
    if command == ["generate"]:
        for option in ("--k", "--n", "--dim", "--shape", "--separation", "--outliers", "--seed",
                       "--out", "--truth"):
            assert option in out
    if command == ["sweep"]:
        for option in ("--k", "--covariance", "--n-init", "--criterion", "--out"):
            assert option in out


# --------------------------------------------------------------------------- subprocess


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_cli_imports_no_qt():
    code = ("import gmm_studio.cli, sys; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'gmm_studio.ui'))]; "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_subprocess_fit_and_error(tmp_path, data_csv):
    ok = subprocess.run(
        [sys.executable, "-c", RUN_MAIN, "fit", str(data_csv), "-k", "3", "--label-column",
         "label", "--out", str(tmp_path / "m.json")],
        env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "ARI vs label" in ok.stdout and ok.stderr == ""
    assert json.loads((tmp_path / "m.json").read_text())["format"] == "gmm-studio-model"

    bad = subprocess.run(
        [sys.executable, "-c", RUN_MAIN, "fit", str(tmp_path / "absent.csv"), "-k", "3"],
        env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("gmm-studio: error: ")


# --------------------------------------------------------------------------- sweep


def test_sweep_prints_best_and_writes_csv(tmp_path, data_csv, capsys):
    pytest.importorskip("gmm_studio.core.sweep")
    out = tmp_path / "sweep.csv"
    code = main(["sweep", str(data_csv), "--label-column", "label", "--k", "1-4",
                 "--covariance", "full,spherical", "--n-init", "1", "--jobs", "1",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    assert lines[-1].startswith("best: K=3  covariance=")
    assert any(line.split()[:1] == ["4"] for line in lines)  # one table row per K
    rows = _rows(out)
    assert len(rows) == 8
    assert {(r["K"], r["covariance_type"]) for r in rows} == {
        (str(k), t) for k in range(1, 5) for t in ("full", "spherical")}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--k", "0-3"], "argument --k: every K must be from 1 to 1000"),
        (["--k", "1-1000000000000"], "argument --k: every K must be from 1 to 1000"),
        (["--k", "3-"], "argument --k: expected K as a number"),
        (["--jobs", "100000"], "argument --jobs"),
        (["--k", "x"], "argument --k"),
        (["--covariance", "full,round"], "invalid covariance type"),
        (["--criterion", "likelihood"], "invalid choice 'likelihood'"),
        (["--criterion", "heldout_ll", "--validation", "0"], "--validation above 0"),
        (["--validation", "1.5"], "validation_fraction"),
    ],
)
def test_sweep_bad_options(data_csv, capsys, args, message):
    pytest.importorskip("gmm_studio.core.sweep")
    assert main(["sweep", str(data_csv), "--label-column", "label", *args]) == 2
    assert message in _error_line(capsys)


# --------------------------------------------------------------------------- outputs never destroy inputs


def _snapshot(folder) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in os.listdir(folder)
            if (folder / name).is_file()}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "{data}", "-k", "3", "--out", "{data}"], "--out '{data}' is the same file as the data file"),
        (["fit", "{data}", "-k", "3", "--out", "./data.csv"], "--out './data.csv' is the same file as the data file"),
        (["fit", "{data}", "-k", "3", "--assignments", "{hard}"], "--assignments '{hard}' is the same file as"),
        (["fit", "{data}", "-k", "3", "--history", "{soft}"], "--history '{soft}' is the same file as"),
        (["fit", "{data}", "-k", "3", "--out", "m.json", "--history", "./m.json"],
         "--history './m.json' and --out 'm.json' are the same file"),
        (["sweep", "{data}", "--k", "1-2", "--out", "{data}"], "--out '{data}' is the same file as the data file"),
        (["generate", "--out", "x.csv", "--truth", "sub/../x.csv"],
         "--truth 'sub/../x.csv' and --out 'x.csv' are the same file"),
        (["generate", "--out", "{data}", "--truth", "{soft}"], "--truth '{soft}' and --out '{data}' are the same file"),
    ],
)
def test_an_output_is_never_an_input_or_another_output(tmp_path, data_csv, capsys, monkeypatch, argv, message):
    hard, soft = tmp_path / "hard.csv", tmp_path / "soft.csv"
    os.link(data_csv, hard)
    soft.symlink_to(data_csv)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    values = {"data": str(data_csv), "hard": str(hard), "soft": str(soft)}
    assert main([a.format(**values) for a in argv]) == 2
    assert message.format(**values) in _error_line(capsys)
    assert _snapshot(tmp_path) == before  # refused before any work: nothing written or changed


def test_a_device_such_as_dev_null_is_refused_and_stays_a_device(tmp_path, data_csv, capsys):
    # A null device of our own: were the refusal broken, a test writing to the real
    # /dev/null as root would replace the machine's device node with a regular file.
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root, and only root could replace one")
    for argv in (["generate", "--n", "10", "--out", str(null)],
                 ["fit", str(data_csv), "-k", "2", "--assignments", str(null)]):
        assert main(argv) == 2
        assert f"{str(null)!r}: it is a device, not a regular file" in _error_line(capsys)
        assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_output_through_a_symlink_writes_its_target(tmp_path, capsys):
    target = tmp_path / "real.csv"
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(["generate", "--n", "20", "--out", str(link)]) == 0
    assert link.is_symlink() and len(_rows(target)) == 20


def _limit_memory() -> None:
    import resource

    # Were the refusal of /dev/zero broken, the child would read zeros until the limit.
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _run_cli(*argv, timeout=60):
    return subprocess.run([sys.executable, "-c", RUN_MAIN, *argv], env=_env(), capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_limit_memory)


def test_a_fifo_or_device_as_data_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    for command in (["fit", str(fifo), "-k", "2"], ["sweep", str(fifo)], ["fit", "/dev/zero", "-k", "2"]):
        try:
            result = _run_cli(*command, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{command} blocked")
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("gmm-studio: error: ")
        assert "not a regular file; choose a data file" in result.stderr


def test_spreadsheet_formulas_in_column_names_are_neutralised(tmp_path, capsys):
    name = "=cmd|' /C calc'!A0"
    data = tmp_path / "evil.csv"
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(6, 1, (30, 2))])
    with open(data, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([name, "@b"])
        writer.writerows(x.tolist())
    points = tmp_path / "points.csv"
    assert main(["fit", str(data), "-k", "2", "--assignments", str(points)]) == 0
    with open(points, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][1:3] == ["'" + name, "'@b"]
    np.testing.assert_array_equal([[float(v) for v in row[1:3]] for row in rows[1:]], x)


# --------------------------------------------------------------------------- generate: 1-D, streaming, SIGTERM


def test_generate_one_dimensional_data_and_truth(tmp_path, capsys):
    out, truth = tmp_path / "d.csv", tmp_path / "t.json"
    assert main(["generate", "--dim", "1", "--k", "2", "--n", "300", "--separation", "5",
                 "--out", str(out), "--truth", str(truth)]) == 0
    assert "2 Gaussian components of different widths, in 1 dimension" in capsys.readouterr().out
    rows = _rows(out)
    assert list(rows[0]) == ["x1", "label"] and len(rows) == 300
    model = load_model_json(truth)
    assert model.columns == ("x1",) and model.params.means.shape == (2, 1)
    x = np.array([[float(r["x1"])] for r in rows])
    assert model.metadata["log_likelihood"] == pytest.approx(
        EMData(x, "full").mean_log_likelihood(model.params), rel=1e-12)
    # and the 1-D file fits and sweeps like any other
    assert main(["fit", str(out), "-k", "2", "--label-column", "label"]) == 0
    assert "ARI vs label: 1.0000" in capsys.readouterr().out
    assert main(["sweep", str(out), "--label-column", "label", "--k", "1-3", "--n-init", "1",
                 "--jobs", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("best: K=2 ")


def test_generate_streams_so_memory_does_not_grow_with_n(tmp_path, capsys, monkeypatch):
    import tracemalloc

    from gmm_studio.core import export, generate

    # Small blocks and chunks stand in for large N: 50 blocks of 1000 points.
    monkeypatch.setattr(generate, "BLOCK_ROWS", 1000)
    monkeypatch.setattr(export, "CSV_ROWS_PER_CHUNK", 1000)
    n = 50_000  # held at once, its rows take 9 MB; streamed, under 1 MB
    argv = ["generate", "--outliers", "1%", "--out", str(tmp_path / "d.csv"),
            "--truth", str(tmp_path / "t.json")]
    assert main([*argv, "--n", "2000"]) == 0  # imports and caches first, outside the count
    tracemalloc.start()
    try:
        assert main([*argv, "--n", str(n)]) == 0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3e6, f"peak {peak / 1e6:.1f} MB"
    with open(tmp_path / "d.csv", "rb") as handle:
        assert sum(1 for _ in handle) == n + 1


SIGTERM_CLI = """
import sys
from gmm_studio.core import export

real = export._csv_chunks

def slow(header, rows):  # a slow disk: the export stops after its first chunk
    for index, chunk in enumerate(real(header, rows)):
        yield chunk
        if index == 0:
            print("writing", flush=True)
            sys.stdin.readline()  # the parent sends SIGTERM instead of a line

export._csv_chunks = slow
from gmm_studio.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_mid_export_leaves_no_temp_file(tmp_path):
    out = tmp_path / "d.csv"
    child = subprocess.Popen([sys.executable, "-c", SIGTERM_CLI, "generate", "--n", "50000",
                              "--out", str(out)], env=_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]  # mid-write
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 143
    finally:
        child.kill()
        _, stderr = child.communicate()
    assert "Traceback" not in stderr
    assert os.listdir(tmp_path) == []  # neither the output nor its temp file


def test_a_column_named_y_with_measurements_is_no_label_suspect(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(c, 0.5, (60, 2)) for c in ([0, 0], [4, 4])])
    path = tmp_path / "xy.csv"
    path.write_text("x,y\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in x) + "\n")
    assert main(["fit", str(path), "-k", "2"]) == 0
    assert "fitted as a feature" not in capsys.readouterr().err


def test_the_collapse_warning_says_its_sentence_once_naming_the_components(tmp_path, capsys):
    path = tmp_path / "dup.csv"
    path.write_text("a,b\n" + "1,1\n" * 20 + "7,7\n" * 20 + "3,5\n5,3\n4,4\n2,6\n")
    assert main(["fit", str(path), "-k", "3"]) == 0
    err = capsys.readouterr().err
    collapse = [line for line in err.splitlines() if "collapsed" in line]
    assert len(collapse) == 1, err
    line = collapse[0]
    assert line.startswith("warning: Components ") and " and " in line.split(" have collapsed")[0]
    assert line.count("collapsed") == 1 and line.count("reg_covar") == 2  # the cause and the remedy, once
