"""The components table shows every component's figures readably, at any data size."""

import numpy as np
import pytest
from PySide6.QtGui import QFontMetrics

from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.colors import component_palette
from gmm_studio.ui.component_table import ComponentTable


@pytest.mark.parametrize("kmeans", [False, True])
def test_counts_of_a_large_fit_fit_their_column_and_say_the_whole_number_on_hover(qtbot, kmeans):
    # At 1e6-1e7 points "261342.5" was cut to "2613…" in its 56 px column (tryout finding).
    counts = np.array([723.84, 26134.2, 261342.5, 2613425.0])
    n = counts.sum()
    params = MixtureParams("full", counts / n, np.arange(8.0).reshape(4, 2),
                           np.repeat(np.eye(2)[None], 4, axis=0))
    table = ComponentTable()
    qtbot.addWidget(table)
    table.resize(420, 300)
    table.show()
    table.set_model(params, counts, component_palette(4), kmeans=kmeans)
    cells = [table.table.item(r, 2) for r in range(4)]
    texts = [cell.text() for cell in cells]
    assert texts == (["724", "26134", "261k", "2.61M"] if kmeans else ["723.8", "26134", "261k", "2.61M"])
    metrics = QFontMetrics(table.table.font())
    room = table.table.columnWidth(2) - 8  # the cell's margins
    assert all(metrics.horizontalAdvance(text) <= room for text in texts)
    assert [cell.toolTip() for cell in cells] == [f"N_k = {c:.1f}" for c in counts]
