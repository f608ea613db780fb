"""Qt-free application state: the session a person works in (see DESIGN.md, "Layers").

Imports numpy and ``gmm_studio.core`` only, never Qt; the window, the CLI and the tests share it.
"""
