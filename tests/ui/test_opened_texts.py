"""Journeys: after File › Open session the info line describes the opened session (not the
previous demo), and a file's temporary status message gives way to the fit status once a
person steps, runs or drags."""

from __future__ import annotations

import numpy as np

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.settings import FitSettings
from tests.ui.journey import TIMEOUT, click, step

SETTINGS = FitSettings(n_components=2, init_params="random_from_data", seed=3, tol=1e-10, max_iter=40)






def one_d():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(2.0, 0.3, 250), rng.normal(4.5, 0.5, 350)])
    return dataset_from_array(x[:, None], columns=["eruptions"], source="eruptions.csv")


def test_open_session_after_a_demo_describes_the_opened_session(make_window, qtbot, tmp_path):
    first = make_window(dataset=one_d(), settings=SETTINGS)
    for _ in range(3):
        step(qtbot, first)
    path = tmp_path / "faithful.gmmsession"
    assert first.save_session(str(path))

    w = make_window(settings=None)
    w.teaching.demo_actions["outliers"].trigger()  # Help › Demos › Outliers
    qtbot.waitUntil(lambda: w.info_label.text().startswith("Demo: Outliers"), timeout=TIMEOUT)
    assert w.open_session(str(path))
    text = w.info_label.text()
    assert "Outliers" not in text and "Demo" not in text
    assert text == ("Session faithful.gmmsession: 600 points from eruptions.csv (1 feature), "
                    "EM (full covariances), K = 2. Showing iteration 3 of 7 half-steps kept. "
                    "The fit is paused there: Run or Step continues EM.")
    assert w.statusBar().currentMessage() == f"Opened the session {path}"


def test_a_session_opened_scrubbed_says_so(make_window, blobs, qtbot, tmp_path):
    first = make_window(dataset=blobs(), settings=SETTINGS.replace(n_components=3, tol=1e-3))
    with qtbot.waitSignal(first.fit_finished, timeout=TIMEOUT):
        click(qtbot, first.panel.run_button)
    first.iteration_slider.setValue(2)
    path = tmp_path / "blobs.gmmsession"
    assert first.save_session(str(path))
    w = make_window(settings=None)
    w.load_demo()
    assert w.open_session(str(path))
    n = len(w.history())
    assert w.info_label.text().endswith(
        f"Showing iteration 1, scrubbed back ({n} half-steps kept; End returns to the live one). "
        "The fit had ended: Step continues EM; Run starts a new fit.")


def test_the_opened_file_message_gives_way_to_the_fit_status_when_stepping(make_window, qtbot, tmp_path):
    path = tmp_path / "one.csv"
    rng = np.random.default_rng(1)
    path.write_text("x,y\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in rng.normal(size=(200, 2))) + "\n")
    w = make_window(settings=SETTINGS)
    with qtbot.waitSignal(w.file_actions.import_dialog_opened, timeout=TIMEOUT) as opened:
        w.file_actions.open_path(str(path))
    with qtbot.waitSignal(w.file_actions.dataset_loaded, timeout=TIMEOUT):
        opened.args[0].accept()
    assert w.statusBar().currentMessage().startswith("Opened one.csv")
    assert not w.status_label.isVisible()  # a temporary message hides the status widgets
    step(qtbot, w)
    assert w.statusBar().currentMessage() == ""
    assert w.status_label.isVisible()
    assert w.status_label.text().startswith("iteration 1, after M-step") and "paused" in w.status_label.text()
