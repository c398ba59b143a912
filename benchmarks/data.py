"""Figures of the data path: demo build, metrics from raw rows, re-scoring, ingest."""

from __future__ import annotations

import itertools

from benchmarks.common import DEMO_END, Result, Settings, demo_store, timed
from reliability import snapshot
from reliability.demo import build_demo
from reliability.scoring import DEFAULT_WEIGHTS
from reliability.store import Store, upsert

# The raw table the ingest figure writes: the demo's biggest.
INGEST_TABLE = "sonar_measures"


def run(settings: Settings, size: int) -> list[Result]:
    """Every data-path figure at one portfolio size, building its store first."""
    results = [build(settings, size)]
    store = demo_store(settings, size)
    results += [compute(store, settings, size), *slider(store, settings, size)]
    results.append(ingest(store, settings, size))
    return results


def build(settings: Settings, size: int) -> Result:
    """Build the demo (180 days of raw rows, through the store, metrics included)."""
    store = Store(settings.workdir / f"demo-{size}.duckdb")
    warmup = 0 if settings.is_quick else 1
    samples = timed(
        lambda: build_demo(store, products=size, end=DEMO_END),
        repeat=settings.heavy_repeat,
        warmup=warmup,
    )
    rows = sum(
        int(store.query(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])
        for table in ("sentry_issues", "sentry_issue_changes", "sentry_sessions",
                      "sonar_measures", "jira_tickets", "azure_requests",
                      "azure_requests_hourly")
    )  # fmt: skip
    return Result(figure="build", size=size, samples=samples, note=f"{rows:,} raw rows")


def compute(store: Store, settings: Settings, size: int) -> Result:
    """All metrics, sub-scores and dimensions for 90 days, from raw rows.

    ``load_snapshot`` with an ``as_of`` recomputes the metrics from the raw rows
    instead of reading the stored ones, then scores them to dimension level.
    """
    samples = timed(
        lambda: snapshot.load_snapshot(store, as_of=DEMO_END), repeat=settings.repeat
    )
    return Result(figure="metrics", size=size, samples=samples)


def slider(store: Store, settings: Settings, size: int) -> list[Result]:
    """The slider path: re-score the stored dimensions, then the ranked summary."""
    snap = snapshot.load_snapshot(store)
    weights = _weight_changes()
    rescore = timed(
        lambda: snapshot.rescore(snap, next(weights)), repeat=settings.repeat
    )
    summary = timed(
        lambda: snapshot.summary(snap, next(weights)), repeat=settings.repeat
    )
    return [
        Result(figure="rescore", size=size, samples=rescore),
        Result(figure="summary", size=size, samples=summary),
    ]


def ingest(store: Store, settings: Settings, size: int) -> Result:
    """Rows per second of one upsert of a big frame into an empty store."""
    frame = store.query(f"SELECT * FROM {INGEST_TABLE}")
    target = Store(settings.workdir / f"ingest-{size}.duckdb")
    samples = []
    for _ in range(settings.heavy_repeat + 1):
        with target.writing(fresh=True) as con:
            seconds = timed(
                lambda con=con: upsert(con, INGEST_TABLE, frame), repeat=1, warmup=0
            )
        samples.append(len(frame) / seconds[0])
    return Result(
        figure="ingest",
        size=size,
        samples=tuple(samples[1:]),
        note=f"{len(frame):,} {INGEST_TABLE} rows",
    )


def _weight_changes():  # noqa: ANN202 - an endless iterator of weight dicts
    """A new runtime weight each call, as a slider moving step by step does."""
    for runtime in itertools.cycle(range(5, 101, 5)):
        yield {**DEFAULT_WEIGHTS, "runtime": float(runtime)}
