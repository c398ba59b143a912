"""The command line: ``python -m reliability <command>``.

Every expected failure (a bad config file, bad arguments, a source refusing us, a
missing data file) ends as one line on stderr and a non-zero exit, never a
traceback. Exit codes: 0 success, 1 a pull or delivery failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from reliability import demo, scoring, snapshot
from reliability.config import ConfigError, load_portfolio
from reliability.scoring import DIMENSIONS, normalise_weights
from reliability.store import Store, StoreError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """A command-line value we cannot use; the message says which and why."""


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``"40,30,20,10"`` into dimension weights, in dimension order."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != len(DIMENSIONS):
        raise UsageError(
            f"--weights needs {len(DIMENSIONS)} numbers "
            f"({', '.join(DIMENSIONS)}), not {text!r}"
        )
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UsageError(f"--weights must be numbers, not {text!r}") from None
    try:
        return normalise_weights(dict(zip(DIMENSIONS, values, strict=True)))
    except ValueError as exc:
        raise UsageError(f"--weights: {exc}") from None


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--as-of must be a date as YYYY-MM-DD, not {text!r}"
        ) from None


# -- commands ----------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    store = Store.from_env()
    if args.products < 1 or args.days < 1:
        raise UsageError("--products and --days must be 1 or more")
    counts = demo.build_demo(
        store, products=args.products, seed=args.seed, days=args.days
    )
    print(
        f"Wrote the demo portfolio ({args.products} products, "
        f"{sum(counts.values()):,} rows) to {store.path}"
    )
    return EXIT_OK


def cmd_scores(args: argparse.Namespace) -> int:
    weights = parse_weights(args.weights) if args.weights else scoring.DEFAULT_WEIGHTS
    as_of = parse_day(args.as_of) if args.as_of else None
    portfolio = load_portfolio()
    snap = snapshot.load_snapshot(Store.from_env(), portfolio, as_of=as_of)
    records = score_records(snap, weights)

    if args.format == "json":
        print(json.dumps(records, indent=2))
    elif args.format == "csv":
        print(_flat_frame(records).to_csv(index=False), end="")
    else:
        print(_table_text(_flat_frame(records)))
    return EXIT_OK


def score_records(
    snap: snapshot.Snapshot, weights: dict[str, float]
) -> list[dict[str, Any]]:
    """Scores per product in the documented JSON shape, best first."""
    table = snapshot.summary(snap, weights)
    today = snap.today()
    records = []
    for row in table.itertuples(index=False):
        values = snapshot.metric_values(snap, row.slug)
        dims = {}
        for dim in DIMENSIONS:
            has_row = row.slug in today.index
            dims[dim] = {
                "score": snapshot.plain_number(getattr(row, dim)),
                "coverage": snapshot.plain_number(getattr(row, f"{dim}_coverage"))
                or 0.0,
                "metrics": {
                    m.name: {
                        "value": values[m.name],
                        "sub_score": snapshot.plain_number(
                            today.at[row.slug, f"sub_{m.name}"]
                        )
                        if has_row
                        else None,
                    }
                    for m in scoring.metrics_of(dim)
                },
            }
        records.append(
            {
                "product": row.slug,
                "name": row.name,
                "team": row.team,
                "tier": int(row.tier),
                "overall": snapshot.plain_number(row.overall),
                "status": row.status,
                "coverage": snapshot.plain_number(row.coverage) or 0.0,
                "delta_7d": snapshot.plain_number(row.delta_7d),
                "delta_30d": snapshot.plain_number(row.delta_30d),
                "dimensions": dims,
            }
        )
    return records


def _flat_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for r in records:
        row = {
            k: r[k]
            for k in (
                "product",
                "name",
                "team",
                "tier",
                "overall",
                "status",
                "coverage",
                "delta_7d",
                "delta_30d",
            )
        }
        row.update({dim: r["dimensions"][dim]["score"] for dim in DIMENSIONS})
        rows.append(row)
    return pd.DataFrame(rows)


def _table_text(frame: pd.DataFrame) -> str:
    shown = frame.drop(columns=["name"]).copy()
    for column in ("overall", "coverage", "delta_7d", "delta_30d", *DIMENSIONS):
        shown[column] = shown[column].map(
            lambda v: "-" if v is None or pd.isna(v) else f"{v:.2f}"
        )
    return shown.to_string(index=False)


def cmd_sync(args: argparse.Namespace) -> int:
    from reliability import sync_cli

    return int(sync_cli.main_sync(args))


def cmd_check_config(args: argparse.Namespace) -> int:
    from reliability import sync_cli

    return int(sync_cli.main_check_config(args))


def cmd_alerts(args: argparse.Namespace) -> int:
    from reliability import alerts_cli

    return int(alerts_cli.main_alerts(args))


# -- parser ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reliability",
        description="Score a portfolio of products from Sentry, SonarCloud, Jira and Azure.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True)

    demo_cmd = commands.add_parser("demo", help="write the built-in demo portfolio")
    demo_cmd.add_argument("--products", type=int, default=demo.DEFAULT_PRODUCTS)
    demo_cmd.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    demo_cmd.add_argument("--days", type=int, default=demo.DEFAULT_DAYS)
    demo_cmd.set_defaults(handler=cmd_demo)

    scores_cmd = commands.add_parser("scores", help="print the scores of every product")
    scores_cmd.add_argument("--as-of", help="score as of this day (YYYY-MM-DD)")
    scores_cmd.add_argument("--weights", help="dimension weights, e.g. 40,30,20,10")
    scores_cmd.add_argument(
        "--format", choices=("table", "json", "csv"), default="table"
    )
    scores_cmd.set_defaults(handler=cmd_scores)

    sync_cmd = commands.add_parser("sync", help="pull data from the sources")
    sync_cmd.add_argument("--source", choices=("sentry", "sonar", "jira", "azure"))
    sync_cmd.add_argument("--product", help="only this product (its slug)")
    sync_cmd.add_argument("--full", action="store_true", help="ignore watermarks")
    sync_cmd.set_defaults(handler=cmd_sync)

    check_cmd = commands.add_parser(
        "check-config", help="validate the portfolio and environment"
    )
    check_cmd.add_argument("--ping", action="store_true", help="call each source once")
    check_cmd.set_defaults(handler=cmd_check_config)

    alerts_cmd = commands.add_parser(
        "alerts", help="evaluate alert rules and send alerts"
    )
    alerts_cmd.add_argument(
        "--dry-run", action="store_true", help="print, send nothing"
    )
    alerts_cmd.set_defaults(handler=cmd_alerts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    from dotenv import load_dotenv

    load_dotenv()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except (UsageError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
