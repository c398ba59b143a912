"""Connectors for the vendor APIs, built on the shared HTTP layer in ``http``.

Each vendor module turns its API into DataFrames whose columns are the store's
table columns; ``errors`` holds the one exception tree they all raise.
"""

from __future__ import annotations

from reliability.sources.errors import (
    SourceAuthError,
    SourceConfigError,
    SourceError,
    SourceResponseError,
    SourceUnavailable,
)

__all__ = [
    "SourceAuthError",
    "SourceConfigError",
    "SourceError",
    "SourceResponseError",
    "SourceUnavailable",
]
