"""Drawing the session: the adapter between :class:`gmm_studio.session.Session` and the views.

:class:`SessionDrawing` subscribes to the session's signals and draws what it says into the
data view (points, colours, ellipses, placed means, the truth), the likelihood view (curves,
scrub cursor, convergence line), the components table, the scrub slider and the status line.
It keeps nothing the session knows; it only remembers what it drew, so a redraw skips what did
not change.  GUI thread only.

Throttle: the session may report every half-step; signals only mark what is stale and a 30 Hz
timer draws the latest state once (the likelihood curve still takes every value), and while a
fit runs no more often than keeps drawing within :data:`GUI_SHARE` of the GUI thread's time.
"""

from __future__ import annotations

import functools
import time
import weakref

import numpy as np
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QLabel, QPushButton, QSlider

from gmm_studio.core.em import EMData, Snapshot
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.session import Session
from gmm_studio.session.status import half_step_name
from gmm_studio.ui import colors as colors_mod
from gmm_studio.ui.component_table import ComponentTable
from gmm_studio.ui.control_panel import ControlPanel
from gmm_studio.ui.data_view import NEUTRAL_ARGB, DataView
from gmm_studio.ui.likelihood_view import LikelihoodView, half_step_x
from gmm_studio.ui.raster import uniform_source

__all__ = ["COLOR_MODES", "SessionDrawing"]

COLOR_MODES = ("blend", "hard", "uncertainty", "truth")
_REDRAW_MS = 33
#: Drawing a state (the redraw and the paints it causes) may take at most this share of the
#: GUI thread; when frames cost more (a slow or busy machine, EM faster than the screen) the
#: states in between are skipped.  Every GUI-thread moment also holds the GIL the engine needs
#: between its numpy calls, and a paint holds it throughout (PySide6 keeps the GIL in C++
#: calls): the fit thread waits out every frame, so a share of s slows the fit by about s.
#: At 1e6 points a frame costs ~14 ms here; 0.25 made the fit 1.31x the engine alone, 0.15
#: made it 1.22x (medians of 5, benchmarks/bench_stall.py), at ~7 frames a second.
GUI_SHARE = 0.15
#: ... but a state is drawn at least this often (seconds), however busy the GUI thread is.
_MAX_WAIT_S = 0.25
_UNKNOWN = object()  # "not known what the points show": the next redraw sets their colours


class SessionDrawing(QObject):
    """Draws a session into the window's views; see the module docstring.  GUI thread."""

    def __init__(self, session: Session, *, data_view: DataView, likelihood_view: LikelihoodView,
                 component_table: ComponentTable, panel: ControlPanel, slider: QSlider,
                 history_label: QLabel, live_button: QPushButton, status_label: QLabel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.data_view, self.likelihood_view = data_view, likelihood_view
        self.component_table, self.panel = component_table, panel
        self.slider, self.history_label, self.live_button = slider, history_label, live_button
        self.status_label = status_label
        self.palette = colors_mod.component_palette(session.settings.n_components)
        self.data_view.set_palette(self.palette)
        self._drawn_colors_key: object = _UNKNOWN
        self._drawn_palette: object = None  # the palette of the key, held so its id() is not reused
        # Colours are packed on the runner ("colors" task, ~10-20 ms at 1e6 points), not here:
        # the latest finished (key, palette, colours, legend), and the key of the task in flight.
        self._ready: tuple | None = None
        self._pending_key: tuple | None = None
        # Nothing here holds a γ: at 1e7 points each is 800 MB, and the engine writes the next
        # E-step into a γ nobody holds any more (core.em), so a γ kept for drawn colours meant
        # a fresh one per E-step.  γ are named by a number (the weakly held latest one).
        self._gamma_seen: weakref.ref | None = None
        self._gamma_number = 0
        self._dirty = True
        self._frame: tuple[float, float] | None = None  # (wall, GUI CPU) when the last timed redraw began
        self.preview = None  # an EditPreview drawn instead of the shown state (a drag by hand)
        for signal, slot in self._connections():
            signal.connect(slot)
        panel.color_mode_changed.connect(self._on_panel_color_mode_changed)
        data_view.pointer.point_hovered.connect(self._on_data_view_point_hovered)
        self.hover_text = ""
        self._timer = QTimer(self)
        self._timer.setInterval(_REDRAW_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    def stop(self) -> None:
        """Stop drawing (the window is closing)."""
        self._timer.stop()
        for signal, slot in self._connections():
            signal.disconnect(slot)

    def _connections(self):
        s = self.session
        return ((s.dataset_changed, self._on_session_dataset_changed),
                (s.projection_changed, self._on_session_projection_changed),
                (s.history_changed, self._on_session_history_changed),
                (s.snapshot_added, self._on_session_snapshot_added),
                (s.shown_changed, self._on_session_changed),
                (s.responsibilities_changed, self._on_session_changed),
                (s.events_changed, self._on_session_changed),
                (s.state_changed, self._on_session_changed),
                (s.placed_changed, self._on_session_placed_changed),
                (s.selection_changed, self._on_session_selection_changed),
                (s.fit_ended, self._on_session_fit_ended))

    # ------------------------------------------------------------------ session events
    def _on_session_dataset_changed(self, dataset) -> None:
        self._drawn_colors_key = _UNKNOWN
        self._dirty = True

    def _on_session_projection_changed(self, projection) -> None:
        s = self.session
        self.data_view.set_points(projection.project_points(s.x), projection.axis_titles)
        self._draw_truth()
        self._on_session_placed_changed(s.placed_means)
        self._drawn_colors_key = _UNKNOWN
        self._dirty = True

    def _on_session_history_changed(self) -> None:
        self.likelihood_view.reset()
        history = self.session.history
        for snapshot, origin in zip(history, history.origins):
            self.likelihood_view.append(snapshot, origin)
        self.likelihood_view.set_converged(None)
        self._dirty = True

    def _on_session_snapshot_added(self, snapshot: Snapshot) -> None:
        self.likelihood_view.append(snapshot)
        self._dirty = True

    def _on_session_changed(self, *_) -> None:
        self._dirty = True

    def _on_session_placed_changed(self, placed: np.ndarray) -> None:
        projection = self.session.projection
        if len(placed) and projection is not None:
            self.data_view.set_placed_means(projection.project_points(placed))
        else:
            self.data_view.set_placed_means(np.zeros((0, 2)))

    def _on_session_selection_changed(self, k: int | None) -> None:
        self.data_view.set_highlight(k)
        self.component_table.select(k)

    def _on_session_fit_ended(self, outcome) -> None:
        if outcome.n_restarts > 1 and outcome.best_restart is not None:
            self.likelihood_view.set_best(outcome.best_restart)
        final = outcome.final
        if final is not None and outcome.reason == "converged":
            self.likelihood_view.set_converged(half_step_x(final))
        self._dirty = True

    @Slot(str)
    def _on_panel_color_mode_changed(self, _mode: str) -> None:
        self._dirty = True

    @Slot(int)
    def _on_data_view_point_hovered(self, index: int) -> None:
        snap = self.session.shown.snapshot
        dragging = self.preview is not None and not self.preview.settled  # the read-out would hide the hand
        if index < 0 or snap is None or dragging:
            self.hover_text = ""
            self.data_view.pointer.show_text("")
            return
        self.hover_text = self.point_text(index, snap.params)
        self.data_view.pointer.show_text(self.hover_text)

    def point_text(self, index: int, params) -> str:
        """Text naming point ``index`` and its responsibilities γ_nk under ``params``."""
        x = self.session.x[index : index + 1]
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

    def set_preview(self, preview) -> None:
        """Draw ``preview`` (an :class:`~gmm_studio.ui.editing_binder.EditPreview`) instead of
        the shown state; None: the shown state again."""
        self.preview = preview
        self._dirty = True

    @Slot()
    def _on_timer_timeout(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self._frame is not None and self.session.state.busy:
            # Only while a fit runs: once it stops, the person acts on what is drawn (the
            # scrub bar's range, the buttons), so the latest state is drawn at the next tick.
            # The GUI thread's CPU time since the last redraw began: that redraw, its paints,
            # and whatever else the thread did meanwhile (the snapshots' arrival included).
            start, start_cpu = self._frame
            if self._dirty and now - start < min(_MAX_WAIT_S, (cpu - start_cpu) / GUI_SHARE):
                return  # stay dirty: a later tick draws the latest state
        if self._dirty:
            self._frame = (now, cpu)
            self.redraw()

    # ------------------------------------------------------------------ drawing
    def set_radii(self, radii: tuple[float, ...]) -> None:
        """Draw the ellipses at these Mahalanobis radii (the truth's too)."""
        self.data_view.set_radii(radii)
        self._draw_truth()
        self._dirty = True

    def _draw_truth(self) -> None:
        s = self.session
        if s.truth is not None and s.projection is not None and s.truth.n_features == s.x.shape[1]:
            self.data_view.set_truth(*s.projection.project_params(s.truth))
        else:
            self.data_view.set_truth(None, None)

    def redraw(self) -> None:
        """Draw the shown state now (the timer calls this at most ~30 times a second)."""
        self._dirty = False
        s = self.session
        shown = s.shown
        snap = shown.snapshot
        self._sync_slider()
        if snap is not None and len(self.palette) != snap.params.n_components:
            self.palette = colors_mod.component_palette(snap.params.n_components)
            self.data_view.set_palette(self.palette)
        preview = self.preview
        gamma = shown.responsibilities
        if preview is not None and preview.responsibilities is not None:
            gamma = preview.responsibilities
        self._draw_colors(gamma)
        self.likelihood_view.set_cursor(
            None if s.history.cursor is None or snap is None else half_step_x(snap))
        self.likelihood_view.refresh()
        if snap is None or s.projection is None:
            self.data_view.clear_components()
            self.component_table.set_model(None, None, self.palette)
            self.status_label.setText(shown.status_text())
            return
        params = snap.params if preview is None else preview.params
        means2, covs2 = s.projection.project_params(params)
        flagged = {e.component: e.kind for e in shown.events if e.component < params.n_components}
        kmeans = preview.kmeans if preview is not None else isinstance(snap, KMeansSnapshot)
        self.data_view.set_centres_only(kmeans)
        self.data_view.show_components(means2, covs2, flagged)
        self.data_view.set_highlight(s.selected)
        counts = snap.diagnostics.effective_counts if preview is None or preview.responsibilities is None \
            else preview.responsibilities.sum(axis=0)
        self.component_table.set_model(params, counts, self.palette, kmeans=kmeans)
        self.status_label.setText(shown.status_text() if preview is None else preview.status_text())

    def _gamma_key(self, gamma: np.ndarray) -> int:
        """A number for ``gamma`` that, unlike its id(), is never given to another array."""
        if self._gamma_seen is None or self._gamma_seen() is not gamma:
            self._gamma_number += 1
            self._gamma_seen = weakref.ref(gamma)
        return self._gamma_number

    def _draw_colors(self, gamma: np.ndarray | None) -> None:
        mode = self.panel.color_mode()
        labels = getattr(self.session.dataset, "labels", None)
        palette = self.palette
        fitted = gamma is not None and gamma.shape[1] == len(palette)
        if mode == "truth" and labels is not None:
            # each true class in the colour of the component it matches, named in the legend
            key = ("truth", self._gamma_key(gamma) if fitted else None, id(palette))
            work = (lambda cancel: colors_mod.true_label_colours(labels, palette, gamma.argmax(axis=1))) \
                if fitted else (lambda cancel: colors_mod.true_label_colours(labels))
        elif not fitted:
            self._set_colors(("none",), None, None, None)
            return
        else:
            # Only the points on top of a pixel are coloured, on the runner: O(pixels), not O(N)
            # (PointCloud.visible_owners); the cloud colours any others it needs from the γ
            # drawn by then (_owner_colors).
            mode = "blend" if mode == "truth" else mode
            owners = self.data_view.cloud.visible_owners()
            key = ("gamma", self._gamma_key(gamma), mode, id(palette), owners.revision)
            work = lambda cancel: (owners.revision, colors_mod.packed_colors(  # noqa: E731
                gamma, palette, mode, rows=owners.indices))
        if self._ready is not None and self._ready[0] == key:
            self._set_colors(*self._ready)
        elif key != self._pending_key:
            self._pending_key = key
            self.session.runner.start(
                "colors", work,
                on_finished=lambda colors: self._on_colors_packed(key, palette, colors))

    def _on_colors_packed(self, key: tuple, palette: np.ndarray, colors) -> None:
        legend = None
        if isinstance(colors, colors_mod.LabelColours):
            legend, colors = colors, colors.rgba
        self._ready = (key, palette, colors, legend)
        if self._pending_key == key:
            self._pending_key = None
        self._dirty = True

    def colors_up_to_date(self) -> bool:
        """Whether the points show the colours of the shown state: none being packed, and no
        redraw waiting (frames are throttled, see :data:`GUI_SHARE`)."""
        return self._pending_key is None and not self._dirty

    def _owner_colors(self, mode: str, palette: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Colours of more points (a pan or zoom showed them) from the γ drawn now; GUI thread.
        O(len(rows)); grey when that γ is gone (a new one is being coloured)."""
        gamma = None if self._gamma_seen is None else self._gamma_seen()
        if gamma is None or gamma.shape[1] != len(palette):
            return uniform_source(NEUTRAL_ARGB)(rows)
        return colors_mod.packed_colors(gamma, palette, mode, rows=rows)

    def _set_colors(self, key: tuple, palette: object, colors, legend) -> None:
        if key != self._drawn_colors_key:
            self._drawn_colors_key, self._drawn_palette = key, palette
            if isinstance(colors, tuple):  # (owners' revision, their colours)
                source = functools.partial(self._owner_colors, key[2], palette)
                self.data_view.cloud.set_owner_colors(colors[0], colors[1], source)
            else:
                self.data_view.set_colors(colors)
            if legend is None:
                self.data_view.set_class_legend(None)
            else:
                self.data_view.set_class_legend(legend.names, legend.rgb)

    def _sync_slider(self) -> None:
        s = self.session
        h = s.history
        n = len(h)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        index = h.shown_index
        self.slider.setValue(0 if index is None else index)
        self.slider.blockSignals(False)
        why = s.why_not("scrub")
        self.slider.setEnabled(why is None)
        self.slider.setToolTip(why or "Scrub back through every half-step of the fit; the right "
                                      "end (or Live, End) follows the fit")
        why_live = s.why_not("go_live")
        self.live_button.setEnabled(why_live is None)
        self.live_button.setToolTip(why_live or "Return to the live fit (End)")
        if n:
            i = index
            e = h[i]
            what = "edit" if h.origins[i] == "edit" else half_step_name(e)
            self.history_label.setText(f"{i + 1}/{n}: it. {e.iteration} {what}"
                                       + ("" if h.cursor is not None else " (live)"))
        else:
            self.history_label.setText("no history")
