"""Tests for gmm_studio.core.dataio: reading tables people actually write, and refusing bad ones clearly."""

from __future__ import annotations

import codecs
import os
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
    scale_warning,
    sniff_dialect,
    suggest_import,
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


def test_one_numeric_column_is_a_1d_dataset(tmp_path):
    table = read_table(write(tmp_path, "name,x\na,1.5\nb,2\nc,-3\n"))
    ds = prepare_dataset(table)
    assert ds.columns == ("x",) and ds.values.shape == (3, 1) and ds.n_features == 1
    np.testing.assert_array_equal(ds.values[:, 0], [1.5, 2, -3])


def test_no_numeric_column_shows_text_example(tmp_path):
    table = read_table(write(tmp_path, "p,q\na,b\nc,d\n"))
    with pytest.raises(DataError, match="0 numeric columns.*such as 'a'"):
        prepare_dataset(table)


def test_selecting_one_or_text_columns(tmp_path):
    table = read_table(write(tmp_path, "name,x,y\na,1,2\nb,2,3\n"))
    assert prepare_dataset(table, ImportOptions(columns=("y",))).values.shape == (2, 1)
    with pytest.raises(DataError, match="No numeric column is selected; select at least one"):
        prepare_dataset(table, ImportOptions(columns=()))
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


def test_constant_column_chosen_explicitly_is_a_note(tmp_path):
    ds = load_dataset(write(tmp_path, "a,b\n1,3\n2,3\n4,3\n"), ImportOptions(columns=("a", "b")))
    assert ds.columns == ("a", "b")
    assert [n for n in ds.notes if "constant" in n] == ["column 'b' is constant (every value is 3)"]


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
    ds = load_dataset(write(tmp_path, "a,b\n0.1,1\n0.1,2\n0.1,4\n"), ImportOptions(("a", "b"), standardize=True))
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
    assert dataset_from_array(np.arange(5.0)[:, None]).values.shape == (5, 1)
    # arrays are taken as given: no column is left out as an index or a constant
    assert dataset_from_array(np.column_stack([np.arange(6.0), np.ones(6)])).columns == ("x1", "x2")
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
        prepare_dataset(table, ImportOptions(columns=("a", "b")))


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
    ds = prepare_dataset(dataset_table(x), ImportOptions(("x1", "x2"), standardize=True))
    np.testing.assert_array_equal(ds.values[:, 0], 0)
    assert ds.scale[0] == 1.0


def dataset_table(x):
    from gmm_studio.core.dataio import Table

    cols = tuple(f"x{j + 1}" for j in range(x.shape[1]))
    return Table(None, cols, {c: x[:, j].copy() for j, c in enumerate(cols)}, {}, None, x.shape[0])


def test_single_column_file(tmp_path):
    table = read_table(write(tmp_path, "x\n1.5\n2\n"))
    assert table.columns == ("x",) and table.dialect.delimiter == ","
    ds = prepare_dataset(table)
    assert ds.columns == ("x",) and ds.values.shape == (2, 1)


# --------------------------------------------------------------------------- import defaults


def _columns_csv(tmp_path, columns: dict, name="t.csv"):
    """A CSV from {header: list of cells}."""
    heads = list(columns)
    n = len(next(iter(columns.values())))
    lines = [",".join(heads)] + [",".join(str(columns[h][i]) for h in heads) for i in range(n)]
    return write(tmp_path, "\n".join(lines) + "\n", name=name)


def _measurements(n, seed=0):
    rng = np.random.default_rng(seed)
    return [f"{v:.5f}" for v in rng.normal(size=n)]


@pytest.mark.parametrize("header", ["id", "index", "rownames", "Unnamed: 0", "sample_id", ""])
def test_index_named_column_is_not_a_feature(tmp_path, header):
    n = 12
    ids = list(np.random.default_rng(1).permutation(n) * 7 + 100)  # not 1..N: the name decides
    table = read_table(_columns_csv(tmp_path, {header: ids, "a": _measurements(n), "b": _measurements(n, 1)}))
    index = table.columns[0]
    suggestion = suggest_import(table)
    assert suggestion.features == ("a", "b")
    assert "row index" in suggestion.reasons[index]
    ds = prepare_dataset(table)  # the defaults follow the suggestion
    assert ds.columns == ("a", "b")
    assert any(index in n and "row index" in n for n in ds.notes)


@pytest.mark.parametrize("start", [0, 1])
def test_column_counting_rows_is_not_a_feature(tmp_path, start):
    n = 30
    table = read_table(_columns_csv(tmp_path, {"n": list(range(start, start + n)), "a": _measurements(n),
                                               "b": _measurements(n, 2)}))
    suggestion = suggest_import(table)
    assert suggestion.features == ("a", "b")
    assert f"{start}, {start + 1}, …, {start + n - 1} in order" in suggestion.reasons["n"]


def test_shuffled_counter_is_a_feature(tmp_path):
    n = 30
    values = list(np.random.default_rng(0).permutation(n) + 1)
    table = read_table(_columns_csv(tmp_path, {"n": values, "a": _measurements(n)}))
    assert suggest_import(table).features == ("n", "a")


def test_penguins_style_rownames_and_species(tmp_path):
    # Rdatasets' penguins.csv: a rownames column 1..N sorted by species, then species as text.
    n = 30
    species = ["Adelie"] * 10 + ["Chinstrap"] * 10 + ["Gentoo"] * 10
    table = read_table(_columns_csv(tmp_path, {
        "rownames": list(range(1, n + 1)), "species": species, "island": ["Biscoe", "Dream", "Torgersen"] * 10,
        "bill_length_mm": _measurements(n), "body_mass_g": _measurements(n, 3), "sex": ["male", "female"] * 15,
    }))
    suggestion = suggest_import(table)
    assert suggestion.features == ("bill_length_mm", "body_mass_g")
    assert suggestion.label == "species"
    ds = prepare_dataset(table)
    assert ds.columns == ("bill_length_mm", "body_mass_g") and ds.label_column == "species"
    assert list(ds.labels[:2]) == ["Adelie", "Adelie"]


def test_lone_text_column_is_the_label(tmp_path):
    n = 12
    table = read_table(_columns_csv(tmp_path, {"a": _measurements(n), "kind": ["u", "v", "w"] * 4,
                                               "b": _measurements(n, 1)}))
    suggestion = suggest_import(table)
    assert suggestion.label == "kind" and suggestion.features == ("a", "b")


def test_text_identifiers_and_several_text_columns_are_not_labels(tmp_path):
    n = 12
    names = [f"car {i}" for i in range(n)]
    table = read_table(_columns_csv(tmp_path, {"model": names, "a": _measurements(n)}))
    assert suggest_import(table).label is None  # every value distinct: an identifier
    table = read_table(_columns_csv(tmp_path, {"p": ["x", "y"] * 6, "q": ["z", "w"] * 6, "a": _measurements(n)}))
    assert suggest_import(table).label is None  # which one? the person chooses


@pytest.mark.parametrize("name", ["label", "class", "cluster", "target", "species", "y"])
def test_generator_label_column_is_the_label_not_a_feature(tmp_path, name):
    n = 30
    table = read_table(_columns_csv(tmp_path, {"x1": _measurements(n), "x2": _measurements(n, 1),
                                               name: [-1, 0, 1, 2, 2, 1] * 5}))
    suggestion = suggest_import(table)
    assert suggestion.features == ("x1", "x2") and suggestion.label == name
    assert "label" in suggestion.reasons[name]
    ds = load_dataset(table.path)
    assert ds.columns == ("x1", "x2") and ds.label_column == name
    assert sorted(set(ds.labels)) == ["-1", "0", "1", "2"]


def test_a_measured_y_is_a_feature(tmp_path):
    table = read_table(_columns_csv(tmp_path, {"x": _measurements(20), "y": _measurements(20, 1)}))
    suggestion = suggest_import(table)
    assert suggestion.features == ("x", "y") and suggestion.label is None and not suggestion.excluded


def test_chosen_label_overrides_the_suggestion(tmp_path):
    n = 12
    table = read_table(_columns_csv(tmp_path, {"a": _measurements(n), "b": _measurements(n, 1),
                                               "kind": ["u", "v"] * 6, "label": [0, 1, 2] * 4}))
    suggestion = suggest_import(table, label_column="b")
    assert suggestion.label == "b"
    assert suggestion.features == ("a",)  # 'label' still holds class ids and stays out
    ds = prepare_dataset(table, ImportOptions(label_column="b"))
    assert ds.columns == ("a",) and ds.label_column == "b"
    # an explicit selection is taken as it is
    ds = prepare_dataset(table, ImportOptions(columns=("a", "label")))
    assert ds.columns == ("a", "label") and ds.labels is None


def test_constant_column_is_dropped_by_default_and_reported_once(tmp_path):
    n = 12
    table = read_table(_columns_csv(tmp_path, {"a": _measurements(n), "b": _measurements(n, 1),
                                               "c": ["3"] * (n - 1) + ["NA"]}))
    suggestion = suggest_import(table)
    assert suggestion.features == ("a", "b")
    assert suggestion.reasons["c"] == "constant: every value is 3"
    ds = prepare_dataset(table)
    assert ds.columns == ("a", "b") and ds.n_samples == n  # its gap drops no row either
    assert [note for note in ds.notes if "'c'" in note] == ["left out column 'c' (constant: every value is 3)"]


def test_notice_names_every_exclusion_on_one_line(tmp_path):
    n = 12
    table = read_table(_columns_csv(tmp_path, {"rownames": list(range(1, n + 1)), "a": _measurements(n),
                                               "b": ["7"] * n, "label": [0, 1] * 6}))
    notice = suggest_import(table).notice()
    assert "\n" not in notice
    for part in ("'rownames' (a row index", "'b' (constant", "'label' (the label column"):
        assert part in notice


def test_everything_excluded_says_how_to_fit_anyway(tmp_path):
    table = read_table(_columns_csv(tmp_path, {"index": list(range(1, 21)), "tag": ["a", "b"] * 10}))
    with pytest.raises(DataError, match="no numeric column to fit.*'index' \\(a row index.*select it yourself"):
        prepare_dataset(table)
    assert prepare_dataset(table, ImportOptions(columns=("index",))).n_features == 1


def test_scale_warning_when_columns_differ_by_more_than_100x(tmp_path):
    rng = np.random.default_rng(0)
    n = 50
    table = read_table(_columns_csv(tmp_path, {"mm": [f"{v:.4f}" for v in rng.normal(size=n)],
                                               "g": [f"{v:.4f}" for v in 5000 * rng.normal(size=n)],
                                               "cm": [f"{v:.4f}" for v in 20 * rng.normal(size=n)]}))
    message = scale_warning(table, ("mm", "g", "cm"))
    assert message is not None
    assert "'g'" in message and "'mm'" in message and "standardis" in message.lower()
    assert scale_warning(table, ("mm", "cm")) is None  # 20×: fine
    assert scale_warning(table, ("g",)) is None


# --------------------------------------------------------------------------- 1-D data


def test_npy_vector_is_a_1d_dataset(tmp_path):
    np.save(tmp_path / "v.npy", np.array([1.0, 2.5, 4.0]))
    ds = load_dataset(tmp_path / "v.npy")
    assert ds.columns == ("x1",) and ds.values.shape == (3, 1)


def test_zero_numeric_columns_keeps_its_message(tmp_path):
    table = read_table(write(tmp_path, "p,q\na,b\nc,d\ne,f\n"))
    with pytest.raises(DataError, match="0 numeric columns.*at least 1 is needed"):
        prepare_dataset(table)


# --------------------------------------------------------------------------- hostile files


def _peak_bytes(fn):
    """Run ``fn`` (which must raise DataError) and return the peak memory it traced, in bytes."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            fn()
        return tracemalloc.get_traced_memory()[1], str(info.value)
    finally:
        tracemalloc.stop()


def test_npy_claiming_more_data_than_it_holds(tmp_path):
    import io

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 2)})
    path = write(tmp_path, header.getvalue() + bytes(64), name="big.npy")
    assert path.stat().st_size == 192
    peak, message = _peak_bytes(lambda: read_table(path))
    assert peak < 10_000_000  # a read buffer, not the 16 TB claimed
    assert "(1000000000000, 2)" in message and "16 TB" in message and "save the array again" in message


@pytest.mark.parametrize(("descr", "shape"), [("<f8", (-1, 2)), ("<U0", (3,)), ("|V0", (3, 2))])
def test_impossible_npy_header(tmp_path, descr, shape):
    import io

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    path = write(tmp_path, header.getvalue() + bytes(64), name="odd.npy")
    with pytest.raises(DataError, match="impossible; save the array again"):
        read_table(path)


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "t.npy", np.arange(100.0).reshape(50, 2))
    data = (tmp_path / "t.npy").read_bytes()
    path = write(tmp_path, data[:-8], name="cut.npy")
    with pytest.raises(DataError, match="truncated"):
        read_table(path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_device_is_refused(tmp_path):
    with pytest.raises(DataError, match="not a regular file.*choose a data file"):
        read_table("/dev/zero")
    with pytest.raises(DataError, match="not a regular file"):
        sniff_dialect("/dev/zero")


def test_folder_is_refused(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            read_table(fifo)
        except DataError as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=60)  # a guard against hanging the suite, not a timing
    if reader.is_alive():  # it blocked in open(): give it a writer so the thread ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join()
        pytest.fail("reading a FIFO blocked")
    assert outcome and "not a regular file" in outcome[0] and "FIFO" in outcome[0]


def test_one_line_megabytes_long_fails_fast_with_bounded_memory(tmp_path):
    cells = ",".join(str(i % 10) for i in range(1_500_000))  # 3 MB, no line break
    path = write(tmp_path, cells)
    peak, message = _peak_bytes(lambda: read_table(path))
    assert "line 1" in message.lower() and f"{dataio.MAX_LINE_CHARS:,}" in message
    assert peak < 40_000_000


def test_too_many_columns_is_refused_with_bounded_memory(tmp_path):
    header = ",".join(f"c{j}" for j in range(100_000))
    row = ",".join("1" for _ in range(100_000))
    path = write(tmp_path, f"{header}\n{row}\n{row}\n")
    peak, message = _peak_bytes(lambda: read_table(path))
    assert "100,000 columns" in message and f"{dataio.MAX_COLUMNS:,}" in message
    assert peak < 60_000_000


def test_wide_npy_is_refused(tmp_path):
    np.save(tmp_path / "w.npy", np.zeros((2, dataio.MAX_COLUMNS + 1)))
    with pytest.raises(DataError, match="columns"):
        read_table(tmp_path / "w.npy")


def test_wide_but_allowed_csv_loads(tmp_path):
    d = 2_000
    header = ",".join(f"c{j}" for j in range(d))
    rows = [",".join(f"{v:.3f}" for v in np.random.default_rng(i).normal(size=d)) for i in range(5)]
    ds = load_dataset(write(tmp_path, "\n".join([header, *rows]) + "\n"))
    assert ds.values.shape == (5, d)


def test_file_too_big_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    path = write(tmp_path, "a,b\n" + "1.5,2.5\n" * 100_000)  # 0.8 MB
    physical = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 512}  # a 2 MB computer
    monkeypatch.setattr(os, "sysconf", lambda name: physical[name])
    with pytest.raises(DataError, match="needs about 3.2 MB of memory, more than this computer's 2.1 MB"):
        read_table(path)


def test_memory_error_while_loading_is_a_data_error(tmp_path, monkeypatch):
    path = write(tmp_path, "a,b\n1,2\n3,4\n")

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(np, "loadtxt", exhausted)
    with pytest.raises(DataError, match="not enough memory.*fewer rows or columns"):
        read_table(path)


def test_npy_text_column_with_impossible_code_points_is_a_data_error(tmp_path):
    # Found by the fuzz suite: a '<U2' field holding UTF-32 units beyond U+10FFFF made numpy
    # raise SystemError while the loader read it.
    good = np.zeros(2, dtype=[("x", "<f8"), ("t", "<U2")])
    path = tmp_path / "bad.npy"
    np.save(path, good)
    raw = bytearray(path.read_bytes())
    header_end = raw.index(b"\n") + 1
    raw[header_end + 8: header_end + 12] = b"\x00\x00\x00\x40"  # first char of row 0: 0x40000000
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="not valid Unicode"):
        read_table(path)


def test_a_huge_constant_column_standardises_without_overflow(tmp_path):
    # Found by the CSV fuzz test: a gap filled with the mean of 1e308 made the column constant
    # at 1e308, whose own mean overflowed.
    path = write(tmp_path, "a,b,c\n0,0,1e308\n1,0,\n2,1,\n")
    ds = load_dataset(path, ImportOptions(missing="impute", standardize=True))
    np.testing.assert_array_equal(ds.values[:, 2], 0)
    assert ds.center[2] == 1e308 and ds.scale[2] == 1
    np.testing.assert_allclose(ds.original_values()[:, 2], 1e308)
