"""The main window: composes the views, docks, menus and bindings around one session.

Everything a person can do that is not drawing lives in :class:`gmm_studio.session.Session`
(its fit state machine, history, comparisons); background work runs on the window's one
:class:`~gmm_studio.ui.tasks.QtRunner`.  The window builds the widgets and wires them:
:class:`~gmm_studio.ui.fit_controls.FitControls` binds buttons, keys and settings to the
session's commands, :class:`~gmm_studio.ui.session_view.SessionDrawing` draws the session
into the views, the status widgets follow its events and comparisons, and the file objects
(:class:`~gmm_studio.ui.file_actions.DataFiles`, :class:`~gmm_studio.ui.model_files.ModelFiles`)
supply their actions for the File menu.  GUI thread only.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDockWidget,
    QGraphicsView,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.em import Snapshot
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings
from gmm_studio.session import CommandRefused, RunState, Session
from gmm_studio.ui.component_table import ComponentTable
from gmm_studio.ui.control_panel import ControlPanel
from gmm_studio.ui.data_view import DataView
from gmm_studio.ui.editing_binder import EditingBinder
from gmm_studio.ui.file_actions import DataFiles, pass_drops_up
from gmm_studio.ui.fit_controls import SHORTCUTS, FitControls
from gmm_studio.ui.generator_panel import GeneratorPanel
from gmm_studio.ui.likelihood_view import LikelihoodView
from gmm_studio.ui.model_files import ModelFiles
from gmm_studio.ui.one_d import DataStack, HistogramDrawing
from gmm_studio.ui.scrub_bar import ScrubBar
from gmm_studio.ui.session_files import SessionFiles
from gmm_studio.ui.session_view import SessionDrawing
from gmm_studio.ui.status_widgets import ComparisonLabel, DegeneracyBanner
from gmm_studio.ui import window_settings
from gmm_studio.ui.tasks import QtRunner
from gmm_studio.ui.teaching import Teaching
from gmm_studio.ui.window_menus import build_menus, shortcuts_text
from gmm_studio.core.words import counted

__all__ = ["MainWindow", "SHORTCUTS", "demo_dataset"]

def demo_dataset():
    """The built-in demo: 4 rotated, elongated components, 3000 points, seeded (always the same)."""
    from gmm_studio.core.generate import GeneratorSettings, generate

    synthetic = generate(GeneratorSettings(n_components=4, n_samples=3000, shape="rotated", seed=9))
    dataset = dataset_from_array(synthetic.values, columns=("x", "y"), labels=synthetic.labels,
                                 source="demo")
    return dataset, synthetic.truth, synthetic.description


class MainWindow(QMainWindow):
    """GMM Studio's main window.

    Attributes
    ----------
    session : Session
        Everything the window shows; its commands are what the buttons do.
    runner : QtRunner
        Runs every background task; joined when the window closes.

    Signals
    -------
    fit_finished(object)
        A fit ended (converged, max_iter, degenerate, stopped or failed); the payload is the
        live :class:`~gmm_studio.core.em.Snapshot` afterwards (or None).
    dataset_changed(object)
        The session has a new dataset.
    """

    fit_finished = Signal(object)
    dataset_changed = Signal(object)

    def __init__(self, restore_settings: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("GMM Studio — Expectation–Maximization for Gaussian mixtures")
        self.resize(1400, 900)
        self.runner = QtRunner(self)
        self.panel = ControlPanel()
        self.session = Session(self.runner, self.panel.settings())
        self._generated = None  # the SyntheticData shown, when the data were generated
        self._sweep_panel = None
        self._build_views()
        self._build_docks()
        self.controls = FitControls(self.session, self.panel, self, self.info_label)
        self.drawing = SessionDrawing(
            self.session, data_view=self.data_view, likelihood_view=self.likelihood_view,
            component_table=self.component_table, panel=self.panel, slider=self.iteration_slider,
            history_label=self.history_label, live_button=self.live_button,
            status_label=self.status_label, parent=self)
        self.histogram_drawing = HistogramDrawing(self.session, self.data_stack, self)
        self.panel.color_mode_changed.connect(self.histogram_drawing.set_color_mode)
        self.editing = EditingBinder(self.session, self.data_view, self.data_stack, self)
        for drawing in (self.drawing, self.histogram_drawing):
            self.editing.preview_changed.connect(drawing.set_preview)
        self.file_actions = DataFiles(self, self.runner, self.set_dataset, self.statusBar())
        self.model_files = ModelFiles(self)
        self.session_files = SessionFiles(self.session, self, self.statusBar())
        self._build_status_bar()
        build_menus(self)
        self.teaching = Teaching(self)
        self._bind()
        self.setAcceptDrops(True)
        for view in self.findChildren(QGraphicsView):
            pass_drops_up(view)
        # A window that did not read the person's settings (screenshots, tests, benchmarks)
        # must not overwrite them either.
        self._persist = restore_settings
        self._closed = False
        if restore_settings:
            window_settings.restore(self)

    # ================================================================== construction
    def _build_views(self) -> None:
        self.data_view = DataView()
        self.data_stack = DataStack(self.data_view)  # its histogram (for 1-D data) is built on first use
        self.likelihood_view = LikelihoodView()
        self.component_table = ComponentTable()
        self.banner = DegeneracyBanner(self.session)
        self.banner_label = self.banner.label
        self.remedy_reg_button = self.banner.reg_button
        self.remedy_reseed_button = self.banner.reseed_button
        self.remedy_lower_k_button = self.banner.lower_k_button
        self.info_label = QLabel("", objectName="infoLabel")
        self.info_label.setWordWrap(True)
        # Fixed heights and ignored widths wherever text changes during a fit: a resize of the
        # data view re-rasterises every point (~0.3 s at 1e6), so the layout must not move.
        self.info_label.setFixedHeight(2 * self.info_label.fontMetrics().lineSpacing() + 4)
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.likelihood_view, 1)
        self.scrub_bar = ScrubBar()
        self.iteration_slider = self.scrub_bar.slider
        self.history_label = self.scrub_bar.history_label
        self.live_button = self.scrub_bar.live_button
        bl.addWidget(self.scrub_bar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.data_stack)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([620, 240])
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(4, 4, 4, 4)
        cl.addWidget(self.banner)
        cl.addWidget(self.info_label)
        cl.addWidget(splitter, 1)
        central.setMinimumWidth(240)
        self.setCentralWidget(central)
        self.status_label = QLabel("", objectName="statusLabel")
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def _build_docks(self) -> None:
        self.panel_dock = self.add_panel(self.panel, "Controls", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.components_dock = self.add_panel(self.component_table, "Components",
                                              Qt.DockWidgetArea.RightDockWidgetArea)
        self.generator_panel = GeneratorPanel(runner=self.runner)
        self.generator_dock = self.add_panel(self.generator_panel, "Generate data",
                                             Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.panel_dock, self.generator_dock)
        # The sweep panel (and the sweep module) are built the first time they are shown.
        self.sweep_dock = self.add_panel(QWidget(), "Choose K", Qt.DockWidgetArea.RightDockWidgetArea)
        self.sweep_dock.visibilityChanged.connect(self._on_sweep_dock_visibility_changed)
        self.tabifyDockWidget(self.components_dock, self.sweep_dock)
        self.panel_dock.raise_()
        self.components_dock.raise_()
        self.resizeDocks([self.components_dock], [340], Qt.Orientation.Horizontal)

    def add_panel(self, widget: QWidget, title: str,
                  area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Add ``widget`` as a dock titled ``title``; its toggle goes into the View menu."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.replace(' ', '_')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    @property
    def sweep_panel(self):
        """The K sweep panel, built (with :mod:`gmm_studio.core.sweep`) on first use."""
        if self._sweep_panel is None:
            from gmm_studio.ui.sweep_panel import SweepPanel

            panel = SweepPanel(runner=self.runner)
            panel.model_chosen.connect(self._on_sweep_model_chosen)
            if self.session.dataset is not None:
                panel.set_data(self.session.x)
            self._sweep_panel = panel
            self.sweep_dock.setWidget(panel)
            self.controls.keys.install(panel)
        return self._sweep_panel

    @Slot(bool)
    def _on_sweep_dock_visibility_changed(self, visible: bool) -> None:
        if visible:
            self.sweep_panel  # noqa: B018 - builds it

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.addWidget(self.status_label, 1)
        self.truth_label = ComparisonLabel(self.session)
        bar.addPermanentWidget(self.truth_label)
        bar.addPermanentWidget(self.file_actions.progress_bar)
        bar.addPermanentWidget(self.file_actions.cancel_button)

    def _bind(self) -> None:
        s = self.session
        s.dataset_changed.connect(self._on_session_dataset_changed)
        s.fit_ended.connect(self._on_session_fit_ended)
        s.comparison_changed.connect(self._on_session_comparison_changed)
        s.shown_changed.connect(self._on_session_shown_changed)
        self.iteration_slider.valueChanged.connect(self._on_iteration_slider_changed)
        self.live_button.clicked.connect(self.go_live)
        self.data_view.clicked.connect(self._on_data_view_clicked)
        self.data_stack.histogram_built.connect(self._on_data_stack_histogram_built)
        self.editing.edit_kept.connect(self._on_editing_edit_kept)
        self.component_table.component_selected.connect(self._on_component_table_selected)
        self.generator_panel.data_generated.connect(self._on_generator_data_generated)
        self.session_files.session_opened.connect(self.info_label.setText)
        # a file's or a session's temporary status message must not hide where the fit is once
        # the person starts a fit, steps or drags
        s.state_changed.connect(self._on_session_state_changed)
        self.editing.preview_changed.connect(self._on_editing_preview_changed)

    # ================================================================== session events
    def _on_session_dataset_changed(self, dataset) -> None:
        self.setWindowTitle(f"GMM Studio — {dataset.source} ({counted(dataset.n_samples, 'point')}, "
                            f"{counted(dataset.n_features, 'feature')})")
        if self._generated is not None and not (
                self._generated.values.shape == dataset.values.shape
                and np.array_equal(self._generated.values, dataset.values)):
            self._generated = None
            self.generator_panel.clear_data()
        if self._sweep_panel is not None:
            self._sweep_panel.set_data(self.session.x)
        self.model_files.update_actions()
        one_d = dataset.n_features == 1
        density = self.teaching.density_action
        density.setEnabled(not one_d)
        density.setToolTip("In 1-D the mixture density p(x) is already drawn: the dashed curve over "
                           "the histogram" if one_d else "Shade the log density of the shown mixture (Ctrl+D)")
        self.dataset_changed.emit(dataset)

    def _on_session_state_changed(self, state: RunState) -> None:
        if state.busy:
            self.statusBar().clearMessage()

    @Slot(object)
    def _on_editing_preview_changed(self, preview) -> None:
        if preview is not None:
            self.statusBar().clearMessage()

    def _on_session_fit_ended(self, outcome) -> None:
        if outcome.reason == "failed":
            self.banner.show_message(outcome.message)
        self.info_label.setText(outcome.message)  # the session's message names a saddle point
        self.model_files.update_actions()
        self.fit_finished.emit(outcome.final)

    def _on_session_comparison_changed(self, comparison) -> None:
        if self._generated is not None:
            shown = self.current_snapshot()
            self.generator_panel.show_comparison(comparison, None if shown is None else shown.params)

    def _on_session_shown_changed(self, _snapshot) -> None:
        self.model_files.update_actions()

    @Slot(object)
    def _on_generator_data_generated(self, data) -> None:
        """Generated data replace the open data; the truth is drawn dotted; K is offered."""
        columns = tuple(f"x{j + 1}" for j in range(data.values.shape[1]))
        dataset = dataset_from_array(data.values, columns, data.labels, source="generated data")
        self._generated = data  # before set_dataset, whose handler checks it
        self.session.set_dataset(dataset, data.truth, truth_labels=data.labels)
        k = data.settings.n_components if data.truth is not None else None
        offered = ""
        if k is not None and self.session.k_problem(k) is None:
            self.session.update_settings(n_components=k)
            offered = f" K = {k} as generated;"
        drawn = "the dotted curve is the true mixture's density" if dataset.n_features == 1 \
            else "dotted ellipses show the true mixture"
        self.info_label.setText(f"Generated: {data.description}.{offered} {drawn}; press Run "
                                "(Space) to watch EM find it.")

    @Slot(object)
    def _on_sweep_model_chosen(self, params: MixtureParams) -> None:
        try:
            self.show_model(params)
        except ValueError as exc:
            self.info_label.setText(str(exc))
            return
        self.info_label.setText(f"Showing the sweep's K = {params.n_components} "
                                f"{params.covariance_type} model. Step or Run continues EM from it.")

    # ================================================================== public surface
    @property
    def dataset(self):
        return self.session.dataset

    def settings(self) -> FitSettings:
        """The fit settings the session uses."""
        return self.session.settings

    def current_snapshot(self) -> Snapshot | None:
        """The snapshot the views show (scrubbed or live), or None before any fit."""
        return self.session.history.shown

    def history(self) -> list[Snapshot]:
        """Every half-step of the current fit, oldest first (parameters only, no γ)."""
        return list(self.session.history)

    def is_fitting(self) -> bool:
        return self.session.state.busy

    def load_demo(self) -> None:
        dataset, truth, description = demo_dataset()
        self.set_dataset(dataset, truth)
        self.info_label.setText(f"Demo data: {description}. Dotted ellipses show the mixture "
                                "that generated them; EM does not see it.")

    def set_dataset(self, dataset, truth: MixtureParams | None = None) -> None:
        """Replace the data (stops any fit first); ``truth`` is drawn dotted if given."""
        self.session.set_dataset(dataset, truth)
        self.info_label.setText(f"{counted(dataset.n_samples, 'point')} from {dataset.source}. Press Run "
                                "(Space) to fit, or Step (S) to watch one iteration at a time.")

    def show_model(self, params: MixtureParams) -> None:
        """Display ``params``; Run and Step continue EM from them.  Raises ValueError (a
        sentence) when they do not fit the open data."""
        self.session.show_model(params)
        self.info_label.setText("Showing a given model. Run or Step continues EM from it.")

    def run_fit(self) -> None:
        """Run (or resume a paused fit)."""
        self.controls.do("resume" if self.session.state is RunState.PAUSED else "run")

    def pause_fit(self) -> None:
        self.controls.do("resume" if self.session.state is RunState.PAUSED else "pause")

    def step(self, target: str = "M") -> None:
        """Advance to the next E ('E') or M ('M') half-step."""
        self.controls.do("step_e" if target == "E" else "step")

    def stop_fit(self) -> None:
        self.controls.do("stop")

    def reset(self) -> None:
        self.controls.do("reset")

    def go_live(self) -> None:
        self.controls.do("go_live")

    def scrub_to(self, index: int) -> None:
        """Show the state after half-step ``index`` of the history (the slider's value)."""
        try:
            self.session.scrub(index)
        except CommandRefused as exc:
            self.info_label.setText(exc.reason)

    def redraw(self) -> None:
        """Draw the shown state now (the timer does it at most ~30 times a second)."""
        self.drawing.redraw()
        self.histogram_drawing.redraw()

    # ================================================================== mouse
    @Slot(int)
    def _on_iteration_slider_changed(self, value: int) -> None:
        self.scrub_to(value)

    @property
    def hover_text(self) -> str:
        """The read-out of the point under the pointer ('' when none)."""
        return self.drawing.hover_text

    def point_tooltip(self, index: int, params: MixtureParams) -> str:
        """Text naming point ``index`` and its responsibilities γ_nk under ``params``."""
        return self.drawing.point_text(index, params)

    @Slot(float, float)
    def _on_data_view_clicked(self, x: float, y: float) -> None:
        self.handle_click(x, y)

    def handle_click(self, x: float, y: float) -> None:
        """A left click at (x, y) in the plane: place a mean, or select a component."""
        self.controls.place_or_select((x, y), self.data_view.nearest_component(x, y))

    @property
    def histogram_panel(self):
        """The central view for 1-D data (built on first use)."""
        return self.data_stack.histogram_panel

    def _on_data_stack_histogram_built(self, panel) -> None:
        panel.view.clicked.connect(self._on_histogram_view_clicked)
        self.truth_action.toggled.connect(panel.view.set_truth_visible)
        pass_drops_up(panel.view)
        self.controls.keys.install(panel)

    @Slot(float, float)
    def _on_histogram_view_clicked(self, x: float, y: float) -> None:
        self.controls.place_or_select((x, y), self.histogram_panel.view.nearest_component(x, y))

    @Slot(int)
    def _on_editing_edit_kept(self, k: int) -> None:
        self.info_label.setText(self.editing.kept_text(k))

    def select_component(self, k: int | None) -> None:
        try:
            self.session.select(k)
        except ValueError:
            self.session.select(None)

    @Slot(int)
    def _on_component_table_selected(self, k: int) -> None:
        self.select_component(None if k < 0 else k)

    # ================================================================== files, help
    @Slot()
    def _on_file_menu_about_to_show(self) -> None:
        self.model_files.update_actions()
        self.session_files.update_actions()

    def save_session(self, path: str) -> bool:
        """Write the session to ``path`` (a failure is shown in a message box)."""
        return self.session_files.save(path)

    def open_session(self, path: str) -> bool:
        """Carry on from the session in ``path`` (a bad file: a message, nothing changes)."""
        return self.session_files.open(path)

    @staticmethod
    def shortcuts_text() -> str:
        return shortcuts_text()

    # ================================================================== persistence, closing
    def save_settings(self) -> None:
        """Remember the geometry, the fit settings and the speed for the next start."""
        window_settings.save(self)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.file_actions.drag_entered(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.file_actions.drag_entered(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.file_actions.dropped(event)

    def closeEvent(self, event) -> None:
        """Stop and join every task before the window goes away (once: a window can be closed twice)."""
        if self._closed:
            super().closeEvent(event)
            return
        self._closed = True
        self.drawing.stop()
        self.histogram_drawing.stop()
        self.editing.disconnect_session()
        self.teaching.stop()
        self.controls.disconnect_session()
        self.file_actions.close()
        self.runner.join_all()
        try:
            if self._persist:
                self.save_settings()
        except Exception:  # noqa: BLE001 - a settings file we cannot write must not block closing
            pass
        super().closeEvent(event)
