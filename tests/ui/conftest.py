"""Shared fixtures for the UI tests (offscreen Qt; see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path):
    """Point QSettings (INI format, which the program uses) at a fresh directory per test,
    so tests never read or write the user's settings."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "settings"))
    yield


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail a test that leaves any worker thread running — fit, load, sweep or generation
    (windows must join them through their runner)."""
    yield
    from gmm_studio.ui.tasks import running_tasks

    running = running_tasks()
    assert not running, f"task(s) still running after the test: {running}"


@pytest.fixture
def runner(qtbot):
    """A task runner of its own for a panel tested outside the window; joined afterwards."""
    from gmm_studio.ui.tasks import QtRunner

    r = QtRunner()
    yield r
    assert r.join_all(timeout=30)


@pytest.fixture
def make_window(qtbot):
    """The one window factory: ``make_window(argv=None, dataset=None, settings=None,
    speed=SPEED_MAX, size=(1100, 750))`` builds a shown main window through
    :func:`gmm_studio.app.build_window` (``--no-fit`` unless ``argv`` says otherwise) and closes
    it after the test, which joins its tasks."""
    from gmm_studio.app import build_window
    from gmm_studio.core.settings import FitSettings
    from gmm_studio.ui.control_panel import SPEED_MAX

    windows = []

    def make(argv=None, dataset=None, settings=FitSettings(n_components=3, init_params="kmeans", seed=1),
             speed=SPEED_MAX, size=(1100, 750)):
        window = build_window(["--no-fit"] if argv is None else argv)
        qtbot.addWidget(window)
        windows.append(window)
        window.resize(*size)
        window.show()
        if dataset is not None:
            window.set_dataset(dataset)
        if settings is not None:
            window.panel.set_settings(settings)
        if speed is not None:
            window.panel.speed_slider.setValue(speed)
        return window

    yield make
    for window in windows:
        window.close()


def _blobs(n=300, seed=0, labels=False):
    """Three round, well separated clusters in 2-D (optionally with their labels)."""
    import numpy as np

    from gmm_studio.core.dataio import dataset_from_array

    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    x = np.vstack([rng.normal(c, 0.7, size=(n // 3, 2)) for c in centres])
    y = np.repeat(["a", "b", "c"], n // 3) if labels else None
    return dataset_from_array(x, labels=y, source="test")


@pytest.fixture
def blobs():
    """``blobs(n=300, seed=0, labels=False)``: three separated 2-D clusters as a Dataset."""
    return _blobs


@pytest.fixture
def window(make_window):
    """A shown window on three blobs, K = 3 k-means, fastest speed."""
    return make_window(dataset=_blobs())
