"""What the window remembers between runs (QSettings, INI format): its geometry, the fit
settings and the animation speed.  GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from gmm_studio.core.settings import FitSettings

__all__ = ["restore", "save", "store"]

ORGANISATION = APPLICATION = "GMM Studio"


def store() -> QSettings:
    # INI format: tests redirect it with QSettings.setPath and never touch the user's file.
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def restore(window) -> None:
    """Put the remembered geometry, fit settings and speed back into ``window``."""
    s = store()
    geometry = s.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    s.beginGroup("fit")
    values = {key: s.value(key) for key in s.childKeys()}
    s.endGroup()
    if values:
        window.panel.set_settings(FitSettings.from_dict(values))
    speed = s.value("view/speed")
    if speed is not None:
        try:
            window.panel.speed_slider.setValue(int(speed))
        except (TypeError, ValueError):
            pass


def save(window) -> None:
    """Remember ``window``'s geometry, fit settings and speed."""
    s = store()
    s.setValue("window/geometry", window.saveGeometry())
    s.beginGroup("fit")
    for key, value in window.settings().to_dict().items():
        s.setValue(key, value)
    s.endGroup()
    s.setValue("view/speed", window.panel.speed())
    s.sync()
