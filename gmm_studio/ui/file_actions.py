"""Opening data: File › Open (dialog, drag-and-drop, recent files), the import dialog, and the
reading progress in the status bar.

:class:`DataFiles` owns its actions and widgets; the window puts them into its menus and status
bar and forwards its drag-and-drop events.  It talks to the window only through
``install(dataset)`` (given at construction), which makes a dataset the session's.

Threads: reading a file is a "load" task of the window's :class:`~gmm_studio.ui.tasks.QtRunner`
(progress fractions are its yields; a new load makes the old one stale; Cancel is the task's
cooperative cancel, handed to :func:`~gmm_studio.core.dataio.read_table`).  Everything else runs
on the GUI thread.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QDialog,
    QFileDialog,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStatusBar,
    QWidget,
)

from gmm_studio.core.dataio import SUPPORTED_SUFFIXES, DataError, Dataset, LoadCancelled, Table, read_table
from gmm_studio.session.tasks import Runner
from gmm_studio.ui.tasks import reporting
from gmm_studio.ui.window_settings import store as settings_store
from gmm_studio.core.words import counted

__all__ = ["DATA_FILTER", "DataFiles", "MAX_RECENT", "is_supported", "pass_drops_up"]

MAX_RECENT = 8
DATA_FILTER = ("Data files (*.csv *.tsv *.txt *.dat *.npy);;CSV (*.csv);;TSV (*.tsv);;"
               "Text (*.txt *.dat);;NumPy array (*.npy);;All files (*)")
_RECENT_KEY = "files/recent"
_LAST_DIR_KEY = "files/last_dir"
_KIND = "load"


def is_supported(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in SUPPORTED_SUFFIXES


def pass_drops_up(widget: QWidget) -> None:
    """Let files dropped on ``widget`` (and its viewport) reach the window.  GUI thread.

    Plots (QGraphicsViews) accept drops themselves and would swallow a file dropped on them;
    refusing drops there lets Qt hand the drop up to the window.
    """
    widget.setAcceptDrops(False)
    if isinstance(widget, QAbstractScrollArea):
        widget.viewport().setAcceptDrops(False)


def _read(path: str):
    """The work of a load: read ``path`` into a Table, reporting fractions.  The runner's thread."""

    def read(cancel, report):
        if cancel.is_set():
            raise LoadCancelled("Loading was cancelled.")
        try:
            return read_table(path, progress=report, cancel=cancel)
        except (OSError, ValueError, MemoryError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"Could not read {os.path.basename(path)!r}: {exc}") from exc

    return reporting(read)


class DataFiles(QObject):
    """File › Open data…, Open recent, drag-and-drop, and reading on the runner.  GUI thread.

    Parameters
    ----------
    parent : QWidget
        The window: parent of the dialogs and message boxes.
    runner : Runner
        Runs the reading.
    install : callable
        ``install(dataset)`` makes a freshly opened dataset the session's.
    status_bar : QStatusBar
        Where "Reading…" and "Opened …" are shown.

    Signals
    -------
    dataset_loaded(object)
        A file became the session's dataset.
    load_failed(str)
        Opening failed (the message was shown).
    load_cancelled()
        The person cancelled reading a file.
    import_dialog_opened(object)
        The :class:`ImportDialog` for a freshly read table is open (non-blocking).

    Attributes
    ----------
    open_action, recent_menu
        For the window's File menu.
    progress_bar, cancel_button
        For the window's status bar (hidden unless a file is being read).
    """

    dataset_loaded = Signal(object)
    load_failed = Signal(str)
    load_cancelled = Signal()
    import_dialog_opened = Signal(object)

    def __init__(self, parent: QWidget, runner: Runner, install: Callable[[Dataset], None],
                 status_bar: QStatusBar) -> None:
        super().__init__(parent)
        self._parent = parent
        self._runner = runner
        self._install_dataset = install
        self._status = status_bar
        self._path: str | None = None
        self._interactive = True
        self.import_dialog = None
        self.last_error = ""

        self.open_action = QAction("Open data…", self)
        self.open_action.setShortcut(QKeySequence("Ctrl+O"))
        self.open_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.open_action.setToolTip("Open a data file (.csv, .tsv, .txt, .npy) (Ctrl+O)")
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.recent_menu = QMenu("Open recent")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._rebuild_recent_menu)

        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("loadProgress")
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setFormat("reading %p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("loadCancelButton")
        self.cancel_button.setToolTip("Stop reading the file; the open data stay as they are")
        self.cancel_button.clicked.connect(self.cancel_load)
        self._show_progress(False)
        self._rebuild_recent_menu()

    # ------------------------------------------------------------------ state
    def is_loading(self) -> bool:
        return self._runner.is_running(_KIND)

    # ================================================================== opening
    @Slot()
    def _on_open_action_triggered(self) -> None:
        start = str(settings_store().value(_LAST_DIR_KEY, "") or "")
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open data", start, DATA_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str, interactive: bool = True) -> bool:
        """Start opening ``path``: read it in the background, then (if ``interactive``) show
        the import dialog, then install the dataset.

        Returns False (after a message) when the path cannot be opened at all.  A load in
        progress is replaced.  The open data stay untouched until a new dataset is ready.
        """
        path = os.path.abspath(os.fspath(path))
        if not os.path.isfile(path):
            self._fail(f"{path!r} does not exist or is not a file.")
            return False
        if not is_supported(path):
            self._fail(f"{os.path.basename(path)!r} is not a supported data file; open one of "
                       + ", ".join(SUPPORTED_SUFFIXES) + ".")
            return False
        self._path, self._interactive = path, interactive
        self.progress_bar.setValue(0)
        self._show_progress(True)
        self._status.showMessage(f"Reading {os.path.basename(path)}…")
        settings_store().setValue(_LAST_DIR_KEY, os.path.dirname(path))
        self._runner.start(_KIND, _read(path), on_yielded=self._on_task_progress,
                           on_finished=self._on_task_table_read, on_failed=self._on_task_failed,
                           on_cancelled=self._on_task_cancelled)
        return True

    @Slot()
    def cancel_load(self) -> None:
        """Cancel the load in progress (if any); ``load_cancelled`` follows."""
        self._runner.cancel(_KIND)

    def close(self) -> None:
        """Close an open import dialog (the window is closing; the runner joins the load)."""
        if self.import_dialog is not None:
            dialog, self.import_dialog = self.import_dialog, None
            dialog.reject()

    def _show_progress(self, visible: bool) -> None:
        self.progress_bar.setVisible(visible)
        self.cancel_button.setVisible(visible)

    def _fail(self, message: str) -> None:
        self.last_error = message
        self._status.clearMessage()
        QMessageBox.warning(self._parent, "Cannot open the data", message)
        self.load_failed.emit(message)

    def _on_task_progress(self, fraction: float) -> None:
        self.progress_bar.setValue(int(round(100 * fraction)))

    def _on_task_failed(self, exc: BaseException) -> None:
        self._show_progress(False)
        self._fail(str(exc))

    def _on_task_cancelled(self) -> None:
        self._show_progress(False)
        self._status.showMessage("Loading cancelled; the open data are unchanged.", 5000)
        self.load_cancelled.emit()

    def _on_task_table_read(self, table: Table) -> None:
        from gmm_studio.ui.import_dialog import ImportDialog, build_dataset, remembered_options

        self._show_progress(False)
        self._status.clearMessage()
        path = self._path
        if not self._interactive:
            options, choice = remembered_options(table)
            try:
                dataset = build_dataset(table, options, choice)
            except DataError as exc:
                self._fail(str(exc))
                return
            self._install(dataset, path)
            return
        if self.import_dialog is not None:
            self.import_dialog.close()
        dialog = ImportDialog(table, self._parent)
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
            self._status.showMessage("Import cancelled; the open data are unchanged.", 5000)
            return
        self._install(dialog.dataset(), dialog.table.path)

    def _install(self, dataset: Dataset, path: str | None) -> None:
        self._install_dataset(dataset)
        if path:
            self.add_recent(path)
        notes = "; ".join(dataset.notes)
        self._status.showMessage(
            f"Opened {os.path.basename(path or dataset.source)}: {counted(dataset.n_samples, 'point')}, "
            f"{counted(dataset.n_features, 'feature')}" + (f" ({notes})" if notes else ""), 10000)
        self.dataset_loaded.emit(dataset)

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
            QMessageBox.information(self._parent, "File not found",
                                    f"{path!r} no longer exists; it was removed from the recent files.")
            return False
        return self.open_path(path)
