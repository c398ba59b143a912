"""A smoke run of every benchmark at tiny sizes; timings are never asserted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmarks import __main__ as cli
from benchmarks import apptest, browser, data, sync
from benchmarks.common import CHROMIUM, Result, Settings
from benchmarks.report import FIGURES, table


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(sizes=(3,), repeat=1, workdir=tmp_path, is_quick=True)


def measured(results: list[Result]) -> dict[str, Result]:
    by_figure = {r.figure: r for r in results}
    for result in results:
        assert result.skipped or (result.samples and result.median > 0), result
    return by_figure


def test_data_benchmarks_measure_every_figure(settings: Settings) -> None:
    results = measured(data.run(settings, 3))

    assert set(results) == {"build", "metrics", "rescore", "summary", "ingest"}
    assert "raw rows" in results["build"].note


def test_apptest_benchmarks_drive_both_pages(settings: Settings) -> None:
    results = measured(apptest.run(settings, 3))

    assert set(results) == {"overview_rerun", "product_first_run"}


def test_sync_benchmark_pages_through_every_issue(settings: Settings) -> None:
    (result,) = sync.run(settings, issues=300, pages=3)

    assert result.samples
    assert result.note.startswith("300 issues, 4 pages per pull")


@pytest.mark.e2e
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_browser_benchmark_paints_the_overview_and_reads_memory(
    settings: Settings,
) -> None:
    results = measured(browser.run(settings, 3))

    assert results["server_memory"].median > 10  # MiB: a live Python process


def test_table_has_every_figure_and_states_the_machine(settings: Settings) -> None:
    results = [
        Result(figure=key, size=None if key == "sync" else 3, samples=(0.01, 0.02))
        for key in FIGURES
    ]

    text = table(results, [3], {"cores": "2", "duckdb": "2.0.1"})

    assert text.startswith("Machine: cores 2, duckdb 2.0.1")
    for figure in FIGURES.values():
        assert figure.label in text


def test_command_writes_the_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bench.csv"

    assert (
        cli.main(["--sizes", "3", "--quick", "--only", "data", "--csv", str(path)]) == 0
    )

    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["figure"] for row in rows} == {
        "build",
        "metrics",
        "rescore",
        "summary",
        "ingest",
    }
    assert "| figure | 3 products |" in capsys.readouterr().out
