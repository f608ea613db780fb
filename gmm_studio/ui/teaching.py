"""The teaching pieces of the window: the bound view, the density, K-means, the demos.

:class:`Teaching` is installed on a built :class:`~gmm_studio.ui.main_window.MainWindow` (after
its menus) and adds, without the window knowing their insides:

* a "Jensen bound" dock (:class:`~gmm_studio.ui.bound_view.BoundPanel`, built the first time
  the dock is shown: a plot costs ~20 ms of start-up) that follows the shown state — live,
  stepping or scrubbed — computing its slice as a "bound" task on the window's runner, and
  only while the dock is visible;
* View › Density (Ctrl+D): log p(x) of the shown mixture under the points;
* the likelihood view's names for K-means (−WCSS/N) and Tools › Compare K-means and EM
  (:class:`~gmm_studio.ui.compare_dialog.CompareDialog`);
* Help › Demos: one action per :data:`gmm_studio.core.demos.DEMO_TITLES` entry, loading its
  data, truth and settings, with its explanation in an "About this demo" dock.

GUI thread only.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QWidget

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.demos import DEMO_TITLES, Demo, build_demo
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.ui.file_actions import pass_drops_up
from gmm_studio.ui.compare_dialog import CompareDialog, comparison_work, initial_for_comparison
from gmm_studio.ui.window_menus import _action  # the menus' one way to make a keyed action

__all__ = ["Teaching"]


class Teaching(QObject):
    """Adds the teaching docks, actions and menus to ``window``; see the module docstring.

    Attributes
    ----------
    bound_panel, bound_dock : the Jensen bound (built on first use) and its dock
    density_action : QAction (checkable)
    compare_action : QAction
    compare_dialog : CompareDialog or None (built when first used)
    demo_menu : QMenu, with ``demo_actions`` (key → QAction)
    demo_label, demo_dock : the shown demo's explanation
    demo : the last :class:`~gmm_studio.core.demos.Demo` loaded, or None
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.demo: Demo | None = None
        self.compare_dialog: CompareDialog | None = None

        self._bound_panel = None
        self.bound_dock = window.add_panel(QWidget(), "Jensen bound",
                                           Qt.DockWidgetArea.RightDockWidgetArea)
        window.tabifyDockWidget(window.components_dock, self.bound_dock)
        window.components_dock.raise_()
        # isVisible() stays true for a dock behind another's tab; visibilityChanged does not.
        self._bound_seen = False
        self.bound_dock.visibilityChanged.connect(self._on_bound_dock_visibility_changed)

        self.demo_label = QLabel(objectName="demoExplanation")
        self.demo_label.setWordWrap(True)
        self.demo_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.demo_label.setMargin(6)
        # Above the views, the width of the window: two or three sentences fit in a few lines.
        self.demo_dock = window.add_panel(self.demo_label, "About this demo",
                                          Qt.DockWidgetArea.TopDockWidgetArea)
        self.demo_label.setMaximumHeight(5 * self.demo_label.fontMetrics().lineSpacing() + 12)
        self.demo_dock.hide()

        self.density_action = QAction("Density log p(x) under the points", window, checkable=True)
        self.density_action.setShortcut(QKeySequence("Ctrl+D"))
        self.density_action.setToolTip("Shade the log density of the shown mixture (Ctrl+D)")
        self.density_action.toggled.connect(self._on_density_action_toggled)
        window.addAction(self.density_action)
        window.view_menu.insertAction(window.ellipse_menu.menuAction(), self.density_action)

        self.bound_action = _action(window, "Show the Jensen bound", self.show_bound, "Ctrl+B")
        self.compare_action = _action(window, "Compare K-means and EM…", self.compare, "Ctrl+Shift+K")
        window.tools_menu.addAction(self.bound_action)
        window.tools_menu.addAction(self.compare_action)

        self.demo_menu = QMenu("Demos", window)
        window.help_menu.insertMenu(window.help_menu.actions()[0], self.demo_menu)
        self.demo_actions = {}
        for key, title in DEMO_TITLES.items():
            action = _action(window, title, functools.partial(self.load_demo, key))
            self.demo_menu.addAction(action)
            self.demo_actions[key] = action

        for signal, slot in self._connections():
            signal.connect(slot)

    def _connections(self):
        s = self.session
        return ((s.shown_changed, self._on_session_shown_changed),
                (s.projection_changed, self._on_session_shown_changed),
                (s.settings_changed, self._on_session_settings_changed),
                (s.dataset_changed, self._on_session_dataset_changed),
                (self.window.editing.preview_changed, self._on_editing_preview_changed))

    def stop(self) -> None:
        """Stop following the session (the window is closing)."""
        for signal, slot in self._connections():
            signal.disconnect(slot)

    # ------------------------------------------------------------------ following the session
    def _on_session_shown_changed(self, *_) -> None:
        self._draw_density()
        self._draw_bound()
        self._name_curve()

    def _on_editing_preview_changed(self, _preview) -> None:
        self._draw_density()  # the density follows a component dragged by hand

    def _on_session_settings_changed(self, _settings) -> None:
        self._name_curve()

    def _on_session_dataset_changed(self, _dataset) -> None:
        if self.demo is not None and _dataset.source != _demo_source(self.demo):
            self.demo = None
            self.demo_dock.hide()

    def _name_curve(self) -> None:
        """The likelihood view names what the shown state's algorithm plots (the setting's before a fit)."""
        snap = self.session.shown.snapshot
        kmeans = isinstance(snap, KMeansSnapshot) if snap is not None else \
            self.session.settings.algorithm == "kmeans"
        self.window.likelihood_view.set_algorithm("kmeans" if kmeans else "em")

    # ------------------------------------------------------------------ density
    @Slot(bool)
    def _on_density_action_toggled(self, on: bool) -> None:
        self._draw_density()
        self.window.data_view.set_density_visible(on)

    def _draw_density(self) -> None:
        if not self.density_action.isChecked():
            return
        s = self.session
        snap = s.shown.snapshot
        preview = self.window.editing.preview
        params = preview.params if preview is not None else None if snap is None else snap.params
        projection = s.projection if params is not None and params.n_features > 2 else None
        self.window.data_view.set_density_params(params, projection)

    # ------------------------------------------------------------------ the bound
    @property
    def bound_panel(self):
        """The :class:`~gmm_studio.ui.bound_view.BoundPanel`, built (into its dock) on first use."""
        if self._bound_panel is None:
            from gmm_studio.ui.bound_view import BoundPanel

            self._bound_panel = BoundPanel()
            self._bound_panel.set_runner(self.window.runner)
            self.bound_dock.setWidget(self._bound_panel)
            pass_drops_up(self._bound_panel.view)  # a file dropped on it opens, as on any view
        return self._bound_panel

    def show_bound(self) -> None:
        """Show and raise the bound dock."""
        self.bound_dock.show()
        self.bound_dock.raise_()

    @Slot(bool)
    def _on_bound_dock_visibility_changed(self, visible: bool) -> None:
        self._bound_seen = visible
        if visible:
            self._draw_bound()

    def _draw_bound(self) -> None:
        """Give the panel the E-step of the shown iteration and the M-step after it (if any)."""
        if not self._bound_seen:
            return
        s = self.session
        h, snap, index = s.history, s.shown.snapshot, s.shown.index
        if snap is None or index is None or snap.half_step == "init":
            self.bound_panel.show_state(None, None)
            return
        if isinstance(snap, KMeansSnapshot):
            self.bound_panel.show_state(None, None)
            self.bound_panel.status.setText("K-means has no bound: its assignments are hard, so "
                                            "there is no q to make a Jensen bound from. Choose EM.")
            return
        if snap.half_step == "E":
            e_snap, after = snap, "E"
            following = h[index + 1] if index + 1 < len(h) else None
            next_params = following.params if following is not None and following.half_step == "M" \
                and following.restart == snap.restart else None
        else:
            previous = h[index - 1] if index > 0 else None
            if previous is None or previous.half_step != "E" or previous.restart != snap.restart:
                self.bound_panel.show_state(None, None)
                return
            e_snap, next_params, after = previous, snap.params, "M"
        self.bound_panel.show_state(s.emdata(e_snap.params.covariance_type), e_snap, next_params,
                                    after=after, reg_covar=s.settings.reg_covar,
                                    names=tuple(s.dataset.columns))

    # ------------------------------------------------------------------ K-means and EM
    def compare(self) -> None:
        """Run K-means and EM from the same initial means (on the runner) and show them side by side."""
        s, w = self.session, self.window
        try:
            initial = initial_for_comparison(s)
        except ValueError as exc:
            w.info_label.setText(str(exc))
            return
        labels = s.truth_labels if s.truth_labels is not None else getattr(s.dataset, "labels", None)
        if self.compare_dialog is None:
            self.compare_dialog = CompareDialog(w)
        dialog = self.compare_dialog
        dialog.set_pending()
        dialog.show()
        dialog.raise_()
        x, projection = s.x, s.projection
        s.runner.start("kmeans_compare", comparison_work(x, initial, labels, s.settings),
                       on_finished=lambda result: dialog.show_result(result, x, projection),
                       on_failed=lambda exc: dialog.show_failure(
                           f"The comparison could not be computed: {exc}"))

    # ------------------------------------------------------------------ demos
    def load_demo(self, key: str) -> None:
        """Load demo ``key``: its data, truth, settings and algorithm, and its explanation."""
        demo = build_demo(key)
        s, w = self.session, self.window
        dataset = dataset_from_array(demo.values, demo.columns, labels=demo.labels,
                                     source=_demo_source(demo))
        self.demo = demo
        s.set_dataset(dataset, demo.truth, truth_labels=demo.labels)
        w.panel.set_settings(demo.settings.replace(
            algorithm="kmeans" if demo.algorithm == "kmeans" else "em"))
        if demo.initial is not None:
            s.show_model(demo.initial)
        self.demo_label.setText(f"<b>{demo.title}</b><br>{demo.explanation}")
        self.demo_dock.show()
        w.panel_dock.raise_()  # the fit controls, not a Generate tab left on top (Run is there)
        hint = "Press Run (Space) to watch it, or Step (S) one iteration at a time."
        if demo.algorithm == "compare":
            hint = "K-means and EM are compared in their own window; Run fits EM here."
            self.compare()
        elif demo.k_values is not None:
            hint = ("The sweep beside the data is scoring every K (its table and plot fill in); "
                    "Run fits the K set here.")
            w.sweep_dock.show()
            w.sweep_dock.raise_()
            w.sweep_panel.k_min_spin.setValue(min(demo.k_values))
            w.sweep_panel.k_max_spin.setValue(max(demo.k_values))
            w.sweep_panel.run()
        w.info_label.setText(f"Demo: {demo.title}. {hint}")


def _demo_source(demo: Demo) -> str:
    return f"demo: {demo.title}"

