"""``python -m benchmarks [--sizes 50,500,2000] [--repeat N] [--quick]``."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import apptest, browser, data, sync
from benchmarks.common import Result, Settings, machine
from benchmarks.report import ratio_lines, table, write_csv

RESULTS_DIR = Path(__file__).resolve().parent / "results"
GROUPS: dict[str, Callable[[Settings, int], list[Result]]] = {
    "data": data.run,
    "apptest": apptest.run,
    "browser": browser.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    only = set(args.only.split(",")) if args.only else {*GROUPS, "sync"}
    with tempfile.TemporaryDirectory(prefix="reliability-bench-") as workdir:
        settings = Settings(
            sizes=tuple(args.sizes),
            repeat=3 if args.quick and args.repeat is None else args.repeat or 7,
            workdir=Path(workdir),
            is_quick=args.quick,
        )
        results = run_all(settings, only)

    text = table(
        results, settings.sizes, machine(), ratio_lines(results, settings.sizes)
    )
    print(text)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.csv or RESULTS_DIR / f"bench-{stamp}.csv"
    write_csv(results, path)
    print(f"\nWrote {path}")
    return 0


def run_all(settings: Settings, only: set[str]) -> list[Result]:
    """Run the chosen groups at every size, smallest first, then the sync."""
    results: list[Result] = []
    for size in settings.sizes:
        for name, group in GROUPS.items():
            if name in only:
                _progress(f"{name} at {size:,} products")
                results += group(settings, size)
    if "sync" in only:
        _progress("sync")
        results += sync.run(settings)
    return results


def _progress(what: str) -> None:
    print(f"... {what}", file=sys.stderr, flush=True)


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be numbers: {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give at least one size of 1 or more")
    return sizes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[50, 500, 2000],
        help="demo portfolio sizes (default 50,500,2000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="measured runs per quick figure (default 7; 3 with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs, one run of the slow figures"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated groups: data,apptest,browser,sync"
    )
    parser.add_argument(
        "--csv",
        type=Path,
        default=None,
        help="where to write the CSV (default benchmarks/results/)",
    )
    return parser  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
