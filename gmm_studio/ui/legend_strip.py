"""A legend in a strip above a plot's data area, so it never covers what it explains.

pyqtgraph's ``addLegend`` floats the legend over the ViewBox, where it hides points and curves
whatever corner it is put in.  :class:`LegendStrip` instead anchors ``LegendItem`` s to the
``PlotItem`` and reserves the plot layout's first row (the title row, unused by these views)
for them.  Entries come in groups (what the lines mean; what the point colours mean), one
legend per group stacked top to bottom, and each group's entries flow into as many columns as
the plot's width allows.  GUI thread only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Slot

__all__ = ["LegendStrip"]

#: Gap in pixels around the strip.
_MARGIN = 3
#: The title row of a PlotItem's grid layout.
_TITLE_ROW = 0

Entry = tuple[pg.GraphicsObject, str]


class LegendStrip(QObject):
    """Groups of entries above the data area of ``plot_item``, re-flowed on resize.

    Parameters
    ----------
    plot_item : pyqtgraph.PlotItem
        The plot; it must have no title (the strip takes the title row).
    **legend_options
        Passed to each :class:`pyqtgraph.LegendItem` (``labelTextSize``, ``labelTextColor``).
    """

    def __init__(self, plot_item: pg.PlotItem, **legend_options) -> None:
        super().__init__(plot_item)
        self._plot_item = plot_item
        self._options = legend_options
        self.legends: list[pg.LegendItem] = []
        plot_item.geometryChanged.connect(self._on_plot_item_geometry_changed)
        self.relayout()

    def set_groups(self, groups: Sequence[Sequence[Entry]]) -> None:
        """Replace every entry: per group, ``(sample item, text)`` pairs in reading order."""
        groups = [g for g in groups if g]
        while len(self.legends) < len(groups):
            legend = pg.LegendItem(frame=False, **self._options)
            legend.setParentItem(self._plot_item)
            # The entries explain, they are not handles: a drag must not move the legend over
            # the data, nor a click hide a sample (pyqtgraph's defaults).
            legend.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            legend.layout.setContentsMargins(0, 0, 0, 0)  # the style's 9 px would double the gaps
            self.legends.append(legend)
        for i, legend in enumerate(self.legends):
            legend.clear()
            for sample, text in groups[i] if i < len(groups) else ():
                legend.addItem(sample, text)
            for sample, _ in legend.items:
                sample.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            legend.setVisible(bool(legend.items))
        self.relayout()

    def texts(self) -> list[str]:
        """Every entry's text, group by group."""
        return [label.text for legend in self.legends for _, label in legend.items]

    @Slot()
    def _on_plot_item_geometry_changed(self) -> None:
        self.relayout()

    def relayout(self) -> None:
        """Fit each group into the fewest rows the width allows and size the strip to them."""
        width = self._plot_item.width()
        top = _MARGIN
        for legend in self.legends:
            if not legend.items:
                continue
            columns = len(legend.items)
            while columns > 1:
                legend.setColumnCount(columns)
                if legend.width() <= width - 2 * _MARGIN:
                    break
                columns -= 1
            legend.setColumnCount(columns)
            legend.updateSize()
            legend.setPos(max(_MARGIN, (width - legend.width()) / 2), top)
            top += legend.height()
        self._plot_item.layout.setRowFixedHeight(_TITLE_ROW, top + _MARGIN if top > _MARGIN else 0)
        # Settle the data area now rather than at the next event loop, so a grab or an export
        # right after new entries already has the room made for them.
        self._plot_item.layout.activate()
