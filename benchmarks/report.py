"""The figures, their targets, and the one table (and CSV) they are printed as."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import Result


@dataclass(frozen=True, kw_only=True)
class Figure:
    """How one figure is labelled, shown and judged."""

    label: str
    unit: str  # "s", "ms", "rows/s" or "MiB"
    target: str
    is_met: Callable[[float], bool]
    target_size: int | None = 2000


FIGURES: dict[str, Figure] = {
    "build": Figure(label="demo build (180 days of raw rows, through the store)",
                    unit="s", target="< 30 s", is_met=lambda v: v < 30),
    "metrics": Figure(label="all metrics, sub-scores and dimensions, 90 days, from raw rows",
                      unit="s", target="< 1 s", is_met=lambda v: v < 1),
    "rescore": Figure(label="re-score after a weight change (snapshot.rescore)",
                      unit="ms", target="< 20 ms", is_met=lambda v: v < 0.020),
    "summary": Figure(label="ranked summary after a weight change (snapshot.summary)",
                      unit="ms", target="< 20 ms", is_met=lambda v: v < 0.020),
    "overview_rerun": Figure(label="overview rerun after a slider move (AppTest)",
                             unit="ms", target="< 300 ms", is_met=lambda v: v < 0.3),
    "product_first_run": Figure(label="product page first run (AppTest)",
                                unit="ms", target="< 300 ms", is_met=lambda v: v < 0.3),
    "paint_cold": Figure(label="overview first paint, new visitor (Chromium)",
                         unit="s", target="< 2 s at 500", is_met=lambda v: v < 2,
                         target_size=500),
    "paint_warm": Figure(label="overview first paint, browser cache warm (Chromium)",
                         unit="s", target="< 2 s at 500", is_met=lambda v: v < 2,
                         target_size=500),
    "ingest": Figure(label="store ingest (one upsert of a big frame)",
                     unit="rows/s", target="> 500,000 rows/s",
                     is_met=lambda v: v > 500_000),
    "sync": Figure(label="Sentry sync, 10,000 issues over 100 pages (local server)",
                   unit="s", target="< 10 s", is_met=lambda v: v < 10,
                   target_size=None),
    "server_memory": Figure(label="Streamlit server peak RSS, overview open",
                            unit="MiB", target="< 1 GiB", is_met=lambda v: v < 1024),
}  # fmt: skip


def table(
    results: Sequence[Result],
    sizes: Sequence[int],
    header: dict[str, str],
    ratios: Sequence[str] = (),
) -> str:
    """The Markdown table of every figure by portfolio size, with its header."""
    lines = [
        "Machine: " + ", ".join(f"{k} {v}" for k, v in header.items()),
        "Each cell: median (min-max) of the runs after a warm-up.",
        "",
        "| figure | " + " | ".join(f"{n:,} products" for n in sizes)
        + " | target | met |",
        "| --- | " + " | ".join("---" for _ in sizes) + " | --- | --- |",
    ]  # fmt: skip
    by_key = {(r.figure, r.size): r for r in results}
    for key, figure in FIGURES.items():
        cells = [_cell(by_key, key, figure, size, size == sizes[-1]) for size in sizes]
        if all(c == "" for c in cells):
            continue
        lines.append(
            f"| {figure.label} | " + " | ".join(cells)
            + f" | {figure.target} | {_verdict(by_key, key, figure, sizes)} |"
        )  # fmt: skip
    notes = [
        f"- {r.figure} at {r.size or 'any size'}: {r.note}" for r in results if r.note
    ]
    skips = [
        f"- {r.figure} at {r.size}: skipped, {r.skipped}" for r in results if r.skipped
    ]
    return "\n".join([*lines, "", *ratios, *notes, *skips])


def ratio_lines(results: Sequence[Result], sizes: Sequence[int]) -> list[str]:
    """How many slider moves one full recompute costs, per size."""
    by_key = {(r.figure, r.size): r for r in results if r.samples}
    lines = []
    for size in sizes:
        full, slider = by_key.get(("metrics", size)), by_key.get(("summary", size))
        if full and slider:
            lines.append(
                f"- at {size:,} products a full recompute from raw rows costs "
                f"{full.median / slider.median:,.0f} slider moves (metrics / summary)"
            )
    return lines


def write_csv(results: Sequence[Result], path: Path) -> None:
    """One row per figure and size, with every run's value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["figure", "size", "unit", "median", "min", "max", "runs",
                      "target", "note", "skipped"])  # fmt: skip
        for r in results:
            figure = FIGURES[r.figure]
            stats = [r.median, r.low, r.high] if r.samples else ["", "", ""]
            out.writerow([r.figure, r.size or "", figure.unit, *stats,
                          len(r.samples), figure.target, r.note, r.skipped or ""])  # fmt: skip


def _cell(
    by_key: dict[tuple[str, int | None], Result],
    key: str,
    figure: Figure,
    size: int,
    is_last: bool,
) -> str:
    # A figure with no portfolio size (the sync) is shown once, in the last column.
    result = by_key.get((key, size)) or (by_key.get((key, None)) if is_last else None)
    if result is None:
        return ""
    if result.skipped:
        return "skipped"
    if len(result.samples) == 1:
        return _format(result.median, figure.unit)
    low, high = _format(result.low, figure.unit), _format(result.high, figure.unit)
    return f"{_format(result.median, figure.unit)} ({low}-{high})"


def _verdict(
    by_key: dict[tuple[str, int | None], Result],
    key: str,
    figure: Figure,
    sizes: Sequence[int],
) -> str:
    size = figure.target_size
    if size is not None and size not in sizes:
        return "n/a"
    result = by_key.get((key, size if size is not None else None))
    if result is None or not result.samples:
        return "n/a"
    return "yes" if figure.is_met(result.median) else "**no**"


def _format(value: float, unit: str) -> str:
    if math.isnan(value):
        return "nan"
    if unit == "ms":
        return f"{value * 1000:.1f} ms" if value < 0.1 else f"{value * 1000:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "rows/s":
        return f"{value / 1e6:.2f} M/s"
    return f"{value:.0f} {unit}"
