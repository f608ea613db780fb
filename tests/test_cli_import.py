"""The command line reads a file with the import dialog's defaults (core.dataio.suggest_import):
row indexes, constant columns and class ids are left out with a one-line notice on stderr,
the overrides still win, 1-D files fit, and hostile inputs end in one error line."""

from __future__ import annotations

import os

import numpy as np
import pytest

from gmm_studio.cli import main
from gmm_studio.core.export import load_model_json


def _penguins_like(path, n=90, seed=0):
    """rownames 1..N sorted by class, a text species column, a constant column, a label column."""
    rng = np.random.default_rng(seed)
    lines = ["rownames,species,bill,mass,year,label"]
    for i in range(n):
        k = 3 * i // n
        bill, mass = rng.normal([40 + 5 * k, 3.5 + 0.8 * k], [1.0, 0.2])
        lines.append(f"{i + 1},{'ABC'[k]},{bill:.3f},{mass:.3f},2008,{k}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _stderr_lines(capsys):
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.out, captured.err.strip().splitlines()


def test_defaults_leave_out_index_constant_and_label_with_one_notice(tmp_path, capsys):
    path = _penguins_like(tmp_path / "p.csv")
    model = tmp_path / "m.json"
    assert main(["fit", str(path), "-k", "3", "--out", str(model)]) == 0
    out, err = _stderr_lines(capsys)
    notes = [line for line in err if line.startswith("note: ")]
    assert len(notes) == 1
    for part in ("'rownames' (a row index: 1, 2, …, 90 in order)", "'year' (constant: every value is 2008)",
                 "'label' (3 class ids"):
        assert part in notes[0]
    assert "columns: bill, mass" in out
    assert "ARI vs species" in out  # the label named species came first
    assert load_model_json(model.read_text()).columns == ("bill", "mass")


def test_overrides_still_win(tmp_path, capsys):
    path = _penguins_like(tmp_path / "p.csv")
    assert main(["fit", str(path), "-k", "2", "--columns", "rownames,bill", "--max-iter", "5"]) == 0
    out, err = _stderr_lines(capsys)
    assert "columns: rownames, bill" in out and not any(line.startswith("note: ") for line in err)
    assert main(["fit", str(path), "-k", "2", "--label-column", "label", "--max-iter", "5"]) == 0
    out, err = _stderr_lines(capsys)
    assert "ARI vs label" in out and "columns: bill, mass" in out
    notes = [line for line in err if line.startswith("note: ")]
    assert len(notes) == 1 and "'label'" not in notes[0]  # the person's own label needs no note


def test_sweep_applies_the_same_defaults(tmp_path, capsys):
    path = _penguins_like(tmp_path / "p.csv")
    assert main(["sweep", str(path), "--k", "1-2", "--n-init", "1", "--jobs", "1", "--max-iter", "10"]) == 0
    out, err = _stderr_lines(capsys)
    assert "columns: bill, mass" in out and sum(line.startswith("note: ") for line in err) == 1


def test_scale_warning_without_standardize(tmp_path, capsys):
    rng = np.random.default_rng(1)
    path = tmp_path / "s.csv"
    rows = [f"{a:.4f},{b:.2f}" for a, b in rng.normal(size=(60, 2)) * [1.0, 1000.0]]
    path.write_text("small,big\n" + "\n".join(rows) + "\n")
    assert main(["fit", str(path), "-k", "1"]) == 0
    _, err = _stderr_lines(capsys)
    assert any(line.startswith("warning: Column scales differ") and "--standardize" in line for line in err)
    assert main(["fit", str(path), "-k", "1", "--standardize"]) == 0
    _, err = _stderr_lines(capsys)
    assert not any("scales differ" in line for line in err)


def test_one_column_file_fits_in_1d(tmp_path, capsys):
    rng = np.random.default_rng(2)
    path = tmp_path / "eruptions.csv"
    path.write_text("eruptions\n" + "\n".join(f"{v:.3f}" for v in np.r_[rng.normal(2, 0.3, 50),
                                                                         rng.normal(4.4, 0.4, 50)]) + "\n")
    assert main(["fit", str(path), "-k", "2"]) == 0
    out, _ = _stderr_lines(capsys)
    assert "D=1" in out and "columns: eruptions" in out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_one_error_line(tmp_path, capsys):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        assert main(["fit", str(path), "-k", "2"]) == 2
        _, err = _stderr_lines(capsys)
        assert len(err) == 1 and err[0].startswith("gmm-studio: error: ")
        assert "regular file" in err[0] or "folder" in err[0]
