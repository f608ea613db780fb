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
def no_fit_thread_left_running():
    """Fail a test that leaves any EM worker thread running (windows must stop and join them)."""
    yield
    from gmm_studio.ui import fit_worker

    running = fit_worker.running_threads()
    for thread in running:  # do not let one leak poison the next tests
        thread.quit()
        thread.wait(5000)
    assert not running, f"{len(running)} fit thread(s) still running after the test"
