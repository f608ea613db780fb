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
    (windows and panels must stop and join them)."""
    yield
    from gmm_studio.ui import threads

    running = threads.running_threads()
    names = [thread.objectName() for thread in running]
    for thread in running:  # do not let one leak poison the next tests
        threads.join(thread, timeout_ms=5000)
    assert not running, f"{len(running)} thread(s) still running after the test: {names}"
