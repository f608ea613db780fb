"""Fixtures for the session-layer tests (plain pytest: no Qt, no display)."""

import pytest
from app_helpers import make_session

from gmm_studio.session import Session


@pytest.fixture
def session() -> Session:
    """A session on three seeded blobs, driven by a ManualRunner."""
    return make_session()
