"""Today's metric values of a snapshot, as plain Python values.

Shared by the insight ranking and the missing-data report, which both read one
row per product and treat NaN, ``pd.NA`` and None alike as "no value"
(``snapshot.plain``).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from reliability.snapshot import Snapshot


def values_today(snapshot: Snapshot, products: Iterable[str] | None) -> pd.DataFrame:
    """Metric values on the snapshot's day, indexed by product; all when None."""
    today = snapshot.values_today()
    if products is not None:
        today = today[today.index.isin(list(products))]
    return today
