"""Exporting what was fitted: model JSON, per-point assignments, log-likelihood history.

Everything written here goes through :func:`atomic_write_chunks`: the new content
goes to a temporary file in the destination's folder, is flushed to disk, and
only then replaces the destination in one ``os.replace``.  A failure (no such
folder, no permission, disk full) therefore never leaves a half-written file
and never damages the previous one; it raises :class:`ExportError` whose
message says what went wrong and what to do.

Where an export may land:

- a symlink is written *through*: its target gets the new content, the link stays;
- a folder, device (``/dev/null`` included), named pipe or socket is refused, so a
  device node is never swapped for a regular file, even by root;
- :func:`check_output_paths` refuses, before any work, an output that is the same
  file as an input or as another output (same resolved path, or same device and
  inode: hard links).

Temporary files are named ``.NAME.XXXXXXXX.gmm-studio.tmp``.  Inside
:func:`temp_files_removed_on_termination` (the command line runs in it) SIGTERM
deletes those of exports in progress; any left by a killed process are deleted
by the next write to the same folder once :data:`STALE_TEMP_AGE` old.

CSV cells and headers are written for spreadsheets too: text that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and is not a number, gets a
leading ``'`` so no spreadsheet runs it as a formula (OWASP's CSV injection
advice); numbers, negative ones included, are written unchanged.

The model file
--------------
A JSON object with ``"format": "gmm-studio-model"`` and ``"version": 1``::

    covariance_type      'full' | 'tied' | 'diag' | 'spherical'
    n_components, n_features
    columns              names of the features, in the order of the means' columns
    weights              (K,)
    means                (K, D)
    covariances          scikit-learn's shape for the type: (K,D,D) | (D,D) | (K,D) | (K,)
    covariances_full     (K, D, D) whatever the type
    precisions_cholesky  scikit-learn's ``precisions_cholesky_``, same shape as covariances
    preprocessing        {"standardization": {"center": (D_in,), "scale": (D_in,)} | null,
                          "projection": {"matrix": (D_in, D), "offset": (D_in,)} | null}
                         applied in that order to the file's columns before the model:
                         x_std = (x - center) / scale;  z = (x_std - offset) @ matrix
    log_likelihood       mean per-point log-likelihood on the fitted data (or null)
    n_iter, converged, n_samples, bic, aic, icl, seed
    settings             free-form dict of the options the fit used

Floats are written with ``repr`` precision (what :mod:`json` does), so loading a
saved model reproduces its parameters bit for bit.

Nothing here imports Qt; the GUI and the command line both call it.
"""

from __future__ import annotations

import contextlib
import csv
import errno as errno_module
import io
import json
import math
import os
import re
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import gmm_studio
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.core.params import (
    COVARIANCE_TYPES,
    MixtureParams,
    NotPositiveDefiniteError,
    covariance_shape,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_JSON_DEPTH",
    "ExportError",
    "LoadedModel",
    "ModelFileError",
    "assignments_table",
    "STALE_TEMP_AGE",
    "atomic_write_bytes",
    "atomic_write_chunks",
    "atomic_write_text",
    "check_model_matches",
    "check_output_paths",
    "load_model_json",
    "model_to_dict",
    "model_to_json",
    "preprocessing_dict",
    "remove_pending_temp_files",
    "save_model_json",
    "spreadsheet_safe",
    "temp_files_removed_on_termination",
    "write_assignments_csv",
    "write_csv",
    "write_history_csv",
]

def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it: do so once, at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()

FORMAT_NAME = "gmm-studio-model"
FORMAT_VERSION = 1

#: Relative tolerance when checking redundant fields (covariances_full,
#: precisions_cholesky) against the covariances they are derived from.
_CONSISTENCY_RTOL = 1e-8
#: How far the weights may sum from one (rounding by hand-editing tools included).
_WEIGHT_SUM_TOL = 1e-6
#: Deepest nesting of arrays and objects a model file may have.  A model needs 4 (the
#: file's object holding covariances of shape (K, D, D)); free-form ``settings`` get room.
MAX_JSON_DEPTH = 32
#: Integer literals with more digits are read as floats: ``int()`` of a huge literal is
#: slow (and refused beyond 4300 digits), and as a float it is simply too large (inf),
#: which the loader's checks report by name.
_MAX_INT_DIGITS = 20


class ExportError(OSError, ValueError):
    """A file could not be written.  The message says what is wrong and what to do.

    It is an ``OSError`` (the cause is the file system) and a ``ValueError`` (the
    usual "bad input" of the command line), so either ``except`` catches it.
    ``errno`` is the underlying error number when there is one.
    """


class ModelFileError(ValueError):
    """A model file cannot be used; the message names what is wrong.

    :func:`load_model_json` raises only this, whatever the file holds (not JSON,
    nesting deeper than :data:`MAX_JSON_DEPTH`, numbers too large for a float,
    wrong types or shapes, a FIFO or device instead of a file), so the window and
    the command line can show the message instead of a traceback.
    """


# --------------------------------------------------------------------------- atomic writes


def _describe_os_error(exc: OSError, path: str) -> str:
    code = exc.errno
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if code == errno_module.ENOSPC or code == getattr(errno_module, "EDQUOT", None):
        return (f"Cannot write {path!r}: the disk is full. Free some space or save somewhere "
                "else. The previous file, if any, is unchanged.")
    if code in (errno_module.EACCES, errno_module.EPERM):
        return (f"Cannot write {path!r}: permission denied in {folder!r}. Choose a folder you "
                "can write to. The previous file, if any, is unchanged.")
    if code == errno_module.EROFS:
        return (f"Cannot write {path!r}: {folder!r} is on a read-only file system. Save "
                "somewhere else.")
    if code == errno_module.ENOENT:
        return f"Cannot write {path!r}: the folder {folder!r} does not exist. Create it first or choose another."
    if code == errno_module.EISDIR:
        return f"Cannot write {path!r}: it is a folder. Give a file name instead."
    if code == errno_module.ENAMETOOLONG:
        return f"Cannot write {path!r}: the file name is too long. Choose a shorter one."
    reason = exc.strerror or str(exc)
    return (f"Cannot write {path!r}: {reason}. Check the path and try again; the previous "
            "file, if any, is unchanged.")


def _export_error(exc: OSError | None, message: str) -> ExportError:
    error = ExportError(message)
    error.errno = exc.errno if exc is not None else None
    return error


#: Temporary files are ``.NAME.XXXXXXXX.gmm-studio.tmp`` beside the destination ``NAME``:
#: hidden, and named so that a sweep can tell them from anything another program made.
_TEMP_SUFFIX = ".gmm-studio.tmp"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(_TEMP_SUFFIX) + r"\Z")
#: A temporary file older than this (seconds since its last write) belongs to an export
#: that was killed, not to one still running, and the next write to its folder deletes it.
STALE_TEMP_AGE = 3600.0
#: Temporary files of exports in progress, in this process.  ``set.add``/``discard`` and
#: ``list(set)`` are atomic under the GIL, so a signal handler may read it without a lock
#: (a lock held by the interrupted thread would deadlock the handler).
_pending_temp_files: set[str] = set()


def _destination(path: str) -> str:
    """Where a write to ``path`` lands, refusing what must never be replaced.

    A symlink is written *through*: its target gets the new content and the link
    stays.  Folders, devices, pipes and sockets are refused (``os.replace`` would
    swap a device node such as ``/dev/null`` for a regular file), as is a
    missing folder.
    """
    if not path:
        raise _export_error(None, "Cannot write to an empty file name: give a file name.")
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise _export_error(exc, _describe_os_error(exc, path)) from exc
    if mode is not None and stat.S_ISDIR(mode):
        raise _export_error(None, f"Cannot write {path!r}: it is a folder. Give a file name instead.")
    if mode is not None and not stat.S_ISREG(mode):
        raise _export_error(
            None,
            f"Cannot write {path!r}: it is a {_special_kind(mode)}, not a regular file, and "
            "exports only create or replace regular files. Give a file name instead.",
        )
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise _export_error(
            None,
            f"Cannot write {path!r}: the folder {folder!r} does not exist. Create it first or "
            "choose another.",
        )
    return target


def _special_kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_pending_temp_files() -> None:
    """Delete the temporary files of every export still in progress in this process.

    For a termination handler: the interrupted exports then leave nothing behind
    (their destinations are untouched; they were never replaced).  Any thread,
    signal handlers included.
    """
    for path in list(_pending_temp_files):
        _remove_quietly(path)


@contextlib.contextmanager
def temp_files_removed_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM removes unfinished exports' temporary files and exits (143).

    Python's default SIGTERM kills the process at once, leaving the hidden
    ``.NAME.*.gmm-studio.tmp`` files of an export in progress.  The handler deletes
    them and raises ``SystemExit(143)`` (128 + SIGTERM, the shell's convention);
    the previous handler is restored on leaving.  Does nothing off the main
    thread (only the main thread may set signal handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_terminate(signum: int, frame: object) -> None:
        remove_pending_temp_files()
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sweep_stale_temp_files(folder: str) -> None:
    """Delete temporary files that killed exports left in ``folder``.

    Only files named as this module names them, regular (not symlinks), owned by
    this user and unchanged for :data:`STALE_TEMP_AGE`: never anyone else's file,
    never an export still being written.
    """
    owner = os.geteuid() if hasattr(os, "geteuid") else None
    now = time.time()
    try:
        entries = os.scandir(folder)
    except OSError:
        return
    with entries:
        for entry in entries:
            if not _TEMP_NAME.match(entry.name) or entry.path in _pending_temp_files:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (stat.S_ISREG(info.st_mode) and (owner is None or info.st_uid == owner)
                    and now - info.st_mtime > STALE_TEMP_AGE):
                _remove_quietly(entry.path)


def atomic_write_chunks(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    """Write the concatenated ``chunks`` to ``path`` all at once or not at all.

    The bytes go, one chunk at a time (so a caller can stream a file larger than
    memory), to a temporary file beside the destination, are flushed and
    ``fsync``-ed, and the temporary file then replaces the destination with
    :func:`os.replace` (atomic on POSIX and Windows).  An existing file keeps its
    permission bits.  A symlink is written through to its target (the link
    stays); folders, devices, pipes and sockets are refused.  Stale temporary files
    of killed exports in the same folder are deleted first (see
    :data:`STALE_TEMP_AGE`).  Any thread.

    Raises
    ------
    ExportError
        When the folder is missing, ``path`` is a folder or a special file, or
        writing fails (permissions, full disk, ...).  The previous file is
        untouched and no temporary file is left behind.  An exception raised by
        ``chunks`` itself propagates unchanged, with the same guarantees.
    """
    path = os.fspath(path)
    target = _destination(path)
    folder = os.path.dirname(target)
    _sweep_stale_temp_files(folder)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        # mkstemp makes 0600 files; a new export should get the usual umask mode.
        mode = 0o666 & ~_UMASK
    tmp_path: str | None = None
    try:
        fd, tmp_path = tempfile.mkstemp(
            dir=folder, prefix="." + os.path.basename(target) + ".", suffix=_TEMP_SUFFIX
        )
        _pending_temp_files.add(tmp_path)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
        _pending_temp_files.discard(tmp_path)
        tmp_path = None
    except OSError as exc:
        raise _export_error(exc, _describe_os_error(exc, path)) from exc
    finally:
        if tmp_path is not None:
            _pending_temp_files.discard(tmp_path)
            _remove_quietly(tmp_path)
    _fsync_folder(folder)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """:func:`atomic_write_chunks` with one chunk: ``path`` holds ``data`` or is unchanged."""
    atomic_write_chunks(path, (data,))


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable where the platform allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """:func:`atomic_write_bytes` for text (UTF-8, newlines written as given)."""
    atomic_write_bytes(path, text.encode(encoding))


def _identity(path: str) -> tuple[str, tuple[int, int] | None]:
    """The resolved path and, for an existing file, its (device, inode)."""
    try:
        info = os.stat(path)
        inode = (info.st_dev, info.st_ino)
    except OSError:
        inode = None
    return os.path.normcase(os.path.realpath(path)), inode


def check_output_paths(
    outputs: Sequence[tuple[str, str | os.PathLike[str]]],
    inputs: Sequence[tuple[str, str | os.PathLike[str]]] = (),
) -> None:
    """Refuse, before any work, outputs that would destroy an input or each other.

    Two paths are the same file when they resolve to the same path (symlinks,
    ``./a`` beside ``a``) or, for files that exist, share a (device, inode) pair
    (hard links).  Each output is also checked as a write would check it
    (folder exists; not a folder, device, pipe or socket).

    Parameters
    ----------
    outputs, inputs : sequence of (what, path)
        ``what`` names the path in the message, e.g. ``"--out"`` or ``"the data file"``.

    Raises
    ------
    ExportError
        Naming the two clashing paths, or what is wrong with one output.
    """
    taken = [(what, os.fspath(path), *_identity(os.fspath(path)), True) for what, path in inputs]
    for what, path in outputs:
        path = os.fspath(path)
        _destination(path)
        real, inode = _identity(path)
        for other_what, other_path, other_real, other_inode, is_input in taken:
            if real != other_real and (inode is None or inode != other_inode):
                continue
            if is_input:
                raise _export_error(None, (
                    f"{what} {path!r} is the same file as {other_what} {other_path!r}: writing it "
                    f"would overwrite the input. Give {what} another file name."))
            raise _export_error(None, (
                f"{what} {path!r} and {other_what} {other_path!r} are the same file: one would "
                "overwrite the other. Give them different file names."))
        taken.append((what, path, real, inode, False))


# --------------------------------------------------------------------------- model JSON


def _float(value: Any) -> float | None:
    """A JSON-safe float: non-finite values (which JSON cannot hold) become null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _array(array: np.ndarray) -> list:
    return np.asarray(array, dtype=np.float64).tolist()


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def preprocessing_dict(
    center: Any = None, scale: Any = None, projection: Any = None
) -> dict[str, Any]:
    """The ``preprocessing`` entry of a model file.

    Parameters
    ----------
    center, scale : array-like of shape (D_in,), optional
        Standardisation ``x_std = (x - center) / scale`` (a :class:`~gmm_studio.core.dataio.Dataset`'s
        ``center`` and ``scale``); both or neither.
    projection : object with ``.matrix`` and ``.offset``, or a dict with those keys, optional
        ``z = (x_std - offset) @ matrix`` with ``matrix`` of shape (D_in, D).
    """
    if (center is None) != (scale is None):
        raise ValueError("Give both center and scale for the standardisation, or neither.")
    standardization = None
    if center is not None:
        standardization = {"center": _array(center), "scale": _array(scale)}
    proj = None
    if projection is not None:
        matrix, offset = _get(projection, "matrix"), _get(projection, "offset")
        if matrix is None:
            raise ValueError("A projection needs a 'matrix' (D_in, D).")
        matrix = np.asarray(matrix, dtype=np.float64)
        offset = np.zeros(matrix.shape[0]) if offset is None else offset
        proj = {"matrix": _array(matrix), "offset": _array(offset)}
    return {"standardization": standardization, "projection": proj}


def _normalise_preprocessing(preprocessing: Any) -> dict[str, Any]:
    if preprocessing is None:
        return {"standardization": None, "projection": None}
    if not isinstance(preprocessing, Mapping):
        # A Dataset, or anything with center/scale (and perhaps projection) attributes.
        return preprocessing_dict(
            _get(preprocessing, "center"), _get(preprocessing, "scale"),
            _get(preprocessing, "projection"),
        )
    if "center" in preprocessing or "scale" in preprocessing:
        return preprocessing_dict(
            preprocessing.get("center"), preprocessing.get("scale"), preprocessing.get("projection")
        )
    standardization = preprocessing.get("standardization")
    return preprocessing_dict(
        _get(standardization, "center") if standardization is not None else None,
        _get(standardization, "scale") if standardization is not None else None,
        preprocessing.get("projection"),
    )


def _jsonable(value: Any) -> Any:
    """Settings values as JSON: numpy scalars and arrays, tuples, paths, non-finite floats."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _float(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def model_to_dict(
    params: MixtureParams,
    *,
    columns: Sequence[str],
    log_likelihood: float | None = None,
    n_iter: int | None = None,
    converged: bool | None = None,
    criteria: Mapping[str, float] | None = None,
    n_samples: int | None = None,
    settings: Mapping[str, Any] | None = None,
    preprocessing: Any = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The model file's content as a dict (see the module docstring for the schema).

    Parameters
    ----------
    params : MixtureParams
    columns : sequence of str
        One name per feature, in the order of the means' columns.
    log_likelihood : float, optional
        Mean per-point log-likelihood on the fitted data.
    n_iter, converged, n_samples : optional
    criteria : dict, optional
        Any of ``'bic'``, ``'aic'``, ``'icl'``.
    settings : dict, optional
        The options of the fit; stored as given (made JSON-safe).
    preprocessing : dict, Dataset or None
        ``{"standardization": {"center", "scale"} | None, "projection": obj | dict | None}``,
        or ``{"center", "scale", "projection"}``, or an object with ``center``/``scale``
        attributes (a :class:`~gmm_studio.core.dataio.Dataset`).  See :func:`preprocessing_dict`.
    seed : int, optional
        Defaults to ``settings['seed']`` (or ``settings['random_state']``) when present.

    Raises
    ------
    ValueError
        When ``columns`` does not have one name per feature or the parameters are
        not positive definite.
    """
    columns = [str(c) for c in columns]
    if len(columns) != params.n_features:
        raise ValueError(
            f"columns has {len(columns)} names but the model has {params.n_features} features."
        )
    try:
        precisions_cholesky = params.precisions_cholesky()
    except NotPositiveDefiniteError as exc:
        raise ValueError(f"Cannot export the model: {exc}.") from exc
    criteria = dict(criteria or {})
    settings = dict(settings or {})
    if seed is None:
        seed = settings.get("seed", settings.get("random_state"))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        seed = None
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "software": f"gmm-studio {gmm_studio.__version__}",
        "covariance_type": params.covariance_type,
        "n_components": params.n_components,
        "n_features": params.n_features,
        "columns": columns,
        "weights": _array(params.weights),
        "means": _array(params.means),
        "covariances": _array(params.covariances),
        "covariances_full": _array(params.full_covariances()),
        "precisions_cholesky": _array(precisions_cholesky),
        "preprocessing": _normalise_preprocessing(preprocessing),
        "log_likelihood": _float(log_likelihood),
        "n_iter": None if n_iter is None else int(n_iter),
        "converged": None if converged is None else bool(converged),
        "n_samples": None if n_samples is None else int(n_samples),
        "bic": _float(criteria.get("bic")),
        "aic": _float(criteria.get("aic")),
        "icl": _float(criteria.get("icl")),
        "seed": None if seed is None else int(seed),
        "settings": _jsonable(settings),
    }


def _dumps(value: Any, indent: int = 0) -> str:
    """JSON with objects indented and each innermost array on one line (one matrix row a line)."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k))}: {_dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        items = [inner + _dumps(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False, separators=(", ", ": "))


def model_to_json(params: MixtureParams, **kwargs: Any) -> str:
    """:func:`model_to_dict` as indented JSON text (floats at full ``repr`` precision)."""
    return _dumps(model_to_dict(params, **kwargs)) + "\n"


def save_model_json(path: str | os.PathLike[str], params: MixtureParams, **kwargs: Any) -> None:
    """Write :func:`model_to_json` to ``path`` atomically (raises :class:`ExportError`)."""
    atomic_write_text(path, model_to_json(params, **kwargs))


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model read back from a file.

    Attributes
    ----------
    params : MixtureParams
    columns : tuple of str
    preprocessing : dict
        ``{"standardization": {"center": ndarray, "scale": ndarray} | None,
        "projection": {"matrix": ndarray, "offset": ndarray} | None}``.
    metadata : dict
        Everything else: version, log_likelihood, n_iter, converged, n_samples,
        bic, aic, icl, seed, settings, software.
    """

    params: MixtureParams
    columns: tuple[str, ...]
    preprocessing: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


def _require(doc: Mapping[str, Any], key: str) -> Any:
    if key not in doc:
        raise ModelFileError(f"The model file has no {key!r} entry; it is incomplete.")
    return doc[key]


def _numeric_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelFileError(
            f"{name!r} in the model file must be an array of numbers of shape {shape}."
        ) from None
    if array.shape != shape:
        raise ModelFileError(
            f"{name!r} in the model file has shape {array.shape}; expected {shape}."
        )
    if not np.all(np.isfinite(array)):
        raise ModelFileError(f"{name!r} in the model file contains non-finite values.")
    return array


def _count(doc: Mapping[str, Any], key: str) -> int:
    value = _require(doc, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelFileError(f"{key!r} in the model file must be a positive integer; got {value!r}.")
    return value


def _consistent(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=_CONSISTENCY_RTOL, atol=_CONSISTENCY_RTOL * max(np.abs(b).max(), 1e-300)))


def _parse_preprocessing(value: Any, n_features: int) -> dict[str, Any]:
    if value is None:
        return {"standardization": None, "projection": None}
    if not isinstance(value, Mapping):
        raise ModelFileError("'preprocessing' in the model file must be an object or null.")
    out: dict[str, Any] = {"standardization": None, "projection": None}
    projection = value.get("projection")
    d_in = n_features
    if projection is not None:
        if not isinstance(projection, Mapping) or "matrix" not in projection:
            raise ModelFileError("'preprocessing.projection' must be an object with a 'matrix'.")
        matrix = np.asarray(projection["matrix"], dtype=np.float64) if _is_numeric_list(
            projection["matrix"]) else None
        if matrix is None or matrix.ndim != 2:
            raise ModelFileError("'preprocessing.projection.matrix' must be a 2-D array of numbers.")
        d_in = matrix.shape[0]
        matrix = _numeric_array(projection["matrix"], "preprocessing.projection.matrix", (d_in, n_features))
        offset = _numeric_array(projection.get("offset", [0.0] * d_in),
                                "preprocessing.projection.offset", (d_in,))
        out["projection"] = {"matrix": matrix, "offset": offset}
    standardization = value.get("standardization")
    if standardization is not None:
        if not isinstance(standardization, Mapping):
            raise ModelFileError("'preprocessing.standardization' must be an object or null.")
        center = _numeric_array(_require(standardization, "center"),
                                "preprocessing.standardization.center", (d_in,))
        scale = _numeric_array(_require(standardization, "scale"),
                               "preprocessing.standardization.scale", (d_in,))
        if np.any(scale <= 0):
            raise ModelFileError("'preprocessing.standardization.scale' must be positive.")
        out["standardization"] = {"center": center, "scale": scale}
    return out


def _is_numeric_list(value: Any) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def load_model_json(source: str | os.PathLike[str]) -> LoadedModel:
    """Read and validate a model file.

    Parameters
    ----------
    source : path or str
        A path to a file, or the JSON text itself (a string starting with ``{`` or ``[``).

    Raises
    ------
    ModelFileError
        When the file cannot be read, is not JSON, is not a GMM Studio model of a
        version this program reads, misses an entry, has arrays of the wrong
        shape, weights that do not sum to one, covariances that are not
        symmetric positive definite, or redundant entries that disagree.
    """
    if isinstance(source, str) and source.lstrip()[:1] in ("{", "["):
        text, name = source, "The model text"
    else:
        name = f"{os.fspath(source)!r}"
        text = _read_model_text(source, name)
    try:
        doc = json.loads(text, parse_int=_parse_int_literal)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{name} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from None
    except RecursionError:
        doc = None  # the parser's own depth limit: reported below as too deep
    if doc is None or _nesting_depth(doc) > MAX_JSON_DEPTH:
        raise ModelFileError(
            f"{name} nests arrays or objects more than {MAX_JSON_DEPTH} deep; a GMM Studio "
            "model needs 4 (its object holding a stack of covariance matrices). It is not a "
            "model file."
        )
    if not isinstance(doc, dict):
        raise ModelFileError(f"{name} is JSON but not a GMM Studio model (expected an object).")
    try:
        return _parse_model(doc)
    except ModelFileError as exc:
        raise ModelFileError(f"{name}: {exc}") from None


def _parse_int_literal(text: str) -> int | float:
    return int(text) if len(text) <= _MAX_INT_DIGITS else float(text)


def _nesting_depth(doc: Any) -> int:
    """How deep lists and dicts nest in ``doc`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            stack.extend((item, depth + 1) for item in value if isinstance(item, (list, dict)))
    return deepest


def _read_model_text(source: str | os.PathLike[str], name: str) -> str:
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below like any
    # file that is not regular (a device such as /dev/zero would never end).
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ModelFileError(f"Model file {name} does not exist.") from None
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {name}: {exc.strerror or exc}.") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise ModelFileError(f"Model file {name} is a folder, not a file.")
        raise ModelFileError(
            f"Model file {name} is a {_special_kind(mode)}, not a regular file. Choose a "
            "model file saved by GMM Studio."
        )
    with os.fdopen(fd, "rb") as handle:
        try:
            return handle.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"Model file {name} is not text (not a JSON model file).") from None
        except OSError as exc:
            raise ModelFileError(f"Cannot read model file {name}: {exc.strerror or exc}.") from None


def _parse_model(doc: dict[str, Any]) -> LoadedModel:
    if doc.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"not a GMM Studio model file ('format' is {doc.get('format')!r}, expected "
            f"{FORMAT_NAME!r})."
        )
    version = doc.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelFileError(
            f"model file version {version!r} is not supported; this program reads version "
            f"{FORMAT_VERSION}. Re-export the model with this version of GMM Studio."
        )
    covariance_type = _require(doc, "covariance_type")
    if covariance_type not in COVARIANCE_TYPES:
        raise ModelFileError(
            f"unknown covariance_type {covariance_type!r}; expected one of "
            + ", ".join(COVARIANCE_TYPES) + "."
        )
    k = _count(doc, "n_components")
    d = _count(doc, "n_features")
    columns = _require(doc, "columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ModelFileError("'columns' must be a list of column names.")
    if len(columns) != d:
        raise ModelFileError(f"'columns' has {len(columns)} names but n_features is {d}.")
    if len(set(columns)) != d:
        raise ModelFileError("'columns' contains duplicate names.")
    weights = _numeric_array(_require(doc, "weights"), "weights", (k,))
    means = _numeric_array(_require(doc, "means"), "means", (k, d))
    cov_shape = covariance_shape(covariance_type, k, d)
    covariances = _numeric_array(_require(doc, "covariances"), "covariances", cov_shape)
    if np.any(weights < 0) or abs(weights.sum() - 1.0) > _WEIGHT_SUM_TOL:
        raise ModelFileError(
            f"weights must be non-negative and sum to 1; they sum to {weights.sum():.10g}."
        )
    if covariance_type in ("full", "tied"):
        stack = covariances.reshape(-1, d, d)
        if not np.allclose(stack, np.swapaxes(stack, 1, 2), rtol=1e-10, atol=0.0):
            raise ModelFileError("covariances are not symmetric.")
    params = MixtureParams(covariance_type, weights, means, covariances)
    try:
        precisions_cholesky = params.precisions_cholesky()
    except NotPositiveDefiniteError as exc:
        what = "the tied covariance" if covariance_type == "tied" else (
            f"the covariance of component {exc.component + 1}")
        raise ModelFileError(f"{what} is not positive definite.") from None
    if "covariances_full" in doc:
        full = _numeric_array(doc["covariances_full"], "covariances_full", (k, d, d))
        if not _consistent(full, params.full_covariances()):
            raise ModelFileError("'covariances_full' disagrees with 'covariances'.")
    if "precisions_cholesky" in doc:
        pc = _numeric_array(doc["precisions_cholesky"], "precisions_cholesky", cov_shape)
        if not _consistent(pc, precisions_cholesky):
            raise ModelFileError(
                "'precisions_cholesky' disagrees with 'covariances' (was one edited without the other?)."
            )
    preprocessing = _parse_preprocessing(doc.get("preprocessing"), d)
    skip = {"format", "covariance_type", "n_components", "n_features", "columns", "weights",
            "means", "covariances", "covariances_full", "precisions_cholesky", "preprocessing"}
    metadata = {key: value for key, value in doc.items() if key not in skip}
    return LoadedModel(params, tuple(columns), preprocessing, metadata)


def check_model_matches(loaded: LoadedModel, columns: Sequence[str]) -> tuple[int, ...]:
    """Check that a loaded model describes the open data's columns.

    Parameters
    ----------
    loaded : LoadedModel
    columns : sequence of str
        The open data's columns.

    Returns
    -------
    tuple of int
        For each of the model's columns, its index among ``columns``: ``X[:, order]``
        puts the data in the model's column order.

    Raises
    ------
    ModelFileError
        When the sets of column names differ.
    """
    columns = tuple(str(c) for c in columns)
    model_columns = loaded.columns
    if loaded.preprocessing.get("projection") is not None:
        # A projected model's input columns are those of the projection, which the
        # file does not name; the dimension is all that can be checked.
        d_in = loaded.preprocessing["projection"]["matrix"].shape[0]
        if len(columns) != d_in:
            raise ModelFileError(
                f"The model expects {d_in} input columns (before its projection); the open "
                f"data has {len(columns)}."
            )
        return tuple(range(len(columns)))
    if set(model_columns) != set(columns) or len(columns) != len(model_columns):
        raise ModelFileError(
            f"The model was fitted on columns {', '.join(model_columns)}; the open data has "
            f"{', '.join(columns)}. Open the data the model was fitted on, or choose those "
            "columns when importing."
        )
    return tuple(columns.index(c) for c in model_columns)


# --------------------------------------------------------------------------- CSV


#: First characters that make a spreadsheet read a cell as a formula (OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_TEXT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|nan)\Z")
#: Rows formatted before each write of :func:`write_csv`: memory stays one chunk's text.
CSV_ROWS_PER_CHUNK = 10_000


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would run it as a formula.

    Text beginning with ``= + - @``, a tab or a carriage return is neutralised;
    a number written as text (``-1.5``, ``+2e3``, ``-inf``) is left as it is.
    """
    if text.startswith(_FORMULA_STARTS) and not _NUMBER_TEXT.match(text):
        return "'" + text
    return text


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return spreadsheet_safe(value)
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, np.integer):
        return int(value)
    return value


def _csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([spreadsheet_safe(str(name)) for name in header])
    for count, row in enumerate(rows, 1):
        writer.writerow([_cell(v) for v in row])
        if count % CSV_ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a comma-separated table atomically; floats at full ``repr`` precision.

    ``rows`` may be a generator: it is consumed :data:`CSV_ROWS_PER_CHUNK` rows at a
    time, so a table larger than memory can be written.  Text cells and the
    header are made :func:`spreadsheet_safe`; numbers are written unchanged.
    """
    atomic_write_chunks(path, _csv_chunks(header, rows))


def _unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name = name + "_"
    taken.add(name)
    return name


def assignments_table(
    dataset_values: np.ndarray,
    columns: Sequence[str],
    responsibilities: np.ndarray,
    row_index: np.ndarray | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the per-point CSV (see :func:`write_assignments_csv`)."""
    values = np.asarray(dataset_values, dtype=np.float64)
    resp = np.asarray(responsibilities, dtype=np.float64)
    columns = [str(c) for c in columns]
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise ValueError(
            f"dataset_values must be (N, {len(columns)}) for {len(columns)} columns; got {values.shape}."
        )
    if resp.ndim != 2 or resp.shape[0] != values.shape[0]:
        raise ValueError(
            f"responsibilities must be (N, K) with N = {values.shape[0]}; got {resp.shape}."
        )
    n, k = resp.shape
    rows_ix = np.arange(n) if row_index is None else np.asarray(row_index)
    if rows_ix.shape != (n,):
        raise ValueError(f"row_index must have shape ({n},); got {rows_ix.shape}.")
    taken = set(columns)
    header = (
        [_unique("row", taken)]
        + columns
        + [_unique("component", taken)]
        + [_unique(f"resp_{j + 1}", taken) for j in range(k)]
        + [_unique("uncertainty", taken)]
    )
    hard = resp.argmax(axis=1) + 1 if k else np.zeros(n, dtype=np.int64)
    uncertainty = 1.0 - resp.max(axis=1) if k else np.ones(n)
    # repr per cell: shortest text that reads back as the same float.
    value_text = [[repr(v) for v in row] for row in values.tolist()]
    resp_text = [[repr(v) for v in row] for row in resp.tolist()]
    rows = [
        [str(r)] + vt + [str(h)] + rt + [repr(u)]
        for r, vt, h, rt, u in zip(
            rows_ix.tolist(), value_text, hard.tolist(), resp_text, uncertainty.tolist()
        )
    ]
    return header, rows


def write_assignments_csv(
    path: str | os.PathLike[str],
    dataset_values: np.ndarray,
    columns: Sequence[str],
    responsibilities: np.ndarray,
    row_index: np.ndarray | None = None,
) -> None:
    """Write one row per point: its data, hard label, responsibilities and uncertainty.

    Columns: ``row`` (the point's row in the input file, 0-based, header
    excluded), the data ``columns`` (values as given, e.g.
    :meth:`~gmm_studio.core.dataio.Dataset.original_values`), ``component`` (the most
    responsible component, 1-based like ``resp_k``), ``resp_1`` … ``resp_K`` (γ_nk)
    and ``uncertainty`` (1 − max_k γ_nk).  Added names that collide with a data
    column get a trailing ``_``.  Written atomically.

    Raises
    ------
    ValueError
        When the shapes do not agree.
    ExportError
        When the file cannot be written.
    """
    header, rows = assignments_table(dataset_values, columns, responsibilities, row_index)
    write_csv(path, header, rows)


HISTORY_COLUMNS: tuple[str, ...] = (
    "restart", "iteration", "half_step", "log_likelihood", "lower_bound", "converged",
)


def write_history_csv(path: str | os.PathLike[str], snapshots: Iterable[Any]) -> None:
    """Write the log-likelihood history: one row per snapshot, each figure of the row's own θ.

    Parameters
    ----------
    path : path
    snapshots : iterable of Snapshot (or of RestartHistory, whose snapshots are used)
        Columns: restart, iteration, half_step ('init', 'E', 'M'),
        log_likelihood — the mean per-point log-likelihood L(θ) of the row's parameters θ,
        computed by an E-step (or for an edited model); empty where it is not known: on EM's
        'M' rows (L(θ⁽ᵗ⁺¹⁾) is computed by the next E-step, the next 'E' row) and on 'init'
        rows (K-means' rows carry −J/N of their centres, the update's too);
        lower_bound — the mean Jensen bound B(θ; q) of the row's θ with q from the latest
        E-step: equal to log_likelihood on 'E' rows, the raised bound (≤ L(θ⁽ᵗ⁺¹⁾)) on 'M'
        rows, empty where it is not known (at 'init', or when the M-step's θ is degenerate);
        converged ('true'/'false').
    """
    def known(value: float) -> float | str:
        return float(value) if math.isfinite(value) else ""

    rows = []
    for item in snapshots:
        inner = getattr(item, "snapshots", None)
        for s in (inner if inner is not None else (item,)):
            # K-means' update computes −J/N of its own centres: that row's figure is known
            m_step = s.half_step == "M" and not isinstance(s, KMeansSnapshot)
            degenerate = m_step and any(e.fatal for e in s.events)
            rows.append([
                int(s.restart), int(s.iteration), s.half_step,
                "" if m_step else known(s.log_likelihood),
                "" if degenerate else known(s.lower_bound), bool(s.converged),
            ])
    write_csv(path, HISTORY_COLUMNS, rows)
