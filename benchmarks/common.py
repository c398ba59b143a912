"""What every benchmark shares: figures, timing, the machine and the demo stores."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit

from reliability.demo import build_demo
from reliability.store import Store
from tests.e2e.screenshots import CHROMIUM as CHROMIUM

ROOT = Path(__file__).resolve().parent.parent
APP_PATH = ROOT / "app.py"
# A fixed last day keeps the demo, and so the work measured, the same every run.
DEMO_END = dt.date(2026, 11, 30)
# A product every demo portfolio has, for the product page.
PRODUCT = "billing"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How hard to measure: runs per figure and where the stores go."""

    sizes: tuple[int, ...]
    repeat: int
    workdir: Path
    is_quick: bool = False

    @property
    def heavy_repeat(self) -> int:
        """Runs for figures that take seconds each (builds, browsers, syncs)."""
        return 1 if self.is_quick else max(1, min(self.repeat, 3))


@dataclass(frozen=True, kw_only=True)
class Result:
    """One figure at one portfolio size; ``size`` is None when it has none."""

    figure: str
    size: int | None
    samples: tuple[float, ...] = ()
    note: str = ""
    skipped: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)


def skipped(figure: str, size: int | None, reason: str) -> Result:
    return Result(figure=figure, size=size, skipped=reason)


def timed(
    run: Callable[[], object], *, repeat: int, warmup: int = 1
) -> tuple[float, ...]:
    """Seconds per call of ``run``, after ``warmup`` calls that are not counted."""
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return tuple(samples)


def demo_store(settings: Settings, products: int) -> Store:
    """The demo store of ``products`` products, built once per benchmark run."""
    store = Store(settings.workdir / f"demo-{products}.duckdb")
    if not store.exists():
        build_demo(store, products=products, end=DEMO_END)
    return store


def machine() -> dict[str, str]:
    """Cores, memory and the versions that shape the figures."""
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{_memory_gib():.0f} GiB",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "streamlit": streamlit.__version__,
        "chromium": chromium_version() or "not installed",
    }


def chromium_version() -> str | None:
    if not CHROMIUM.exists():
        return None
    try:
        done = subprocess.run(
            [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()
    return next((w for w in words if w[:1].isdigit()), None)


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")
