"""Reading data tables (CSV/TSV/TXT and ``.npy``) into arrays EM can fit.

Two steps, so the import dialog can show what was read before anything is
decided:

1. :func:`read_table` reads a file into a :class:`Table`: every column, numeric
   columns as float64 with NaN for missing values, text columns as strings.
   The :class:`CsvDialect` (delimiter, decimal mark, header, encoding) is
   sniffed from the first 64 KiB unless given.
2. :func:`prepare_dataset` turns a table and the person's
   :class:`ImportOptions` into a :class:`Dataset`: a finite (N, D) float64
   matrix, optional ground-truth labels, and human-readable notes about what
   was dropped, filled or noticed.

Between the two, :func:`suggest_import` makes the default choice the import
dialog starts from and the command line applies: it leaves out row indexes,
constant and empty columns, and picks the label column (a lone text column, or
one named like ``label``/``class``/``species`` holding class ids), giving the
reason for each.  ``ImportOptions(columns=None)`` means "use the suggestion".

Every problem with the input is reported as a :class:`DataError` (a
``ValueError``) whose message says what is wrong and what to do.  Loading big
files reports progress and can be cancelled through a ``threading.Event``; the
functions keep no global state, so they are safe to run on a worker thread.

Limits
------
Only regular files are read: devices, FIFOs, sockets and folders are refused
before they are opened for reading (a FIFO is never waited on).  A text line
may hold at most :data:`MAX_LINE_CHARS` characters and a table at most
:data:`MAX_COLUMNS` columns (a CSV or an array); wider input is refused before
it is split into cells.  A ``.npy`` header's claimed size is checked against
the file's size before anything is allocated.  Reading needs about four times
the file's size in memory; a file too big for the computer's memory is refused
before it is read, and if memory still runs out, the ``MemoryError`` becomes a
:class:`DataError`.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import math
import os
import re
import stat
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from gmm_studio.core.em import LARGE_VALUE

__all__ = [
    "looks_like_labels",
    "LABEL_NAMES",
    "MAX_COLUMNS",
    "MAX_LINE_CHARS",
    "SUPPORTED_SUFFIXES",
    "MISSING_TOKENS",
    "CsvDialect",
    "DataError",
    "Dataset",
    "ImportOptions",
    "ImportSuggestion",
    "LoadCancelled",
    "Table",
    "dataset_from_array",
    "load_dataset",
    "prepare_dataset",
    "read_table",
    "scale_warning",
    "sniff_dialect",
    "suggest_import",
]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt", ".dat", ".npy")

#: Cell contents (after stripping spaces) read as a missing value.
MISSING_TOKENS: frozenset[str] = frozenset(
    {"", "NA", "N/A", "n/a", "na", "nan", "NaN", "NAN", "-nan", "?", ".", "null", "NULL", "None", "#N/A"}
)

#: Most columns a table may have.  Wide data (D in the thousands) still loads; a file
#: far wider is usually one with the wrong delimiter or no line breaks.
MAX_COLUMNS = 10_000
#: Most characters on one line of a text table (MAX_COLUMNS cells of ~100 characters).
MAX_LINE_CHARS = 1_000_000
#: Column names (case-insensitive) that hold known classes rather than measurements.
LABEL_NAMES: frozenset[str] = frozenset(
    {"label", "labels", "class", "classes", "cluster", "target", "species", "y"}
)

_SNIFF_BYTES = 64 * 1024
_READ_BLOCK = 4 * 1024 * 1024
_CHUNK_LINES = 100_000
_HEAD_ROWS = 200
_DELIMITER_PRIORITY = ("\t", ";", ",", "|", " ")
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma", "|": "pipe", " ": "whitespace"}
_COMMA_DECIMAL = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
_DOT_DECIMAL = re.compile(r"^\s*[-+]?\d*\.\d+(?:[eE][-+]?\d+)?\s*$")
# C0 control characters other than tab, newline, vertical tab, form feed, carriage return.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class DataError(ValueError):
    """The input cannot be turned into a dataset; the message says why and what to do."""


class LoadCancelled(Exception):
    """Raised by :func:`read_table` when its ``cancel`` event is set."""


@dataclass(frozen=True)
class CsvDialect:
    """How a delimited text file is written.

    Parameters
    ----------
    delimiter : str
        One of ``","``, ``";"``, ``"\\t"``, ``"|"``, or ``" "`` meaning any run
        of spaces and tabs.
    decimal : str
        ``"."`` or ``","`` (decimal commas, as in ``1,5;2,25``).
    has_header : bool
        Whether the first non-comment line holds column names.
    encoding : str
        A Python codec name, e.g. ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"latin-1"``.
    comment : str or None
        Lines starting with this (after optional spaces) are skipped.
    """

    delimiter: str
    decimal: str
    has_header: bool
    encoding: str
    comment: str | None = "#"

    def __post_init__(self) -> None:
        if self.delimiter not in _DELIMITER_NAMES:
            raise ValueError(
                f"delimiter must be one of {sorted(_DELIMITER_NAMES)!r}; got {self.delimiter!r}."
            )
        if self.decimal not in (".", ","):
            raise ValueError(f"decimal must be '.' or ','; got {self.decimal!r}.")
        if self.decimal == self.delimiter:
            raise ValueError("decimal mark and delimiter cannot both be ','.")

    @property
    def delimiter_name(self) -> str:
        """A word for the delimiter, for messages and the import dialog."""
        return _DELIMITER_NAMES[self.delimiter]


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Table:
    """Everything read from a file, nothing decided yet.

    Parameters
    ----------
    path : str or None
    columns : tuple of str
        Column names in file order; ``"column 1"``, ... when the file has no header.
    numeric : dict of str to ndarray
        float64 array of length ``n_rows`` per numeric column, NaN where missing.
    text : dict of str to ndarray
        Object array of ``str`` per text column (cells stripped of spaces).
    dialect : CsvDialect or None
        None for ``.npy`` files.
    n_rows : int
    notes : tuple of str
        Remarks made while reading (short rows padded, empty columns ignored, ...).
    head : tuple of tuple of str
        The raw cells of the first rows, for :meth:`preview_rows`.
    """

    path: str | None
    columns: tuple[str, ...]
    numeric: dict[str, np.ndarray]
    text: dict[str, np.ndarray]
    dialect: CsvDialect | None
    n_rows: int
    notes: tuple[str, ...] = ()
    head: tuple[tuple[str, ...], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        for name in self.columns:
            if (name in self.numeric) == (name in self.text):
                raise ValueError(f"column {name!r} must be in exactly one of numeric and text.")
        for store in (self.numeric, self.text):
            for name, array in store.items():
                if array.shape != (self.n_rows,):
                    raise ValueError(f"column {name!r} has shape {array.shape}, expected ({self.n_rows},).")
                _readonly(array)

    @functools.cached_property
    def spreads(self) -> dict[str, float]:
        """Standard deviation of each numeric column's finite values (0 with fewer than two).

        Computed once per table (the import dialog asks on every change of choice).
        """
        out = {}
        for c, values in self.numeric.items():
            finite = values[np.isfinite(values)]
            peak = np.abs(finite).max() if finite.size > 1 else 0.0
            # Divided by the peak so that values near 1e308 do not overflow when squared.
            out[c] = float(np.std(finite / peak) * peak) if peak > 0 else 0.0
        return out

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Names of the numeric columns, in file order."""
        return tuple(c for c in self.columns if c in self.numeric)

    @property
    def text_columns(self) -> tuple[str, ...]:
        """Names of the text columns, in file order."""
        return tuple(c for c in self.columns if c in self.text)

    def preview_rows(self, n: int = 20) -> list[list[str]]:
        """The first ``n`` data rows as strings, one list of cells per row (no header)."""
        n = max(0, min(n, self.n_rows))
        rows = [list(r) for r in self.head[:n]]
        for i in range(len(rows), n):
            rows.append(
                [
                    _format_number(self.numeric[c][i]) if c in self.numeric else str(self.text[c][i])
                    for c in self.columns
                ]
            )
        return rows


@dataclass(frozen=True)
class ImportOptions:
    """What the person chose in the import dialog.

    Parameters
    ----------
    columns : tuple of str or None
        Numeric columns to use (one or more); None means the choice of
        :func:`suggest_import` (row indexes, constant columns and class ids left out).
    label_column : str or None
        A column holding ground-truth classes, kept as strings alongside the data.
        With ``columns`` None and no label column, the suggested label is used.
    missing : {'drop', 'impute'}
        Drop rows with a missing value, or fill missing values with the column mean.
    standardize : bool
        Scale each column to mean 0 and standard deviation 1.
    """

    columns: tuple[str, ...] | None = None
    label_column: str | None = None
    missing: Literal["drop", "impute"] = "drop"
    standardize: bool = False

    def __post_init__(self) -> None:
        if self.missing not in ("drop", "impute"):
            raise ValueError(f"missing must be 'drop' or 'impute'; got {self.missing!r}.")
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))


@dataclass(frozen=True, eq=False)
class Dataset:
    """What EM and the views use.

    Parameters
    ----------
    values : ndarray of shape (N, D)
        float64, finite, C-contiguous, read-only; standardised if ``center`` is set.
    columns : tuple of str
    labels : ndarray of shape (N,) of str, or None
        Ground truth from the label column, if one was chosen.
    source : str
        File path, or ``"demo"``, ``"generated"``, ``"array"``.
    center, scale : ndarray of shape (D,) or None
        Standardisation applied, ``values = (x - center) / scale``; None if not.
    row_index : ndarray of shape (N,)
        Which rows of the table (0-based, header excluded) were kept.
    notes : tuple of str
        Human-readable remarks: ``"dropped 3 of 120 rows with missing values"``, ...
    label_column : str or None
        The column ``labels`` came from.
    """

    values: np.ndarray
    columns: tuple[str, ...]
    labels: np.ndarray | None
    source: str
    center: np.ndarray | None
    scale: np.ndarray | None
    row_index: np.ndarray
    notes: tuple[str, ...] = ()
    label_column: str | None = None

    def __post_init__(self) -> None:
        for name in ("values", "labels", "center", "scale", "row_index"):
            array = getattr(self, name)
            if array is not None:
                _readonly(array)

    @property
    def n_samples(self) -> int:
        return self.values.shape[0]

    @property
    def n_features(self) -> int:
        return self.values.shape[1]

    def original_values(self) -> np.ndarray:
        """The data in the file's units (undoing standardisation)."""
        if self.center is None or self.scale is None:
            return self.values.copy()
        return self.values * self.scale + self.center


# ---------------------------------------------------------------------------
# progress and cancellation


class _Progress:
    """Forward monotone, throttled progress fractions and check for cancellation."""

    def __init__(
        self, callback: Callable[[float], object] | None, cancel: threading.Event | None
    ) -> None:
        self._callback = callback
        self._cancel = cancel
        self._last = -1.0

    def __call__(self, fraction: float) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise LoadCancelled("Loading was cancelled.")
        fraction = min(1.0, max(0.0, fraction))
        if self._callback is not None and (
            fraction >= self._last + 0.01 or (fraction == 1.0 and self._last < 1.0)
        ):
            self._last = fraction
            self._callback(fraction)


# ---------------------------------------------------------------------------
# bytes -> text


def _display_name(path: str | None) -> str:
    return repr(os.path.basename(path)) if path else "The input"


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(mode: int, path: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((word for test, word in _FILE_KINDS if test(mode)), "a special file")
    if kind == "a folder":
        raise DataError(f"{_display_name(path)} is a folder; choose a data file inside it.")
    raise DataError(
        f"{_display_name(path)} is {kind}, not a regular file; choose a data file "
        "(copy the data into a file first)."
    )


def _open_regular(path: str) -> io.BufferedReader:
    """Open ``path`` for reading in binary if it is a regular file; refuse anything else.

    The type is checked before opening (a FIFO's open would wait for a writer) and
    again on the open descriptor, in case the path was replaced in between; opening
    non-blocking means even that race cannot hang.
    """
    try:
        _check_regular(os.stat(path).st_mode, path)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise DataError(
            f"Could not read {_display_name(path)} ({exc.strerror or exc}); check the path and permissions."
        ) from exc
    try:
        _check_regular(os.fstat(fd).st_mode, path)
    except DataError:
        os.close(fd)
        raise
    return open(fd, "rb")


#: Memory a text table needs while it is read, in multiples of the file's size
#: (measured: 4.5× for a 1e6-row numeric CSV: bytes, text, lines, arrays).
_MEMORY_PER_FILE_BYTE = 4


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None  # not on this system: rely on MemoryError


def _check_fits_in_memory(size: int, name: str) -> None:
    """Refuse a file that cannot be read in this computer's memory, before reading it.

    Reading it anyway would end, after minutes of swapping, in a MemoryError or in the
    system killing the program.
    """
    physical = _physical_memory()
    needed = _MEMORY_PER_FILE_BYTE * size
    if physical and needed > physical:
        raise DataError(
            f"{name} is {_format_bytes(size)}; reading it needs about {_format_bytes(needed)} of memory, more than "
            f"this computer's {_format_bytes(physical)}; use a sample of its rows or only the columns you need."
        )


def _read_bytes(path: str, progress: _Progress, start: float, stop: float) -> bytes:
    with _open_regular(path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            _check_fits_in_memory(size, _display_name(path))
            parts = []
            done = 0
            while block := f.read(_READ_BLOCK):
                parts.append(block)
                done += len(block)
                progress(start + (stop - start) * done / max(size, 1))
        except OSError as exc:
            raise DataError(
                f"Could not read {_display_name(path)} ({exc.strerror or exc}); check the path and permissions."
            ) from exc
    return b"".join(parts)


def _detect_encoding(sample: bytes, name: str) -> str:
    """Guess a codec from a sample of bytes (BOMs, NUL patterns, UTF-8 validity)."""
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
        raise _not_text(name)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _not_text(name: str) -> DataError:
    return DataError(
        f"{name} does not look like a text table (it contains binary data); "
        "export it as CSV or save a NumPy array with numpy.save."
    )


def _decode(data: bytes, encoding: str, name: str, partial: bool = False) -> tuple[str, str]:
    """Decode ``data``; fall back from UTF-8 to Latin-1.  Returns (text, encoding used)."""
    try:
        if partial:
            text = codecs.getincrementaldecoder(encoding)().decode(data, final=False)
        else:
            text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
            encoding = "latin-1"
            text = data.decode(encoding)
            if text.startswith("\u00ef\u00bb\u00bf"):
                text = text[3:]
        else:
            raise DataError(
                f"{name} cannot be decoded as {encoding} ({exc.reason} at byte {exc.start}); "
                "choose another encoding."
            ) from exc
    except LookupError as exc:
        raise DataError(f"Unknown text encoding {encoding!r}; choose another encoding.") from exc
    head = text[:_SNIFF_BYTES]
    if "\x00" in head or len(_CONTROL_CHARS.findall(head)) > 0.01 * max(len(head), 1):
        raise _not_text(name)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding


# ---------------------------------------------------------------------------
# sniffing


def _is_missing(cell: str) -> bool:
    return cell.strip() in MISSING_TOKENS


def _parse_number(cell: str, decimal: str) -> float | None:
    """The number in ``cell``, NaN for a missing token, None if it is text."""
    try:
        return float(cell)
    except ValueError:
        pass
    s = cell.strip()
    if s in MISSING_TOKENS:
        return math.nan
    if decimal == "," and "," in s and "." not in s:
        try:
            return float(s.replace(",", "."))
        except ValueError:
            return None
    return None


def _is_number(cell: str, decimal: str) -> bool:
    if _is_missing(cell):
        return False
    return _parse_number(cell, decimal) is not None


def _content_lines(lines: Iterable[str], comment: str | None) -> list[str]:
    out = []
    for line in lines:
        s = line.strip()
        if s and not (comment and s.startswith(comment)):
            out.append(line)
    return out


def _split_lines(lines: Sequence[str], delimiter: str, quoted: bool) -> list[list[str]]:
    if delimiter == " ":
        if quoted:
            normal = [line.replace("\t", " ").strip() for line in lines]
            return [list(r) for r in csv.reader(normal, delimiter=" ", skipinitialspace=True)]
        return [line.split() for line in lines]
    if quoted:
        try:
            return [list(r) for r in csv.reader(lines, delimiter=delimiter, skipinitialspace=True)]
        except csv.Error:
            pass
    return [line.split(delimiter) for line in lines]


def _sniff_text(lines: list[str], encoding: str, name: str) -> CsvDialect:
    content = _content_lines(lines, "#")[:500]
    if not content:
        raise DataError(f"{name} contains no data, only comments or blank lines; choose a file with rows of numbers.")
    quoted = '"' in "".join(content)
    best_key: tuple | None = None
    best: tuple[str, str, list[list[str]]] | None = None
    for priority, delimiter in enumerate(_DELIMITER_PRIORITY):
        rows = _split_lines(content, delimiter, quoted)
        counts = Counter(len(r) for r in rows)
        modal, n_modal = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        consistency = n_modal / len(rows)
        body = rows[1:] or rows
        cells = [c for r in body for c in r if not _is_missing(c)]
        decimal = "."
        if delimiter != ",":
            n_comma = sum(1 for c in cells if _COMMA_DECIMAL.match(c))
            n_dot = sum(1 for c in cells if _DOT_DECIMAL.match(c))
            if n_comma > n_dot:
                decimal = ","
        numeric = sum(1 for c in cells if _is_number(c, decimal)) / max(len(cells), 1)
        key = (modal >= 2, consistency >= 0.9, round(numeric, 3), consistency, -priority)
        if best_key is None or key > best_key:
            best_key, best = key, (delimiter, decimal, rows)
    assert best is not None and best_key is not None
    delimiter, decimal, rows = best
    if not best_key[0]:  # nothing splits the lines: a single column, call it comma-separated
        delimiter = ","
        rows = _split_lines(content, delimiter, quoted)
    return CsvDialect(delimiter, decimal, _has_header(rows, decimal), encoding)


def _has_header(rows: list[list[str]], decimal: str) -> bool:
    first, rest = rows[0], rows[1:]
    first_is_text = [not _is_number(c, decimal) and not _is_missing(c) for c in first]
    if not any(first_is_text):
        return False
    if not rest:
        return all(first_is_text)
    for j, is_text in enumerate(first_is_text):
        if not is_text:
            continue
        column = [r[j] for r in rest if j < len(r) and not _is_missing(r[j])]
        if column and sum(_is_number(c, decimal) for c in column) >= 0.5 * len(column):
            return True
    # No numeric evidence either way: a row of distinct words reads as a header.
    return all(first_is_text) and len(set(first)) == len(first)


def _sample_lines(data: bytes, encoding: str, name: str) -> tuple[list[str], str]:
    sample = data[:_SNIFF_BYTES]
    truncated = len(data) > len(sample)
    text, encoding = _decode(sample, encoding, name, partial=truncated)
    lines = text.split("\n")
    if truncated and len(lines) > 1:
        lines.pop()  # probably cut in the middle
    return lines, encoding


def _sniff_bytes(data: bytes, name: str) -> CsvDialect:
    if not data.strip():
        raise DataError(f"{name} is empty; choose a file with rows of numbers.")
    encoding = _detect_encoding(data[:_SNIFF_BYTES], name)
    lines, encoding = _sample_lines(data, encoding, name)
    return _sniff_text(lines, encoding, name)


def sniff_dialect(path: str | os.PathLike[str]) -> CsvDialect:
    """Guess how a delimited text file is written from its first 64 KiB.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    CsvDialect

    Raises
    ------
    DataError
        If the file cannot be read, is empty, or is not text.
    """
    path = os.fspath(path)
    with _open_regular(path) as f:
        try:
            data = f.read(_SNIFF_BYTES + 1)
        except OSError as exc:
            raise DataError(
                f"Could not read {_display_name(path)} ({exc.strerror or exc}); check the path and permissions."
            ) from exc
    return _sniff_bytes(data, _display_name(path))


# ---------------------------------------------------------------------------
# reading


def _format_number(value: float) -> str:
    if math.isnan(value):
        return ""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def _unique_names(raw: Sequence[str], n: int) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    for j in range(n):
        base = raw[j].strip() if j < len(raw) else ""
        base = base or f"column {j + 1}"
        name, k = base, 2
        while name in seen:
            name, k = f"{base} ({k})", k + 1
        seen.add(name)
        names.append(name)
    return tuple(names)


def _convert_column(tokens: list[str], decimal: str) -> tuple[np.ndarray | None, int]:
    """Parse a column of cells; return (float64 array, -1) or (None, index of first text cell)."""
    if decimal == ",":
        # In a decimal-comma file a comma inside a numeric cell can only be the decimal mark.
        tokens = [t.replace(",", ".") for t in tokens]
    try:
        return np.array(tokens, dtype=np.float64), -1
    except ValueError:
        pass
    missing = MISSING_TOKENS
    try:
        return np.array(["nan" if t.strip() in missing else t for t in tokens], dtype=np.float64), -1
    except ValueError:
        pass
    out = np.empty(len(tokens))
    for i, cell in enumerate(tokens):
        value = _parse_number(cell, ".")
        if value is None:
            return None, i
        out[i] = value
    return out, -1


class _RowCollector:
    """Accumulate cells column by column, checking field counts line by line."""

    def __init__(self, n_cols: int, name: str, delimiter_name: str) -> None:
        self.n_cols = n_cols
        self.columns: list[list[str]] = [[] for _ in range(n_cols)]
        self.n_rows = 0
        self.short_rows = 0
        self.first_short_line = 0
        self.head: list[tuple[str, ...]] = []
        self._name = name
        self._delimiter_name = delimiter_name

    def fix(self, fields: list[str], line_no: int) -> list[str]:
        n, want = len(fields), self.n_cols
        if n > want:
            if any(f.strip() for f in fields[want:]):
                raise DataError(
                    f"Line {line_no} of {self._name} has {n} fields but the table has {want} columns "
                    f"({self._delimiter_name}-separated); fix that line or choose another delimiter."
                )
            return fields[:want]
        if not self.short_rows:
            self.first_short_line = line_no
        self.short_rows += 1
        return fields + [""] * (want - n)

    def add_flat(self, flat: list[str], rows: int) -> None:
        if len(self.head) < _HEAD_ROWS:
            for i in range(min(rows, _HEAD_ROWS - len(self.head))):
                self.head.append(tuple(c.strip() for c in flat[i * self.n_cols : (i + 1) * self.n_cols]))
        for j, column in enumerate(self.columns):
            column.extend(flat[j :: self.n_cols])
        self.n_rows += rows

    def add_numbers(self, block: np.ndarray) -> None:
        """Count rows parsed elsewhere (by loadtxt), keeping the first ones for the preview."""
        for row in block[: max(0, _HEAD_ROWS - len(self.head))]:
            self.head.append(tuple(_format_number(v) for v in row))
        self.n_rows += block.shape[0]

    def take_columns(self) -> list[list[str]]:
        """The cells collected since the last call, column by column."""
        columns, self.columns = self.columns, [[] for _ in range(self.n_cols)]
        return columns


def _iter_chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def _collect_plain(lines: list[str], start: int, stop: int, dialect: CsvDialect, rows: _RowCollector) -> None:
    """Split the unquoted lines[start:stop] into ``rows``."""
    comment = dialect.comment or "\x00"
    delimiter = None if dialect.delimiter == " " else dialect.delimiter
    n_cols = rows.n_cols
    flat: list[str] = []
    n = 0
    for i in range(start, stop):
        line = lines[i]
        c0 = line[:1]
        if not c0 or c0 == comment:
            continue
        if c0 in " \t":
            s = line.strip()
            if not s or s.startswith(comment):
                continue
        fields = line.split(delimiter)
        if len(fields) != n_cols:
            fields = rows.fix(fields, i + 1)
        flat.extend(fields)
        n += 1
    rows.add_flat(flat, n)


def _collect_quoted(
    lines: list[str], first: int, dialect: CsvDialect, rows: _RowCollector,
    progress: _Progress, p0: float, p1: float, name: str,
) -> None:
    """Split lines[first:] with the csv module (quoted fields, embedded delimiters)."""
    comment = dialect.comment
    total = len(lines)
    current = [first]

    def feed() -> Iterator[str]:
        for i in range(first, total):
            current[0] = i
            line = lines[i]
            s = line.strip()
            if (not s and i + 1 == total) or (comment and s.startswith(comment)):
                continue
            if dialect.delimiter == " ":
                line = line.replace("\t", " ").strip()
            yield line + "\n"

    reader = csv.reader(feed(), delimiter=dialect.delimiter, quotechar='"', skipinitialspace=True, strict=False)
    flat: list[str] = []
    n = 0
    try:
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) != rows.n_cols:
                fields = rows.fix(fields, current[0] + 1)
            flat.extend(fields)
            n += 1
            if n == 10_000:
                rows.add_flat(flat, n)
                flat, n = [], 0
                progress(p0 + (p1 - p0) * (current[0] - first) / max(total - first, 1))
    except csv.Error as exc:
        raise DataError(
            f"Line {current[0] + 1} of {name} could not be read as CSV ({exc}); check its quotes."
        ) from exc
    rows.add_flat(flat, n)


def _loadtxt_chunk(chunk: list[str], dialect: CsvDialect, n_cols: int) -> np.ndarray | None:
    """Parse an all-numeric chunk with numpy's C parser; None if it is not that simple."""
    if dialect.decimal == ",":
        chunk = "\n".join(chunk).replace(",", ".").split("\n")
    if not "".join(chunk).strip():
        return np.empty((0, n_cols))  # loadtxt would warn about a chunk without data
    delimiter = None if dialect.delimiter == " " else dialect.delimiter
    try:
        block = np.loadtxt(chunk, delimiter=delimiter, comments=None, dtype=np.float64, ndmin=2)
    except ValueError:
        return None
    return block if block.shape[1] == n_cols else None


def _check_line_length(lines: list[str], i: int, name: str) -> None:
    n = len(lines[i])
    if n > MAX_LINE_CHARS:
        raise DataError(
            f"Line {i + 1} of {name} has {n:,} characters, more than the {MAX_LINE_CHARS:,} a line may hold; "
            "if the file has no line breaks between its rows, save it with one row per line."
        )


def _check_line_lengths(lines: list[str], start: int, stop: int, name: str) -> None:
    """Refuse over-long lines in lines[start:stop] before they are split into cells."""
    if max(map(len, itertools.islice(lines, start, stop)), default=0) > MAX_LINE_CHARS:
        for i in range(start, stop):
            _check_line_length(lines, i, name)


def _memory_is_data_error(func: Callable) -> Callable:
    """Turn a MemoryError in ``func`` into a DataError that says what to do."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except MemoryError:
            # ``from None``: the traceback would keep the huge frames (and their memory) alive.
            raise DataError(
                "There is not enough memory to load the data; use a file with fewer rows or columns "
                "(for example a sample of the rows)."
            ) from None

    return wrapper


@_memory_is_data_error
def read_table(
    path: str | os.PathLike[str],
    dialect: CsvDialect | None = None,
    progress: Callable[[float], object] | None = None,
    cancel: threading.Event | None = None,
) -> Table:
    """Read a CSV/TSV/TXT or ``.npy`` file into a :class:`Table`.

    Parameters
    ----------
    path : path-like
    dialect : CsvDialect, optional
        How the file is written; sniffed from its start when omitted.  Ignored for ``.npy``.
    progress : callable, optional
        Called now and then with the fraction done (0 to 1); the last call is ``1.0``.
    cancel : threading.Event, optional
        When set, reading stops with :class:`LoadCancelled`.

    Returns
    -------
    Table

    Raises
    ------
    DataError
        For unreadable, empty, binary or malformed input, anything but a regular file,
        input beyond the limits (:data:`MAX_LINE_CHARS`, :data:`MAX_COLUMNS`), or too
        little memory (the message says what to do).
    LoadCancelled
        If ``cancel`` was set.

    Notes
    -----
    Runs on whichever thread calls it (the GUI uses a worker thread); it keeps no
    global state.  Unquoted files are parsed in chunks of lines: a chunk of plain
    numbers goes through ``numpy.loadtxt``'s C parser, any other chunk (missing
    values, text, short rows) through a Python splitter.
    """
    path = os.fspath(path)
    name = _display_name(path)
    report = _Progress(progress, cancel)
    report(0.0)
    data = _read_bytes(path, report, 0.0, 0.1)
    if data.startswith(b"\x93NUMPY"):
        table = _table_from_npy(data, path, name)
        report(1.0)
        return table
    if path.lower().endswith(".npy"):
        raise DataError(f"{name} is named .npy but is not a NumPy array file; save the array again with numpy.save.")
    if data.startswith(b"PK\x03\x04"):
        raise DataError(
            f"{name} is a zip archive (.npz, .xlsx, ...), not a text table; "
            "export it as CSV or save a single array with numpy.save."
        )
    if dialect is None:
        dialect = _sniff_bytes(data, name)
    elif not data.strip():
        raise DataError(f"{name} is empty; choose a file with rows of numbers.")
    text, encoding = _decode(data, dialect.encoding, name)
    del data
    notes: list[str] = []
    if encoding != dialect.encoding:
        notes.append(f"the file is not valid {dialect.encoding}; it was read as {encoding}")
        dialect = CsvDialect(dialect.delimiter, dialect.decimal, dialect.has_header, encoding, dialect.comment)
    if text.startswith("\ufeff"):
        text = text[1:]
    quoted = '"' in text
    report(0.15)

    lines = text.split("\n")
    del text
    while lines and not lines[-1].strip():
        lines.pop()
    comment = dialect.comment
    first = 0
    while first < len(lines) and (
        not lines[first].strip() or (comment and lines[first].lstrip().startswith(comment))
    ):
        first += 1
    if first == len(lines):
        raise DataError(f"{name} contains no data, only comments or blank lines; choose a file with rows of numbers.")

    # Split a bounded sample (widths are checked line by line first), so a file with
    # no line breaks or far too many columns is refused before it costs much.
    sample: list[str] = []
    size = 0
    for i in range(first, min(len(lines), first + 1000)):
        _check_line_length(lines, i, name)
        sample.append(lines[i])
        size += len(lines[i])
        if size > 4 * MAX_LINE_CHARS:
            break
    sample = _content_lines(sample, comment)
    width = len(_split_lines(sample[:1], dialect.delimiter, quoted)[0])
    if width > MAX_COLUMNS:
        raise _too_wide(name, width)
    split = _split_lines(sample, dialect.delimiter, quoted)
    if dialect.has_header:
        header = split[0]
        n_cols = len(header)
        first += 1
    else:
        counts = Counter(len(r) for r in split)
        n_cols = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        header = []
    if n_cols > MAX_COLUMNS:
        raise _too_wide(name, n_cols)
    data_rows = split[1:] if dialect.has_header else split
    columns = _unique_names(header, n_cols)
    rows = _RowCollector(n_cols, name, dialect.delimiter_name)

    # One list per chunk of lines, holding per column a float array or the raw cells (text).
    blocks: list[list[np.ndarray | list[str]]] = []
    ranges: list[tuple[int, int] | None] = []  # line range of chunks parsed by loadtxt
    if quoted:
        _check_line_lengths(lines, first, len(lines), name)
        _collect_quoted(lines, first, dialect, rows, report, 0.15, 0.85, name)
        blocks.append(_convert_cells(rows.take_columns(), dialect.decimal))
        ranges.append(None)
    else:
        try_fast = bool(data_rows) and all(
            all(_is_missing(c) or _is_number(c, dialect.decimal) for c in r) for r in data_rows[:200]
        )
        failures = 0
        body = len(lines) - first
        for start, stop in _iter_chunks(body, _CHUNK_LINES):
            report(0.15 + 0.75 * start / max(body, 1))
            a, b = first + start, first + stop
            block = _loadtxt_chunk(lines[a:b], dialect, n_cols) if try_fast else None
            if block is not None:
                blocks.append([block[:, j].copy() for j in range(n_cols)])
                ranges.append((a, b))
                rows.add_numbers(block)
                continue
            if try_fast:
                failures += 1
                try_fast = failures < 3  # gaps everywhere: stop paying for failed attempts
            _check_line_lengths(lines, a, b, name)
            _collect_plain(lines, a, b, dialect, rows)
            blocks.append(_convert_cells(rows.take_columns(), dialect.decimal))
            ranges.append(None)

    n_rows = rows.n_rows
    if n_rows == 0:
        raise DataError(f"{name} has a header row but no data rows; add rows of numbers below the header.")
    if rows.short_rows:
        notes.append(
            f"{rows.short_rows} row(s) had fewer than {n_cols} fields (first at line "
            f"{rows.first_short_line}); the absent fields were treated as missing values"
        )
    numeric: dict[str, np.ndarray] = {}
    text_cols: dict[str, np.ndarray] = {}
    resplit: dict[int, list[list[str]]] = {}
    keep = []
    for j, c in enumerate(columns):
        report(0.9 + 0.1 * j / n_cols)
        parts = [block[j] for block in blocks]
        if all(isinstance(p, np.ndarray) for p in parts):
            values = np.concatenate(parts) if len(parts) > 1 else parts[0]
            if (j >= len(header) or not header[j].strip()) and np.isnan(values).all():
                notes.append(f"ignored {c}, which is empty")
                continue
            numeric[c] = values
        else:
            cells: list[str] = []
            for k, p in enumerate(parts):
                if isinstance(p, list):
                    cells.extend(p)
                    continue
                if k not in resplit:  # a loadtxt chunk: split its lines again for the raw cells
                    a, b = ranges[k]  # type: ignore[misc]
                    again = _RowCollector(n_cols, name, dialect.delimiter_name)
                    _collect_plain(lines, a, b, dialect, again)
                    resplit[k] = again.take_columns()
                cells.extend(resplit[k][j])
            text_cols[c] = np.array([t.strip() for t in cells], dtype=object)
        keep.append(j)
        for block in blocks:
            block[j] = []  # free memory as we go
    del lines
    if not keep:
        raise DataError(f"{name} holds only missing values; choose a file with numbers in it.")
    head = tuple(rows.head)
    if len(keep) < n_cols:
        columns = tuple(columns[j] for j in keep)
        head = tuple(tuple(r[j] for j in keep) for r in head)
    report(1.0)
    return Table(
        path=path,
        columns=tuple(columns),
        numeric=numeric,
        text=text_cols,
        dialect=dialect,
        n_rows=n_rows,
        notes=tuple(notes),
        head=head,
    )


def _convert_cells(columns: list[list[str]], decimal: str) -> list[np.ndarray | list[str]]:
    """Each column as a float array if every cell is a number or missing, else its cells."""
    out: list[np.ndarray | list[str]] = []
    for cells in columns:
        values, _ = _convert_column(cells, decimal)
        out.append(values if values is not None else cells)
    return out


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _format_bytes(n: int) -> str:
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def _table_from_npy(data: bytes, path: str | None, name: str) -> Table:
    """Parse a ``.npy`` file's bytes without trusting its header.

    The header's shape and dtype are checked against the bytes that follow before
    anything is allocated; the array is then a view of ``data`` (no copy).
    """
    fp = io.BytesIO(data)
    again = "save the array again with numpy.save"
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        version = np.lib.format.read_magic(fp)
        reader = readers.get(version)
        if reader is not None:
            shape, fortran_order, dtype = reader(fp)
    except Exception as exc:  # noqa: BLE001 - a garbled header raises ValueError, SyntaxError, TokenError, ...
        raise DataError(f"{name} is not a valid .npy file ({_one_line(exc)}); {again}.") from exc
    if reader is None:
        raise DataError(
            f"{name} is a .npy file of format version {version[0]}.{version[1]}, which is not read here; "
            "save a plain numeric array with numpy.save(path, array.astype(float))."
        )
    if dtype.hasobject:
        raise DataError(
            f"{name} holds Python objects (a pickled array), which are never loaded for safety; "
            "save a plain numeric array with numpy.save(path, array.astype(float))."
        )
    if any(d < 0 for d in shape) or dtype.itemsize == 0:
        raise DataError(f"{name} claims an array of shape {shape} and dtype {dtype}, which is impossible; {again}.")
    count = math.prod(shape)
    claimed = count * dtype.itemsize
    held = len(data) - fp.tell()
    if claimed > held:
        raise DataError(
            f"{name} claims an array of shape {shape} ({_format_bytes(claimed)} of {dtype}) but holds only "
            f"{_format_bytes(held)} of data: it is truncated or damaged; {again}."
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=fp.tell())
    loaded = flat.reshape(shape[::-1]).T if fortran_order else flat.reshape(shape)
    return _table_from_array(loaded, path, name)


def _too_wide(name: str, n_columns: int) -> DataError:
    return DataError(
        f"{name} has {n_columns:,} columns, more than the {MAX_COLUMNS:,} GMM Studio reads; "
        "keep the columns you need (for example with pandas or cut) and save them as a new file, "
        "or check that the delimiter and line breaks are right."
    )


def _table_from_array(array: np.ndarray, path: str | None, name: str) -> Table:
    if array.dtype.names:
        if array.ndim != 1:
            raise DataError(f"{name} holds a structured array of shape {array.shape}; save a 1-D record array.")
        if len(array.dtype.names) > MAX_COLUMNS:
            raise _too_wide(name, len(array.dtype.names))
        columns = tuple(array.dtype.names)
        cells = [array[c] for c in columns]
    else:
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise DataError(
                f"{name} holds an array of shape {array.shape}; save a 2-D array with one row per sample."
            )
        if array.shape[1] > MAX_COLUMNS:
            raise _too_wide(name, array.shape[1])
        columns = tuple(f"x{j + 1}" for j in range(array.shape[1]))
        cells = [array[:, j] for j in range(array.shape[1])]
    numeric: dict[str, np.ndarray] = {}
    text: dict[str, np.ndarray] = {}
    for c, col in zip(columns, cells):
        kind = col.dtype.kind
        if kind in "biuf":
            numeric[c] = np.array(col, dtype=np.float64)
        elif kind in "US":
            try:
                tokens = [t.decode("latin-1") if isinstance(t, bytes) else str(t) for t in col.tolist()]
                values, _ = _convert_column(tokens, ".")
            except (SystemError, UnicodeError) as exc:  # numpy: code points beyond Unicode
                raise DataError(
                    f"Column {c!r} of {name} holds text that is not valid Unicode; "
                    "save it again from the program that made it."
                ) from exc
            if values is not None:
                numeric[c] = values
            else:
                text[c] = np.array([t.strip() for t in tokens], dtype=object)
        else:
            raise DataError(
                f"Column {c!r} of {name} has dtype {col.dtype}, which cannot be used; "
                "save real numbers (float or int) instead."
            )
    n_rows = int(array.shape[0])
    if n_rows == 0:
        raise DataError(f"{name} holds an empty array; save an array with at least one row.")
    return Table(path=path, columns=columns, numeric=numeric, text=text, dialect=None, n_rows=n_rows)


# ---------------------------------------------------------------------------
# table -> dataset


def _text_example(values: np.ndarray) -> str | None:
    for v in values:
        s = str(v)
        if not _is_missing(s) and _parse_number(s, ".") is None:
            return s
    return None


def _describe_columns(names: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in names) if names else "none"


# ---------------------------------------------------------------------------
# default choices


#: Names of columns that number or identify rows (matched case-insensitively).
_INDEX_NAME = re.compile(
    r"id|ids|idx|index|row|row[ _.]?(?:id|no|number|index|names?)|unnamed: ?\d+|\.\.\.\d+|.+[ _.]id",
    re.IGNORECASE,
)
#: Generated names of columns whose header cell was empty (see :func:`_unique_names`).
_BLANK_NAME = re.compile(r"column \d+")
#: A column of counting numbers needs this many rows before it is taken for an index
#: (in a handful of rows 1, 2, 3 is as likely a measurement).
_INDEX_MIN_ROWS = 10
#: Most distinct values an integer column named like a label may hold to be class ids.
_MAX_CLASSES = 50
#: Column scales (standard deviations) further apart than this are worth a warning.
_SCALE_RATIO_WARNING = 100.0


@dataclass(frozen=True)
class ImportSuggestion:
    """The default choice for a table, with a reason for each column left out.

    Parameters
    ----------
    features : tuple of str
        Numeric columns to fit, in file order.
    label : str or None
        The column suggested as ground-truth labels.
    excluded : tuple of (str, str)
        ``(column, reason)`` for every numeric column not in ``features`` (the label
        column too, unless the person chose it), e.g.
        ``("rownames", "a row index: 1, 2, …, 344 in order")``.
    """

    features: tuple[str, ...]
    label: str | None
    excluded: tuple[tuple[str, str], ...] = ()

    @property
    def reasons(self) -> dict[str, str]:
        """Reason by column, for the excluded columns."""
        return dict(self.excluded)

    def notice(self) -> str:
        """One line saying what is left out of the fit and why ("" when nothing is)."""
        if not self.excluded:
            return ""
        return "not fitted: " + ", ".join(f"{c!r} ({why})" for c, why in self.excluded)

    def options(self, missing: Literal["drop", "impute"] = "drop", standardize: bool = False) -> ImportOptions:
        """These choices as explicit :class:`ImportOptions`."""
        return ImportOptions(self.features, self.label, missing, standardize)


def _class_count(values: np.ndarray, n_rows: int) -> int | None:
    """How many classes an integer column holds, or None if it does not look like class ids."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or not np.array_equal(finite, np.round(finite)):
        return None
    k = np.unique(finite).size
    return k if 2 <= k <= min(_MAX_CLASSES, n_rows // 2) else None


def _counting_rows(values: np.ndarray) -> str | None:
    """'0, 1, …, N-1 in order' (or from 1) if ``values`` count the rows, else None."""
    n = values.size
    if n < _INDEX_MIN_ROWS or values[0] not in (0.0, 1.0) or values[-1] != values[0] + n - 1:
        return None
    start = int(values[0])
    if not np.array_equal(values, np.arange(start, start + n, dtype=np.float64)):
        return None
    return f"{start}, {start + 1}, …, {start + n - 1} in order"


def _index_reason(table: Table, column: str) -> str | None:
    if column in table.numeric and (counting := _counting_rows(table.numeric[column])):
        return f"a row index: {counting}"
    name = column.strip().strip("\"'")
    if _INDEX_NAME.fullmatch(name):
        return "a row index, by its name"
    if table.dialect is not None and table.dialect.has_header and _BLANK_NAME.fullmatch(name):
        return "a row index: no name in the header"
    return None


def _label_named(table: Table, column: str) -> bool:
    return column.strip().lower() in LABEL_NAMES and _index_reason(table, column) is None


def _class_ids(table: Table, column: str) -> int | None:
    return _class_count(table.numeric[column], table.n_rows) if column in table.numeric else None


def looks_like_labels(table: Table, column: str) -> bool:
    """Whether numeric ``column`` looks like known classes, as :func:`suggest_import` judges it:
    named like a label (:data:`LABEL_NAMES`) and holding integer class ids (2 to 50 distinct
    values, at most one per two rows).  A column merely named ``y`` with measurements is not."""
    return _label_named(table, column) and _class_ids(table, column) is not None


def suggest_import(table: Table, label_column: str | None = None, *, choose_label: bool = True) -> ImportSuggestion:
    """The default choice of feature and label columns for ``table``, with reasons.

    The one place where the import dialog and the command line decide what a file's
    columns are for.  A numeric column is left out of the features when it is

    * the label column;
    * empty (no values at all);
    * a row index: named like ``id``, ``index``, ``rownames``, ``Unnamed: 0``, ``*_id``,
      or with an empty header cell, or holding exactly 1..N or 0..N-1 in order
      (fitting it leaks the file's row order, often sorted by class, into the fit);
    * class ids: integers with 2 to 50 distinct values (and at most one per two rows),
      in a column named like a label (:data:`LABEL_NAMES`);
    * constant (its non-missing values are all equal): it has no spread to fit, and
      makes every component's covariance singular.

    The label is ``label_column`` when given; otherwise the first column named like a
    label (text, or numeric class ids), else the only text column if there is exactly
    one and it repeats values (a text column with a distinct value in every row is an
    identifier, not classes).

    Parameters
    ----------
    table : Table
    label_column : str, optional
        The person's own choice of label column.
    choose_label : bool
        With ``label_column`` None, whether to suggest one (False: no label column).

    Returns
    -------
    ImportSuggestion
    """
    n = table.n_rows

    def label_like(c: str) -> bool:
        return _label_named(table, c)

    def class_ids(c: str) -> int | None:
        return _class_ids(table, c)

    label = label_column
    if label is None and choose_label:
        named = [c for c in table.columns if label_like(c) and (c in table.text or class_ids(c) is not None)]
        texts = [c for c in table.text_columns if _index_reason(table, c) is None]
        if named:
            label = named[0]
        elif len(table.text_columns) == 1 and texts and len(set(table.text[texts[0]].tolist())) < n:
            label = texts[0]
    features: list[str] = []
    excluded: list[tuple[str, str]] = []
    for c in table.numeric_columns:
        values = table.numeric[c]
        finite = values[np.isfinite(values)]
        reason = None
        if c == label:
            if label_column is not None:
                continue  # the person's own choice needs no reason
            k = class_ids(c)
            reason = "the label column" + (f": {k} class ids" if k is not None and label_like(c) else "")
        elif finite.size == 0:
            reason = "no values"
        elif (index := _index_reason(table, c)) is not None:
            reason = index
        elif label_like(c) and (k := class_ids(c)) is not None:
            reason = f"{k} class ids, named like a label"
        elif finite.size > 1 and np.all(finite == finite[0]):
            reason = f"constant: every value is {_format_number(float(finite[0]))}"
        if reason is None:
            features.append(c)
        else:
            excluded.append((c, reason))
    return ImportSuggestion(tuple(features), label, tuple(excluded))


def scale_warning(table: Table, columns: Sequence[str]) -> str | None:
    """A warning when the chosen columns' spreads differ by more than 100×, else None.

    Unstandardised, such columns make distances, the ellipses and the principal
    components follow the widest column alone.  Spread is the standard deviation of
    a column's finite values; constant and empty columns are not compared.
    """
    spreads = {c: table.spreads[c] for c in columns if table.spreads.get(c, 0.0) > 0}
    if len(spreads) < 2:
        return None
    wide = max(spreads, key=spreads.__getitem__)
    narrow = min(spreads, key=spreads.__getitem__)
    ratio = spreads[wide] / spreads[narrow]
    if ratio <= _SCALE_RATIO_WARNING:
        return None
    return (
        f"Column scales differ by {ratio:,.0f}× ({wide!r} has standard deviation {spreads[wide]:.3g}, "
        f"{narrow!r} {spreads[narrow]:.3g}): the widest column dominates the fit and the view; "
        "standardise the columns to weigh them alike."
    )


@_memory_is_data_error
def prepare_dataset(table: Table, options: ImportOptions = ImportOptions(), min_rows: int = 2) -> Dataset:
    """Turn a :class:`Table` into a :class:`Dataset` following the person's choices.

    Parameters
    ----------
    table : Table
    options : ImportOptions
    min_rows : int
        Fewest rows acceptable after dropping missing values.

    Returns
    -------
    Dataset
        With ``notes`` saying what was dropped, filled or noticed (constant columns, ...).

    Raises
    ------
    DataError
        No numeric column to fit, unknown or text columns selected, every row missing,
        fewer than ``min_rows`` rows, or values too large to fit without standardising.

    Notes
    -----
    With ``options.columns`` None the columns and, unless ``options.label_column`` is
    given, the label column are those of :func:`suggest_import`; each column it leaves
    out is named in ``notes`` with the reason.  One column is enough (D = 1).
    """
    name = _display_name(table.path)
    min_rows = max(int(min_rows), 1)
    label = options.label_column
    if label is not None and label not in table.columns:
        raise DataError(
            f"There is no column {label!r} to use as labels; choose one of {_describe_columns(table.columns)}."
        )
    notes = list(table.notes)
    if options.columns is None:
        suggestion = suggest_import(table, label)
        label = suggestion.label
        selected = suggestion.features
        left_out = [(c, why) for c, why in suggestion.excluded if c != label]
        notes.extend(f"left out column {c!r} ({why})" for c, why in left_out)
        if not selected and left_out:
            raise DataError(
                f"{name} has no numeric column to fit: "
                + ", ".join(f"{c!r} ({why})" for c, why in left_out)
                + "; to fit one anyway, select it yourself (in the import dialog, or with --columns)."
            )
        if not selected and label in table.numeric:
            raise DataError(
                f"The only numeric column of {name}, {label!r}, is the label column; "
                "choose another label column or none."
            )
        if not selected:
            texts = [c for c in table.text_columns if c != label]
            hint = ""
            if texts:
                example = _text_example(table.text[texts[0]])
                hint = f" (column {texts[0]!r} holds text such as {example!r})" if example else ""
            delim = f" and that the {table.dialect.delimiter_name} delimiter is right" if table.dialect else ""
            raise DataError(
                f"{name} has 0 numeric columns{hint}, but at least 1 is needed to fit a mixture; "
                f"check the file{delim}."
            )
    else:
        selected = options.columns
        unknown = [c for c in selected if c not in table.columns]
        if unknown:
            raise DataError(
                f"There is no column {unknown[0]!r}; choose among {_describe_columns(table.columns)}."
            )
        texts = [c for c in selected if c in table.text]
        if texts:
            example = _text_example(table.text[texts[0]])
            raise DataError(
                f"Column {texts[0]!r} holds text{f' such as {example!r}' if example else ''}, not numbers; "
                "use it as the label column or deselect it."
            )
        if len(set(selected)) != len(selected):
            raise DataError("A column was selected twice; select each column once.")
        if label in selected:
            raise DataError(f"Column {label!r} cannot be both data and labels; deselect one of them.")
        if not selected:
            raise DataError("No numeric column is selected; select at least one to fit a mixture.")

    x = np.column_stack([table.numeric[c] for c in selected]).astype(np.float64, copy=True)
    infinite = np.isinf(x)
    if infinite.any():
        counts = infinite.sum(axis=0)
        for c, k in zip(selected, counts):
            if k:
                notes.append(f"column {c!r}: {k} infinite or overflowing value(s) treated as missing")
        x[infinite] = np.nan
    missing = np.isnan(x)
    row_missing = missing.any(axis=1)
    n_total = x.shape[0]
    row_index = np.arange(n_total, dtype=np.int64)
    empty = [c for c, all_missing in zip(selected, missing.all(axis=0)) if all_missing]
    if empty:
        raise DataError(f"Column {empty[0]!r} has no values at all; deselect it.")
    if row_missing.any():
        if options.missing == "drop":
            n_drop = int(row_missing.sum())
            if n_drop == n_total:
                raise DataError(
                    "Every row has a missing value in the selected columns; "
                    "choose 'fill with column mean' or deselect the columns with gaps."
                )
            keep = ~row_missing
            x = x[keep]
            row_index = row_index[keep]
            notes.append(f"dropped {n_drop} of {n_total} rows with missing values")
        else:
            means = _robust_mean(np.where(missing, 0.0, x), (~missing).sum(axis=0))
            x[missing] = np.broadcast_to(means, x.shape)[missing]
            notes.append(f"filled {int(missing.sum())} missing value(s) with column means")
    if x.shape[0] < min_rows:
        after = " after dropping rows with missing values" if row_missing.any() and options.missing == "drop" else ""
        raise DataError(
            f"Only {x.shape[0]} row{'s' if x.shape[0] != 1 else ''} of data remain{'s' if x.shape[0] == 1 else ''}"
            f"{after}, but at least {min_rows} are needed; use a file with more rows."
        )
    for j, c in enumerate(selected):
        column = x[:, j]
        if column.size and np.all(column == column[0]):
            notes.append(f"column {c!r} is constant (every value is {_format_number(float(column[0]))})")

    center = scale = None
    if options.standardize:
        x, center, scale = _standardize(x)
    else:
        big = np.abs(x).max(axis=0) > LARGE_VALUE
        if big.any():
            j = int(np.flatnonzero(big)[0])
            raise DataError(
                f"Column {selected[j]!r} has values as large as {np.abs(x[:, j]).max():.3g}, too large to "
                "fit without overflow; tick Standardise or rescale the column."
            )

    labels = None
    if label is not None:
        labels = _labels_from(table, label)[row_index]
    return Dataset(
        values=np.ascontiguousarray(x, dtype=np.float64),
        columns=tuple(selected),
        labels=labels,
        label_column=label,
        source=table.path if table.path is not None else "table",
        center=center,
        scale=scale,
        row_index=row_index,
        notes=tuple(notes),
    )


def _robust_mean(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Column means of ``x`` (zeros where missing) that do not overflow for huge values."""
    peak = np.abs(x).max(axis=0)
    peak[peak == 0] = 1.0
    return (x / peak).sum(axis=0) / counts * peak


def _standardize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Work on columns divided by their largest magnitude so 1e308 neither overflows
    # in the mean nor when squared; std of values in [-1, 1] is at most 1.
    # A constant column gets scale 1 and exact zeros (its computed mean may be off by an ulp).
    constant = np.all(x == x[:1], axis=0)
    peak = np.abs(x).max(axis=0)
    peak[constant | (peak == 0)] = 1.0
    unit = x / peak
    unit[:, constant] = 0.0  # a constant 1e308 column would overflow its own mean
    mu = unit.mean(axis=0)
    centred = unit - mu
    sd = np.sqrt((centred**2).mean(axis=0))
    sd[constant] = 1.0
    center = mu * peak
    center[constant] = x[0, constant]
    scale = sd * peak
    scale[constant] = 1.0
    return np.ascontiguousarray(centred / sd), center, scale


def _labels_from(table: Table, column: str) -> np.ndarray:
    if column in table.text:
        cells = [str(v) for v in table.text[column]]
        return np.array(["" if _is_missing(s) else s for s in cells], dtype=str)
    return np.array([_format_number(float(v)) for v in table.numeric[column]], dtype=str)


def load_dataset(
    path: str | os.PathLike[str],
    options: ImportOptions = ImportOptions(),
    min_rows: int = 2,
    progress: Callable[[float], object] | None = None,
    cancel: threading.Event | None = None,
) -> Dataset:
    """Read a file and prepare it in one step: :func:`read_table` then :func:`prepare_dataset`.

    ``.npy`` files give columns ``"x1"``, ..., ``"xD"`` (or the field names of a record array).
    """
    return prepare_dataset(read_table(path, progress=progress, cancel=cancel), options, min_rows)


@_memory_is_data_error
def dataset_from_array(
    values: np.ndarray,
    columns: Sequence[str] | None = None,
    labels: Sequence[object] | np.ndarray | None = None,
    source: str = "array",
) -> Dataset:
    """Wrap an (N, D) array as a :class:`Dataset`, validated like :func:`prepare_dataset`.

    Rows with NaN or infinite values are dropped (with a note).

    Parameters
    ----------
    values : array-like of shape (N, D)
    columns : sequence of str, optional
        Defaults to ``"x1"``, ..., ``"xD"``.
    labels : sequence, optional
        N ground-truth labels, turned into strings.
    source : str
    """
    name = f"The {source} data"
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} is not a rectangular array ({exc}); pass an (N, D) array of numbers.") from exc
    if array.dtype.kind not in "biuf" or array.ndim != 2:
        raise DataError(
            f"{name} has shape {array.shape} and dtype {array.dtype}; pass an (N, D) array of real numbers."
        )
    table = _table_from_array(array, None, name)
    if columns is not None:
        columns = tuple(str(c) for c in columns)
        if len(columns) != array.shape[1] or len(set(columns)) != len(columns):
            raise DataError(f"{name} needs {array.shape[1]} distinct column names; got {columns!r}.")
        table = Table(
            path=None,
            columns=columns,
            numeric={c: table.numeric[o] for c, o in zip(columns, table.columns)},
            text={},
            dialect=None,
            n_rows=table.n_rows,
        )
    options = ImportOptions(columns=table.columns)  # an array is taken as given: no suggestion
    if labels is not None:
        label_array = np.array([str(v) for v in np.asarray(labels, dtype=object).ravel()], dtype=object)
        if label_array.shape != (table.n_rows,):
            raise DataError(f"{name} has {table.n_rows} rows but {label_array.size} labels; pass one label per row.")
        label_name = "label"
        while label_name in table.columns:
            label_name = "_" + label_name
        table = Table(
            path=None,
            columns=table.columns + (label_name,),
            numeric=dict(table.numeric),
            text={label_name: label_array},
            dialect=None,
            n_rows=table.n_rows,
        )
        options = ImportOptions(columns=table.columns[:-1], label_column=label_name)
    dataset = prepare_dataset(table, options)
    return Dataset(
        values=dataset.values,
        columns=dataset.columns,
        labels=dataset.labels,
        source=source,
        center=None,
        scale=None,
        row_index=dataset.row_index,
        notes=dataset.notes,
    )
