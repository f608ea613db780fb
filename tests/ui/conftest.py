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
