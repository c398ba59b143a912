"""Fixtures shared by the source tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def sleeps() -> list[float]:
    """The waits a client asked for, recorded instead of slept."""
    return []
