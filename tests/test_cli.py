"""The command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reliability.scoring import DIMENSIONS, METRICS, metrics_of
from reliability.store import Store


def run(
    *args: str,
    db: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELIABILITY_", "SENTRY_", "SONAR_", "JIRA_"))
    }
    environ["PYTHONPATH"] = str(Path.cwd())
    if db is not None:
        environ["RELIABILITY_DB"] = str(db)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reliability", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd or Path.cwd(),
        timeout=120,
        check=False,
    )


def test_scores_json_has_the_documented_shape(demo_store: Store) -> None:
    result = run("scores", "--format", "json", db=demo_store.path)

    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert len(records) == 12
    adora = next(r for r in records if r["product"] == "adora")
    assert set(adora) >= {
        "product",
        "name",
        "team",
        "tier",
        "overall",
        "status",
        "coverage",
        "dimensions",
    }
    assert adora["status"] == "Healthy"
    for dim in DIMENSIONS:
        assert set(adora["dimensions"][dim]["metrics"]) == {
            m.name for m in metrics_of(dim)
        }
    assert adora["dimensions"]["quality"]["metrics"]["quality_gate"]["value"] in {
        "OK",
        "ERROR",
        "WARN",
    }
    assert (
        90
        < adora["dimensions"]["runtime"]["metrics"]["crash_free_sessions"]["value"]
        <= 100
    )
    atlas = next(r for r in records if r["product"] == "atlas")
    assert atlas["dimensions"]["system_health"]["score"] is None
    assert all(
        m["value"] is None
        for m in atlas["dimensions"]["system_health"]["metrics"].values()
    )
    assert len(METRICS) == sum(
        len(r) for r in (adora["dimensions"][d]["metrics"] for d in DIMENSIONS)
    )


def test_scores_as_of_and_weights_change_the_ranking(demo_store: Store) -> None:
    default = json.loads(run("scores", "--format", "json", db=demo_store.path).stdout)
    quality_only = json.loads(
        run(
            "scores", "--format", "json", "--weights", "0,100,0,0", db=demo_store.path
        ).stdout
    )
    earlier = json.loads(
        run(
            "scores", "--format", "json", "--as-of", "2026-10-15", db=demo_store.path
        ).stdout
    )

    ledger = next(r for r in quality_only if r["product"] == "ledger")
    assert ledger["overall"] == pytest.approx(ledger["dimensions"]["quality"]["score"])
    assert [r["product"] for r in quality_only] != [r["product"] for r in default]
    billing_then = next(r for r in earlier if r["product"] == "billing")
    billing_now = next(r for r in default if r["product"] == "billing")
    assert billing_then["overall"] > billing_now["overall"] + 10


def test_scores_table_rounds_to_two_decimals(demo_store: Store) -> None:
    result = run("scores", db=demo_store.path)

    assert result.returncode == 0
    line = next(
        line for line in result.stdout.splitlines() if line.strip().startswith("adora")
    )
    assert any(
        part.count(".") == 1 and len(part.split(".")[1]) == 2 for part in line.split()
    )


def test_scores_csv(demo_store: Store) -> None:
    result = run("scores", "--format", "csv", db=demo_store.path)

    assert result.stdout.splitlines()[0].startswith("product,name,team,tier,overall")
    assert len(result.stdout.splitlines()) == 13


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("scores", "--as-of", "03/01/2026"),
            "--as-of must be a date as YYYY-MM-DD",
            id="bad-date",
        ),
        pytest.param(
            ("scores", "--weights=-10,30,20,10"),
            "weight must be 0 or more",
            id="negative-weight",
        ),
        pytest.param(
            ("scores", "--weights", "0,0,0,0"),
            "at least one dimension weight",
            id="zero-weights",
        ),
        pytest.param(
            ("scores", "--weights", "40,30"), "needs 4 numbers", id="too-few-weights"
        ),
        pytest.param(
            ("demo", "--products", "0"), "must be 1 or more", id="no-products"
        ),
    ],
)
def test_bad_input_gives_one_clear_line_and_exit_2(
    demo_store: Store, args, message
) -> None:
    result = run(*args, db=demo_store.path)

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_broken_portfolio_file_names_file_product_and_key(
    demo_store: Store, tmp_path: Path
) -> None:
    config = tmp_path / "portfolio.toml"
    config.write_text('[[products]]\nslug = "adora"\nname = "Adora"\ntier = "high"\n')

    result = run("scores", db=demo_store.path, env={"RELIABILITY_CONFIG": str(config)})

    assert result.returncode == 2
    assert (
        str(config) in result.stderr
        and "'adora'" in result.stderr
        and "'tier'" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_missing_data_file_says_what_to_run(tmp_path: Path) -> None:
    result = run("scores", db=tmp_path / "none.duckdb")

    assert result.returncode == 1
    assert "python -m reliability demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_command_writes_the_named_file(tmp_path: Path) -> None:
    db = tmp_path / "small.duckdb"

    result = run("demo", "--products", "3", "--days", "40", "--seed", "3", db=db)

    assert result.returncode == 0, result.stderr
    assert Store(db).query("SELECT count(*) AS n FROM products")["n"][0] == 3
