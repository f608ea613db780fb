"""Journey: with K-means chosen, the window speaks K-means — assign/update buttons and menu,
no covariance to choose, clusters (size, centre) in the table, centres without ellipses, and a
status line that says WCSS/N and why K-means stopped.  Back to EM, everything is EM's again."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from gmm_studio.core.settings import FitSettings
from gmm_studio.session import RunState
from tests.ui.journey import TIMEOUT, choose, click, settle

SETTINGS = FitSettings(n_components=3, init_params="random_from_data", seed=2, tol=1e-3, max_iter=60)


def press(qtbot, window, key) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)
    window.panel.run_button.setFocus()
    qtbot.keyClick(window.panel.run_button, key)


def texts(window):
    p, c = window.panel, window.controls
    return ([b.text() for b in (p.step_button, p.step_e_button, p.step_m_button)],
            [a.text() for a in (c.step_action, c.step_e_action, c.step_m_action)])


def headers(table):
    t = table.table
    return [t.horizontalHeaderItem(c).text() for c in range(t.columnCount()) if not t.isColumnHidden(c)]


def visible_ellipses(window) -> int:
    view = window.data_view
    return sum(item.isVisible() for r in range(len(view.radii)) for item in view.ellipse_items(r))


def test_kmeans_speaks_kmeans_and_em_speaks_em(make_window, blobs, qtbot):
    w = make_window(dataset=blobs(), settings=SETTINGS)
    p = w.panel
    assert texts(w) == (["Step (E+M)", "Step E", "Step M"], ["Step (E+M)", "Step E", "Step M"])
    assert p.covariance_combo.isEnabled()

    choose(qtbot, p.algorithm_combo, "kmeans")
    assert w.session.settings.algorithm == "kmeans"
    assert texts(w) == (["Step (assign+update)", "Step assign", "Step update"],
                        ["Step (assign+update)", "Step assign", "Step update"])
    assert p.step_e_button.toolTip() == "Assign only: each point joins its nearest centre (hard r_nk) (E)"
    assert p.step_m_button.toolTip() == "Update only: each centre moves to the mean of its points (M)"
    assert p.step_button.toolTip() == "One K-means iteration: assign then update (S or →)"
    assert not p.covariance_combo.isEnabled() and not p.reg_spin.isEnabled()
    assert p.covariance_combo.toolTip().startswith("K-means has no covariances")
    assert p.reg_spin.toolTip().startswith("K-means has no covariances to regularise")
    assert "no point changes cluster" in p.tol_spin.toolTip()
    points = [p.color_combo.itemText(i) for i in range(p.color_combo.count())]
    assert not any("γ" in text or "responsibilities" in text for text in points)
    assert points[0].startswith("clusters") and "always sure" in points[2]

    # E: one assign half-step, said in K-means' words
    press(qtbot, w, Qt.Key.Key_E)
    settle(qtbot, w)
    assert w.info_label.text() == ("Assign: each point joins its nearest centre (the colours); "
                                   "update moves the centres.")
    status = w.status_label.text()
    wcss = -w.current_snapshot().log_likelihood
    assert status.startswith(f"iteration 1, after assign-step · WCSS/N {wcss:.5f}")
    assert "−" not in status and "per point" not in status
    # the table lists clusters: size and centre, nothing K-means does not have
    table = w.component_table
    assert headers(table) == ["", "size", "centre"]
    sizes = [int(table.table.item(r, 2).text()) for r in range(3)]
    assert sum(sizes) == 300 and table.caption.text().startswith("K-means: each cluster is a centre")
    table.table.selectRow(0)
    assert table.detail_text().startswith(f"Cluster 1: {sizes[0]} points\ncentre = (")
    # the data view draws centres, no ellipses, and its legend says so
    assert visible_ellipses(w) == 0 and w.data_view.centres_only
    legend = w.data_view.legend_texts()
    assert not any("σ ellipse" in t for t in legend)
    assert "K-means centre: each point joins its nearest (no covariances)" in legend

    # Run to the end: the status says the true reason it stopped
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, p.run_button)
    settle(qtbot, w)
    assert w.session.state is RunState.FINISHED
    status = w.status_label.text()
    assert "· converged: " in status and status.endswith(" · finished")
    assert ("no point changed cluster" in status) or ("(≤ tol 0.001)" in status)

    # back to EM: EM's words, the covariance box, the ellipses after a fit
    choose(qtbot, p.algorithm_combo, "em")
    assert texts(w)[0] == ["Step (E+M)", "Step E", "Step M"]
    assert p.covariance_combo.isEnabled() and p.reg_spin.isEnabled()
    assert p.covariance_combo.toolTip().startswith("full: any ellipse")
    assert p.color_combo.itemText(0) == "responsibilities (blend Σ γ·colour)"
    with qtbot.waitSignal(w.fit_finished, timeout=TIMEOUT):
        click(qtbot, p.run_button)
    settle(qtbot, w)
    assert headers(w.component_table) == ["", "weight π", "N_k", "mean μ", "covariance Σ"]
    assert visible_ellipses(w) == 6 and not w.data_view.centres_only
    assert w.data_view.legend_texts()[0] == "1σ ellipse (39.3 % of mass)"
    assert "log-likelihood" in w.status_label.text() and "WCSS" not in w.status_label.text()
    np.testing.assert_allclose(sum(w.session.history.shown.params.weights), 1.0)


def test_resume_after_switching_algorithm_says_it_starts_a_new_fit(make_window, blobs, qtbot):
    # Paused in K-means, then EM chosen: there is no K-means fit for EM to resume.
    from tests.ui.journey import step

    w = make_window(dataset=blobs(400), settings=SETTINGS.replace(algorithm="kmeans"))
    step(qtbot, w)
    p = w.panel
    assert p.pause_button.text() == "Resume" and "Resume the paused" in p.pause_button.toolTip()
    choose(qtbot, p.algorithm_combo, "em")
    assert "starts a new fit" in p.pause_button.toolTip()
    assert "starts a new fit" in p.run_button.toolTip()
    choose(qtbot, p.algorithm_combo, "kmeans")  # back: the paused K-means fit resumes again
    assert "starts a new fit" not in p.pause_button.toolTip()
