"""Journeys through the teaching pieces: the Jensen bound dock, the density, K-means and the
comparison with EM, and every demo — with real clicks and keys, checked on what is drawn."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gmm_studio.core.demos import DEMO_TITLES, build_demo
from gmm_studio.core.kmeans import initial_centres, kmeans_steps
from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState
from gmm_studio.session.fitting import restart_rng
from gmm_studio.ui.likelihood_view import EM_AXIS_TITLE, KMEANS_AXIS_TITLE
from tests.ui.journey import click

TIMEOUT = 30_000
SLOW = FitSettings(n_components=3, init_params="random_from_data", seed=2, tol=1e-12, max_iter=40)


def curves(window) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The bound view's curves by name, as drawn."""
    plot = window.findChild(type(window.teaching.bound_panel.view), "boundView").getPlotItem()
    return {item.name(): tuple(np.asarray([] if a is None else a, dtype=float) for a in item.getData())
            for item in plot.listDataItems() if item.name() in ("log-likelihood", "lower bound")}


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed in the active window (its shortcuts answer)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)
    window.panel.run_button.setFocus()
    qtbot.keyClick(window.panel.run_button, key, modifier)


def wait_paused(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.session.state is RunState.PAUSED, timeout=TIMEOUT)


def wait_new_curves(qtbot, window, before) -> dict:
    def changed():
        now = curves(window)
        assert now["lower bound"][0].size and window.teaching.bound_panel.view.bound_curve.isVisible()
        assert before is None or not np.array_equal(now["lower bound"][1], before["lower bound"][1])
    qtbot.waitUntil(changed, timeout=TIMEOUT)
    return curves(window)


def assert_bound_below_touching_at_zero(drawn) -> None:
    s, high = drawn["log-likelihood"]
    s_b, low = drawn["lower bound"]
    np.testing.assert_array_equal(s, s_b)
    scale = max(1.0, float(np.abs(high).max()))
    assert np.all(low <= high + 1e-9 * scale), "B rose above L"
    gap = high - low
    assert float(np.interp(0.0, s, gap)) < 1e-3 * max(1e-12, float(gap.max())) + 1e-9 * scale


def test_the_bound_dock_follows_stepping_and_scrubbing(make_window, blobs, qtbot):
    window = make_window(dataset=blobs(600), settings=SLOW)
    p = window.panel
    assert window.teaching.bound_dock.visibleRegion().isEmpty()  # behind the Components tab
    window.teaching.bound_action.trigger()
    qtbot.waitUntil(lambda: not window.teaching.bound_dock.visibleRegion().isEmpty())
    assert "first E-step" in window.teaching.bound_panel.status.text()

    click(qtbot, p.step_e_button)
    wait_paused(qtbot, window)
    after_e = wait_new_curves(qtbot, window, None)
    assert_bound_below_touching_at_zero(after_e)
    title = window.teaching.bound_panel.headline.text()
    assert "E-step" in title and "touch" in title

    click(qtbot, p.step_m_button)
    wait_paused(qtbot, window)
    qtbot.waitUntil(lambda: "L rose" in window.teaching.bound_panel.status.text(), timeout=TIMEOUT)
    after_m = curves(window)
    assert_bound_below_touching_at_zero(after_m)
    # The same iteration's bound: after M it marks where L rose above B at the M-step.
    assert "L − B" in window.teaching.bound_panel.status.text()

    for _ in range(3):
        click(qtbot, p.step_button)
        wait_paused(qtbot, window)
    # the slices of the states stepped through may arrive first: wait for the one shown
    qtbot.waitUntil(lambda: window.teaching.bound_panel.status.text().startswith("Iteration 4:"),
                    timeout=TIMEOUT)
    later = curves(window)
    assert_bound_below_touching_at_zero(later)

    window.iteration_slider.setValue(1)  # scrub back to iteration 1's E-step
    assert window.session.shown.index == 1
    qtbot.waitUntil(lambda: window.teaching.bound_panel.status.text().startswith("Iteration 1:"),
                    timeout=TIMEOUT)
    back = wait_new_curves(qtbot, window, later)
    assert_bound_below_touching_at_zero(back)
    np.testing.assert_allclose(back["lower bound"][1], after_e["lower bound"][1], rtol=1e-9, atol=1e-9)

    combo = window.findChild(type(p.covariance_combo), "boundSliceCombo")
    assert combo.count() > 1
    combo.setCurrentIndex(1)
    sliced = wait_new_curves(qtbot, window, back)
    _, high = sliced["log-likelihood"]
    _, low = sliced["lower bound"]
    assert np.all(low <= high + 1e-9 * max(1.0, float(np.abs(high).max())))


def test_the_bound_is_not_computed_while_its_dock_is_hidden(make_window, blobs, qtbot):
    window = make_window(dataset=blobs(300), settings=SLOW)
    click(qtbot, window.panel.step_button)
    wait_paused(qtbot, window)
    assert curves(window)["lower bound"][0].size == 0  # nothing drawn while hidden
    window.teaching.show_bound()
    drawn = wait_new_curves(qtbot, window, None)
    assert_bound_below_touching_at_zero(drawn)


def test_density_toggle_shows_hides_and_follows_the_model(make_window, blobs, qtbot):
    window = make_window(dataset=blobs(600), settings=SLOW)
    image = window.data_view.density.image
    click(qtbot, window.panel.step_button)
    wait_paused(qtbot, window)
    assert not image.isVisible()
    press(qtbot, window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert window.teaching.density_action.isChecked()
    qtbot.waitUntil(image.isVisible, timeout=TIMEOUT)
    values = np.asarray(image.image)
    assert values.ndim == 2 and np.isfinite(values).any() and np.ptp(values[np.isfinite(values)]) > 0
    revision = window.data_view.density_revision
    click(qtbot, window.panel.step_button)
    wait_paused(qtbot, window)
    qtbot.waitUntil(lambda: window.data_view.density_revision > revision, timeout=TIMEOUT)
    assert not np.array_equal(np.asarray(image.image), values)
    press(qtbot, window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert not window.teaching.density_action.isChecked()
    assert not image.isVisible()


def test_kmeans_through_the_window_is_core_kmeans(make_window, blobs, qtbot):
    settings = FitSettings(n_components=3, init_params="random_from_data", seed=4)
    window = make_window(dataset=blobs(600), settings=settings)
    combo = window.findChild(type(window.panel.covariance_combo), "algorithmCombo")
    combo.setCurrentIndex(combo.findData("kmeans"))
    assert window.session.settings.algorithm == "kmeans"
    axis = window.likelihood_view.plot_item.getAxis("left")
    assert axis.labelText == KMEANS_AXIS_TITLE

    press(qtbot, window, Qt.Key.Key_E)
    wait_paused(qtbot, window)
    qtbot.waitUntil(lambda: "after assign-step" in window.status_label.text(), timeout=TIMEOUT)
    press(qtbot, window, Qt.Key.Key_M)
    wait_paused(qtbot, window)
    qtbot.waitUntil(lambda: "after update-step" in window.status_label.text(), timeout=TIMEOUT)
    text = window.status_label.text()
    assert "bound" not in text and " WCSS/N " in text and "−WCSS" not in text and "per point" not in text
    window.teaching.show_bound()
    qtbot.waitUntil(lambda: "K-means has no bound" in window.teaching.bound_panel.status.text())

    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        click(qtbot, window.panel.pause_button)  # reads Resume: K-means continues to the end
    qtbot.waitUntil(lambda: window.session.shown.responsibilities is not None, timeout=TIMEOUT)
    gamma = window.session.shown.responsibilities
    assert window.info_label.text().startswith("K-means converged")
    np.testing.assert_array_equal(np.sort(np.unique(gamma)), [0.0, 1.0])  # hard r_nk

    x = window.session.x
    *_, direct = kmeans_steps(x, initial_centres(x, 3, "random_from_data", restart_rng(4, 0)),
                              tol=settings.tol, max_iter=settings.max_iter)
    np.testing.assert_array_equal(gamma.argmax(axis=1), direct.labels)
    shown = window.current_snapshot()
    np.testing.assert_allclose(shown.params.means, direct.centres)
    np.testing.assert_allclose(shown.log_likelihood, -direct.objective / len(x))
    _, y, _ = window.likelihood_view.curve_data()
    assert np.all(np.diff(y) >= -1e-12)  # −J/N never falls

    combo.setCurrentIndex(combo.findData("em"))
    click(qtbot, window.panel.reset_button)
    assert axis.labelText == EM_AXIS_TITLE


def test_compare_kmeans_and_em_shows_two_aris(make_window, blobs, qtbot):
    window = make_window(dataset=blobs(600, labels=True), settings=SLOW)
    window.teaching.compare_action.trigger()
    dialog = window.teaching.compare_dialog
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=TIMEOUT)
    assert dialog.isVisible()
    texts = dialog.kmeans_label.text(), dialog.em_label.text()
    assert texts[0].startswith("K-means") and texts[1].startswith("EM")
    aris = [float(t.split("ARI ")[1].split()[0]) for t in texts]
    assert all(0.9 < a <= 1.0 for a in aris)  # three round blobs: both find them
    c = dialog.result.comparison
    np.testing.assert_allclose(c.kmeans.params.n_components, c.em.params.n_components)
    assert dialog.kmeans_view.n_components == dialog.em_view.n_components == 3
    dialog.close()


@pytest.mark.parametrize("key", list(DEMO_TITLES))
def test_every_demo_loads_explains_and_fits(make_window, qtbot, key):
    window = make_window(settings=None)
    demo = build_demo(key)
    window.teaching.demo_actions[key].trigger()
    assert f"({len(demo.values)} points" in window.windowTitle()
    expected = demo.settings.replace(algorithm="kmeans" if demo.algorithm == "kmeans" else "em")
    assert window.panel.settings() == expected == window.session.settings
    dock = window.teaching.demo_dock
    assert dock.isVisible() and demo.explanation in window.teaching.demo_label.text()
    assert demo.title in window.info_label.text()
    if demo.algorithm == "compare":
        dialog = window.teaching.compare_dialog
        qtbot.waitUntil(lambda: dialog.result is not None, timeout=TIMEOUT)
        assert "ARI" in dialog.kmeans_label.text() and "ARI" in dialog.em_label.text()
        dialog.close()
    if demo.k_values is not None:
        sweep = window.sweep_panel
        assert (sweep.k_min_spin.value(), sweep.k_max_spin.value()) == (min(demo.k_values), max(demo.k_values))
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        click(qtbot, window.panel.run_button)
    if key == "singularity":
        qtbot.waitUntil(lambda: "without bound" in window.banner_label.text(), timeout=TIMEOUT)
        assert window.banner_label.isVisible()


def test_the_bound_follows_a_live_run_to_its_last_iteration(make_window, blobs, qtbot):
    window = make_window(dataset=blobs(3000), settings=SLOW.replace(max_iter=15))
    window.teaching.show_bound()
    with qtbot.waitSignal(window.fit_finished, timeout=TIMEOUT):
        click(qtbot, window.panel.run_button)
    final = window.current_snapshot()
    status = window.teaching.bound_panel.status
    qtbot.waitUntil(lambda: status.text().startswith(f"Iteration {final.iteration}:"), timeout=TIMEOUT)
    assert_bound_below_touching_at_zero(curves(window))
    assert "L rose" in window.teaching.bound_panel.status.text()


def test_density_of_higher_dimensional_data_is_the_projected_mixture(make_window, qtbot):
    from gmm_studio.core.dataio import dataset_from_array

    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(c, 0.6, size=(200, 3)) for c in ([0, 0, 0], [5, 0, 2], [0, 5, -2])])
    window = make_window(dataset=dataset_from_array(x, columns=("a", "b", "c"), source="3-D"),
                         settings=SLOW)
    window.teaching.density_action.trigger()
    assert not window.data_view.density.image.isVisible()  # no model yet: nothing to shade
    click(qtbot, window.panel.step_button)
    wait_paused(qtbot, window)
    qtbot.waitUntil(window.data_view.density.image.isVisible, timeout=TIMEOUT)
    assert any("projected mixture" in text for text in window.data_view.legend_texts())
