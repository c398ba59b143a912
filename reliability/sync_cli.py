"""The ``sync`` and ``check-config`` commands: progress, summary, exit codes.

On a terminal each source gets a progress bar that fills as its products are
pulled; elsewhere (cron, CI) each pull is one plain line, so logs stay readable.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from reliability.config import ConfigError, Portfolio, load_portfolio
from reliability.sources.errors import SourceAuthError, SourceError, SourceUnavailable
from reliability.store import Store, StoreError
from reliability.sync import PULLERS, SyncResult, run_sync

BAR_WIDTH = 24


def main_sync(args: argparse.Namespace) -> int:
    """Run `sync`: pull, print a summary table; 0 only if every pull succeeded."""
    portfolio = _portfolio_or_none()
    if portfolio is None:
        return 2
    slug = getattr(args, "product", None)
    if slug and portfolio.product(slug) is None:
        sys.stderr.write(f"error: no product {slug!r} in {portfolio.path}\n")
        return 2
    source = getattr(args, "source", None)
    sources = [source] if isinstance(source, str) else source
    names = sources or list(PULLERS)
    wanted = [p for p in portfolio.products if slug in (None, p.slug)]
    totals = {n: sum(n in p.sources for p in wanted) for n in names}

    progress = TerminalProgress(totals) if sys.stderr.isatty() else PlainProgress()
    try:
        results = run_sync(
            Store.from_env(),
            portfolio,
            sources=sources,
            product=slug,
            full=bool(getattr(args, "full", False)),
            progress=progress,
        )
    except (StoreError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1

    sys.stdout.write(format_summary(results))
    return 0 if all(r.result != "failed" for r in results) else 1


def main_check_config(args: argparse.Namespace) -> int:
    """Run `check-config`: validate portfolio and env; with --ping, call each source."""
    portfolio = _portfolio_or_none()
    if portfolio is None:
        return 2
    out = sys.stdout
    out.write(f"Portfolio {portfolio.path}: {len(portfolio.products)} products\n")
    for product in portfolio.products:
        out.write(f"  {product.slug}: {', '.join(product.sources) or 'no sources'}\n")

    is_ok = True
    needed = [n for n in PULLERS if any(n in p.sources for p in portfolio.products)]
    for name in needed:
        line, is_fine = _check_source(name, ping=bool(getattr(args, "ping", False)))
        out.write(f"{name}: {line}\n")
        is_ok = is_ok and is_fine
    return 0 if is_ok else 1


def _check_source(name: str, *, ping: bool) -> tuple[str, bool]:
    try:
        client = PULLERS[name].connect(os.environ)
    except SourceError as exc:
        return f"not configured ({exc})", False
    if not ping:
        client.close()
        return "configured", True
    try:
        return f"ok ({client.ping()})", True
    except SourceAuthError as exc:
        return f"refused: {exc}", False
    except SourceUnavailable as exc:
        return f"unreachable: {exc}", False
    except SourceError as exc:
        return f"error: {exc}", False
    finally:
        client.close()


def _portfolio_or_none() -> Portfolio | None:
    try:
        portfolio = load_portfolio()
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return None
    if portfolio is None:
        sys.stderr.write(
            "error: no portfolio file at data/portfolio.toml: copy "
            "data/portfolio.example.toml there or set RELIABILITY_CONFIG\n"
        )
    return portfolio


def format_summary(results: Sequence[SyncResult]) -> str:
    """Render results as a plain table: source, product, rows, duration, result."""
    header = ("source", "product", "rows", "duration", "result")
    lines = [
        (
            r.source,
            r.product,
            str(r.rows),
            f"{r.seconds:.1f}s",
            r.result if r.error is None else f"{r.result}: {r.error}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(4)]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[4]
        for row in [header, *lines]
    ]
    if not results:
        text.append("(nothing to sync: no product configures these sources)")
    return "\n".join(text) + "\n"


class PlainProgress:
    """One line per finished pull, for logs that are not a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, source: str, product: str, result: SyncResult | None) -> None:
        if result is None:
            return
        detail = f"{result.rows} rows" if result.error is None else result.error
        self.stream.write(
            f"sync {source} {product}: {result.result} ({detail}, "
            f"{result.seconds:.1f}s)\n"
        )
        self.stream.flush()


class TerminalProgress:
    """A bar per source that fills as its products are pulled."""

    def __init__(self, totals: dict[str, int], stream: TextIO | None = None) -> None:
        self.totals = totals
        self.done = dict.fromkeys(totals, 0)
        self.failed = dict.fromkeys(totals, 0)
        self.stream = stream or sys.stderr

    def __call__(self, source: str, product: str, result: SyncResult | None) -> None:
        total = max(self.totals.get(source, 1), 1)
        if result is not None:
            self.done[source] = self.done.get(source, 0) + 1
            self.failed[source] += result.result == "failed"
        done = self.done.get(source, 0)
        filled = round(BAR_WIDTH * done / total)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        state = f"pulling {product}" if result is None else f"{done}/{total}"
        failures = f", {self.failed[source]} failed" if self.failed[source] else ""
        self.stream.write(f"\r\x1b[K{source:<7}[{bar}] {state}{failures}")
        if done == total and result is not None:
            self.stream.write("\n")
        self.stream.flush()
