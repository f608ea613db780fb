"""The main window: watch EM fit a mixture live, step it, scrub it, steer it.

GUI thread only.  EM runs in :mod:`gmm_studio.ui.fit_worker`; this window keeps the latest
update (throttle: a 30 Hz timer redraws only when something changed), the light history of
every half-step (params only, no N×K arrays) for scrubbing, and the fit settings.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCursor, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.em import EMData, Snapshot
from gmm_studio.core.geometry import Projection, lift_point, radius_for_coverage
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import CLICK_INIT, MAX_COMPONENTS, FitSettings
from gmm_studio.ui.colors import component_palette, label_colors
from gmm_studio.ui.component_table import ComponentTable
from gmm_studio.ui.control_panel import ControlPanel, delay_for_speed
from gmm_studio.ui.data_view import DataView
from gmm_studio.ui.file_actions import install_file_actions
from gmm_studio.ui.fit_worker import FitController, FitRequest, FitResult, FitUpdate, point_colors
from gmm_studio.ui.generator_panel import GeneratorPanel
from gmm_studio.ui.likelihood_view import LikelihoodView, half_step_x
from gmm_studio.ui.sweep_panel import SweepPanel

__all__ = ["MainWindow", "SHORTCUTS", "demo_dataset"]

ORGANISATION = "GMM Studio"
APPLICATION = "GMM Studio"
#: Above this many points, γ for a scrubbed state is computed after the slider rests.
_SCRUB_DEBOUNCE_N = 200_000
_REDRAW_MS = 33

#: (action, keys, what it does) — shown in tooltips and Help ▸ Keyboard shortcuts.
SHORTCUTS = (
    ("run", ("Space",), "Run a new fit; pause or resume a running one"),
    ("step", ("S", "Right"), "Step one iteration (E then M)"),
    ("step_e", ("E",), "Step the E-step only (recompute responsibilities)"),
    ("step_m", ("M",), "Step the M-step only (re-estimate π, μ, Σ)"),
    ("stop", ("Esc",), "Stop the fit (keep what it reached)"),
    ("reset", ("R", "Ctrl+R"), "Reset: forget the fit and the placed means"),
    ("live", ("End",), "Return the views to the live fit after scrubbing"),
    ("open", ("Ctrl+O",), "Open a data file (.csv, .npy, …)"),
)


def demo_dataset():
    """The built-in demo: 4 rotated, elongated components, 3000 points, seeded (always the same)."""
    from gmm_studio.core.dataio import dataset_from_array
    from gmm_studio.core.generate import GeneratorSettings, generate

    synthetic = generate(GeneratorSettings(n_components=4, n_samples=3000, shape="rotated", seed=7))
    dataset = dataset_from_array(synthetic.values, columns=("x", "y"), labels=synthetic.labels,
                                 source="demo")
    return dataset, synthetic.truth, synthetic.description


def _settings_store() -> QSettings:
    # INI format: tests redirect it with QSettings.setPath and never touch the user's file.
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class MainWindow(QMainWindow):
    """GMM Studio's main window.

    Signals
    -------
    fit_finished(object)
        A fit ended for any reason (converged, max_iter, degenerate, stopped, replaced);
        the payload is its final :class:`~gmm_studio.core.em.Snapshot` (or None).
    dataset_changed(object)
        :meth:`set_dataset` installed a new dataset.
    """

    fit_finished = Signal(object)
    dataset_changed = Signal(object)

    def __init__(self, restore_settings: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("GMM Studio — Expectation–Maximization for Gaussian mixtures")
        self.resize(1400, 900)
        self.dataset = None
        self._x = np.zeros((0, 2))
        self._truth: MixtureParams | None = None
        self._projection: Projection | None = None
        self._emdata: dict[str, EMData] = {}
        self._palette = component_palette(FitSettings().n_components)
        self._history: list[Snapshot] = []
        self._live: Snapshot | None = None
        self._live_colors: np.ndarray | None = None
        self._live_colors_mode = "blend"
        self._final: FitResult | None = None
        self._run_active = False
        self._run_ended_emitted = True
        self._run_events: tuple = ()
        self._start_override: MixtureParams | None = None
        self._placed: list[np.ndarray] = []
        self._scrub: int | None = None
        self._scrub_cache: tuple[int, np.ndarray | None, np.ndarray | None] | None = None
        self._dirty = False
        self._drawn_colors_key: tuple | None = None
        self._drawn_colors: np.ndarray | None = None  # what _drawn_colors_key was made from
        self._selected: int | None = None
        self._generated = None  # the SyntheticData on screen, if the data were generated
        self._truth_colors: np.ndarray | None = None  # colours of the data's label column
        self.hover_text = ""
        self.last_message = ""

        self._fit = FitController(self)
        self._fit.iteration_done.connect(self._on_fit_iteration_done)
        self._fit.fit_finished.connect(self._on_fit_finished)
        self._fit.fit_failed.connect(self._on_fit_failed)
        self._fit.fit_cancelled.connect(self._on_fit_cancelled)

        self._build_ui()
        self._build_actions()
        self._build_menus()
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(_REDRAW_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        self._redraw_timer.start()
        self._scrub_timer = QTimer(self)
        self._scrub_timer.setSingleShot(True)
        self._scrub_timer.timeout.connect(self._on_scrub_timer_timeout)
        # A window that did not read the person's settings (screenshots, tests, benchmarks)
        # must not overwrite them either.
        self._persist = restore_settings
        self._install_panels()
        if restore_settings:
            self._restore_settings()
        self._update_buttons()

    # ================================================================== construction
    def _build_ui(self) -> None:
        self.data_view = DataView()
        self.likelihood_view = LikelihoodView()
        self.panel = ControlPanel()
        self.component_table = ComponentTable()

        self.banner = QFrame(objectName="degeneracyBanner")
        self.banner.setStyleSheet("#degeneracyBanner { background: #fff3cd; border: 1px solid #d39e00; }")
        banner_layout = QVBoxLayout(self.banner)
        self.banner_label = QLabel("", objectName="bannerLabel")
        self.banner_label.setWordWrap(True)
        banner_layout.addWidget(self.banner_label)
        buttons = QHBoxLayout()
        self.remedy_reg_button = QPushButton("Raise reg_covar ×1000 and re-run", objectName="remedyRegButton")
        self.remedy_reseed_button = QPushButton("Re-seed the component and continue", objectName="remedyReseedButton")
        self.remedy_lower_k_button = QPushButton("Lower K by one and re-run", objectName="remedyLowerKButton")
        dismiss = QPushButton("Dismiss")
        for b in (self.remedy_reg_button, self.remedy_reseed_button, self.remedy_lower_k_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(dismiss)
        banner_layout.addLayout(buttons)
        self.banner.setVisible(False)
        self.remedy_reg_button.clicked.connect(self._on_remedy_reg_clicked)
        self.remedy_reseed_button.clicked.connect(self._on_remedy_reseed_clicked)
        self.remedy_lower_k_button.clicked.connect(self._on_remedy_lower_k_clicked)
        dismiss.clicked.connect(self._on_banner_dismiss_clicked)

        self.info_label = QLabel("", objectName="infoLabel")
        self.info_label.setWordWrap(True)
        # Fixed heights and ignored widths everywhere text changes during a fit: a resize of the
        # data view re-rasterises every point (~0.3 s at 1e6), so the layout must not move.
        self.info_label.setFixedHeight(2 * self.info_label.fontMetrics().lineSpacing() + 4)
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.likelihood_view, 1)
        row = QHBoxLayout()
        self.history_label = QLabel("history", objectName="historyLabel")
        self.history_label.setFixedWidth(self.history_label.fontMetrics().horizontalAdvance("0000/0000: it. 000 M (live)") + 8)
        self.iteration_slider = QSlider(Qt.Orientation.Horizontal, objectName="iterationSlider")
        self.iteration_slider.setRange(0, 0)
        self.iteration_slider.setToolTip("Scrub back through every half-step of the fit; "
                                         "the right end (or Live) follows the running fit")
        self.live_button = QPushButton("Live", objectName="liveButton")
        self.live_button.setToolTip("Return to the live fit (End)")
        row.addWidget(QLabel("Scrub:"))
        row.addWidget(self.iteration_slider, 1)
        row.addWidget(self.history_label)
        row.addWidget(self.live_button)
        bl.addLayout(row)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.data_view)
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
        self.setCentralWidget(central)

        self.panel_dock = self.add_panel(self.panel, "Controls", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.components_dock = self.add_panel(self.component_table, "Components",
                                              Qt.DockWidgetArea.RightDockWidgetArea)
        self.status_label = QLabel("")
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.statusBar().addWidget(self.status_label, 1)
        self.components_dock.setMinimumWidth(340)
        self.components_dock.setMaximumWidth(520)
        self.resizeDocks([self.components_dock], [360], Qt.Orientation.Horizontal)

        p = self.panel
        p.run_button.clicked.connect(self._on_run_button_clicked)
        p.pause_button.clicked.connect(self._on_pause_button_clicked)
        p.stop_button.clicked.connect(self.stop_fit)
        p.step_button.clicked.connect(self._on_step_button_clicked)
        p.step_e_button.clicked.connect(self._on_step_e_button_clicked)
        p.step_m_button.clicked.connect(self._on_step_m_button_clicked)
        p.reset_button.clicked.connect(self.reset)
        p.speed_changed.connect(self._on_panel_speed_changed)
        p.color_mode_changed.connect(self._on_panel_color_mode_changed)
        p.projection_changed.connect(self._on_panel_projection_changed)
        p.settings_changed.connect(self._on_panel_settings_changed)
        self.iteration_slider.valueChanged.connect(self._on_iteration_slider_changed)
        self.live_button.clicked.connect(self.go_live)
        self.data_view.point_hovered.connect(self._on_data_view_point_hovered)
        self.data_view.clicked.connect(self._on_data_view_clicked)
        self.component_table.component_selected.connect(self._on_component_table_selected)

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

    def _make_action(self, key: str, text: str, slot) -> QAction:
        entry = next(s for s in SHORTCUTS if s[0] == key)
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in entry[1]])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{entry[2]} ({' or '.join(entry[1])})")
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.run_action = self._make_action("run", "Run / Pause", self._on_run_action_triggered)
        self.step_action = self._make_action("step", "Step iteration", self._on_step_button_clicked)
        self.step_e_action = self._make_action("step_e", "Step E", self._on_step_e_button_clicked)
        self.step_m_action = self._make_action("step_m", "Step M", self._on_step_m_button_clicked)
        self.stop_action = self._make_action("stop", "Stop", self.stop_fit)
        self.reset_action = self._make_action("reset", "Reset", self.reset)
        self.live_action = self._make_action("live", "Back to live", self.go_live)
        self.open_action = self._make_action("open", "Open data…", self._on_open_action_triggered)
        p = self.panel
        tips = {p.run_button: "Run a new fit from a fresh initialisation; Resume when paused (Space)",
                p.pause_button: "Pause or resume the running fit (Space)",
                p.stop_button: "Stop the fit, keeping what it reached (Esc)",
                p.step_button: "One EM iteration: E-step then M-step (S or →)",
                p.step_e_button: "E-step only: recompute the responsibilities γ (E)",
                p.step_m_button: "M-step only: re-estimate weights, means, covariances (M)",
                p.reset_button: "Forget the fit and the placed means (R or Ctrl+R)"}
        for button, tip in tips.items():
            button.setToolTip(tip)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.file_menu.addAction(self.open_action)
        demo = QAction("Load the demo data", self)
        demo.triggered.connect(self.load_demo)
        self.file_menu.addAction(demo)
        shot = QAction("Save a picture of the window…", self)
        shot.triggered.connect(self._on_save_picture_triggered)
        self.file_menu.addAction(shot)
        self.file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.file_menu.addAction(quit_action)

        self.fit_menu = bar.addMenu("F&it")
        for a in (self.run_action, self.step_action, self.step_e_action, self.step_m_action,
                  self.stop_action, self.reset_action, self.live_action):
            self.fit_menu.addAction(a)

        self.view_menu = bar.addMenu("&View")
        self.truth_action = QAction("Show the true mixture (dashed)", self, checkable=True, checked=True)
        self.truth_action.toggled.connect(self.data_view.set_truth_visible)
        self.view_menu.addAction(self.truth_action)
        self.ellipse_menu = self.view_menu.addMenu("Ellipses")
        for label, radii in (("1σ and 2σ (39.3 % and 86.5 %)", (1.0, 2.0)),
                             ("50 % and 95 % of the mass", (radius_for_coverage(0.5), radius_for_coverage(0.95))),
                             ("1σ only", (1.0,))):
            a = QAction(label, self)
            a.setData(radii)
            a.triggered.connect(self._on_ellipse_action_triggered)
            self.ellipse_menu.addAction(a)
        frame = QAction("Frame all points", self)
        frame.triggered.connect(self.data_view.frame_points)
        self.view_menu.addAction(frame)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.panel_dock.toggleViewAction())
        self.view_menu.addAction(self.components_dock.toggleViewAction())

        self.tools_menu = bar.addMenu("&Tools")
        self.help_menu = bar.addMenu("&Help")
        keys = QAction("Keyboard shortcuts", self)
        keys.setShortcut(QKeySequence("F1"))
        keys.triggered.connect(self._on_shortcuts_action_triggered)
        self.help_menu.addAction(keys)
        about = QAction("About GMM Studio", self)
        about.triggered.connect(self._on_about_action_triggered)
        self.help_menu.addAction(about)

    def _install_panels(self) -> None:
        """The panels that live in their own modules: files, the generator, the K sweep."""
        self.file_actions = install_file_actions(self)
        self.generator_panel = GeneratorPanel()
        self.generator_dock = self.add_panel(self.generator_panel, "Generate data",
                                             Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.panel_dock, self.generator_dock)
        self.sweep_panel = SweepPanel()
        self.sweep_dock = self.add_panel(self.sweep_panel, "Choose K",
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.components_dock, self.sweep_dock)
        self.panel_dock.raise_()
        self.components_dock.raise_()
        for dock, text, key in ((self.generator_dock, "Generate synthetic data…", "Ctrl+Shift+G"),
                                (self.sweep_dock, "Choose K with a sweep…", "Ctrl+K")):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setData(dock)
            action.triggered.connect(self._on_show_dock_triggered)
            self.tools_menu.addAction(action)
        self.generator_panel.data_generated.connect(self._on_generator_data_generated)
        self.sweep_panel.model_chosen.connect(self._on_sweep_model_chosen)
        self.fit_finished.connect(self._on_window_fit_finished)
        self.dataset_changed.connect(self._on_window_dataset_changed)

    @Slot()
    def _on_show_dock_triggered(self) -> None:
        dock = self.sender().data()
        dock.show()
        dock.raise_()

    @Slot(object)
    def _on_generator_data_generated(self, data) -> None:
        """Generated data replace the open data; the truth is drawn dashed."""
        columns = tuple(f"x{j + 1}" for j in range(data.values.shape[1]))
        dataset = dataset_from_array(data.values, columns, data.labels, source="generated data")
        self._generated = data  # before set_dataset, whose signal checks it
        self.set_dataset(dataset, data.truth)
        self._set_info(f"Generated: {data.description}. Dashed ellipses show the true mixture; "
                       "press Run (Space) to watch EM find it.")

    @Slot(object)
    def _on_sweep_model_chosen(self, params: MixtureParams) -> None:
        if self.dataset is None or params.n_features != self._x.shape[1]:
            return
        self.show_model(params)
        self._set_info(f"Showing the sweep's K = {params.n_components} {params.covariance_type} "
                       "model. Step or Run continues EM from it.")

    @Slot(object)
    def _on_window_dataset_changed(self, dataset) -> None:
        if self._generated is None or self._generated.values.shape != dataset.values.shape \
                or not np.array_equal(self._generated.values, dataset.values):
            self._generated = None
            self.generator_panel.clear_data()
        self.sweep_panel.set_data(self._x)

    @Slot(object)
    def _on_window_fit_finished(self, final: Snapshot | None) -> None:
        if final is None or self._generated is None:
            return
        gamma = final.responsibilities
        if gamma is None:
            gamma = self._emdata_for(final.params.covariance_type).responsibilities(final.params)
        self.generator_panel.show_fit(final.params, gamma)

    def history(self) -> list[Snapshot]:
        """Every half-step of the current fit, oldest first (parameters only, no γ)."""
        return list(self._history)

    # ================================================================== public hooks
    def settings(self) -> FitSettings:
        """The fit settings the controls show."""
        return self.panel.settings()

    def current_snapshot(self) -> Snapshot | None:
        """The snapshot the views show (scrubbed or live), or None before any fit."""
        if self._scrub is not None and 0 <= self._scrub < len(self._history):
            return self._history[self._scrub]
        return self._live

    @property
    def fit_controller(self) -> FitController:
        return self._fit

    def is_fitting(self) -> bool:
        return self._fit.is_active()

    def load_demo(self) -> None:
        dataset, truth, description = demo_dataset()
        self.set_dataset(dataset, truth)
        self._set_info(f"Demo data: {description}. Dotted ellipses show the mixture that "
                       "generated them; EM does not see it.")

    def set_dataset(self, dataset, truth: MixtureParams | None = None) -> None:
        """Replace the data (stops any fit first); ``truth`` is drawn dashed if given."""
        self._cancel_run()
        self.dataset = dataset
        self._x = np.ascontiguousarray(np.asarray(dataset.values, dtype=np.float64))
        self._truth = truth
        self._emdata = {}
        self._start_override = None
        self._placed = []
        self.panel.set_columns(tuple(dataset.columns))
        labels = getattr(dataset, "labels", None)
        self._truth_colors = label_colors(labels) if labels is not None else None
        self.panel.set_truth_available(self._truth_colors is not None)
        self._projection = Projection.default_for(self._x, dataset.columns)
        self._apply_projection(frame=True)
        self._clear_fit_state()
        try:  # prepared now, with the loading (~60 ms at 1e6), not as a stall when Run is pressed
            self._emdata_for(self.settings().covariance_type)
        except ValueError:
            pass  # data EM cannot use: left to Run, as before
        self.setWindowTitle(f"GMM Studio — {dataset.source} ({dataset.n_samples} points, "
                            f"{dataset.n_features} features)")
        self._set_info(f"{dataset.n_samples} points from {dataset.source}. Press Run (Space) "
                       "to fit, or Step (S) to watch one iteration at a time.")
        self.dataset_changed.emit(dataset)

    def show_model(self, params: MixtureParams) -> None:
        """Display ``params`` and make Run/Step continue EM from them instead of a fresh init."""
        if self.dataset is None or params.n_features != self._x.shape[1]:
            raise ValueError("show_model needs a model with as many features as the data "
                             f"({self._x.shape[1]}); got {params.n_features}.")
        self._cancel_run()
        self._clear_fit_state()
        s = self.settings()
        self.panel.set_settings(s.replace(n_components=params.n_components,
                                          covariance_type=params.covariance_type))
        self._start_override = params
        self._set_palette(params.n_components)
        gamma = self._emdata_for(params.covariance_type).responsibilities(params)
        counts = gamma.sum(axis=0)
        snap = Snapshot(0, 0, "init", params, gamma, -np.inf, -np.inf,
                        _diagnostics(counts), False, ())
        self._live = snap
        self._live_colors = point_colors(gamma, self._palette, self.panel.color_mode())
        self._live_colors_mode = self.panel.color_mode()
        self._dirty = True
        self._set_info("Showing a given model. Run or Step continues EM from it.")
        self._update_buttons()

    # ================================================================== fit control
    def run_fit(self) -> None:
        """Start a new fit (or resume a paused one)."""
        if self._fit.is_active():
            if self._fit.is_paused():
                self._fit.resume()
                self._update_buttons()
            return
        self._start_run(paused=False, target=None, continue_current=False)

    def pause_fit(self) -> None:
        if self._fit.is_active():
            if self._fit.is_paused():
                self._fit.resume()
            else:
                self._fit.pause()
            self._update_buttons()

    def step(self, target: str = "M") -> None:
        """Advance to the next E ('E') or M ('M') half-step; starts a paused run if needed."""
        if self._fit.is_active():
            self._fit.step(target)
        else:
            self._start_run(paused=True, target=target, continue_current=True)
        self._update_buttons()

    def stop_fit(self) -> None:
        """Stop the running fit; the views keep what it reached."""
        if self._fit.is_active():
            self._fit.stop()

    def reset(self) -> None:
        """Stop any fit and forget it (and the placed means and any given model)."""
        self._cancel_run()
        self._start_override = None
        self._placed = []
        self.data_view.set_placed_means(np.zeros((0, 2)))
        self._clear_fit_state()
        self._set_info("Reset. Run (Space) starts a fresh fit; Step (S) starts one paused.")

    def go_live(self) -> None:
        self._scrub = None
        self._scrub_cache = None
        self.likelihood_view.set_cursor(None)
        self._dirty = True
        self._sync_slider()

    def scrub_to(self, index: int) -> None:
        """Show the state after half-step ``index`` of the history (the slider's value)."""
        self.iteration_slider.setValue(index)
        if index < self.iteration_slider.maximum():
            self._compute_scrub()

    # ------------------------------------------------------------------ starting runs
    def _start_run(self, paused: bool, target: str | None, continue_current: bool) -> None:
        if self.dataset is None:
            return
        s = self.settings()
        start, params, means = "fresh", None, None
        start_iteration, previous = 0, -np.inf
        keep_history = False
        shown = self.current_snapshot()
        if self._start_override is not None:
            start, params = "params", self._start_override
            s = s.replace(n_components=params.n_components)
            self._start_override = None
        elif s.init_params == CLICK_INIT:
            if not self._placed:
                self._set_info("Initialisation is 'click to place means': click in the data view "
                               "to place the initial means first, then Run.")
                return
            start, means = "means", np.array(self._placed)
            s = s.replace(n_components=len(self._placed))
        elif continue_current and shown is not None:
            if shown.params.covariance_type == s.covariance_type and not any(e.fatal for e in shown.events):
                start, params = "params", shown.params
                start_iteration = shown.iteration
                previous = shown.log_likelihood if shown.half_step == "M" else -np.inf
                keep_history = True
                s = s.replace(n_components=params.n_components)
        # Taken before the state is cleared: a fresh run's components are matched to the
        # means on screen, so colours stay with their components across re-runs.
        reference_means = self._reference_means(s)
        if not keep_history:
            self._clear_fit_state(keep_placed=True)
        else:
            self._truncate_history_to_shown()
        self._set_palette(s.n_components)
        request = FitRequest(
            data=self._emdata_for(s.covariance_type), x=self._x, settings=s, palette=self._palette,
            start=start, params=params, means=means, start_iteration=start_iteration,
            previous_log_likelihood=previous, reference_means=reference_means,
            delay=delay_for_speed(self.panel.speed()), color_mode=self.panel.color_mode(),
            paused=paused, target=target, skip_init=keep_history,
        )
        self._begin(request)

    def _begin(self, request: FitRequest) -> None:
        self._fit.start(request)
        self._run_active = True
        self._run_ended_emitted = False
        self._final = None
        self.likelihood_view.set_converged(None)
        self._update_buttons()

    def _reference_means(self, s: FitSettings) -> np.ndarray | None:
        shown = self._live
        if shown is None or shown.params.n_features != self._x.shape[1]:
            return None
        return np.array(shown.params.means)

    def _truncate_history_to_shown(self) -> None:
        if self._scrub is not None:
            kept = self._history[: self._scrub + 1]
            last = kept[-1]
            self._history = kept
            self._live = last
            self.likelihood_view.truncate_after(last.restart, half_step_x(last))
            self.go_live()

    def _cancel_run(self) -> None:
        """Cancel the current run now; its later signals are stale and dropped."""
        if self._fit.is_active():
            self._fit.cancel()
        self._end_run(self._live)

    def _end_run(self, final: Snapshot | None) -> None:
        if self._run_active and not self._run_ended_emitted:
            self._run_ended_emitted = True
            self._run_active = False
            self.fit_finished.emit(final)
        self._run_active = False
        self._update_buttons()

    def _clear_fit_state(self, keep_placed: bool = False) -> None:
        self._history = []
        self._live = None
        self._live_colors = None
        self._final = None
        self._scrub = None
        self._scrub_cache = None
        self._run_events = ()
        self._drawn_colors_key = None
        self.likelihood_view.clear()
        self.data_view.clear_components()
        self.data_view.set_colors(None)
        self.component_table.set_model(None, None, self._palette)
        self.banner.setVisible(False)
        if not keep_placed:
            self._placed = []
            self.data_view.set_placed_means(np.zeros((0, 2)))
        self._sync_slider()
        self.status_label.setText("No model yet.")
        self._dirty = True

    def _emdata_for(self, covariance_type: str) -> EMData:
        if covariance_type not in self._emdata:
            self._emdata[covariance_type] = EMData(self._x, covariance_type)
        return self._emdata[covariance_type]

    def _set_palette(self, k: int) -> None:
        self._palette = component_palette(k)
        self.data_view.set_palette(self._palette)

    # ================================================================== worker events
    @Slot(object)
    def _on_fit_iteration_done(self, update: FitUpdate) -> None:
        snap = update.snapshot
        self._history.append(snap.without_responsibilities())
        self._live = snap
        if update.colors is not None or snap.half_step == "init":
            self._live_colors = update.colors
            self._live_colors_mode = update.color_mode
        if snap.half_step != "E":
            self._run_events = snap.events
        self.likelihood_view.append(snap)
        self._dirty = True

    @Slot(object)
    def _on_fit_finished(self, result: FitResult) -> None:
        self._final = result
        self._live = result.final
        self._live_colors = result.colors
        self._live_colors_mode = result.color_mode
        self._run_events = result.final.events
        if len(result.finals) > 1:
            self.likelihood_view.set_best(result.best_restart)
        if result.final.converged:
            self.likelihood_view.set_converged(half_step_x(result.final))
        self._dirty = True
        reason = {"converged": "converged", "max_iter": "stopped at max_iter (not converged)",
                  "degenerate": "stopped: a component degenerated"}[result.reason]
        extra = f" Best of {len(result.finals)} restarts: #{result.best_restart + 1}." if len(result.finals) > 1 else ""
        info = f"EM {reason} after {result.final.iteration} iterations.{extra}"
        if result.reason == "converged" and _components_coincide(result.final.params, self._x):
            info += (" All components sit on top of each other: a saddle point of the "
                     "likelihood (e.g. random responsibilities average every mean to the data "
                     "mean), not a fit. Try the 'random data points' or 'kmeans' initialisation.")
        self._set_info(info)
        self._end_run(result.final)

    @Slot(str)
    def _on_fit_failed(self, message: str) -> None:
        self._show_banner_text(message)
        self._end_run(self._live)

    @Slot(object)
    def _on_fit_cancelled(self, last: Snapshot | None) -> None:
        self._set_info("Stopped. Step continues from here; Run starts a fresh fit.")
        self._dirty = True
        self._end_run(last if last is not None else self._live)

    # ================================================================== drawing
    @Slot()
    def _on_redraw_timer_timeout(self) -> None:
        if self._dirty:
            self._dirty = False
            self.redraw()

    def redraw(self) -> None:
        """Draw the shown state now (the timer calls this at most ~30 times a second)."""
        self._sync_slider()
        self.likelihood_view.refresh()
        if self._scrub is not None and self._scrub_cache is not None and self._scrub_cache[0] == self._scrub:
            snap = self._history[self._scrub]
            colors = self._scrub_cache[1]
            events = self._events_at(self._scrub)
            colors_key = ("scrub", self._scrub, self.panel.color_mode())
        else:
            snap = self._live
            colors = self._live_colors
            events = self._run_events
            if colors is not None and self._live_colors_mode != self.panel.color_mode() and snap is not None \
                    and snap.responsibilities is not None:
                colors = point_colors(snap.responsibilities, self._palette, self.panel.color_mode())
                self._live_colors, self._live_colors_mode = colors, self.panel.color_mode()
            colors_key = ("live", id(colors))
        if self.panel.color_mode() == "truth" and self._truth_colors is not None:
            colors, colors_key = self._truth_colors, ("truth", id(self._truth_colors))
        if colors_key != self._drawn_colors_key:
            # Holding the drawn array keeps its id() from being reused by a later one, which
            # would make the key match and skip a real change.
            self._drawn_colors_key, self._drawn_colors = colors_key, colors
            self.data_view.set_colors(colors)
        if snap is None:
            return
        params = snap.params
        if len(self._palette) != params.n_components:
            self._set_palette(params.n_components)
        means2, covs2 = self._projection.project_params(params)
        flagged = {e.component: e.kind for e in events if e.component < params.n_components}
        self.data_view.show_components(means2, covs2, flagged)
        if events:
            self._show_events(events)
        self.component_table.set_model(params, snap.diagnostics.effective_counts, self._palette)
        self._update_status(snap)

    def _events_at(self, index: int) -> tuple:
        for s in reversed(self._history[: index + 1]):
            if s.half_step != "E":
                return s.events
        return ()

    def _update_status(self, snap: Snapshot) -> None:
        if snap.half_step == "init":
            where = f"iteration {snap.iteration}: initial parameters"
        else:
            where = f"iteration {snap.iteration}, after {snap.half_step}-step"
        parts = [where]
        if self._final is not None and len(self._final.finals) > 1 or snap.restart > 0:
            parts.append(f"restart {snap.restart + 1}")
        if math.isfinite(snap.log_likelihood):
            parts.append(f"log-likelihood {snap.log_likelihood:.5f} per point")
            if snap.half_step == "M":
                parts.append(f"bound {snap.lower_bound:.5f}")
            delta = self._delta(snap)
            if delta is not None:
                parts.append(f"Δ {delta:+.2e}")
        parts.append("converged" if snap.converged else "not converged")
        if self._scrub is not None:
            parts.append("(scrubbing history — press Live to return)")
        elif self._fit.is_active():
            parts.append("paused" if self._fit.is_paused() else "running")
        self.status_label.setText(" · ".join(parts))

    def _delta(self, snap: Snapshot) -> float | None:
        values = [s.log_likelihood for s in self._history
                  if s.half_step == "E" and s.restart == snap.restart and s.iteration <= snap.iteration]
        if len(values) >= 2 and all(math.isfinite(v) for v in values[-2:]):
            return values[-1] - values[-2]
        return None

    def _sync_slider(self) -> None:
        n = len(self._history)
        self.iteration_slider.blockSignals(True)
        self.iteration_slider.setRange(0, max(0, n - 1))
        if self._scrub is None:
            self.iteration_slider.setValue(max(0, n - 1))
        self.iteration_slider.blockSignals(False)
        self.iteration_slider.setEnabled(n > 1)
        self.live_button.setEnabled(self._scrub is not None)
        if n:
            i = self._scrub if self._scrub is not None else n - 1
            s = self._history[min(i, n - 1)]
            self.history_label.setText(f"{i + 1}/{n}: it. {s.iteration} {s.half_step}"
                                       + ("" if self._scrub is not None else " (live)"))
        else:
            self.history_label.setText("no history")

    # ------------------------------------------------------------------ banner
    def _show_events(self, events: tuple) -> None:
        text = " ".join(dict.fromkeys(e.message for e in events))
        remedies = set(r for e in events for r in e.remedies)
        first = events[0].component + 1
        self.remedy_reg_button.setVisible("raise reg_covar" in remedies)
        self.remedy_reseed_button.setVisible("re-seed the component" in remedies)
        self.remedy_reseed_button.setText(f"Re-seed component {first} and continue")
        self.remedy_lower_k_button.setVisible("lower K" in remedies and self.settings().n_components > 1)
        reg = self.settings().reg_covar
        self.remedy_reg_button.setText(f"Raise reg_covar to {max(reg, 1e-9) * 1000:.3g} and re-run")
        self._show_banner_text("⚠ " + text)
        self._banner_component = events[0].component

    def _show_banner_text(self, text: str) -> None:
        self.last_message = text
        self.banner_label.setText(text)
        self.banner.setVisible(True)

    @Slot()
    def _on_banner_dismiss_clicked(self) -> None:
        self.banner.setVisible(False)

    @Slot()
    def _on_remedy_reg_clicked(self) -> None:
        s = self.settings()
        self.panel.set_settings(s.replace(reg_covar=min(1e3, max(s.reg_covar, 1e-9) * 1000)))
        self._cancel_run()
        self._start_run(paused=False, target=None, continue_current=False)

    @Slot()
    def _on_remedy_lower_k_clicked(self) -> None:
        s = self.settings()
        self.panel.set_settings(s.replace(n_components=max(1, s.n_components - 1)))
        self._cancel_run()
        self._start_run(paused=False, target=None, continue_current=False)

    @Slot()
    def _on_remedy_reseed_clicked(self) -> None:
        snap = self.current_snapshot()
        if snap is None:
            return
        k = getattr(self, "_banner_component", 0)
        self._cancel_run()
        self._truncate_history_to_shown()
        s = self.settings().replace(n_components=snap.params.n_components)
        self.banner.setVisible(False)
        self._run_events = ()
        request = FitRequest(
            data=self._emdata_for(snap.params.covariance_type), x=self._x, settings=s,
            palette=self._palette, start="reseed", params=snap.params, reseed=k,
            start_iteration=snap.iteration, delay=delay_for_speed(self.panel.speed()),
            color_mode=self.panel.color_mode(),
        )
        self._begin(request)

    # ================================================================== scrubbing
    @Slot(int)
    def _on_iteration_slider_changed(self, value: int) -> None:
        if value >= self.iteration_slider.maximum():
            self.go_live()
            return
        self._scrub = value
        n = self._x.shape[0]
        self._scrub_timer.start(150 if n > _SCRUB_DEBOUNCE_N else 0)

    @Slot()
    def _on_scrub_timer_timeout(self) -> None:
        self._compute_scrub()

    def _compute_scrub(self) -> None:
        """γ for the scrubbed state, recomputed from its parameters (GUI thread)."""
        i = self._scrub
        if i is None or not 0 <= i < len(self._history):
            return
        snap = self._history[i]
        owner = None  # the parameters the responsibilities of this half-step belong to
        if snap.half_step == "E":
            owner = snap.params
        elif snap.half_step == "M" and i > 0 and self._history[i - 1].half_step == "E":
            owner = self._history[i - 1].params
        colors = None
        if owner is not None:
            try:
                gamma = self._emdata_for(owner.covariance_type).responsibilities(owner)
                colors = point_colors(gamma, self._palette, self.panel.color_mode())
            except np.linalg.LinAlgError:
                colors = None
        self._scrub_cache = (i, colors, None)
        self.likelihood_view.set_cursor(half_step_x(snap))
        self._dirty = True

    # ================================================================== mouse
    @Slot(int)
    def _on_data_view_point_hovered(self, index: int) -> None:
        snap = self.current_snapshot()
        if index < 0 or snap is None:
            self.hover_text = ""
            return
        self.hover_text = self.point_tooltip(index, snap.params)
        QToolTip.showText(QCursor.pos(), self.hover_text, self.data_view)

    def point_tooltip(self, index: int, params: MixtureParams) -> str:
        """Text naming the point and its responsibilities γ_nk under ``params``."""
        x = self._x[index : index + 1]
        try:
            gamma = EMData(x, params.covariance_type).responsibilities(params)[0]
        except (np.linalg.LinAlgError, ValueError):
            return f"point {index + 1}: responsibilities unavailable (degenerate model)"
        order = np.argsort(-gamma)
        coords = ", ".join(f"{v:.3g}" for v in x[0][:4])
        lines = [f"point {index + 1} ({coords})", "responsibilities γ:"]
        for k in order[: min(6, len(order))]:
            lines.append(f"  component {k + 1}: {gamma[k]:.3f}")
        return "\n".join(lines)

    @Slot(float, float)
    def _on_data_view_clicked(self, x: float, y: float) -> None:
        self.handle_click(x, y)

    def handle_click(self, x: float, y: float) -> None:
        """A left click at (x, y) in data coordinates: place a mean or select a component."""
        if self.settings().init_params == CLICK_INIT and not self._fit.is_active() and self._live is None:
            if len(self._placed) >= MAX_COMPONENTS:
                self._set_info(f"At most {MAX_COMPONENTS} means; Reset to start over.")
                return
            base = self._x.mean(axis=0)
            self._placed.append(lift_point(self._projection, np.array([x, y]), base))
            self._show_placed()
            s = self.settings()
            self.panel.components_spin.blockSignals(True)
            self.panel.components_spin.setValue(len(self._placed))
            self.panel.components_spin.blockSignals(False)
            self._set_info(f"{len(self._placed)} initial mean(s) placed; K = {len(self._placed)}. "
                           "Click to add more, Run to start EM from them, Reset to clear.")
            del s
            return
        k = self.data_view.nearest_component(x, y)
        self.select_component(k)

    def _show_placed(self) -> None:
        if self._placed and self._projection is not None:
            self.data_view.set_placed_means(self._projection.project_points(np.array(self._placed)))
        else:
            self.data_view.set_placed_means(np.zeros((0, 2)))

    def select_component(self, k: int | None) -> None:
        self._selected = k
        self.data_view.set_highlight(k)
        self.component_table.select(k)

    @Slot(int)
    def _on_component_table_selected(self, k: int) -> None:
        self._selected = None if k < 0 else k
        self.data_view.set_highlight(self._selected)

    # ================================================================== controls
    @Slot()
    def _on_run_button_clicked(self) -> None:
        self.run_fit()

    @Slot()
    def _on_run_action_triggered(self) -> None:
        if self._fit.is_active():
            self.pause_fit()
        else:
            self.run_fit()

    @Slot()
    def _on_pause_button_clicked(self) -> None:
        self.pause_fit()

    @Slot()
    def _on_step_button_clicked(self) -> None:
        self.step("M")

    @Slot()
    def _on_step_e_button_clicked(self) -> None:
        self.step("E")

    @Slot()
    def _on_step_m_button_clicked(self) -> None:
        self.step("M")

    @Slot(int)
    def _on_panel_speed_changed(self, speed: int) -> None:
        self._fit.set_delay(delay_for_speed(speed))

    @Slot(str)
    def _on_panel_color_mode_changed(self, mode: str) -> None:
        self._fit.set_color_mode(mode)
        if self._scrub is not None:
            self._compute_scrub()
        self._drawn_colors_key = None
        self._dirty = True

    @Slot()
    def _on_panel_projection_changed(self) -> None:
        if self.dataset is None:
            return
        kind, i, j = self.panel.projection_choice()
        if kind == "pca":
            self._projection = Projection.pca(self._x)
        else:
            self._projection = Projection.columns(self._x.shape[1], max(i, 0), max(j, 0), self.dataset.columns)
        self._apply_projection(frame=True)

    @Slot()
    def _on_panel_settings_changed(self) -> None:
        self._update_buttons()

    def _apply_projection(self, frame: bool) -> None:
        pts = self._projection.project_points(self._x)
        self.data_view.set_points(pts, self._projection.axis_titles)
        self._drawn_colors_key = None
        if self._truth is not None and self._truth.n_features == self._x.shape[1]:
            tm, tc = self._projection.project_params(self._truth)
            self.data_view.set_truth(tm, tc)
            self.data_view.set_truth_visible(self.truth_action.isChecked() if hasattr(self, "truth_action") else True)
        else:
            self.data_view.set_truth(None, None)
        self._show_placed()
        self._dirty = True

    def _update_buttons(self) -> None:
        p = self.panel
        active = self._fit.is_active()
        paused = active and self._fit.is_paused()
        has_data = self.dataset is not None
        p.run_button.setEnabled(has_data and (not active or paused))
        p.run_button.setText("Resume" if paused else "Run")
        p.pause_button.setEnabled(active)
        p.pause_button.setText("Resume" if paused else "Pause")
        p.stop_button.setEnabled(active)
        for b in (p.step_button, p.step_e_button, p.step_m_button):
            b.setEnabled(has_data and (not active or paused))

    def _set_info(self, text: str) -> None:
        self.info_label.setText(text)

    @Slot()
    def _on_ellipse_action_triggered(self) -> None:
        action = self.sender()
        self.data_view.set_radii(tuple(action.data()))
        if self._truth is not None:
            tm, tc = self._projection.project_params(self._truth)
            self.data_view.set_truth(tm, tc)
        self._dirty = True

    # ================================================================== files, help
    @Slot()
    def _on_open_action_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open data", "",
                                              "Data (*.csv *.tsv *.txt *.dat *.npy);;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> None:
        from gmm_studio.core.dataio import DataError, load_dataset

        try:
            dataset = load_dataset(path)
        except (DataError, OSError) as exc:
            QMessageBox.warning(self, "Cannot open the data", str(exc))
            return
        self.set_dataset(dataset)

    @Slot()
    def _on_save_picture_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save a picture", "gmm-studio.png", "PNG (*.png)")
        if path:
            self.grab().save(path)

    @staticmethod
    def shortcuts_text() -> str:
        return "\n".join(f"{' / '.join(keys):>10}   {what}" for _, keys, what in SHORTCUTS) + \
            "\n        F1   this list"

    @Slot()
    def _on_shortcuts_action_triggered(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", self.shortcuts_text())

    @Slot()
    def _on_about_action_triggered(self) -> None:
        QMessageBox.about(self, "About GMM Studio",
                          "GMM Studio shows Expectation–Maximization fitting a Gaussian mixture: "
                          "the E-step computes each point's responsibilities γ (the colours), "
                          "the M-step re-estimates weights, means and covariances (the ellipses), "
                          "and the log-likelihood climbs until it settles.")

    # ================================================================== persistence, closing
    def _restore_settings(self) -> None:
        store = _settings_store()
        geometry = store.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        values = {}
        store.beginGroup("fit")
        for key in store.childKeys():
            values[key] = store.value(key)
        store.endGroup()
        if values:
            self.panel.set_settings(FitSettings.from_dict(values))
        speed = store.value("view/speed")
        if speed is not None:
            try:
                self.panel.speed_slider.setValue(int(speed))
            except (TypeError, ValueError):
                pass

    def save_settings(self) -> None:
        store = _settings_store()
        store.setValue("window/geometry", self.saveGeometry())
        store.beginGroup("fit")
        for key, value in self.settings().to_dict().items():
            store.setValue(key, value)
        store.endGroup()
        store.setValue("view/speed", self.panel.speed())
        store.sync()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.file_actions.drag_entered(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.file_actions.drag_entered(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.file_actions.dropped(event)

    def closeEvent(self, event) -> None:
        """Stop and join every fit thread before the window goes away."""
        self._redraw_timer.stop()
        self._scrub_timer.stop()
        self.file_actions.shutdown()
        self.generator_panel.shutdown()
        self.sweep_panel.shutdown()
        self._fit.shutdown()
        self._end_run(self._live)
        try:
            if self._persist:
                self.save_settings()
        except Exception:  # noqa: BLE001 - a settings file we cannot write must not block closing
            pass
        super().closeEvent(event)


def _components_coincide(params: MixtureParams, x: np.ndarray) -> bool:
    """True when K > 1 means lie within 5 % of the data's spread of each other."""
    if params.n_components < 2:
        return False
    spread = float(np.sqrt(np.var(x, axis=0).sum()))
    return float(np.ptp(params.means, axis=0).max()) < 0.05 * spread


def _diagnostics(counts: np.ndarray):
    from gmm_studio.core.em import ComponentDiagnostics

    nan = np.full(len(counts), np.nan)
    return ComponentDiagnostics(counts, nan, nan)
