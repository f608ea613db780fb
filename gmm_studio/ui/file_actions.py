"""File menu for the main window: open data (dialog, drag-and-drop, recent files), import a
model, export the model, the per-point table, the log-likelihood history and the figure.

Install with ``window.file_actions = install_file_actions(window)``; call
``window.file_actions.shutdown()`` from ``closeEvent``.  Everything here talks to the
window through its public surface (``set_dataset``, ``dataset``, ``current_snapshot``,
``show_model``, ``settings``, ``file_menu``, ``open_action``, the ``fit_finished`` and
``dataset_changed`` signals) and never edits it.

Threads: reading a file runs on a :class:`TableLoadWorker` started by
:func:`gmm_studio.ui.threads.start_worker` (``table_loaded``/``load_failed``/``load_cancelled``
end its thread).  Each load has a run id; payloads of stale ids are dropped.  Cancel is
cooperative: the ``threading.Event`` handed to :func:`~gmm_studio.core.dataio.read_table`.
Everything else runs on the GUI thread.
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QThread, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QDialog,
    QFileDialog,
    QGraphicsView,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from gmm_studio.core.dataio import SUPPORTED_SUFFIXES, DataError, Dataset, LoadCancelled, Table, read_table
from gmm_studio.core.em import EMData
from gmm_studio.core.export import (
    ExportError,
    LoadedModel,
    ModelFileError,
    atomic_write_bytes,
    check_model_matches,
    load_model_json,
    preprocessing_dict,
    save_model_json,
    write_assignments_csv,
    write_history_csv,
)
from gmm_studio.core.generate import adjusted_rand_index
from gmm_studio.core.params import MixtureParams, n_parameters
from gmm_studio.core import selection
from gmm_studio.ui.import_dialog import (
    ImportDialog,
    ProjectedDataset,
    build_dataset,
    remembered_options,
    settings_store,
)
from gmm_studio.ui import threads

__all__ = ["FileActions", "TableLoadWorker", "install_file_actions", "DATA_FILTER", "MAX_RECENT"]

MAX_RECENT = 8
DATA_FILTER = ("Data files (*.csv *.tsv *.txt *.dat *.npy);;CSV (*.csv);;TSV (*.tsv);;"
               "Text (*.txt *.dat);;NumPy array (*.npy);;All files (*)")
_RECENT_KEY = "files/recent"
_LAST_DIR_KEY = "files/last_dir"


def is_supported(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in SUPPORTED_SUFFIXES


# ============================================================================ worker


class TableLoadWorker(QObject):
    """Reads one file into a Table on its thread.  Parentless; moved to a QThread.

    Signals (past tense, with the run id): ``progress_changed(int, float)``,
    ``table_loaded(int, object)``, ``load_failed(int, str)``, ``load_cancelled(int)``;
    exactly one of the last three per run.
    """

    progress_changed = Signal(int, float)
    table_loaded = Signal(int, object)
    load_failed = Signal(int, str)
    load_cancelled = Signal(int)

    def __init__(self, run_id: int, path: str, cancel: threading.Event) -> None:
        super().__init__()
        self.run_id = run_id
        self.path = path
        self.cancel = cancel

    def _progress(self, fraction: float) -> None:
        self.progress_changed.emit(self.run_id, float(fraction))

    @Slot()
    def run(self) -> None:
        """Worker thread: read the file, then emit exactly one of the three endings."""
        try:
            if self.cancel.is_set():
                raise LoadCancelled("Loading was cancelled.")
            table = read_table(self.path, progress=self._progress, cancel=self.cancel)
        except LoadCancelled:
            self.load_cancelled.emit(self.run_id)
        except DataError as exc:
            self.load_failed.emit(self.run_id, str(exc))
        except (OSError, ValueError, MemoryError) as exc:  # belt and braces: never die silently
            self.load_failed.emit(self.run_id, f"Could not read {os.path.basename(self.path)!r}: {exc}")
        else:
            self.table_loaded.emit(self.run_id, table)


# ============================================================================ helpers


def _permute_features(params: MixtureParams, perm: Sequence[int]) -> MixtureParams:
    """The same mixture with its features reordered: new feature j is old feature perm[j]."""
    p = np.asarray(perm, dtype=np.intp)
    cov = params.covariances
    kind = params.covariance_type
    if kind == "full":
        cov = cov[:, p][:, :, p]
    elif kind == "tied":
        cov = cov[p][:, p]
    elif kind == "diag":
        cov = cov[:, p]
    return MixtureParams(kind, params.weights, params.means[:, p], cov)


def _rescale_features(params: MixtureParams, a: np.ndarray, b: np.ndarray) -> MixtureParams:
    """The mixture of ``y = a * x + b`` (per-feature affine map) when x follows ``params``."""
    kind = params.covariance_type
    cov = params.covariances
    if kind == "full":
        cov = cov * a[None, :, None] * a[None, None, :]
    elif kind == "tied":
        cov = cov * a[:, None] * a[None, :]
    elif kind == "diag":
        cov = cov * a[None, :] ** 2
    else:
        if not np.allclose(a, a[0], rtol=1e-12):
            raise ModelFileError(
                "The model is spherical and was fitted with another standardisation; it cannot be "
                "shown on this data. Open the data with the same 'Standardise' choice.")
        cov = cov * a[0] ** 2
    return MixtureParams(kind, params.weights, params.means * a + b, cov)


# ============================================================================ the actions


class FileActions(QObject):
    """File › Open / Open recent / Import model / Export, drag-and-drop, truth comparison.

    GUI thread.  Signals (for the window and tests):

    dataset_loaded(object)
        A file became the window's dataset.
    load_failed(str)
        Opening failed (the message was shown).
    load_cancelled()
        The person cancelled reading a file.
    import_dialog_opened(object)
        The :class:`ImportDialog` for a freshly read table is open (non-blocking).
    model_imported(object)
        A model file's parameters are shown.
    exported(str)
        A file was written (its path).
    ari_changed(float)
        Adjusted Rand index of the latest fit against the dataset's labels.
    """

    dataset_loaded = Signal(object)
    load_failed = Signal(str)
    load_cancelled = Signal()
    import_dialog_opened = Signal(object)
    model_imported = Signal(object)
    exported = Signal(str)
    ari_changed = Signal(float)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._next_id = 0
        self._current: int | None = None
        self._current_path: str | None = None
        self._current_interactive = True
        self._cancel: threading.Event | None = None
        self._live: dict[int, tuple[QThread, threading.Event]] = {}  # loads not yet reaped
        self.import_dialog: ImportDialog | None = None
        self.last_error = ""
        self.last_ari: float | None = None
        self._build_actions()
        self._build_status_widgets()
        window.setAcceptDrops(True)
        # Plots (QGraphicsViews) accept drops themselves and would swallow a file dropped on
        # them; refusing drops there lets Qt hand the drop up to the window.  (An event filter
        # on the plots did the same, but ran Python on every paint, also while the window was
        # being destroyed, and crashed now and then.)
        for view in window.findChildren(QGraphicsView):
            self.pass_drops_up(view)
        window.fit_finished.connect(self._on_window_fit_finished)
        window.dataset_changed.connect(self._on_window_dataset_changed)
        self.update_actions()

    # ------------------------------------------------------------------ construction
    def _build_actions(self) -> None:
        w = self.window
        menu: QMenu = w.file_menu
        self.open_action = w.open_action
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                self.open_action.triggered.disconnect()
            except (RuntimeError, TypeError):
                pass
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.open_action.setText("Open data…")
        if not self.open_action.shortcuts():
            self.open_action.setShortcut(QKeySequence("Ctrl+O"))

        actions = menu.actions()
        after_open = None
        if self.open_action in actions:
            i = actions.index(self.open_action)
            after_open = actions[i + 1] if i + 1 < len(actions) else None
        self.recent_menu = QMenu("Open recent", menu)
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._rebuild_recent_menu)
        self.import_model_action = QAction("Import model JSON…", self)
        self.import_model_action.setObjectName("importModelAction")
        self.import_model_action.setToolTip("Show a saved model on the open data; Run or Step continues EM from it")
        self.import_model_action.triggered.connect(self._on_import_model_triggered)

        self.export_menu = QMenu("Export", menu)
        self.export_menu.setObjectName("exportMenu")
        self.export_menu.aboutToShow.connect(self.update_actions)
        self.export_model_action = self._export_action("Model as JSON…", self._on_export_model_triggered)
        self.export_assignments_action = self._export_action(
            "Per-point responsibilities (CSV)…", self._on_export_assignments_triggered)
        self.export_history_action = self._export_action(
            "Log-likelihood history (CSV)…", self._on_export_history_triggered)
        self.export_menu.addSeparator()
        self.export_png_action = self._export_action("Figure as PNG…", self._on_export_png_triggered)
        self.export_svg_action = self._export_action("Figure as SVG…", self._on_export_svg_triggered)

        if after_open is None:
            menu.addMenu(self.recent_menu)
            menu.addSeparator()
            menu.addAction(self.import_model_action)
            menu.addMenu(self.export_menu)
        else:
            menu.insertMenu(after_open, self.recent_menu)
            # Import/Export go just before the first separator after Open (before Quit).
            rest = menu.actions()
            anchor = next((a for a in rest[rest.index(after_open):] if a.isSeparator()), None)
            if anchor is None:
                menu.addSeparator()
                menu.addAction(self.import_model_action)
                menu.addMenu(self.export_menu)
            else:
                sep = menu.insertSeparator(anchor)
                menu.insertAction(anchor, self.import_model_action)
                menu.insertMenu(anchor, self.export_menu)
                del sep
        menu.aboutToShow.connect(self.update_actions)
        self._rebuild_recent_menu()

    def _export_action(self, text: str, slot) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        self.export_menu.addAction(action)
        return action

    def _build_status_widgets(self) -> None:
        bar = self.window.statusBar()
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("loadProgress")
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setFormat("reading %p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("loadCancelButton")
        self.cancel_button.setToolTip("Stop reading the file; the open data stay as they are")
        self.cancel_button.clicked.connect(self.cancel_load)
        self.truth_label = QLabel("")
        self.truth_label.setObjectName("truthLabel")
        self.truth_label.setToolTip("Adjusted Rand index between the fitted hard labels and the "
                                    "dataset's label column: 1 = same partition, about 0 = chance")
        bar.addPermanentWidget(self.truth_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.truth_label.setVisible(False)

    # ------------------------------------------------------------------ state
    def is_loading(self) -> bool:
        return self._current is not None

    def _model_params(self) -> MixtureParams | None:
        snap = self.window.current_snapshot()
        dataset = self.window.dataset
        if snap is None or dataset is None or snap.params.n_features != dataset.n_features:
            return None
        return snap.params

    @Slot()
    def update_actions(self) -> None:
        has_model = self._model_params() is not None
        for a in (self.export_model_action, self.export_assignments_action, self.export_history_action):
            a.setEnabled(has_model)
        has_data = self.window.dataset is not None
        self.export_png_action.setEnabled(has_data)
        self.export_svg_action.setEnabled(has_data)
        self.import_model_action.setEnabled(has_data)

    def truth_labels(self) -> np.ndarray | None:
        """The open dataset's ground-truth labels (strings, one per point), or None."""
        dataset = self.window.dataset
        return None if dataset is None else dataset.labels

    # ================================================================== opening
    @Slot()
    def _on_open_action_triggered(self) -> None:
        store = settings_store()
        start = str(store.value(_LAST_DIR_KEY, "") or "")
        path, _ = QFileDialog.getOpenFileName(self.window, "Open data", start, DATA_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str, interactive: bool = True) -> bool:
        """Start opening ``path``: read it on a worker thread, then (if ``interactive``) show
        the :class:`ImportDialog`, then hand the dataset to the window.

        Returns False (after a message) when the path cannot be opened at all.  A load in
        progress is cancelled.  The open data stay untouched until a new dataset is ready.
        """
        path = os.path.abspath(os.fspath(path))
        if not os.path.isfile(path):
            self._fail(f"{path!r} does not exist or is not a file.", path)
            return False
        if not is_supported(path):
            self._fail(f"{os.path.basename(path)!r} is not a supported data file; open one of "
                       + ", ".join(SUPPORTED_SUFFIXES) + ".", path)
            return False
        self.cancel_load()
        self._next_id += 1
        rid = self._next_id
        cancel = threading.Event()
        worker = TableLoadWorker(rid, path, cancel)
        worker.progress_changed.connect(self._on_worker_progress_changed)
        worker.table_loaded.connect(self._on_worker_table_loaded)
        worker.load_failed.connect(self._on_worker_load_failed)
        worker.load_cancelled.connect(self._on_worker_load_cancelled)
        self._current, self._current_path, self._current_interactive = rid, path, interactive
        self._cancel = cancel
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(True)
        self.window.statusBar().showMessage(f"Reading {os.path.basename(path)}…")
        store = settings_store()
        store.setValue(_LAST_DIR_KEY, os.path.dirname(path))
        self._reap()
        thread = threads.start_worker(worker, f"gmm-load-{rid}",
                                      (worker.table_loaded, worker.load_failed, worker.load_cancelled))
        self._live[rid] = (thread, cancel)
        return True

    @Slot()
    def cancel_load(self) -> None:
        """Cancel the load in progress (if any); its later signals are stale."""
        if self._cancel is not None:
            self._cancel.set()
        was = self._current is not None
        self._current = None
        self._cancel = None
        self._hide_progress()
        if was:
            self.window.statusBar().showMessage("Loading cancelled; the open data are unchanged.", 5000)
            self.load_cancelled.emit()

    def _hide_progress(self) -> None:
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)

    def _fail(self, message: str, path: str | None = None) -> None:
        self.last_error = message
        self.window.statusBar().clearMessage()
        QMessageBox.warning(self.window, "Cannot open the data", message)
        self.load_failed.emit(message)

    @Slot(int, float)
    def _on_worker_progress_changed(self, rid: int, fraction: float) -> None:
        if rid == self._current:
            self.progress_bar.setValue(int(round(100 * fraction)))

    @Slot(int, str)
    def _on_worker_load_failed(self, rid: int, message: str) -> None:
        if rid != self._current:
            return
        self._current = self._cancel = None
        self._hide_progress()
        self._fail(message, self._current_path)

    @Slot(int)
    def _on_worker_load_cancelled(self, rid: int) -> None:
        if rid != self._current:
            return  # cancel_load already reported it
        self._current = self._cancel = None
        self._hide_progress()
        self.load_cancelled.emit()

    @Slot(int, object)
    def _on_worker_table_loaded(self, rid: int, table: Table) -> None:
        if rid != self._current:
            return
        self._current = self._cancel = None
        self._hide_progress()
        self.window.statusBar().clearMessage()
        path = self._current_path
        if not self._current_interactive:
            options, choice = remembered_options(table)
            try:
                dataset = build_dataset(table, options, choice)
            except DataError as exc:
                self._fail(str(exc), path)
                return
            self._install(dataset, path)
            return
        if self.import_dialog is not None:
            self.import_dialog.close()
        dialog = ImportDialog(table, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_import_dialog_finished)
        self.import_dialog = dialog
        dialog.open()
        self.import_dialog_opened.emit(dialog)

    @Slot(int)
    def _on_import_dialog_finished(self, result: int) -> None:
        dialog = self.sender()
        if dialog is not self.import_dialog:
            return
        self.import_dialog = None
        if result != QDialog.DialogCode.Accepted or dialog.dataset() is None:
            self.window.statusBar().showMessage("Import cancelled; the open data are unchanged.", 5000)
            return
        self._install(dialog.dataset(), dialog.table.path)

    def _install(self, dataset: Dataset, path: str | None) -> None:
        self.window.set_dataset(dataset)
        if path:
            self.add_recent(path)
        notes = "; ".join(dataset.notes)
        self.window.statusBar().showMessage(
            f"Opened {os.path.basename(path or dataset.source)}: {dataset.n_samples} points, "
            f"{dataset.n_features} features" + (f" ({notes})" if notes else ""), 10000)
        self.update_actions()
        self.dataset_loaded.emit(dataset)

    def _reap(self) -> None:
        """Forget loads whose thread has ended (Qt deletes it and its worker).  GUI thread."""
        self._live = {rid: tc for rid, tc in self._live.items() if threads.is_running(tc[0])}

    def shutdown(self) -> None:
        """Cancel any load and join its thread (the window's closeEvent).  GUI thread; blocks
        until the reader reaches its next progress check."""
        self.cancel_load()
        if self.import_dialog is not None:
            dialog, self.import_dialog = self.import_dialog, None
            dialog.reject()
        for _, cancel in self._live.values():
            cancel.set()
        for thread, _ in self._live.values():
            threads.join(thread)
        self._live.clear()

    # ------------------------------------------------------------------ drag and drop
    @staticmethod
    def dropped_path(mime) -> str | None:
        """The first local file with a supported suffix among ``mime``'s URLs."""
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                path = url.toLocalFile()
                if is_supported(path):
                    return path
        return None

    def pass_drops_up(self, widget: QWidget) -> None:
        """Let files dropped on ``widget`` (and its viewport) reach the window.  GUI thread."""
        widget.setAcceptDrops(False)
        if isinstance(widget, QAbstractScrollArea):
            widget.viewport().setAcceptDrops(False)

    def drag_entered(self, event) -> None:
        """The window's dragEnterEvent/dragMoveEvent: accept one supported local file."""
        if self.dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropped(self, event) -> None:
        """The window's dropEvent: open the dropped file (through the import dialog)."""
        path = self.dropped_path(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    # ------------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        raw = settings_store().value(_RECENT_KEY)
        try:
            files = json.loads(str(raw)) if raw else []
        except ValueError:
            files = []
        return [str(f) for f in files if isinstance(f, str)][:MAX_RECENT]

    def _store_recent(self, files: list[str]) -> None:
        store = settings_store()
        store.setValue(_RECENT_KEY, json.dumps(files[:MAX_RECENT]))
        store.sync()
        self._rebuild_recent_menu()

    def add_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        files = [f for f in self.recent_files() if f != path]
        self._store_recent([path] + files)

    def clear_recent(self) -> None:
        self._store_recent([])

    @Slot()
    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, path in enumerate(files):
            action = QAction(f"&{i + 1}  {os.path.basename(path)}", self.recent_menu)
            action.setData(path)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(self._on_recent_action_triggered)
            self.recent_menu.addAction(action)
        if files:
            self.recent_menu.addSeparator()
        clear = QAction("Clear the list", self.recent_menu)
        clear.setEnabled(bool(files))
        clear.triggered.connect(self.clear_recent)
        self.recent_menu.addAction(clear)
        self.recent_menu.setEnabled(bool(files))

    @Slot()
    def _on_recent_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.open_recent(str(action.data()))

    def open_recent(self, path: str) -> bool:
        """Open a recent file; one that no longer exists is removed from the list, with a message."""
        if not os.path.isfile(path):
            self._store_recent([f for f in self.recent_files() if f != path])
            QMessageBox.information(self.window, "File not found",
                                    f"{path!r} no longer exists; it was removed from the recent files.")
            return False
        return self.open_path(path)

    # ================================================================== model import
    @Slot()
    def _on_import_model_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import a model", "",
                                              "GMM Studio model (*.json);;All files (*)")
        if path:
            self.import_model(path)

    def import_model(self, path: str) -> bool:
        """Show the model in ``path`` on the open data (EM continues from it with Run/Step).

        Any problem (unreadable file, different columns, different preprocessing) is shown
        in a message and nothing changes.
        """
        dataset = self.window.dataset
        if dataset is None:
            QMessageBox.warning(self.window, "Cannot import the model", "Open the data first.")
            return False
        try:
            loaded = load_model_json(path)
            params = self._params_for(loaded, dataset)
            self.window.show_model(params)
        except (ModelFileError, ValueError) as exc:
            self.last_error = str(exc)
            QMessageBox.warning(self.window, "Cannot import the model", str(exc))
            return False
        self.window.statusBar().showMessage(
            f"Model from {os.path.basename(path)} shown: K = {params.n_components}, "
            f"{params.covariance_type}. Run or Step continues EM from it.", 10000)
        self.update_actions()
        self.model_imported.emit(params)
        return True

    @staticmethod
    def _params_for(loaded: LoadedModel, dataset: Dataset) -> MixtureParams:
        """The model's parameters in the open dataset's coordinates (raises ModelFileError)."""
        pre = loaded.preprocessing
        model_proj = pre.get("projection")
        if isinstance(dataset, ProjectedDataset):
            if model_proj is None:
                raise ModelFileError(
                    "The model was fitted in all the columns, but the open data were fitted in a "
                    "2-D projection; open the data again choosing 'fit in all D dimensions'.")
            check_model_matches(loaded, dataset.input_columns)
            mine = dataset.preprocessing()
            same = (np.allclose(model_proj["matrix"], mine["projection"]["matrix"], rtol=1e-9, atol=1e-12)
                    and np.allclose(model_proj["offset"], mine["projection"]["offset"], rtol=1e-9, atol=1e-12)
                    and _same_standardization(pre.get("standardization"), mine["standardization"]))
            if not same:
                raise ModelFileError(
                    "The model was fitted in a different projection (or standardisation) of the "
                    "data; open the data with the choices the model was fitted with.")
            return loaded.params
        if model_proj is not None:
            raise ModelFileError(
                "The model was fitted in a 2-D projection of the data; open the data again "
                "choosing 'fit in the 2-D projection itself' with the same projection.")
        order = check_model_matches(loaded, dataset.columns)
        # order[i] = data index of model column i; we want model index of each data column.
        inverse = np.argsort(np.asarray(order))
        params = _permute_features(loaded.params, inverse)
        model_std = pre.get("standardization")
        if model_std is not None:
            c_m = np.asarray(model_std["center"])[inverse]
            s_m = np.asarray(model_std["scale"])[inverse]
        else:
            c_m = s_m = None
        c_d, s_d = dataset.center, dataset.scale
        if _same_standardization(None if c_m is None else {"center": c_m, "scale": s_m},
                                 None if c_d is None else {"center": c_d, "scale": s_d}):
            return params
        # x = u * s_m + c_m (u: model space); data v = (x - c_d) / s_d
        s_m1 = np.ones(params.n_features) if s_m is None else s_m
        c_m1 = np.zeros(params.n_features) if c_m is None else c_m
        s_d1 = np.ones(params.n_features) if s_d is None else np.asarray(s_d)
        c_d1 = np.zeros(params.n_features) if c_d is None else np.asarray(c_d)
        return _rescale_features(params, s_m1 / s_d1, (c_m1 - c_d1) / s_d1)

    # ================================================================== exports
    def _ask_save(self, title: str, default_name: str, filters: str, suffix: str) -> str | None:
        """A save dialog (which asks before overwriting); the suffix is added when missing."""
        store = settings_store()
        folder = str(store.value(_LAST_DIR_KEY, "") or "")
        path, _ = QFileDialog.getSaveFileName(self.window, title, os.path.join(folder, default_name), filters)
        if not path:
            return None
        if not os.path.splitext(path)[1]:
            path += suffix
        return path

    def _stem(self) -> str:
        dataset = self.window.dataset
        source = getattr(dataset, "source", "") or "gmm"
        return os.path.splitext(os.path.basename(source))[0] or "gmm"

    def _export(self, path: str, write: Callable[[], None]) -> bool:
        """Run ``write``; report the saved ``path``, or show why it could not be written.

        A failed write has changed nothing (the writers are atomic).  GUI thread."""
        try:
            write()
        except (ExportError, ValueError, np.linalg.LinAlgError) as exc:
            self.last_error = str(exc)
            QMessageBox.warning(self.window, "Cannot export", str(exc))
            return False
        self.window.statusBar().showMessage(f"Saved {path}", 8000)
        self.exported.emit(path)
        return True

    def _no_model(self) -> bool:
        if self._model_params() is None:
            QMessageBox.information(self.window, "Nothing to export", "Fit a model first.")
            return True
        return False

    @Slot()
    def _on_export_model_triggered(self) -> None:
        if self._no_model():
            return
        path = self._ask_save("Export the model", f"{self._stem()}-model.json",
                              "GMM Studio model (*.json)", ".json")
        if path:
            self.export_model_json(path)

    def model_record(self) -> dict:
        """Everything :func:`save_model_json` is given for the shown model (GUI thread)."""
        w = self.window
        dataset = w.dataset
        snap = w.current_snapshot()
        params = self._model_params()
        if params is None:
            raise ValueError("There is no fitted model to export.")
        data = EMData(dataset.values, params.covariance_type)
        total, entropy = data.log_likelihood_and_entropy(params)  # one pass, no N×K array
        mean_ll = total / dataset.n_samples
        p = n_parameters(params.covariance_type, params.n_components, params.n_features)
        criteria = {}
        if math.isfinite(total):
            criteria = {
                "bic": selection.bic(total, p, dataset.n_samples),
                "aic": selection.aic(total, p),
                "icl": selection.icl(total, p, dataset.n_samples, entropy),
            }
        settings = w.settings()
        if isinstance(dataset, ProjectedDataset):
            preprocessing = dataset.preprocessing()
        else:
            preprocessing = preprocessing_dict(dataset.center, dataset.scale)
        return dict(
            columns=tuple(dataset.columns),
            log_likelihood=mean_ll,
            n_iter=int(snap.iteration),
            converged=bool(snap.converged),
            criteria=criteria,
            n_samples=dataset.n_samples,
            settings=settings.to_dict(),
            preprocessing=preprocessing,
            seed=int(settings.seed),
        )

    def export_model_json(self, path: str) -> bool:
        return self._export(path, lambda: save_model_json(path, self._model_params(),
                                                          **self.model_record()))

    @Slot()
    def _on_export_assignments_triggered(self) -> None:
        if self._no_model():
            return
        path = self._ask_save("Export per-point responsibilities", f"{self._stem()}-assignments.csv",
                              "CSV (*.csv)", ".csv")
        if path:
            self.export_assignments_csv(path)

    def export_assignments_csv(self, path: str) -> bool:
        """One row per point: file row, values in the file's units, component, γ, uncertainty."""
        dataset = self.window.dataset
        params = self._model_params()

        def write() -> None:
            if params is None:
                raise ValueError("There is no fitted model to export.")
            gamma = EMData(dataset.values, params.covariance_type).responsibilities(params)
            write_assignments_csv(path, dataset.original_values(), dataset.columns, gamma, dataset.row_index)

        return self._export(path, write)

    @Slot()
    def _on_export_history_triggered(self) -> None:
        if self._no_model():
            return
        path = self._ask_save("Export the log-likelihood history", f"{self._stem()}-history.csv",
                              "CSV (*.csv)", ".csv")
        if path:
            self.export_history_csv(path)

    def export_history_csv(self, path: str) -> bool:
        def write() -> None:
            snapshots = self.window.history()
            if not snapshots:
                raise ValueError("There is no fit history to export.")
            write_history_csv(path, snapshots)

        return self._export(path, write)

    def _plot_item(self):
        view = self.window.findChild(QWidget, "dataView")
        if view is None:
            raise ValueError("The window has no data view to export.")
        return view.getPlotItem()

    @Slot()
    def _on_export_png_triggered(self) -> None:
        path = self._ask_save("Export the figure", f"{self._stem()}.png", "PNG image (*.png)", ".png")
        if path:
            self.export_figure(path, "png")

    @Slot()
    def _on_export_svg_triggered(self) -> None:
        path = self._ask_save("Export the figure", f"{self._stem()}.svg", "SVG drawing (*.svg)", ".svg")
        if path:
            self.export_figure(path, "svg")

    def export_figure(self, path: str, kind: str | None = None) -> bool:
        """The data view as PNG (twice the on-screen size) or SVG, written atomically."""
        from gmm_studio.ui.figure_export import write_figure

        def write() -> None:
            self.window.redraw()  # draw what is shown now, not 33 ms ago
            write_figure(self._plot_item(), path, kind)

        return self._export(path, write)

    # ================================================================== truth
    @Slot(object)
    def _on_window_fit_finished(self, snapshot) -> None:
        self.update_actions()
        dataset = self.window.dataset
        if snapshot is None or dataset is None or dataset.labels is None:
            return
        params = snapshot.params
        if params.n_features != dataset.n_features:
            return
        gamma = snapshot.responsibilities
        if gamma is None or gamma.shape != (dataset.n_samples, params.n_components):
            try:
                gamma = EMData(dataset.values, params.covariance_type).responsibilities(params)
            except (np.linalg.LinAlgError, ValueError):
                return
        ari = float(adjusted_rand_index(dataset.labels, np.asarray(gamma).argmax(axis=1)))
        self.last_ari = ari
        n_classes = len(np.unique(dataset.labels))
        text = f"ARI vs labels: {ari:.3f} ({n_classes} classes)"
        self.truth_label.setText(text)
        self.truth_label.setVisible(True)
        self.window.statusBar().showMessage(
            f"Adjusted Rand index of the fit against the label column: {ari:.3f} "
            "(1 = the same partition, about 0 = chance).", 10000)
        self.ari_changed.emit(ari)

    @Slot(object)
    def _on_window_dataset_changed(self, dataset) -> None:
        self.last_ari = None
        self.truth_label.setText("")
        self.truth_label.setVisible(False)
        self.update_actions()


def _same_standardization(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return (np.allclose(a["center"], b["center"], rtol=1e-12, atol=0)
            and np.allclose(a["scale"], b["scale"], rtol=1e-12, atol=0))


def install_file_actions(window) -> FileActions:
    """Put the file actions onto ``window`` (File menu, drag-and-drop, status bar); GUI thread.

    Returns the :class:`FileActions`, a child of ``window``.  Call its ``shutdown()`` from
    ``closeEvent``.  Installing twice returns the first one.
    """
    existing = window.findChild(FileActions)
    return existing if existing is not None else FileActions(window)
