"""Exports: atomic writes, the model JSON round trip and validation, CSVs, sklearn loading."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from gmm_studio.core import export
from gmm_studio.core.em import EMData
from gmm_studio.core.export import (
    ExportError,
    ModelFileError,
    atomic_write_bytes,
    atomic_write_text,
    check_model_matches,
    load_model_json,
    model_to_dict,
    model_to_json,
    save_model_json,
    write_assignments_csv,
    write_csv,
    write_history_csv,
)
from gmm_studio.core.mixture import GaussianMixture
from gmm_studio.core.params import COVARIANCE_TYPES, MixtureParams

TYPES = list(COVARIANCE_TYPES)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The README's "use an exported model in scikit-learn" lines, run verbatim by a test below.
# ``path`` is the exported file, ``X`` the raw data with columns in m["columns"] order.
README_SNIPPET = """\
import json

import numpy as np
from sklearn.mixture import GaussianMixture

with open(path) as f:
    m = json.load(f)
gmm = GaussianMixture(n_components=m["n_components"], covariance_type=m["covariance_type"])
gmm.weights_ = np.array(m["weights"])
gmm.means_ = np.array(m["means"])
gmm.covariances_ = np.array(m["covariances"])
gmm.precisions_cholesky_ = np.array(m["precisions_cholesky"])
std = m["preprocessing"]["standardization"]
if std:  # the model was fitted on standardised columns
    X = (X - np.array(std["center"])) / np.array(std["scale"])
labels = gmm.predict(X)
"""


def _data(seed: int = 0, d: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, (150, d))
    b = rng.normal(4.0, 0.7, (100, d)) @ np.triu(np.ones((d, d)))
    return np.vstack([a, b])


def _fit(covariance_type: str, x: np.ndarray) -> GaussianMixture:
    return GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(x)


def _save(path, gm: GaussianMixture, x: np.ndarray, columns, preprocessing=None) -> None:
    save_model_json(
        path, gm.params(), columns=columns, log_likelihood=gm.score(x), n_iter=gm.n_iter_,
        converged=gm.converged_, criteria={"bic": gm.bic(x), "aic": gm.aic(x), "icl": gm.icl(x)},
        n_samples=len(x), settings={"seed": 0, "tol": gm.tol, "columns": tuple(columns)},
        preprocessing=preprocessing,
    )


def _leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


# --------------------------------------------------------------------------- model round trip


@pytest.mark.parametrize("covariance_type", TYPES)
def test_round_trip_reproduces_log_likelihood(tmp_path, covariance_type):
    x = _data()
    gm = _fit(covariance_type, x)
    path = tmp_path / "model.json"
    _save(path, gm, x, ["a", "b", "c"])
    loaded = load_model_json(path)
    assert loaded.params.covariance_type == covariance_type
    reloaded_ll = EMData(x, covariance_type).mean_log_likelihood(loaded.params)
    assert abs(reloaded_ll - gm.score(x)) <= 1e-12
    assert abs(loaded.metadata["log_likelihood"] - gm.score(x)) <= 1e-12
    # floats are written at repr precision: the parameters come back bit for bit
    np.testing.assert_array_equal(loaded.params.means, gm.means_)
    np.testing.assert_array_equal(loaded.params.covariances, gm.covariances_)
    np.testing.assert_array_equal(loaded.params.weights, gm.weights_)
    assert loaded.columns == ("a", "b", "c")


def test_schema_keys_and_shapes():
    x = _data()
    gm = _fit("diag", x)
    doc = model_to_dict(
        gm.params(), columns=["a", "b", "c"], log_likelihood=gm.score(x), n_iter=gm.n_iter_,
        converged=gm.converged_, criteria={"bic": 1.0, "aic": 2.0, "icl": 3.0}, n_samples=len(x),
        settings={"seed": 7, "n_init": np.int64(2), "array": np.arange(2)},
        preprocessing={"center": [1.0, 2.0, 3.0], "scale": [1.0, 2.0, 4.0]},
    )
    for key in ("format", "version", "covariance_type", "n_components", "n_features", "weights",
                "means", "covariances", "covariances_full", "precisions_cholesky", "columns",
                "preprocessing", "log_likelihood", "n_iter", "converged", "bic", "aic", "icl",
                "n_samples", "seed", "settings"):
        assert key in doc, key
    assert doc["format"] == "gmm-studio-model" and doc["version"] == 1
    assert np.shape(doc["covariances"]) == (2, 3)
    assert np.shape(doc["covariances_full"]) == (2, 3, 3)
    assert np.shape(doc["precisions_cholesky"]) == (2, 3)
    assert doc["preprocessing"]["standardization"] == {"center": [1.0, 2.0, 3.0], "scale": [1.0, 2.0, 4.0]}
    assert doc["preprocessing"]["projection"] is None
    assert doc["seed"] == 7 and doc["settings"]["n_init"] == 2 and doc["settings"]["array"] == [0, 1]
    assert (doc["bic"], doc["aic"], doc["icl"]) == (1.0, 2.0, 3.0)
    # it is plain JSON: strict parsers accept it
    json.loads(model_to_json(gm.params(), columns=["a", "b", "c"]), parse_constant=pytest.fail)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_sklearn_shapes(covariance_type):
    x = _data()
    gm = _fit(covariance_type, x)
    doc = model_to_dict(gm.params(), columns=["a", "b", "c"])
    assert np.shape(doc["covariances"]) == gm.covariances_.shape
    np.testing.assert_allclose(doc["precisions_cholesky"], gm.precisions_cholesky_, rtol=1e-12)


def test_preprocessing_with_projection_object_round_trips(tmp_path):
    class Projection:
        matrix = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
        offset = np.array([0.1, 0.2, 0.3])

    params = MixtureParams("spherical", [0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [1.0, 2.0])
    path = tmp_path / "m.json"
    save_model_json(path, params, columns=["pc1", "pc2"], preprocessing={
        "standardization": {"center": [0.0, 1.0, 2.0], "scale": [1.0, 1.0, 2.0]},
        "projection": Projection(),
    })
    loaded = load_model_json(path)
    np.testing.assert_array_equal(loaded.preprocessing["projection"]["matrix"], Projection.matrix)
    np.testing.assert_array_equal(loaded.preprocessing["projection"]["offset"], Projection.offset)
    np.testing.assert_array_equal(loaded.preprocessing["standardization"]["scale"], [1.0, 1.0, 2.0])
    # a dict works as well as an object
    doc = model_to_dict(params, columns=["pc1", "pc2"],
                        preprocessing={"projection": {"matrix": Projection.matrix.tolist(),
                                                      "offset": [0, 0, 0]}})
    assert doc["preprocessing"]["standardization"] is None
    assert doc["preprocessing"]["projection"]["offset"] == [0.0, 0.0, 0.0]


def test_loaded_text_as_well_as_path():
    params = MixtureParams("tied", [0.25, 0.75], [[0.0, 0.0], [1.0, 1.0]], [[2.0, 0.5], [0.5, 1.0]])
    loaded = load_model_json(model_to_json(params, columns=["x", "y"]))
    np.testing.assert_array_equal(loaded.params.covariances, params.covariances)
    assert loaded.preprocessing == {"standardization": None, "projection": None}


def test_check_model_matches():
    params = MixtureParams("diag", [0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 2.0]])
    loaded = load_model_json(model_to_json(params, columns=["a", "b"]))
    assert check_model_matches(loaded, ["a", "b"]) == (0, 1)
    assert check_model_matches(loaded, ["b", "a"]) == (1, 0)
    with pytest.raises(ModelFileError, match="fitted on columns a, b; the open data has x, y"):
        check_model_matches(loaded, ["x", "y"])
    with pytest.raises(ModelFileError, match="open data has a, b, c"):
        check_model_matches(loaded, ["a", "b", "c"])


# --------------------------------------------------------------------------- bad model files


def _good_doc() -> dict:
    params = MixtureParams("full", [0.4, 0.6], [[0.0, 0.0], [3.0, 3.0]],
                           [[[1.0, 0.2], [0.2, 1.0]], [[2.0, 0.0], [0.0, 0.5]]])
    return model_to_dict(params, columns=["a", "b"])


def _broken(**changes) -> str:
    doc = _good_doc()
    for key, value in changes.items():
        if value is KeyError:
            del doc[key]
        else:
            doc[key] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ("{}", "not a GMM Studio model"),
        (_broken(format="something-else"), "not a GMM Studio model"),
        (_broken(version=2), "version 2 is not supported"),
        (_broken(means=KeyError), "no 'means' entry"),
        (_broken(columns=KeyError), "no 'columns' entry"),
        (_broken(covariance_type="banana"), "unknown covariance_type"),
        (_broken(n_components=0), "positive integer"),
        (_broken(means=[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), r"'means' .*shape \(2, 3\); expected \(2, 2\)"),
        (_broken(weights=[0.5, 0.6]), "sum to 1"),
        (_broken(weights=[1.5, -0.5]), "non-negative"),
        (_broken(weights=["a", "b"]), "array of numbers"),
        (_broken(covariances=[[[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]],
                 covariances_full=KeyError, precisions_cholesky=KeyError),
         "component 1 is not positive definite"),
        (_broken(covariances=[[[1.0, 0.5], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]), "not symmetric"),
        (_broken(covariances=[[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]),
         "covariances_full' disagrees"),
        (_broken(precisions_cholesky=[[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]),
         "precisions_cholesky' disagrees"),
        (_broken(columns=["a"]), "'columns' has 1 names"),
        (_broken(columns=["a", "a"]), "duplicate"),
        (_broken(preprocessing={"standardization": {"center": [0.0], "scale": [1.0]}}),
         "standardization.center"),
        (_broken(preprocessing={"standardization": {"center": [0.0, 0.0], "scale": [1.0, 0.0]}}),
         "scale' must be positive"),
        ("[1, 2]", "expected an object"),
        ('{"format": "gmm-studio-model", "version": 1, "weights": [NaN]}', "no 'covariance_type'"),
    ],
)
def test_bad_model_files_raise_model_file_error(text, message):
    with pytest.raises(ModelFileError, match=message):
        load_model_json(text)


def test_bad_model_file_paths(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model_json(tmp_path / "missing.json")
    with pytest.raises(ModelFileError, match="folder"):
        load_model_json(tmp_path)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ModelFileError, match="not text"):
        load_model_json(binary)
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model_json(empty)


def test_model_to_dict_rejects_wrong_column_count():
    params = MixtureParams("spherical", [1.0], [[0.0, 0.0]], [1.0])
    with pytest.raises(ValueError, match="columns has 1 names"):
        model_to_dict(params, columns=["a"])


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_creates_and_replaces(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "first\n")
    assert path.read_text() == "first\n"
    os.chmod(path, 0o640)
    atomic_write_bytes(path, b"second\n")
    assert path.read_bytes() == b"second\n"
    assert os.stat(path).st_mode & 0o777 == 0o640  # replacing keeps the permissions
    assert _leftovers(tmp_path) == []


def test_new_file_gets_umask_permissions(tmp_path):
    path = tmp_path / "new.txt"
    old = os.umask(0o022)
    try:
        atomic_write_text(path, "x")
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_missing_folder(tmp_path):
    path = tmp_path / "no" / "such" / "out.json"
    with pytest.raises(ExportError, match="does not exist") as info:
        atomic_write_text(path, "x")
    assert isinstance(info.value, OSError) and isinstance(info.value, ValueError)
    assert not (tmp_path / "no").exists()


def test_path_is_a_folder(tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        atomic_write_text(folder, "x")
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert _leftovers(tmp_path) == []


def test_disk_full_during_write_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    path.write_text("old content")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export.os, "fsync", full)
    with pytest.raises(ExportError, match="disk is full") as info:
        atomic_write_text(path, "new content")
    assert info.value.errno == errno.ENOSPC
    assert path.read_text() == "old content"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "code, message",
    [(errno.EACCES, "permission denied"), (errno.EROFS, "read-only"), (errno.EIO, "Check the path")],
)
def test_failing_replace_leaves_old_file(tmp_path, monkeypatch, code, message):
    path = tmp_path / "model.json"
    path.write_text("old content")

    def refuse(src, dst):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(export.os, "replace", refuse)
    with pytest.raises(ExportError, match=message):
        save_model_json(path, MixtureParams("spherical", [1.0], [[0.0]], [1.0]), columns=["x"])
    assert path.read_text() == "old content"
    assert _leftovers(tmp_path) == []


def test_unwritable_folder(tmp_path, monkeypatch):
    # Tests run as root, where chmod does not stop writes: simulate the refusal.
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export.tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match="permission denied"):
        atomic_write_text(tmp_path / "a.csv", "x")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- CSVs


def test_assignments_csv(tmp_path):
    values = np.array([[1.5, -2.0], [0.1, 3.0], [1e-20, 2.0 / 3.0]])
    resp = np.array([[0.9, 0.1], [0.25, 0.75], [0.5, 0.5]])
    path = tmp_path / "points.csv"
    write_assignments_csv(path, values, ["a", "resp_1"], resp, row_index=np.array([0, 2, 5]))
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["row", "a", "resp_1", "component", "resp_1_", "resp_2", "uncertainty"]
    assert [r[0] for r in rows[1:]] == ["0", "2", "5"]
    assert [r[3] for r in rows[1:]] == ["1", "2", "1"]
    got = np.array([[float(v) for v in r[1:3]] for r in rows[1:]])
    np.testing.assert_array_equal(got, values)  # values as given, exactly
    np.testing.assert_array_equal(np.array([[float(v) for v in r[4:6]] for r in rows[1:]]), resp)
    np.testing.assert_allclose([float(r[6]) for r in rows[1:]], [0.1, 0.25, 0.5], atol=1e-15)


def test_assignments_csv_shape_errors(tmp_path):
    with pytest.raises(ValueError, match="responsibilities"):
        write_assignments_csv(tmp_path / "p.csv", np.zeros((3, 2)), ["a", "b"], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="dataset_values"):
        write_assignments_csv(tmp_path / "p.csv", np.zeros((3, 2)), ["a"], np.zeros((3, 2)))
    assert os.listdir(tmp_path) == []


def test_history_csv(tmp_path):
    x = _data(d=2)
    gm = GaussianMixture(2, n_init=2, random_state=1).fit(x)
    snapshots = [s for r in gm.restarts_ for s in r.snapshots]
    path = tmp_path / "ll.csv"
    write_history_csv(path, snapshots)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["restart", "iteration", "half_step", "log_likelihood", "lower_bound",
                             "converged"]
    assert len(rows) == len(snapshots)
    assert {r["restart"] for r in rows} == {"0", "1"}
    assert rows[0]["half_step"] == "init" and rows[0]["log_likelihood"] == rows[0]["lower_bound"] == ""
    # each figure is of its row's own θ: an M row knows B(θ_new), not L(θ_new), which is the next E row's
    for row, snap, following in zip(rows, snapshots, snapshots[1:] + [None]):
        if row["half_step"] == "M":
            assert row["log_likelihood"] == "" and float(row["lower_bound"]) == snap.lower_bound
            if following is not None and following.half_step == "E" and following.restart == snap.restart:
                assert following.log_likelihood >= snap.lower_bound - 1e-12
        elif row["half_step"] == "E":
            assert float(row["log_likelihood"]) == float(row["lower_bound"]) == snap.log_likelihood
    best = max(gm.restarts_, key=lambda r: r.final.log_likelihood).restart
    e_rows = [r for r in rows if r["half_step"] == "E" and r["restart"] == str(best)]
    np.testing.assert_array_equal([float(r["log_likelihood"]) for r in e_rows], gm.lower_bounds_)
    assert {r["converged"] for r in rows} <= {"true", "false"}
    # RestartHistory objects are accepted too
    write_history_csv(tmp_path / "ll2.csv", gm.restarts_)
    assert (tmp_path / "ll2.csv").read_text() == path.read_text()


# --------------------------------------------------------------------------- scikit-learn


@pytest.mark.parametrize("covariance_type", TYPES)
def test_readme_snippet_loads_into_sklearn(tmp_path, covariance_type):
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(3)
    raw = np.vstack([rng.normal([0, 10], [1, 5], (120, 2)), rng.normal([4, 40], [0.5, 3], (80, 2))])
    center, scale = raw.mean(axis=0), raw.std(axis=0)
    x_std = (raw - center) / scale
    gm = _fit(covariance_type, x_std)
    path = tmp_path / "model.json"
    _save(path, gm, x_std, ["x", "y"], preprocessing={"center": center, "scale": scale})

    namespace = {"path": str(path), "X": raw}
    exec(README_SNIPPET, namespace)
    gmm, X, labels = namespace["gmm"], namespace["X"], namespace["labels"]

    assert abs(gmm.score(X) - gm.score(x_std)) <= 1e-12
    np.testing.assert_array_equal(labels, gm.predict(x_std))
    np.testing.assert_allclose(gmm.predict_proba(X), gm.predict_proba(x_std), atol=1e-12)


def test_csv_is_readable_by_csv_module(tmp_path):
    write_csv(tmp_path / "t.csv", ["a,b", 'q"uote'], [[1.0, "x,y"]])
    with open(tmp_path / "t.csv", newline="") as handle:
        assert list(csv.reader(handle)) == [["a,b", 'q"uote'], ["1.0", "x,y"]]


def test_csv_streams_a_generator_in_chunks(tmp_path, monkeypatch):
    written = []
    real = export.atomic_write_chunks

    def spy(path, chunks):
        def counted():
            for chunk in chunks:
                written.append(len(chunk))
                yield chunk
        real(path, counted())

    monkeypatch.setattr(export, "atomic_write_chunks", spy)
    n = 3 * export.CSV_ROWS_PER_CHUNK + 5
    write_csv(tmp_path / "big.csv", ["i"], ([i] for i in range(n)))
    assert len(written) == 4  # one chunk per CSV_ROWS_PER_CHUNK rows, then the rest
    with open(tmp_path / "big.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == n + 1 and rows[-1] == [str(n - 1)]


# --------------------------------------------------------------------------- formula injection


INJECTION = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "text, safe",
    [
        (INJECTION, "'" + INJECTION), ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-1.5", "-1.5"), ("+2e3", "+2e3"), ("-inf", "-inf"),
        ("x1", "x1"), ("a=b", "a=b"), ("", ""),
    ],
)
def test_spreadsheet_safe(text, safe):
    assert export.spreadsheet_safe(text) == safe


def test_exported_headers_and_text_cells_are_neutralised_numbers_unchanged(tmp_path):
    values = np.array([[-1.5, 2.0], [3.25, -4e-300]])
    resp = np.array([[0.25, 0.75], [1.0, 0.0]])
    path = tmp_path / "points.csv"
    write_assignments_csv(path, values, [INJECTION, "-@x"], resp)
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["row", "'" + INJECTION, "'-@x"]
    assert [float(v) for v in rows[1][1:3]] == [-1.5, 2.0]
    assert rows[2][1:3] == ["3.25", "-4e-300"]  # a negative number stays a number

    write_csv(tmp_path / "t.csv", ["name", "value"], [["=HYPERLINK(1)", -2.5], ["@me", -7]])
    with open(tmp_path / "t.csv", newline="") as handle:
        assert list(csv.reader(handle))[1:] == [["'=HYPERLINK(1)", "-2.5"], ["'@me", "-7"]]


# --------------------------------------------------------------------------- model file bounds


def test_huge_integer_literal_is_a_model_file_error():
    doc = _good_doc()
    text = json.dumps(doc).replace('"n_components": 2', '"n_components": 1' + "0" * 400)
    with pytest.raises(ModelFileError, match="'n_components' .* positive integer"):
        load_model_json(text)
    text = json.dumps(doc).replace("[0.4, 0.6]", "[0.4, 1" + "0" * 400 + "]")
    with pytest.raises(ModelFileError, match="'weights' .* non-finite"):
        load_model_json(text)


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_nesting_is_a_model_file_error(depth):
    doc = _good_doc()
    text = json.dumps(doc)[:-1] + ', "settings": {"x": ' + "[" * depth + "]" * depth + "}}"
    with pytest.raises(ModelFileError, match="more than 32 deep"):
        load_model_json(text)


def test_boolean_version_is_refused():
    doc = _good_doc()
    doc["version"] = True
    with pytest.raises(ModelFileError, match="version True is not supported"):
        load_model_json(json.dumps(doc))


def _finishes(function, *args):
    """Run ``function`` on a daemon thread; whether it returned within 30 s, and its error."""
    outcome = {}

    def run():
        try:
            function(*args)
        except Exception as exc:  # the caller inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    return not thread.is_alive(), outcome.get("error")


def test_model_file_that_is_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    finished, error = _finishes(load_model_json, fifo)
    assert finished, "opening a FIFO blocked"
    assert isinstance(error, ModelFileError) and "named pipe (FIFO), not a regular file" in str(error)
    # (/dev/zero is refused by the same check; reading it would fill memory, so no test does)


# --------------------------------------------------------------------------- where exports land


def test_special_files_are_refused_and_left_as_they_are(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match="named pipe"):
        atomic_write_text(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # os.replace would have made it a regular file
    null = tmp_path / "null"  # never the real /dev/null: a regression would replace it
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pass  # only root can make (or replace) a device node
    else:
        with pytest.raises(ExportError, match="null': it is a device, not a regular file"):
            atomic_write_text(null, "x")
        assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert _leftovers(tmp_path) == []


def test_symlinks_are_written_through_to_their_target(tmp_path):
    target = tmp_path / "real" / "model.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "real" / "fresh.json")
    atomic_write_text(dangling, "made")
    assert dangling.is_symlink() and (tmp_path / "real" / "fresh.json").read_text() == "made"
    assert _leftovers(tmp_path) == [] and _leftovers(target.parent) == []


def test_outputs_may_not_be_inputs_or_each_other(tmp_path, monkeypatch):
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    (tmp_path / "sub").mkdir()
    hard = tmp_path / "sub" / "hard.csv"
    os.link(data, hard)
    soft = tmp_path / "soft.csv"
    soft.symlink_to(data)
    monkeypatch.chdir(tmp_path)
    for same in (str(data), "./d.csv", "sub/../d.csv", str(hard), str(soft)):
        with pytest.raises(ExportError, match="is the same file as the data file .* would overwrite "
                                              "the input. Give --out another file name"):
            export.check_output_paths([("--out", same)], [("the data file", "d.csv")])
    with pytest.raises(ExportError, match="--truth './x.csv' and --out 'x.csv' are the same file"):
        export.check_output_paths([("--out", "x.csv"), ("--truth", "./x.csv")])
    export.check_output_paths([("--out", "m.json"), ("--truth", "t.json")], [("the data file", "d.csv")])
    assert data.read_text() == "a,b\n1,2\n" and sorted(os.listdir(tmp_path)) == ["d.csv", "soft.csv", "sub"]


def test_check_output_paths_refuses_what_a_write_would(tmp_path):
    with pytest.raises(ExportError, match="is a folder"):
        export.check_output_paths([("--out", tmp_path)])
    with pytest.raises(ExportError, match="does not exist"):
        export.check_output_paths([("--out", tmp_path / "no" / "m.json")])
    with pytest.raises(ExportError, match="device"):
        export.check_output_paths([("--out", "/dev/null")])


def test_stale_temp_files_of_killed_exports_are_swept(tmp_path):
    old = time.time() - export.STALE_TEMP_AGE - 60
    names = {
        "stale": ".model.json.abcd_123.gmm-studio.tmp",     # ours, old: swept
        "fresh": ".model.json.zyxw_987.gmm-studio.tmp",     # ours, maybe still being written
        "other": ".model.json.abcd_123.tmp",                # another program's pattern
        "plain": "notes.gmm-studio.tmp",
    }
    for key, name in names.items():
        (tmp_path / name).write_text(key)
        if key != "fresh":
            os.utime(tmp_path / name, (old, old))
    (tmp_path / "keep.txt").write_text("keep")
    link = tmp_path / ".x.csv.abcdefgh.gmm-studio.tmp"
    link.symlink_to(tmp_path / "keep.txt")
    os.utime(link, (old, old), follow_symlinks=False)

    atomic_write_text(tmp_path / "other-file.csv", "x")  # any write to the folder sweeps it
    left = set(os.listdir(tmp_path))
    assert names["stale"] not in left
    assert {names["fresh"], names["other"], names["plain"], "keep.txt", link.name} <= left
    assert (tmp_path / "keep.txt").read_text() == "keep"


SIGTERM_CHILD = """
import sys
from gmm_studio.core import export

def slow():
    yield b"partial"
    print("writing", flush=True)
    sys.stdin.readline()  # the parent sends SIGTERM instead of a line
    yield b"rest"

with export.temp_files_removed_on_termination():
    export.atomic_write_chunks(sys.argv[1], slow())
"""


def test_sigterm_during_an_export_removes_its_temp_file(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("previous")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, "-c", SIGTERM_CHILD, str(path)], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        assert len(_leftovers(tmp_path)) == 1  # mid-write: the temp file exists
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 143
    finally:
        child.kill()
        child.communicate()
    assert _leftovers(tmp_path) == []
    assert path.read_text() == "previous"


def test_history_csv_of_kmeans_keeps_the_updates_objective(tmp_path):
    from dataclasses import replace

    from gmm_studio.core.kmeans import EM_HALF_STEP, kmeans_steps

    x = _data(d=2)
    # as the window's history holds them: assign and update run as E and M
    snapshots = [replace(s, half_step=EM_HALF_STEP[s.half_step]) for s in kmeans_steps(x, x[:2].copy(), max_iter=5)]
    write_history_csv(tmp_path / "km.csv", snapshots)
    with open(tmp_path / "km.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    updates = [(r, s) for r, s in zip(rows, snapshots) if r["half_step"] == "M"]
    assert updates and all(float(r["log_likelihood"]) == s.log_likelihood for r, s in updates)  # −J/N of its centres
