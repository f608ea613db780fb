"""Tests for gmm_studio.core.dataio: reading tables people actually write, and refusing bad ones clearly."""

from __future__ import annotations

import codecs
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gmm_studio.core import dataio
from gmm_studio.core.dataio import (
    SUPPORTED_SUFFIXES,
    CsvDialect,
    DataError,
    ImportOptions,
    LoadCancelled,
    dataset_from_array,
    load_dataset,
    prepare_dataset,
    read_table,
    sniff_dialect,
)


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == (".csv", ".tsv", ".txt", ".dat", ".npy")


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (" ", "whitespace")],
)
def test_delimiters_are_sniffed(tmp_path, delimiter, name):
    rows = ["x", "y", "z"], ["1.5", "-2", "3e2"], ["4", "5.25", "-6"]
    path = write(tmp_path, "\n".join(delimiter.join(r) for r in rows) + "\n")
    dialect = sniff_dialect(path)
    assert (dialect.delimiter, dialect.has_header, dialect.decimal) == (delimiter, True, ".")
    assert dialect.delimiter_name == name
    table = read_table(path)
    assert table.columns == ("x", "y", "z")
    np.testing.assert_array_equal(table.numeric["z"], [300.0, -6.0])


def test_whitespace_runs_and_tabs(tmp_path):
    path = write(tmp_path, "  1.0   2.0\t 3\n4    5 6\n", name="d.txt")
    table = read_table(path)
    assert table.dialect.delimiter == " "
    assert not table.dialect.has_header
    assert table.columns == ("column 1", "column 2", "column 3")
    np.testing.assert_array_equal(table.numeric["column 3"], [3.0, 6.0])


def test_decimal_comma_in_semicolon_file(tmp_path):
    path = write(tmp_path, "a;b\n1,5;2,25\n-3,0;4\n")
    table = read_table(path)
    assert table.dialect.delimiter == ";" and table.dialect.decimal == ","
    np.testing.assert_array_equal(table.numeric["a"], [1.5, -3.0])
    np.testing.assert_array_equal(table.numeric["b"], [2.25, 4.0])


def test_decimal_comma_with_missing_uses_general_path(tmp_path):
    path = write(tmp_path, "a;b;name\n1,5;NA;x\n2;3,5;y\n")
    table = read_table(path)
    np.testing.assert_array_equal(table.numeric["b"], [np.nan, 3.5])
    assert list(table.text["name"]) == ["x", "y"]


def test_no_header_gets_generated_names(tmp_path):
    table = read_table(write(tmp_path, "1,2\n3,4\n5,6\n"))
    assert table.columns == ("column 1", "column 2") and table.n_rows == 3


def test_bom_and_crlf(tmp_path):
    path = write(tmp_path, codecs.BOM_UTF8 + "é,b\r\n1,2\r\n3,4\r\n".encode())
    table = read_table(path)
    assert table.dialect.encoding == "utf-8-sig"
    assert table.columns == ("é", "b")
    np.testing.assert_array_equal(table.numeric["é"], [1, 3])


def test_latin1_fallback(tmp_path):
    path = write(tmp_path, "température;durée\n1;2\n3;4\n", encoding="latin-1")
    table = read_table(path)
    assert table.dialect.encoding == "latin-1"
    assert table.columns == ("température", "durée")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16(tmp_path, encoding):
    path = write(tmp_path, "x\ty\n1\t2\n3\t4\n", encoding=encoding)
    table = read_table(path)
    assert table.columns == ("x", "y")
    np.testing.assert_array_equal(table.numeric["y"], [2, 4])


def test_quoted_fields_comments_and_blank_lines(tmp_path):
    text = (
        "# exported by a lab instrument\n"
        '"name","x","y"\n'
        "\n"
        '"Smith, J.",1.5,2\n'
        "  # a comment in the middle\n"
        '"O\'Brien",3,"4"\n'
    )
    table = read_table(write(tmp_path, text))
    assert table.columns == ("name", "x", "y")
    assert list(table.text["name"]) == ["Smith, J.", "O'Brien"]
    np.testing.assert_array_equal(table.numeric["y"], [2, 4])
    assert table.preview_rows(5) == [["Smith, J.", "1.5", "2"], ["O'Brien", "3", "4"]]


@pytest.mark.parametrize("token", ["", "NA", "N/A", "nan", "NaN", "?", "."])
def test_missing_tokens(tmp_path, token):
    table = read_table(write(tmp_path, f"a,b\n1,2\n{token},4\n5,6\n"))
    assert "a" in table.numeric
    np.testing.assert_array_equal(table.numeric["a"], [1, np.nan, 5])


def test_text_column_as_labels(tmp_path):
    text = "species,x,y\nsetosa,1,2\nsetosa,1.1,2.1\nvirginica,5,6\n"
    table = read_table(write(tmp_path, text))
    assert table.text_columns == ("species",) and table.numeric_columns == ("x", "y")
    ds = prepare_dataset(table, ImportOptions(label_column="species"))
    assert ds.columns == ("x", "y")
    assert list(ds.labels) == ["setosa", "setosa", "virginica"]
    assert ds.values.flags.c_contiguous and ds.values.dtype == np.float64


def test_short_rows_padded_with_missing(tmp_path):
    table = read_table(write(tmp_path, "a,b,c\n1,2,3\n4,5\n7,8,9\n"))
    np.testing.assert_array_equal(table.numeric["c"], [3, np.nan, 9])
    assert any("line 3" in n for n in table.notes)


def test_trailing_delimiter_is_ignored(tmp_path):
    table = read_table(write(tmp_path, "1,2,\n3,4,\n"))
    assert table.columns == ("column 1", "column 2")


def test_npy(tmp_path):
    x = np.random.default_rng(0).normal(size=(50, 3))
    np.save(tmp_path / "a.npy", x)
    ds = load_dataset(tmp_path / "a.npy")
    assert ds.columns == ("x1", "x2", "x3")
    np.testing.assert_array_equal(ds.values, x)
    assert ds.source.endswith("a.npy")


def test_npy_object_array_is_refused(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="(?i)pickle"):
        read_table(tmp_path / "o.npy")


def test_npy_3d_is_refused(tmp_path):
    np.save(tmp_path / "c.npy", np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match="2-D"):
        read_table(tmp_path / "c.npy")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "empty"),
        ("\n  \n", "empty"),
        ("# only a comment\n", "no data"),
        ("a,b,c\n", "no data rows"),
    ],
)
def test_empty_inputs(tmp_path, content, words):
    with pytest.raises(DataError, match=words):
        read_table(write(tmp_path, content))


def test_binary_garbage(tmp_path):
    data = np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    with pytest.raises(DataError, match="not look like a text table"):
        read_table(write(tmp_path, data))


def test_zip_archive(tmp_path):
    np.savez(tmp_path / "z.npz", a=np.zeros(3))
    with pytest.raises(DataError, match="zip"):
        read_table(tmp_path / "z.npz")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="Could not read"):
        read_table(tmp_path / "nope.csv")


def test_too_many_fields_names_the_line(tmp_path):
    with pytest.raises(DataError, match="Line 4 .* 4 fields .* 3 columns"):
        read_table(write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n"))


def test_one_numeric_column(tmp_path):
    table = read_table(write(tmp_path, "name,x\na,1\nb,2\n"))
    with pytest.raises(DataError, match="1 numeric column.*at least 2"):
        prepare_dataset(table)


def test_no_numeric_column_shows_text_example(tmp_path):
    table = read_table(write(tmp_path, "p,q\na,b\nc,d\n"))
    with pytest.raises(DataError, match="0 numeric columns.*such as 'a'"):
        prepare_dataset(table)


def test_selecting_one_or_text_columns(tmp_path):
    table = read_table(write(tmp_path, "name,x,y\na,1,2\nb,2,3\n"))
    with pytest.raises(DataError, match="select at least 2"):
        prepare_dataset(table, ImportOptions(columns=("x",)))
    with pytest.raises(DataError, match="holds text"):
        prepare_dataset(table, ImportOptions(columns=("x", "name")))
    with pytest.raises(DataError, match="no column 'w'"):
        prepare_dataset(table, ImportOptions(columns=("x", "w")))


def test_every_row_missing(tmp_path):
    table = read_table(write(tmp_path, "a,b\n1,NA\nNA,2\n"))
    with pytest.raises(DataError, match="Every row has a missing value"):
        prepare_dataset(table)
    ds = prepare_dataset(table, ImportOptions(missing="impute"))
    np.testing.assert_array_equal(ds.values, [[1, 2], [1, 2]])
    assert any("filled 2" in n for n in ds.notes)


def test_drop_missing_rows_and_row_index(tmp_path):
    table = read_table(write(tmp_path, "a,b\n1,2\nNA,3\n4,5\n6,\n7,8\n"))
    ds = prepare_dataset(table)
    np.testing.assert_array_equal(ds.row_index, [0, 2, 4])
    np.testing.assert_array_equal(ds.values[:, 0], [1, 4, 7])
    assert "dropped 2 of 5 rows with missing values" in ds.notes


def test_min_rows(tmp_path):
    table = read_table(write(tmp_path, "a,b\n1,2\n3,4\n5,NA\n"))
    with pytest.raises(DataError, match="Only 2 rows .* at least 10"):
        prepare_dataset(table, min_rows=10)


def test_constant_column_is_a_note(tmp_path):
    ds = load_dataset(write(tmp_path, "a,b\n1,3\n2,3\n4,3\n"))
    assert "column 'b' is constant (every value is 3)" in ds.notes


def test_infinite_values_are_missing(tmp_path):
    ds = load_dataset(write(tmp_path, "a,b\n1,2\ninf,3\n4,-inf\n5,1e400\n6,7\n"))
    np.testing.assert_array_equal(ds.values, [[1, 2], [6, 7]])
    assert any("'a': 1 infinite" in n for n in ds.notes)
    assert any("'b': 2 infinite" in n for n in ds.notes)


def test_huge_values_need_standardising(tmp_path):
    path = write(tmp_path, "a,b\n1e308,1\n-1e308,2\n5e307,3\n")
    with pytest.raises(DataError, match="too large.*Standardise"):
        load_dataset(path)
    ds = load_dataset(path, ImportOptions(standardize=True))
    assert np.all(np.isfinite(ds.values))
    np.testing.assert_allclose(ds.values.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.values.std(axis=0), 1)
    np.testing.assert_allclose(ds.original_values(), [[1e308, 1], [-1e308, 2], [5e307, 3]])


def test_standardize_constant_column(tmp_path):
    ds = load_dataset(write(tmp_path, "a,b\n0.1,1\n0.1,2\n0.1,4\n"), ImportOptions(standardize=True))
    np.testing.assert_array_equal(ds.values[:, 0], 0)
    assert ds.scale[0] == 1 and ds.center[0] == 0.1


def test_user_dialect_override(tmp_path):
    path = write(tmp_path, "1;2\n3;4\n")
    table = read_table(path, dialect=CsvDialect(";", ".", True, "utf-8"))
    assert table.columns == ("1", "2") and table.n_rows == 1


# --------------------------------------------------------------------------- arrays


def test_dataset_from_array():
    x = np.arange(12.0).reshape(6, 2)
    x[2, 1] = np.nan
    ds = dataset_from_array(x, columns=["u", "v"], labels=list("aabbcc"), source="generated")
    assert ds.columns == ("u", "v") and ds.source == "generated"
    assert list(ds.labels) == list("aabcc")
    assert ds.values.shape == (5, 2) and not ds.values.flags.writeable
    with pytest.raises(DataError, match="at least 2"):
        dataset_from_array(np.zeros((5, 1)))
    with pytest.raises(DataError, match=r"\(N, D\)"):
        dataset_from_array(np.zeros(5))


# --------------------------------------------------------------------------- progress, cancel


def test_progress_and_cancel(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "big.csv"
    np.savetxt(path, rng.normal(size=(60_000, 2)), delimiter=",", fmt="%.6g")
    seen = []
    table = read_table(path, progress=seen.append)
    assert table.n_rows == 60_000
    assert len(seen) >= 3 and seen[-1] == 1.0 and seen == sorted(seen)

    cancel = threading.Event()

    def cancel_midway(fraction):
        if fraction >= 0.1:
            cancel.set()

    with pytest.raises(LoadCancelled):
        read_table(path, progress=cancel_midway, cancel=cancel)
    cancel.set()
    with pytest.raises(LoadCancelled):
        read_table(path, cancel=cancel)


# --------------------------------------------------------------------------- round trip


names = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6).map(lambda s: "c" + s),
    min_size=2,
    max_size=5,
    unique=True,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t", " ", "|"]),
    header=st.booleans(),
)
def test_round_trip_savetxt(tmp_path, data, delimiter, header):
    cols = data.draw(names)
    values = data.draw(
        hnp.arrays(
            np.float64,
            st.tuples(st.integers(1, 12), st.just(len(cols))),
            elements=st.floats(allow_nan=False, allow_infinity=False),
        )
    )
    path = tmp_path / "rt.txt"
    np.savetxt(
        path, values, fmt="%.17g", delimiter=delimiter, header=delimiter.join(cols) if header else "", comments=""
    )
    table = read_table(path)
    expected = tuple(cols) if header else tuple(f"column {j + 1}" for j in range(len(cols)))
    assert table.columns == expected
    assert table.n_rows == values.shape[0]
    got = np.column_stack([table.numeric[c] for c in expected])
    np.testing.assert_array_equal(got, values)


# --------------------------------------------------------------------------- beyond the sniffed sample


@pytest.fixture(autouse=False)
def small_chunks(monkeypatch):
    """Make 20 000-line files span several chunks, mixing the loadtxt and Python parsers."""
    monkeypatch.setattr(dataio, "_CHUNK_LINES", 3_000)


def _big_lines(n=20_000):
    rng = np.random.default_rng(3)
    return ["a,b"] + [f"{u:.6g},{v:.6g}" for u, v in rng.normal(size=(n, 2))]


def test_gap_far_from_the_start_falls_back_to_general_path(tmp_path, small_chunks):
    lines = _big_lines()
    lines[12_000] = "NA,1"
    table = read_table(write(tmp_path, "\n".join(lines)))
    assert table.n_rows == 20_000
    assert np.isnan(table.numeric["a"][11_999]) and np.isnan(table.numeric["a"]).sum() == 1


def test_ragged_row_far_from_the_start(tmp_path, small_chunks):
    lines = _big_lines()
    lines[13_000] = "1,2,3"
    with pytest.raises(DataError, match="Line 13001 "):
        read_table(write(tmp_path, "\n".join(lines)))


def test_text_far_from_the_start_makes_a_text_column(tmp_path, small_chunks):
    lines = _big_lines()
    lines[14_000] = "oops,1"
    table = read_table(write(tmp_path, "\n".join(lines)))
    assert table.text_columns == ("a",) and table.numeric_columns == ("b",)
    assert table.text["a"][13_999] == "oops"
    assert list(table.text["a"][:3]) == [r.split(",")[0] for r in lines[1:4]]
    assert table.text["a"][19_999] == lines[20_000].split(",")[0]
    with pytest.raises(DataError, match="such as 'oops'"):
        prepare_dataset(table)


def test_latin1_after_the_sniffed_sample(tmp_path):
    text = "a,b\n" + "1,2\n" * 40_000 + "3,4\n"
    data = text.encode() + "# café\n".encode("latin-1")
    table = read_table(write(tmp_path, data))
    assert table.dialect.encoding == "latin-1" and table.n_rows == 40_001
    assert any("latin-1" in n for n in table.notes)


def test_text_named_npy(tmp_path):
    with pytest.raises(DataError, match="not a NumPy array file"):
        read_table(write(tmp_path, "1,2\n3,4\n", name="fake.npy"))


def test_npy_record_array_with_labels(tmp_path):
    rec = np.array([(1.0, 2.0, "a"), (3.0, 4.0, "b")], dtype=[("u", "f8"), ("v", "i4"), ("k", "U3")])
    np.save(tmp_path / "r.npy", rec)
    ds = load_dataset(tmp_path / "r.npy", ImportOptions(label_column="k"))
    assert ds.columns == ("u", "v") and list(ds.labels) == ["a", "b"]


def test_standardize_subnormal_constant_column():
    x = np.array([[5e-324, 1.0], [5e-324, 2.0], [5e-324, 3.0]])
    ds = prepare_dataset(dataset_table(x), ImportOptions(standardize=True))
    np.testing.assert_array_equal(ds.values[:, 0], 0)
    assert ds.scale[0] == 1.0


def dataset_table(x):
    from gmm_studio.core.dataio import Table

    cols = tuple(f"x{j + 1}" for j in range(x.shape[1]))
    return Table(None, cols, {c: x[:, j].copy() for j, c in enumerate(cols)}, {}, None, x.shape[0])


def test_single_column_file(tmp_path):
    table = read_table(write(tmp_path, "x\n1\n2\n"))
    assert table.columns == ("x",) and table.dialect.delimiter == ","
    with pytest.raises(DataError, match="1 numeric column \\('x'\\).*at least 2"):
        prepare_dataset(table)
