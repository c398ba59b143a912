"""The real server: first paint in headless Chromium and the server's peak memory."""

from __future__ import annotations

import contextlib
from pathlib import Path

from benchmarks.common import CHROMIUM, Result, Settings, demo_store

# The app server and browser are the ones the end-to-end tests drive.
from tests.e2e.screenshots import launch, serve

TABLE = "[data-testid=stDataFrame]"
VIEWPORT = {"width": 1600, "height": 1000}
PAINT_TIMEOUT_MS = 60_000


def run(settings: Settings, size: int) -> list[Result]:
    """First paint for a new and a returning visitor, then the server's peak RSS."""
    figures = ("paint_cold", "paint_warm", "server_memory")
    reason = _missing_prerequisite()
    if reason:
        return [Result(figure=f, size=size, skipped=reason) for f in figures]

    from playwright.sync_api import sync_playwright

    store = demo_store(settings, size)
    with serve(store.path) as (base, process), sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            cold = [_paint(browser, base) for _ in range(settings.heavy_repeat + 1)]
            warm = _warm_paints(browser, base, settings.heavy_repeat)
        finally:
            browser.close()
        peak_mib = peak_rss_kib(process.pid) / 1024
    sessions = len(cold) + len(warm) + 1
    return [
        Result(figure="paint_cold", size=size, samples=tuple(cold[1:])),
        Result(figure="paint_warm", size=size, samples=tuple(warm)),
        Result(
            figure="server_memory",
            size=size,
            samples=(peak_mib,),
            note=f"VmHWM after {sessions} sessions",
        ),
    ]


# Notes the first frame in which the table is laid out, on the page's own clock
# (milliseconds since navigation started). Playwright's wait_for_selector polls
# with a back-off of up to 0.5 s, which made the same paint read 1.6 s or 2.0 s.
_MARK_TABLE = """
(() => {
  const look = () => {
    const table = document.querySelector('SELECTOR');
    if (table && table.offsetWidth > 0 && table.offsetHeight > 0) {
      window.__tablePaintedAt = performance.now();
    } else {
      requestAnimationFrame(look);
    }
  };
  requestAnimationFrame(look);
})();
""".replace("SELECTOR", TABLE)


def _paint(browser, base: str, context=None) -> float:  # noqa: ANN001 - playwright types
    """Seconds from navigation to the first frame showing the overview table."""
    own = context is None
    context = context or browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.add_init_script(_MARK_TABLE)
        page.goto(base, wait_until="commit")
        page.wait_for_function(
            "window.__tablePaintedAt !== undefined", timeout=PAINT_TIMEOUT_MS
        )
        return float(page.evaluate("window.__tablePaintedAt")) / 1000
    finally:
        page.close()
        if own:
            context.close()


def _warm_paints(browser, base: str, repeat: int) -> list[float]:  # noqa: ANN001
    # One context keeps the browser's HTTP cache: a returning visitor whose
    # every visit is still a new Streamlit session.
    context = browser.new_context(viewport=VIEWPORT)
    try:
        _paint(browser, base, context)
        return [_paint(browser, base, context) for _ in range(repeat)]
    finally:
        context.close()


def _missing_prerequisite() -> str | None:
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def peak_rss_kib(pid: int) -> int:
    """Sum of the peak resident sizes (VmHWM) of ``pid`` and its descendants."""
    return sum(_vm_hwm_kib(p) for p in [pid, *_descendants(pid)])


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # The command name may hold spaces; the parent id follows its ")".
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], list(children.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack += children.get(child, [])
    return found


def _vm_hwm_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
