"""Fuzz the file loader with CSV-ish bytes people (and broken exporters) produce.

Whatever the bytes, loading either gives a valid dataset (finite float64 values whose shape
matches the columns, labels and row index) or a DataError with a message; never another
exception, and the file is never changed.  Bounded: a few seconds for the whole file.
"""

from __future__ import annotations

import codecs
import io
import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gmm_studio.core.dataio import MISSING_TOKENS, DataError, ImportOptions, load_dataset, read_table

DELIMITERS = [",", ",", ";", "\t", "|", " ", "  ", ":"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252"]
LINE_ENDS = ["\n", "\r\n", "\r"]

plain = st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.6g}")
odd_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**400), 10**400).map(str),  # beyond float range both ways
    st.sampled_from(["1e308", "-1e308", "1e400", "-0", "5e-324", "0x10", "1_000", "1,5", "٣", "+.5", "1e", "--1"]),
)
missing = st.sampled_from(sorted(MISSING_TOKENS) + ["inf", "-inf", "Infinity", "nan(123)", "#DIV/0!"])
words = st.one_of(
    st.sampled_from(["setosa", "virginica", "A", "B", "Adélie", "日本", "=1+2", "@SUM(A1)"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4),  # control characters too
)
quoted = st.tuples(words, st.sampled_from([",", ";", "\n", '""', ""])).map(lambda p: f'"{p[0]}{p[1]}{p[0]}"')
header_names = st.one_of(words, st.sampled_from(["id", "label", "rownames", "Unnamed: 0", "", "=cmd|' /C calc'!A0"]))
# Tame cells (mostly numbers, a few gaps) make files that load; wild ones try everything.
tame_cell = st.one_of(plain, plain, plain, plain, plain, plain, missing)
wild_cell = st.one_of(plain, plain, odd_numbers, missing, words, quoted, st.just(""))


@st.composite
def csv_files(draw) -> tuple[bytes, str]:
    """Bytes of a text table (and a file suffix): half tame, half broken on purpose."""
    wild = draw(st.booleans())
    delimiter = draw(st.sampled_from(DELIMITERS))
    width = draw(st.integers(1, 5))
    cell = wild_cell if wild else tame_cell
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=20))
    if not wild and rows and draw(st.booleans()):  # a label column of text
        rows = [r + [draw(st.sampled_from(["a", "b", "c"]))] for r in rows]
    if draw(st.booleans()):  # an index column
        rows = [[str(i + 1)] + r for i, r in enumerate(rows)]
    if draw(st.booleans()):
        rows.insert(0, draw(st.lists(header_names, min_size=len(rows[0]) if rows else 1, max_size=width + 2)))
    if wild:
        for _ in range(draw(st.integers(0, 3))):  # ragged rows
            if rows:
                i = draw(st.integers(0, len(rows) - 1))
                rows[i] = rows[i][: draw(st.integers(0, len(rows[i])))] + draw(st.lists(cell, max_size=3))
        if draw(st.booleans()):
            rows.insert(draw(st.integers(0, len(rows))), ["# a comment, 1, 2"])
    end = draw(st.sampled_from(LINE_ENDS))
    text = end.join(delimiter.join(r) for r in rows) + draw(st.sampled_from(["", end, end * 3]))
    data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if wild and draw(st.integers(0, 3)) == 0:  # binary junk somewhere
        junk = draw(st.binary(min_size=1, max_size=64))
        at = draw(st.integers(0, len(data)))
        data = data[:at] + junk + data[at:]
    if wild and draw(st.integers(0, 5)) == 0:
        data = draw(st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"\x93NUMPY", b"PK\x03\x04"])) + data
    return data, draw(st.sampled_from([".csv", ".csv", ".csv", ".tsv", ".txt", ".dat", ".npy"]))


options = st.builds(
    ImportOptions,
    missing=st.sampled_from(["drop", "impute"]),
    standardize=st.booleans(),
)


def _check_dataset(ds) -> None:
    values = ds.values
    assert values.dtype == np.float64 and values.ndim == 2
    n, d = values.shape
    assert n >= 1 and d >= 1 and d == len(ds.columns)
    assert np.isfinite(values).all()
    assert ds.row_index.shape == (n,)
    if ds.labels is not None:
        assert ds.labels.shape == (n,) and ds.label_column is not None
    if ds.center is not None:
        assert ds.center.shape == ds.scale.shape == (d,)


def _load_and_check(data: bytes, suffix: str, opts: ImportOptions) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fuzz" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        before = os.stat(path).st_mtime_ns
        try:
            table = read_table(path)
        except DataError as exc:
            assert str(exc).strip()
            event("refused while reading")
        else:
            assert table.n_rows >= 1 and len(table.columns) >= 1
            try:
                dataset = load_dataset(path, opts)
            except DataError as exc:
                assert str(exc).strip()
                event("read, refused while preparing")
            else:
                _check_dataset(dataset)
                event("loaded")
        with open(path, "rb") as handle:
            assert handle.read() == data
        assert os.stat(path).st_mtime_ns == before


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=csv_files(), opts=options)
def test_loader_gives_a_dataset_or_a_data_error_and_leaves_the_file_alone(file, opts):
    _load_and_check(*file, opts)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@st.composite
def damaged_npy(draw) -> bytes:
    """A small saved array with bytes overwritten (mostly in the header), cut short, or grown."""
    array = draw(st.sampled_from([
        np.arange(12.0).reshape(6, 2), np.arange(5, dtype=np.int8), np.zeros((3, 4), dtype=np.float32),
        np.array([(1.0, "a"), (2.0, "b")], dtype=[("x", "f8"), ("k", "U2")]), np.ones((2, 2, 2)),
    ]))
    data = bytearray(_npy_bytes(array))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, min(len(data) - 1, 127)))
        data[at : at + 1] = draw(st.binary(min_size=1, max_size=12))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=80, deadline=None)
@given(data=damaged_npy())
def test_damaged_npy_gives_a_dataset_or_a_data_error(data):
    _load_and_check(data, ".npy", ImportOptions())
