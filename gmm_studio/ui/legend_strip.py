"""A legend in a strip above a plot's data area, so it never covers what it explains.

pyqtgraph's ``addLegend`` floats the legend over the ViewBox, where it hides points and curves
whatever corner it is put in.  :class:`LegendStrip` instead anchors a ``LegendItem`` to the
``PlotItem`` and reserves the plot layout's first row (the title row, unused by these views)
for it; the entries flow into as many columns as the plot's width allows.  GUI thread only.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Slot

__all__ = ["LegendStrip"]

#: Gap in pixels between the strip and the top of the plot and between it and the data area.
_MARGIN = 3
#: The title row of a PlotItem's grid layout.
_TITLE_ROW = 0


class LegendStrip(QObject):
    """Entries above the data area of ``plot_item``, re-flowed when the plot is resized.

    Parameters
    ----------
    plot_item : pyqtgraph.PlotItem
        The plot; it must have no title (the strip takes the title row).
    **legend_options
        Passed to :class:`pyqtgraph.LegendItem` (``labelTextSize``, ``labelTextColor``, ...).
    """

    def __init__(self, plot_item: pg.PlotItem, **legend_options) -> None:
        super().__init__(plot_item)
        self._plot_item = plot_item
        self.legend = pg.LegendItem(frame=False, **legend_options)
        self.legend.setParentItem(plot_item)
        # The entries explain, they are not handles: a click must not hide a sample (pyqtgraph's
        # default) nor a drag move the legend over the data.
        self.legend.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        plot_item.geometryChanged.connect(self._on_plot_item_geometry_changed)
        self.relayout()

    def set_entries(self, entries: list[tuple[pg.GraphicsObject, str]]) -> None:
        """Replace every entry: ``(sample item, text)`` pairs, in reading order."""
        self.legend.clear()
        for sample, text in entries:
            self.legend.addItem(sample, text)
        for sample, _ in self.legend.items:
            sample.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.relayout()

    def texts(self) -> list[str]:
        """The entries' texts, in order."""
        return [label.text for _, label in self.legend.items]

    @Slot()
    def _on_plot_item_geometry_changed(self) -> None:
        self.relayout()

    def relayout(self) -> None:
        """Fit the entries into the fewest rows the width allows and size the strip to them."""
        available = self._plot_item.width() - 2 * _MARGIN
        n = len(self.legend.items)
        columns = max(n, 1)
        while columns > 1:
            self.legend.setColumnCount(columns)
            if self.legend.width() <= available:
                break
            columns -= 1
        self.legend.setColumnCount(columns)
        self.legend.updateSize()
        width, height = self.legend.width(), self.legend.height()
        self.legend.setPos(max(_MARGIN, (self._plot_item.width() - width) / 2), _MARGIN)
        self._plot_item.layout.setRowFixedHeight(_TITLE_ROW, height + 2 * _MARGIN if n else 0)
