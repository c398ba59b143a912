"""Shape checks on decoded vendor bodies, shared by every source module.

Each helper raises ``SourceResponseError`` naming the source, the object and the
field, so a vendor changing its API fails one pull with a readable message
instead of a ``KeyError`` deep in a row builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from reliability.sources.errors import SourceResponseError


def require(obj: Any, key: str, *, source: str, what: str) -> Any:
    """Return ``obj[key]``, or raise SourceResponseError naming the missing field."""
    if not isinstance(obj, Mapping) or key not in obj:
        shape = type(obj).__name__
        raise SourceResponseError(
            source,
            f"{source} sent {what} without the field {key!r} (got a {shape}): "
            "the API version may be unsupported",
        )
    return obj[key]


def require_list(obj: Any, *, source: str, what: str) -> list[Any]:
    """Return ``obj`` if it is a list, else raise SourceResponseError."""
    if not isinstance(obj, list):
        raise SourceResponseError(
            source,
            f"{source} sent {what} as a {type(obj).__name__}, not a list: "
            "the API version may be unsupported",
        )
    return obj


def to_count(value: Any, *, source: str, what: str) -> int | None:
    """Read a count sent as a number or a numeric string; None stays None."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SourceResponseError(
            source,
            f"{source} sent {what} with a count that is not a number ({value!r})",
        ) from exc


def to_naive_utc(value: Any, *, source: str, what: str) -> datetime | None:
    """Parse a vendor ISO-8601 time (``Z``, ``+0000``) into naive UTC; None stays.

    Naive UTC is what the store's TIMESTAMP columns hold.
    """
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise SourceResponseError(
            source,
            f"{source} sent {what} with a time we cannot read ({value!r}): "
            "the API version may be unsupported",
        ) from exc
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def rows_frame(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    time_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Build a store-shaped frame from row dicts, with ``time_columns`` as datetimes.

    The columns are fixed even with no rows, so an empty pull keeps the table shape.
    """
    frame = pd.DataFrame(list(rows), columns=list(columns))
    for column in time_columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame
