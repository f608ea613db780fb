"""K-means beside EM: both run to the end from the same initial means, drawn side by side.

The course notes' first contrast: K-means gives every point to its nearest centre (hard r_nk,
boundaries halfway between centres), EM shares points by their responsibilities and learns
each component's spread and shape.  :func:`comparison_work` runs
:func:`gmm_studio.core.kmeans.compare_with_em` on the window's runner (with the colours packed
there too); :class:`CompareDialog` draws the two results in two small data views, each titled
with its adjusted Rand index against the known labels.  One-feature data get two histograms
instead, each bin split by the fit's hard labels: K-means' centres with its boundaries halfway
between neighbours, EM's fitted component densities.  GUI thread, except the work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QWidget

from gmm_studio.core import restarts
from gmm_studio.core.geometry import Projection
from gmm_studio.core.kmeans import Comparison, compare_with_em
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.words import counted
from gmm_studio.session.fitting import restart_rng
from gmm_studio.ui import colors as colors_mod
from gmm_studio.ui.data_view import DataView
from gmm_studio.ui.histogram_view import HistogramView
from gmm_studio.ui.one_d import bin_split

__all__ = ["CompareDialog", "ComparisonResult", "comparison_work", "initial_for_comparison"]


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """A :class:`~gmm_studio.core.kmeans.Comparison` with the two colourings, packed."""

    comparison: Comparison
    kmeans_colors: np.ndarray
    em_colors: np.ndarray


def initial_for_comparison(session) -> MixtureParams:
    """The shared start: the session's placed means, else its initialiser's first restart
    (the same start Run would take).  Owner thread; raises ValueError (a sentence) without data."""
    s = session.settings
    if session.dataset is None:
        raise ValueError("Open or generate data first: the comparison fits them.")
    data = session.emdata(s.covariance_type)
    placed = session.placed_means
    start = restarts.Start.from_means(placed) if len(placed) else None
    policy = restarts.RestartPolicy.from_settings(s.replace(algorithm="em"))
    return restarts.initial_params(data, session.x, policy, 0, restart_rng(s.seed, 0), start)


def comparison_work(x: np.ndarray, initial: MixtureParams, labels, settings):
    """Runner work: both fits and their hard colours.  Runs on the runner's thread."""
    def work(cancel):
        comparison = compare_with_em(x, initial, labels, tol=settings.tol,
                                     reg_covar=settings.reg_covar, max_iter=settings.max_iter)
        palette = colors_mod.component_palette(initial.n_components)
        return ComparisonResult(comparison,
                                colors_mod.packed_colors(comparison.kmeans.responsibilities, palette, "hard"),
                                colors_mod.packed_colors(comparison.em.responsibilities, palette, "hard"))
    return work


def _ari_text(name: str, ari: float | None) -> str:
    if ari is None:
        return f"{name} — no labels to score against"
    return f"{name} — ARI {ari:.3f} against the true labels"


class CompareDialog(QDialog):
    """Two data views: K-means (left) and EM (right), from the same initial means.

    Attributes: ``kmeans_view``, ``em_view`` (:class:`DataView`), ``kmeans_label``,
    ``em_label`` (their titles with the ARI), ``result`` (the last :class:`ComparisonResult`),
    and for 1-D data ``kmeans_histogram``, ``em_histogram`` (:class:`HistogramView`, built
    the first time) with ``kmeans_lines`` (the centres' and boundaries' vertical lines).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle("K-means and EM from the same initial means")
        self.resize(1000, 520)
        self.kmeans_view, self.em_view = DataView(), DataView()
        self.kmeans_view.setObjectName("kmeansCompareView")
        self.em_view.setObjectName("emCompareView")
        self.kmeans_label = QLabel(objectName="kmeansAriLabel")
        self.em_label = QLabel(objectName="emAriLabel")
        self.note = QLabel("Computing both fits…", objectName="compareNote")
        self.note.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(self.kmeans_label, 0, 0)
        grid.addWidget(self.em_label, 0, 1)
        grid.addWidget(self.kmeans_view, 1, 0)
        grid.addWidget(self.em_view, 1, 1)
        grid.addWidget(self.note, 2, 0, 1, 2)
        grid.setRowStretch(1, 1)
        self._grid = grid
        self.result: ComparisonResult | None = None
        self.kmeans_histogram: HistogramView | None = None
        self.em_histogram: HistogramView | None = None
        self.kmeans_lines: list[pg.InfiniteLine] = []

    def set_pending(self) -> None:
        """A comparison is being computed: say so, keep the old pictures until it arrives."""
        self.note.setText("Computing both fits…")

    def show_failure(self, message: str) -> None:
        self.note.setText(message)

    def show_result(self, result: ComparisonResult, x: np.ndarray, projection: Projection) -> None:
        """Draw both fits of ``x`` through ``projection`` (one feature: as histograms)."""
        self.result = result
        c = result.comparison
        one_d = x.shape[1] == 1
        for view in (self.kmeans_view, self.em_view):
            view.setVisible(not one_d)
        if one_d:
            self._show_histograms(c, x[:, 0], projection.axis_titles[0])
        else:
            for view in (self.kmeans_histogram, self.em_histogram):
                if view is not None:
                    view.setVisible(False)
            points = projection.project_points(x)
            palette = colors_mod.component_palette(c.em.params.n_components)
            for view, snapshot, packed in ((self.kmeans_view, c.kmeans, result.kmeans_colors),
                                           (self.em_view, c.em, result.em_colors)):
                view.set_points(points, projection.axis_titles)
                view.set_palette(palette)
                view.set_colors(packed)
                view.show_components(*projection.project_params(snapshot.params))
        self.kmeans_label.setText(_ari_text(f"K-means ({counted(c.kmeans.iteration, 'iteration')})", c.kmeans_ari))
        self.em_label.setText(_ari_text(f"EM ({counted(c.em.iteration, 'iteration')})", c.em_ari))
        if one_d:
            self.note.setText(
                "Both started from the same initial means; the bins are split by each fit's hard "
                "labels. K-means cuts the line halfway between neighbouring centres (dashed), "
                "whatever the clusters' spreads and sizes; EM learns each component's weight and "
                "σ, so a wide component keeps points beyond the midpoint.")
            return
        self.note.setText(
            "Both started from the same initial means. K-means' boundaries lie halfway between "
            "centres (its circles show each cluster's spread, not a shape it learnt); EM learns "
            "every component's weight, spread and orientation.")

    def _show_histograms(self, c: Comparison, x: np.ndarray, name: str) -> None:
        if self.kmeans_histogram is None:
            self.kmeans_histogram, self.em_histogram = HistogramView(), HistogramView()
            self.kmeans_histogram.setObjectName("kmeansCompareHistogram")
            self.em_histogram.setObjectName("emCompareHistogram")
            self._grid.addWidget(self.kmeans_histogram, 1, 0)
            self._grid.addWidget(self.em_histogram, 1, 1)
        palette = colors_mod.component_palette(c.em.params.n_components)
        for view, snapshot in ((self.kmeans_histogram, c.kmeans), (self.em_histogram, c.em)):
            view.setVisible(True)
            view.set_data(x, name)
            split = bin_split(x, view.edges, snapshot.responsibilities, "hard")
            # K-means has centres, no densities: its bins only, in the components' colours
            view.show_params(snapshot.params if view is self.em_histogram else None,
                             bin_split=split._replace(rgb=palette))
        plot = self.kmeans_histogram.getPlotItem()
        for line in self.kmeans_lines:
            plot.removeItem(line)
        centres = c.kmeans.params.means[:, 0]
        order = np.argsort(centres)
        self.kmeans_lines = [pg.InfiniteLine(float(centres[k]), angle=90,
                                             pen=pg.mkPen(tuple(int(255 * v) for v in palette[k]), width=2.5))
                             for k in order]
        ends = 0.5 * (centres[order][1:] + centres[order][:-1])
        self.kmeans_lines += [pg.InfiniteLine(float(b), angle=90,
                                              pen=pg.mkPen(60, 60, 60, width=1.5, style=Qt.PenStyle.DashLine))
                              for b in ends]
        for line in self.kmeans_lines:
            plot.addItem(line)
