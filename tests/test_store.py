"""The store: schema, bulk upserts, and copy-on-write shared by two processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reliability import snapshot
from reliability.scoring import DEFAULT_WEIGHTS
from reliability.store import SCHEMA_VERSION, Store, StoreError, upsert


def products(*slugs: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"slug": list(slugs), "name": list(slugs), "team": "T", "tier": 1}
    )


def test_a_new_store_has_the_current_schema(store: Store) -> None:
    with store.writing():
        pass

    assert store.meta()["schema_version"] == str(SCHEMA_VERSION)


def test_upsert_replaces_by_natural_key(store: Store) -> None:
    with store.writing() as con:
        upsert(con, "products", products("a", "b"))
        upsert(
            con,
            "products",
            pd.DataFrame(
                {"slug": ["a"], "name": ["Renamed"], "team": ["T"], "tier": [2]}
            ),
        )

    rows = store.query("SELECT slug, name, tier FROM products ORDER BY slug")
    assert rows.values.tolist() == [["a", "Renamed", 2], ["b", "b", 1]]


def test_a_failed_write_leaves_the_last_good_data(store: Store) -> None:
    with store.writing() as con:
        upsert(con, "products", products("a"))

    with pytest.raises(RuntimeError), store.writing() as con:
        upsert(con, "products", products("b"))
        raise RuntimeError("the source broke half way")

    assert store.query("SELECT slug FROM products")["slug"].tolist() == ["a"]
    assert [p.name for p in store.path.parent.iterdir() if "draft" in p.name] == []


def test_reading_a_missing_file_says_what_to_run(store: Store) -> None:
    with pytest.raises(StoreError, match="python -m reliability demo"):
        store.query("SELECT 1")


def test_a_file_from_a_newer_app_is_refused(store: Store) -> None:
    with store.writing():
        pass
    con = duckdb.connect(str(store.path))
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.close()

    with pytest.raises(StoreError, match="schema version 999"):
        store.query("SELECT 1")


WRITER = textwrap.dedent(
    """
    import sys, time
    from reliability.demo import build_demo
    from reliability.store import Store
    store = Store(sys.argv[1])
    deadline = time.monotonic() + float(sys.argv[2])
    writes = 0
    while time.monotonic() < deadline:
        build_demo(store, products=12, days=120, seed=writes % 2)
        writes += 1
    print(writes)
    """
)


def test_reads_never_fail_while_another_process_writes(tmp_path: Path) -> None:
    store = Store(tmp_path / "shared.duckdb")
    from reliability.demo import build_demo

    build_demo(store, products=12, days=120, seed=0)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store.path), "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path.cwd(),
    )
    reads, seen = 0, set()
    try:
        while writer.poll() is None:
            snap = snapshot.load_snapshot(store)
            table = snapshot.summary(snap, DEFAULT_WEIGHTS)
            # Every read sees one whole portfolio, never a half-written one.
            assert len(table) == 12
            assert table["overall"].notna().all()
            seen.add(round(float(table["overall"].sum()), 6))
            reads += 1
            time.sleep(0.01)
    finally:
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert int(out.strip()) >= 2 and reads >= 5
    assert len(seen) >= 2, "the reader should have seen the writer's versions switch"
