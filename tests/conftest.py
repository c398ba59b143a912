"""Shared fixtures: real DuckDB files under tmp dirs, and one demo portfolio."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from reliability.demo import build_demo
from reliability.store import Store, upsert

APP_PATH = str(Path(__file__).resolve().parent.parent / "app.py")
# A fixed last day keeps the demo's dates, and so every derived figure, stable.
DEMO_END = dt.date(2026, 11, 30)


def open_page(page: str | None = None, **params: str) -> AppTest:
    """Run the app in AppTest on ``page`` (the overview by default) with ``params``."""
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    if page is not None:
        at.switch_page(page)
    return at.run()


def write_rows(store: Store, **tables: list[dict]) -> None:
    """Write rows per table into ``store``, with one product ``p`` unless given."""
    products = tables.pop(
        "products", [{"slug": "p", "name": "P", "team": "T", "tier": 1}]
    )
    with store.writing() as con:
        upsert(con, "products", pd.DataFrame(products))
        for table, rows in tables.items():
            upsert(con, table, pd.DataFrame(rows))


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own settings and tokens out of every test."""
    for name in (
        "RELIABILITY_DB",
        "RELIABILITY_CONFIG",
        "RELIABILITY_APP_URL",
        "SLACK_WEBHOOK_URL",
        "TEAMS_WEBHOOK_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """An empty store in a fresh folder."""
    return Store(tmp_path / "reliability.duckdb")


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The default demo portfolio, built once; tests must not write to it."""
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    build_demo(store, end=DEMO_END)
    return store


@pytest.fixture
def demo_env(demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Point RELIABILITY_DB at the shared demo file."""
    monkeypatch.setenv("RELIABILITY_DB", str(demo_store.path))
    return demo_store
