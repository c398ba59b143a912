"""Shape checks on decoded vendor bodies: missing fields and unreadable times."""

from __future__ import annotations

import pytest

from reliability.sources.errors import SourceResponseError
from reliability.sources.parse import require, to_naive_utc


def test_require_names_the_missing_field():
    with pytest.raises(SourceResponseError, match="'paging'"):
        require({"measures": []}, "paging", source="Sonar", what="history")


def test_to_naive_utc_reads_vendor_offsets():
    when = to_naive_utc("2025-05-02T08:11:40.000+0200", source="Jira", what="x")

    assert when is not None and when.tzinfo is None
    assert when.isoformat() == "2025-05-02T06:11:40"
    assert to_naive_utc(None, source="Jira", what="x") is None
    with pytest.raises(SourceResponseError):
        to_naive_utc("yesterday", source="Jira", what="x")
