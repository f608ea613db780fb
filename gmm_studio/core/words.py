"""Counts in sentences: "1 feature", "2 features", "after 1 iteration"."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``plural`` defaults to noun + 's')."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
