"""Screenshots of every page from a fresh demo, and the helpers the e2e tests share.

Run as ``python -m tests.e2e.screenshots docs/screenshots`` (``make screenshots``):
it builds a demo file in a temporary folder, starts the app on a free port,
opens each page in headless Chromium and saves ``overview.png``, ``product.png``
and ``trends.png``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

CHROMIUM = Path("/usr/bin/chromium")
# Flags that keep Debian's chromium quiet and quick in a container (measurements.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1600, "height": 1000}
ROOT = Path(__file__).resolve().parents[2]
# A fixed last day keeps the pictures the same from one run to the next.
DEMO_END = dt.date(2026, 11, 30)
PAGES = {"overview": "", "product": "product?product=billing", "trends": "trends"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(
    db_path: Path, timeout_seconds: float = 45.0
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run ``streamlit run app.py`` on a free port; yield its base URL and process.

    The e2e tests, ``make screenshots`` and the browser benchmark all use it.
    """
    port = free_port()
    env = {**os.environ, "RELIABILITY_DB": str(db_path)}
    env.pop("RELIABILITY_CONFIG", None)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    # A file, not a pipe, for the server's log: a full pipe would stall the server.
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True
        )
        base = f"http://127.0.0.1:{port}/"
        try:
            _wait_until_healthy(base, process, log, timeout_seconds)
            yield base, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(
    base: str, process: subprocess.Popen[str], log: IO[str], timeout_seconds: float
) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(
                f"streamlit exited with {process.returncode}: {log.read()[-2000:]}"
            )
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(base + "_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.25)
    raise RuntimeError(
        f"streamlit did not answer on {base} within {timeout_seconds:.0f}s"
    )


def launch(playwright):  # noqa: ANN001, ANN201 - playwright's own types
    """Headless Debian chromium; Playwright's bundled browser is not installed."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_for_app(page, timeout_ms: float = 30_000) -> None:  # noqa: ANN001
    """Wait until the script run has finished and the page has painted."""
    page.wait_for_selector("[data-testid=stMain] h1", timeout=timeout_ms)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid=stStatusWidget] [data-testid=stStatusWidgetRunningIcon]')
              && !document.querySelector('[data-stale=true]')""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(600)  # Vega and the data grid paint after the run ends.


def screenshot(page, target: Path) -> None:  # noqa: ANN001
    """Save the whole page: Streamlit scrolls inside its main block, not the window."""
    height = 0
    for _ in range(5):
        measured = page.evaluate(
            "() => document.querySelector('[data-testid=stMain]').scrollHeight"
        )
        if measured == height:
            break
        height = measured
        page.set_viewport_size(
            {"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], int(height))}
        )
        page.wait_for_timeout(700)
    page.screenshot(path=str(target))
    page.set_viewport_size(VIEWPORT)


def capture(base: str, out_dir: Path) -> list[Path]:
    """Open each page in a fresh context and save a full-page screenshot."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for name, path in PAGES.items():
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(base + path)
            wait_for_app(page)
            target = out_dir / f"{name}.png"
            screenshot(page, target)
            written.append(target)
            context.close()
        browser.close()
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0] if argv else "docs/screenshots")
    from reliability.demo import build_demo
    from reliability.store import Store

    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "demo.duckdb"
        build_demo(Store(db_path), end=DEMO_END)
        with serve(db_path) as (base, _process):
            for path in capture(base, out_dir):
                print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
