"""The generator, the K sweep and the file actions, docked in the main window, work together."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_studio.core.generate import GeneratorSettings
from gmm_studio.core.settings import FitSettings
from gmm_studio.ui.sweep_panel import SweepPanel

TIMEOUT = 30_000


@pytest.fixture
def window(make_window):
    """The window on the demo data (which has its generating labels as a label column)."""
    return make_window(settings=None, size=(1200, 800))


def test_generated_data_replace_the_open_data_and_the_fit_is_compared_with_the_truth(window, qtbot):
    window.generator_panel.set_settings(GeneratorSettings(n_components=3, n_samples=600, seed=3,
                                                          separation=6.0))
    with qtbot.waitSignal(window.dataset_changed, timeout=TIMEOUT):
        window.generator_panel.generate()
    data = window.generator_panel.data()
    np.testing.assert_array_equal(window.dataset.values, data.values)
    assert window.panel.components_spin.value() == 3  # the generator's K is offered to the fit
    assert "K = 3 as generated" in window.info_label.text()
    window.panel.set_settings(FitSettings(n_components=3, init_params="kmeans", seed=0))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.run_fit()
    qtbot.waitUntil(lambda: window.generator_panel.fit_group.isVisible(), timeout=TIMEOUT)
    assert "1.000" in window.generator_panel.ari_label.text()


def test_loading_other_data_forgets_the_generated_truth(window, qtbot):
    window.generator_panel.set_settings(GeneratorSettings(n_components=2, n_samples=200, seed=1))
    with qtbot.waitSignal(window.dataset_changed, timeout=TIMEOUT):
        window.generator_panel.generate()
    assert window.generator_panel.data() is not None
    window.load_demo()
    assert window.generator_panel.data() is None


def test_a_sweep_cell_clicked_is_shown_in_the_main_view(window, qtbot):
    panel: SweepPanel = window.sweep_panel
    panel.k_min_spin.setValue(1)
    panel.k_max_spin.setValue(4)
    for covariance_type, box in panel.type_checks.items():
        box.setChecked(covariance_type == "full")
    panel.restarts_spin.setValue(1)
    with qtbot.waitSignal(panel.sweep_finished, timeout=TIMEOUT):
        panel.run()
    best = panel.best_cell()
    with qtbot.waitSignal(panel.model_chosen, timeout=TIMEOUT) as chosen:
        panel.table.cellClicked.emit(panel.table.currentRow(), panel.table.currentColumn())
    assert chosen.args[0] is best.params
    assert window.current_snapshot().params is best.params


def test_colours_stay_with_their_components_across_re_runs(window, qtbot):
    window.panel.set_settings(FitSettings(n_components=4, init_params="kmeans", seed=0))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as first:
        window.run_fit()
    window.panel.set_settings(FitSettings(n_components=4, init_params="kmeans", seed=5))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT) as second:
        window.run_fit()
    a, b = first.args[0].params.means, second.args[0].params.means
    # the same four clusters were found, each in the colour (index) it had before
    np.testing.assert_allclose(a, b, atol=0.05)


def test_points_can_be_coloured_by_the_true_labels_matched_to_the_fit(window, qtbot, monkeypatch):
    labels = np.asarray(window.dataset.labels).astype(str)  # the demo keeps its generating labels
    window.panel.set_settings(FitSettings(n_components=4, init_params="kmeans", seed=0))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.run_fit()
    window.redraw()
    given = []
    monkeypatch.setattr(window.data_view, "set_colors", given.append)
    combo = window.panel.color_combo
    combo.setCurrentIndex(combo.findData("truth"))
    window.redraw()
    qtbot.waitUntil(window.drawing.colors_up_to_date, timeout=TIMEOUT)
    window.redraw()
    colors = given[-1]
    for label in np.unique(labels):  # one colour per true label, distinct between labels
        assert len(np.unique(colors[labels == label], axis=0)) == 1
    assert len(np.unique(colors, axis=0)) == len(np.unique(labels))
    legend = " ".join(window.data_view.legend_texts())
    assert all(f"(component {k})" in legend for k in (1, 2, 3, 4))  # each class named with its match


def test_truth_colouring_is_offered_only_with_a_label_column(window):
    from gmm_studio.core.dataio import dataset_from_array

    window.set_dataset(dataset_from_array(np.random.default_rng(0).normal(size=(50, 2))))
    combo = window.panel.color_combo
    assert not combo.model().item(combo.findData("truth")).isEnabled()


def test_a_saddle_point_is_not_presented_as_a_fit(window, qtbot):
    from gmm_studio.core.dataio import dataset_from_array

    # One round blob: random responsibilities average every mean to the blob's centre, and
    # EM converges there at once, with four components on top of each other.
    window.set_dataset(dataset_from_array(np.random.default_rng(0).normal(size=(2000, 2))))
    window.panel.set_settings(FitSettings(n_components=4, init_params="random", seed=0))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        window.run_fit()
    assert "saddle point" in window.info_label.text()
