"""gmm_studio.core must stay Qt-free: the CLI and the tests run it with no display."""

import subprocess
import sys


def test_importing_core_loads_no_qt_and_no_ui():
    code = (
        "import sys, gmm_studio.core, gmm_studio.core.mixture, gmm_studio.core.em\n"
        "import pkgutil, importlib, gmm_studio.core as c\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('gmm_studio.core.' + m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')"
        " or m.startswith('gmm_studio.ui') or m.startswith('sklearn'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
