"""One read of the store, scored: what every page and command works from.

``load_snapshot`` reads the products and the stored daily metrics once, and
scores them down to dimension level, which does not depend on the dimension
weights. ``rescore`` is the slider path: from the stored dimension scores to the
overall, coverage, status and trends under any weights, without touching metrics.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from reliability import metrics, scoring, trends
from reliability.config import Portfolio
from reliability.scoring import DIMENSIONS, LOW_CONFIDENCE_BELOW, METRIC_NAMES
from reliability.store import Store, StoreVersion, fetch_value

PRODUCT_COLUMNS = [
    "slug",
    "name",
    "team",
    "tier",
    "slo",
    "sources",
    "jira_sla",
    "sentry_projects",
    "sonar_projects",
    "jira_jql",
    "azure_apps",
]


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """The portfolio as of one day: products, metric values and dimension scores.

    ``products`` has one row per product (``slug`` first). ``values`` and
    ``dimensions`` have one row per product and day for the trend window, in the
    same order: ``values`` holds metric values, ``dimensions`` the sub-scores
    (``sub_<metric>``), the dimension scores and their coverage.
    """

    as_of: dt.date
    products: pd.DataFrame
    values: pd.DataFrame
    dimensions: pd.DataFrame
    is_demo: bool
    last_sync: str | None
    version: StoreVersion | None
    overrides: Mapping[str, scoring.Overrides]
    cube: DimensionCube
    latest_values: pd.DataFrame  # ``values`` on ``as_of``, indexed by product
    latest_dimensions: pd.DataFrame  # ``dimensions`` on ``as_of``, the same way

    def today(self) -> pd.DataFrame:
        """Rows of ``dimensions`` for ``as_of`` only, indexed by product.

        Taken once when the snapshot is built: pages ask for it on every rerun.
        Shared; do not mutate.
        """
        return self.latest_dimensions

    def values_today(self) -> pd.DataFrame:
        """Metric values on ``as_of``, indexed by product; shared, do not mutate."""
        return self.latest_values


@dataclass(frozen=True, kw_only=True)
class DimensionCube:
    """Dimension scores and coverage as arrays: product x day x dimension.

    The slider path works on these: re-weighting is one weighted sum over the
    last axis, with no frame to build. Rows follow ``slugs``, columns ``days``
    (oldest first), and the last axis ``DIMENSIONS``.
    """

    slugs: np.ndarray
    days: tuple[dt.date, ...]
    scores: np.ndarray
    coverage: np.ndarray
    # What every re-weighting needs and no weight changes: which scores are
    # there (1.0 or 0.0), and the scores with missing ones as 0.
    present: np.ndarray = field(init=False, repr=False)
    filled: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        present = ~np.isnan(self.scores)
        object.__setattr__(self, "present", present.astype(float))
        object.__setattr__(self, "filled", np.where(present, self.scores, 0.0))

    @classmethod
    def from_frame(
        cls, dimensions: pd.DataFrame, slugs: Sequence[str]
    ) -> DimensionCube:
        """Arrange ``dimensions`` for the products ``slugs``, in that order."""
        labels = np.array(list(slugs), dtype=object)
        days = tuple(sorted(dimensions["day"].unique()))
        rows = pd.MultiIndex.from_product([labels, days], names=["product", "day"])
        # Reindexing fills any product-day the frame lacks with NaN (no data).
        full = dimensions.set_index(["product", "day"]).reindex(rows)
        shape = (len(labels), len(days), len(DIMENSIONS))
        scores = full[list(DIMENSIONS)].to_numpy(dtype=float).reshape(shape)
        coverage_columns = [f"{d}_coverage" for d in DIMENSIONS]
        coverage = full[coverage_columns].to_numpy(dtype=float).reshape(shape)
        return cls(
            slugs=labels, days=days, scores=scores, coverage=np.nan_to_num(coverage)
        )

    def overall(self, weights: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Overall score and coverage, product x day, under ``weights``."""
        w = scoring.normalise_weights(weights)
        weight_row = np.array([w[d] for d in DIMENSIONS])
        present_weight = self.present @ weight_row
        weighted = self.filled @ weight_row
        with np.errstate(divide="ignore", invalid="ignore"):
            overall = np.where(present_weight > 0, weighted / present_weight, np.nan)
        coverage = (self.coverage @ weight_row) / weight_row.sum()
        return overall, coverage


def load_snapshot(
    store: Store, portfolio: Portfolio | None = None, as_of: dt.date | None = None
) -> Snapshot:
    """Read the store once and score it to dimension level.

    Without ``as_of`` the stored daily metrics are used (as of the last sync);
    with it, metrics are computed from the raw rows as of that day.
    """
    with store.reading() as con:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        products = con.execute(
            f"""
            SELECT {", ".join("p." + c for c in PRODUCT_COLUMNS)}, r.last_sync
            FROM products p LEFT JOIN (
                SELECT product, max(finished_at) AS last_sync FROM sync_runs
                WHERE result = 'ok' GROUP BY product
            ) r ON r.product = p.slug
            ORDER BY p.slug
            """
        ).df()
        stored_as_of = meta.get("as_of")
        if as_of is None and stored_as_of and _has_table(con, "metric_daily"):
            as_of = dt.date.fromisoformat(stored_as_of)
            values = con.execute("SELECT * FROM metric_daily").df()
        else:
            as_of = as_of or dt.datetime.now(dt.UTC).date()
            values = metrics.compute_metrics(con, as_of)

    return build_snapshot(
        as_of=as_of,
        products=products,
        values=values,
        overrides=portfolio.overrides(products["slug"]) if portfolio else {},
        is_demo=meta.get("is_demo") == "true",
        last_sync=meta.get("last_sync"),
        version=store.version(),
    )


def build_snapshot(
    *,
    as_of: dt.date,
    products: pd.DataFrame,
    values: pd.DataFrame,
    overrides: Mapping[str, scoring.Overrides] | None = None,
    is_demo: bool = False,
    last_sync: str | None = None,
    version: StoreVersion | None = None,
) -> Snapshot:
    """Score metric ``values`` (product, day, metrics) to dimension level."""
    overrides = overrides or {}
    # Stored metrics come back as timestamps, computed ones as dates already.
    if pd.api.types.infer_dtype(values["day"], skipna=False) != "date":
        values = values.assign(day=pd.to_datetime(values["day"]).dt.date)
    values = values.sort_values(["product", "day"], ignore_index=True)
    dimensions = _dimension_frame(values, overrides)
    return Snapshot(
        as_of=as_of,
        products=products.reset_index(drop=True),
        values=values,
        dimensions=dimensions,
        is_demo=is_demo,
        last_sync=last_sync,
        version=version,
        overrides=overrides,
        cube=DimensionCube.from_frame(dimensions, products["slug"]),
        latest_values=values[values["day"] == as_of].set_index("product"),
        latest_dimensions=dimensions[dimensions["day"] == as_of].set_index("product"),
    )


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        fetch_value(
            con,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
            [name],
        )
    )


def _dimension_frame(
    values: pd.DataFrame, overrides: Mapping[str, scoring.Overrides]
) -> pd.DataFrame:
    subs = scoring.sub_scores(values, overrides)
    dims = scoring.dimension_scores(subs, overrides, values["product"])
    return pd.concat(
        [values[["product", "day"]], subs.add_prefix("sub_"), dims], axis=1
    )


def rescore(snapshot: Snapshot, weights: Mapping[str, float]) -> pd.DataFrame:
    """Daily overall, coverage and status per product under ``weights``.

    One row per product and day (product, then day, ascending).
    """
    cube = snapshot.cube
    overall, coverage = cube.overall(weights)
    products, days = len(cube.slugs), len(cube.days)
    # Object columns as they are: letting pandas infer a string dtype for
    # 180,000 labels costs more than the whole re-weighting.
    return pd.DataFrame(
        {
            "product": pd.Series(np.repeat(cube.slugs, days), dtype=object),
            "day": pd.Series(
                np.tile(np.array(cube.days, dtype=object), products), dtype=object
            ),
            "overall": overall.ravel(),
            "coverage": coverage.ravel(),
            "status": pd.Series(scoring.statuses(overall.ravel()), dtype=object),
        }
    )


def summary(snapshot: Snapshot, weights: Mapping[str, float]) -> pd.DataFrame:
    """One row per product as of the snapshot's day, ranked best first.

    Columns: the product columns, ``overall``, ``status``, ``coverage``,
    ``low_confidence``, one column per dimension (and ``<dim>_coverage``),
    ``error_budget_remaining`` (0..1, NaN without Azure data), the figures of
    ``trends.matrix_figures`` and ``rank`` (1 = best; no data ranks last).
    This is the slider path: it reads the cube, never a metric.
    """
    cube = snapshot.cube
    overall, coverage = cube.overall(weights)
    if snapshot.as_of in cube.days:
        today = cube.days.index(snapshot.as_of)
        overall_today, coverage_today = overall[:, today], coverage[:, today]
        dims_today, dim_coverage = cube.scores[:, today], cube.coverage[:, today]
    else:
        overall_today = np.full(len(cube.slugs), np.nan)
        coverage_today = np.zeros(len(cube.slugs))
        dims_today = np.full((len(cube.slugs), len(DIMENSIONS)), np.nan)
        dim_coverage = np.zeros_like(dims_today)

    # Best first, ties by name; products without a score go last.
    names = snapshot.products["name"].to_numpy(dtype=object)
    order = np.lexsort((names, np.nan_to_num(-overall_today, nan=np.inf)))
    budget = snapshot.latest_values["error_budget_remaining"].reindex(cube.slugs)

    columns: dict[str, object] = {
        c: snapshot.products[c].to_numpy()[order] for c in snapshot.products.columns
    }
    columns["overall"] = overall_today[order]
    columns["coverage"] = coverage_today[order]
    columns["status"] = scoring.statuses(overall_today)[order]
    columns["low_confidence"] = ~np.isnan(overall_today[order]) & (
        coverage_today[order] < LOW_CONFIDENCE_BELOW
    )
    for position, dim in enumerate(DIMENSIONS):
        columns[dim] = dims_today[order, position]
        columns[f"{dim}_coverage"] = dim_coverage[order, position]
    columns["error_budget_remaining"] = budget.to_numpy(dtype=float)[order]
    for key, value in trends.matrix_figures(overall, cube.days, snapshot.as_of).items():
        columns[key] = (
            [value[i] for i in order] if isinstance(value, list) else value[order]
        )
    columns["rank"] = np.arange(1, len(order) + 1)
    return pd.DataFrame(columns)


def metric_values(snapshot: Snapshot, product: str) -> dict[str, object]:
    """Today's metric values of one product, None where missing."""
    today = snapshot.values_today()
    if product not in today.index:
        return dict.fromkeys(METRIC_NAMES)
    row = today.loc[product]
    return {name: plain(row[name]) for name in METRIC_NAMES}


def plain(value: object) -> object:
    """Turn a numpy or pandas scalar into a Python one, and any missing one into None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def plain_number(value: object) -> float | None:
    """``plain`` as a float: scores and metric values for JSON and messages."""
    number = plain(value)
    return None if number is None else float(number)  # type: ignore[arg-type]
