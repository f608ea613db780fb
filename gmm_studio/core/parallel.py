"""Thread counts in one place (interim; the engine's own version replaces this)."""
from gmm_studio.core import em


def set_engine_threads(n: int) -> None:
    em._WORKERS = max(1, int(n))
