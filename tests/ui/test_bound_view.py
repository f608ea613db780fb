"""The bound view draws L and B along the slice, marks the E- and M-steps and the gap."""

import numpy as np
import pytest

from gmm_studio.core.bound import bound_slice, slice_choices
from gmm_studio.core.em import EMData, em_steps
from gmm_studio.core.params import MixtureParams
from gmm_studio.ui.bound_view import BoundPanel


def state(n=500, covariance_type="full"):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 4.0]])
    x = centres[rng.integers(3, size=n)] + rng.normal(size=(n, 2))
    data = EMData(x, covariance_type)
    start = MixtureParams("full", np.full(3, 1 / 3), x[:3], np.tile(np.eye(2), (3, 1, 1)))
    if covariance_type != "full":
        start = data.params_from_responsibilities(EMData(x, "full").responsibilities(start), 1e-6)
    snapshots = list(em_steps(data, start, max_iter=2, tol=0.0))
    return data, snapshots


@pytest.fixture
def panel(qtbot):
    p = BoundPanel()
    qtbot.addWidget(p)
    p.resize(600, 400)
    return p


def curves(panel):
    items = {item.name(): item for item in panel.view.getPlotItem().listDataItems()}
    return items["log-likelihood"], items["lower bound"]


def test_curves_are_the_core_slice_and_touch_at_the_e_step(panel):
    data, snaps = state()
    e, m = snaps[3], snaps[4]
    panel.show_state(data, e, m.params)
    likelihood, bound = curves(panel)
    expected = bound_slice(data, e.params, m.params, responsibilities=e.responsibilities)
    s, l_drawn = likelihood.getData()
    s_b, b_drawn = bound.getData()
    np.testing.assert_allclose(s, expected.s)
    np.testing.assert_allclose(l_drawn, expected.log_likelihood)
    np.testing.assert_allclose(b_drawn, expected.lower_bound)
    assert np.all(b_drawn <= l_drawn + 1e-9)
    assert likelihood.isVisible() and bound.isVisible()
    touch = panel.view.touch_marker.getData()
    assert touch[0][0] == 0.0 and touch[1][0] == pytest.approx(e.log_likelihood, abs=1e-12)
    top = panel.view.max_marker.getData()
    assert top[0][0] == pytest.approx(1.0, abs=1e-3)
    assert top[1][0] == pytest.approx(m.lower_bound, abs=1e-8)
    gx, gy = panel.view.gap_line.getData()
    assert gx[0] == gx[1] == top[0][0] and gy[0] == top[1][0] and gy[1] > gy[0]
    assert f"{gy[1] - gy[0]:.4g}" in panel.view.gap_label.toPlainText()
    assert panel.view.current.value() == 0.0
    assert "E-step" in panel.headline.text()


def test_after_the_m_step_the_cursor_sits_at_theta_next(panel):
    data, snaps = state()
    panel.show_state(data, snaps[3], snaps[4].params, after="M")
    assert panel.view.current.value() == 1.0
    assert "M-step" in panel.headline.text() and "L rose" in panel.status.text()


def test_items_are_made_once_and_updated(panel):
    data, snaps = state()
    before = list(panel.view.getPlotItem().items)
    panel.show_state(data, snaps[1], snaps[2].params)
    first = curves(panel)[0].getData()[1].copy()
    panel.show_state(data, snaps[3], snaps[4].params)
    assert list(panel.view.getPlotItem().items) == before
    assert not np.allclose(curves(panel)[0].getData()[1], first)


def test_history_snapshots_without_responsibilities_and_missing_next_params(panel):
    data, snaps = state()
    panel.show_state(data, snaps[3].without_responsibilities())
    expected = bound_slice(data, snaps[3].params, snaps[4].params,
                           responsibilities=snaps[3].responsibilities)
    np.testing.assert_allclose(curves(panel)[1].getData()[1], expected.lower_bound, rtol=1e-9)


def test_the_slice_combo_offers_each_parameter_and_redraws(qtbot, panel):
    data, snaps = state()
    e, m = snaps[3], snaps[4]
    panel.show_state(data, e, m.params, names=("length", "width"))
    combo = panel.slice_combo
    specs = slice_choices(e.params)
    assert combo.count() == len(specs)
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert "Straight line" in texts[0] and "weight π of component 2" in texts
    index = texts.index("mean of component 2, width")
    combo.setCurrentIndex(index)
    s, _ = curves(panel)[0].getData()
    touch = panel.view.touch_marker.getData()[0][0]
    assert touch == pytest.approx(e.params.means[1, 1]) and s[0] < touch < s[-1]
    assert panel.view.getPlotItem().getAxis("bottom").labelText == "mean of component 2, width"
    # the choice survives the next state
    panel.show_state(data, snaps[1], snaps[2].params, names=("length", "width"))
    assert combo.currentIndex() == index


def test_before_the_first_e_step_a_hint_replaces_the_curves(panel):
    data, snaps = state()
    panel.show_state(data, snaps[0])
    likelihood, bound = curves(panel)
    assert not likelihood.isVisible() and not bound.isVisible()
    assert "after the first E-step" in panel.status.text()


@pytest.mark.parametrize("covariance_type, expected", [
    ("spherical", "log variance of component 1"),
    ("tied", "log variance shared by all components, x1"),
    ("diag", "log variance of component 1, x1"),
])
def test_variance_slices_are_named_for_the_covariance_type(panel, covariance_type, expected):
    data, snaps = state(covariance_type=covariance_type)
    panel.show_state(data, snaps[3], snaps[4].params)
    texts = [panel.slice_combo.itemText(i) for i in range(panel.slice_combo.count())]
    assert expected in texts


def test_a_slice_that_fails_unexpectedly_says_so_and_the_next_state_is_drawn(panel, qtbot, monkeypatch):
    from gmm_studio.ui import bound_view
    from gmm_studio.ui.tasks import QtRunner

    runner = QtRunner()
    panel.set_runner(runner)
    data, snaps = state()
    real = bound_view.bound_slice

    def broken(*args, **kwargs):
        raise FloatingPointError("overflow in exp")

    monkeypatch.setattr(bound_view, "bound_slice", broken)
    panel.show_state(data, snaps[1], snaps[2].params)
    qtbot.waitUntil(lambda: "could not be computed: overflow in exp" in panel.status.text())
    assert not curves(panel)[1].isVisible()
    monkeypatch.setattr(bound_view, "bound_slice", real)
    panel.show_state(data, snaps[3], snaps[4].params)  # the view is not stuck waiting
    qtbot.waitUntil(lambda: curves(panel)[1].isVisible() and "Iteration" in panel.status.text())
    runner.join_all()
