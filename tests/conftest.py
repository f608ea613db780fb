import os

# Tests never need a display; set this before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
