"""Session files: everything needed to carry on exactly where a person was, in one file.

A session file is a zip archive holding ``manifest.json`` (format name, format version, the
choices and the history's scalars) and one ``.npy`` member per array (the data embedded, the
parameters of every half-step, γ-free).  Arrays are read with ``allow_pickle=False``; the file
is written with :func:`~gmm_studio.core.export.atomic_write_bytes`, so a failed save leaves the
previous file whole.  :func:`read_session_file` checks everything before anything is returned:
a damaged, truncated or newer file raises :class:`SessionFileError` and nothing else happens.
Any thread (no session state is touched here).
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from dataclasses import asdict, dataclass

import numpy as np

from gmm_studio.core.dataio import Dataset, ImportOptions
from gmm_studio.core.em import ComponentDiagnostics, DegeneracyEvent, Snapshot
from gmm_studio.core.export import atomic_write_bytes
from gmm_studio.core.geometry import Projection
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings
from gmm_studio.session.history import ORIGINS
from gmm_studio.session.state import RunState

__all__ = ["FORMAT", "SUFFIX", "SessionFileError", "SessionRecord", "VERSION", "read_session_file",
           "write_session_file"]

FORMAT = "gmm-studio-session"
#: The newest format this program writes and reads.
VERSION = 1
_MANIFEST = "manifest.json"
#: The file name ending the window offers for session files.
SUFFIX = ".gmmsession"


class SessionFileError(ValueError):
    """A session file cannot be opened; the message says what is wrong with it."""


@dataclass(frozen=True, eq=False)
class SessionRecord:
    """Everything a session file holds, as the session's own objects."""

    dataset: Dataset
    truth: MixtureParams | None
    truth_labels: np.ndarray | None
    import_options: ImportOptions | None
    settings: FitSettings
    projection: Projection
    placed: np.ndarray
    selected: int | None
    entries: tuple[Snapshot, ...]
    origins: tuple[str, ...]
    cursor: int | None
    state: RunState
    fit_restarts: int
    delay: float


# ------------------------------------------------------------------ writing


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _params_arrays(prefix: str, params: MixtureParams, arrays: dict) -> dict:
    arrays[f"{prefix}/weights"] = params.weights
    arrays[f"{prefix}/means"] = params.means
    arrays[f"{prefix}/covariances"] = params.covariances
    return {"covariance_type": params.covariance_type}


def session_bytes(record: SessionRecord) -> bytes:
    """The file's bytes for ``record``.  Any thread: a record is immutable, so the window may
    build it on its own thread and write it as runner work (a large save)."""
    arrays: dict[str, np.ndarray] = {}
    d = record.dataset
    arrays["data/values"] = d.values
    arrays["data/row_index"] = d.row_index
    for name in ("labels", "center", "scale"):
        if getattr(d, name) is not None:
            arrays[f"data/{name}"] = np.asarray(getattr(d, name), dtype=str if name == "labels" else None)
    truth = None if record.truth is None else _params_arrays("truth", record.truth, arrays)
    if record.truth_labels is not None:
        arrays["truth_labels"] = record.truth_labels
    arrays["projection/matrix"] = record.projection.matrix
    arrays["projection/offset"] = record.projection.offset
    arrays["placed"] = record.placed
    history = []
    for i, (snap, origin) in enumerate(zip(record.entries, record.origins)):
        entry = _params_arrays(f"history/{i}", snap.params, arrays)
        diag = snap.diagnostics
        arrays[f"history/{i}/effective_counts"] = diag.effective_counts
        arrays[f"history/{i}/min_eigenvalues"] = diag.min_eigenvalues
        arrays[f"history/{i}/condition_numbers"] = diag.condition_numbers
        entry.update(restart=snap.restart, iteration=snap.iteration, half_step=snap.half_step,
                     converged=bool(snap.converged), origin=origin,
                     events=[{"component": e.component, "kind": e.kind, "message": e.message,
                              "remedies": list(e.remedies)} for e in snap.events])
        history.append(entry)
    # Exact float64 figures (including -inf), not JSON text.
    arrays["history/log_likelihood"] = np.array([s.log_likelihood for s in record.entries], dtype=np.float64)
    arrays["history/lower_bound"] = np.array([s.lower_bound for s in record.entries], dtype=np.float64)
    manifest = {
        "format": FORMAT, "version": VERSION,
        "dataset": {"columns": list(d.columns), "source": d.source, "notes": list(d.notes)},
        "import_options": None if record.import_options is None else asdict(record.import_options),
        "settings": record.settings.to_dict(),
        "truth": truth,
        "projection": {"axis_titles": list(record.projection.axis_titles), "kind": record.projection.kind},
        "selected": record.selected, "history": history, "cursor": record.cursor,
        "state": record.state.value, "fit_restarts": record.fit_restarts, "delay": record.delay,
    }
    buffer = io.BytesIO()
    # Stored, not deflated: float data barely compress and 1e7 points would take seconds.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_MANIFEST, json.dumps(manifest, indent=1))
        for name, array in arrays.items():
            archive.writestr(name + ".npy", _npy(array))
    return buffer.getvalue()


def write_session_file(path: str | os.PathLike[str], record: SessionRecord) -> None:
    """Write ``record`` to ``path`` all at once or not at all (raises ``ExportError``, an OSError)."""
    atomic_write_bytes(path, session_bytes(record))


# ------------------------------------------------------------------ reading


class _Reader:
    """Reads members of an open archive, turning every problem into a sentence."""

    def __init__(self, archive: zipfile.ZipFile, name: str):
        self.archive, self.name = archive, name

    def damaged(self, detail: str) -> SessionFileError:
        return SessionFileError(f"{self.name} is damaged and cannot be opened: {detail}")

    def array(self, member: str, optional: bool = False) -> np.ndarray | None:
        try:
            raw = self.archive.read(member + ".npy")
        except KeyError:
            if optional:
                return None
            raise self.damaged(f"'{member}' is missing.") from None
        try:
            return np.load(io.BytesIO(raw), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise self.damaged(f"'{member}' is not a readable array ({exc}).") from None

    def params(self, prefix: str, doc: dict) -> MixtureParams:
        return MixtureParams(doc["covariance_type"], self.array(f"{prefix}/weights"),
                             self.array(f"{prefix}/means"), self.array(f"{prefix}/covariances"))


def read_session_file(path: str | os.PathLike[str]) -> SessionRecord:
    """Read and check a session file.  Raises :class:`SessionFileError` saying what is wrong."""
    name = os.path.basename(os.fspath(path)) or os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except OSError as exc:
        raise SessionFileError(f"Cannot read {name}: {exc.strerror or exc}.") from None
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        # NotImplementedError: a damaged header asking for a zip version zipfile does not know
        raise SessionFileError(f"{name} is not a GMM Studio session file, or it is damaged or "
                               f"truncated ({exc}).") from None
    reader = _Reader(archive, name)
    with archive:
        try:
            raw = archive.read(_MANIFEST)
        except KeyError:
            raise SessionFileError(f"{name} is not a GMM Studio session file (it has no "
                                   f"{_MANIFEST}).") from None
        except Exception as exc:  # noqa: BLE001 - zipfile, zlib, ...: the bytes are damaged
            raise reader.damaged(f"its manifest cannot be read ({exc}).") from None
        try:
            manifest = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise reader.damaged(f"its manifest is not valid JSON ({exc}).") from None
        _check_format(manifest, name)
        try:
            return _record(reader, manifest)
        except SessionFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever damaged bytes cause, one clear error
            raise reader.damaged(f"{type(exc).__name__}: {exc}") from None


def _check_format(manifest, name: str) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SessionFileError(f"{name} is not a GMM Studio session file.")
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise SessionFileError(f"{name} is damaged and cannot be opened: format version {version!r}.")
    if version > VERSION:
        raise SessionFileError(
            f"{name} was saved by a newer GMM Studio (session format {version}; this one reads up "
            f"to {VERSION}): update GMM Studio to open it.")


def _record(reader: _Reader, m: dict) -> SessionRecord:
    values = reader.array("data/values")
    labels = reader.array("data/labels", optional=True)
    center, scale = reader.array("data/center", optional=True), reader.array("data/scale", optional=True)
    dm = m["dataset"]
    n, d = values.shape
    dataset = Dataset(np.ascontiguousarray(values, dtype=np.float64), tuple(str(c) for c in dm["columns"]),
                      None if labels is None else labels.astype(str), str(dm["source"]),
                      center, scale, reader.array("data/row_index"), tuple(str(t) for t in dm["notes"]))
    _expect(reader, len(dataset.columns) == d and values.dtype.kind == "f" and np.isfinite(values).all(),
            "the data do not match their columns.")
    _expect(reader, labels is None or labels.shape == (n,), "the labels do not match the data.")
    truth = None if m["truth"] is None else reader.params("truth", m["truth"])
    _expect(reader, truth is None or truth.n_features == d, "the true mixture does not match the data.")
    truth_labels = reader.array("truth_labels", optional=True)
    _expect(reader, truth_labels is None or (truth_labels.shape == (n,) and truth_labels.dtype.kind == "i"),
            "the true labels do not match the data.")
    options = None if m["import_options"] is None else ImportOptions(**m["import_options"])
    settings = FitSettings(**m["settings"])
    pm = m["projection"]
    projection = Projection(reader.array("projection/matrix"), reader.array("projection/offset"),
                            tuple(str(t) for t in pm["axis_titles"]), str(pm["kind"]))
    _expect(reader, projection.matrix.shape == (2, d) and projection.offset.shape == (d,),
            "the projection does not match the data.")
    placed = reader.array("placed").reshape(-1, d)
    lls, lbs = reader.array("history/log_likelihood"), reader.array("history/lower_bound")
    docs = m["history"]
    _expect(reader, lls.shape == lbs.shape == (len(docs),), "the history's figures do not match it.")
    entries, origins = [], []
    for i, doc in enumerate(docs):
        params = reader.params(f"history/{i}", doc)
        _expect(reader, params.n_features == d, f"half-step {i} does not match the data.")
        diagnostics = ComponentDiagnostics(*(reader.array(f"history/{i}/{k}") for k in
                                             ("effective_counts", "min_eigenvalues", "condition_numbers")))
        events = tuple(DegeneracyEvent(int(e["component"]), e["kind"], str(e["message"]),
                                       tuple(str(r) for r in e["remedies"])) for e in doc["events"])
        _expect(reader, doc["half_step"] in ("init", "E", "M") and doc["origin"] in ORIGINS
                and all(e.kind in ("collapsed", "empty", "singular") for e in events),
                f"half-step {i} is not one EM makes.")
        entries.append(Snapshot(int(doc["restart"]), int(doc["iteration"]), doc["half_step"], params, None,
                                float(lls[i]), float(lbs[i]), diagnostics, bool(doc["converged"]), events))
        origins.append(doc["origin"])
    cursor, selected = m["cursor"], m["selected"]
    _expect(reader, cursor is None or (isinstance(cursor, int) and 0 <= cursor < len(entries) - 1),
            "the scrub position is outside the history.")
    _expect(reader, selected is None or (isinstance(selected, int) and entries and 0 <= selected
                                         < entries[-1 if cursor is None else cursor].params.n_components),
            "the selected component is not one of the shown model's.")
    delay = float(m["delay"])
    _expect(reader, math.isfinite(delay) and delay >= 0, "the teaching speed is not a delay.")
    return SessionRecord(dataset, truth, truth_labels, options, settings, projection, placed, selected,
                         tuple(entries), tuple(origins), cursor, RunState(m["state"]),
                         max(1, int(m["fit_restarts"])), delay)


def _expect(reader: _Reader, condition: bool, detail: str) -> None:
    if not condition:
        raise reader.damaged(detail)
