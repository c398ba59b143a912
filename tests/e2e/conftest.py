"""A real app server and headless Chromium, shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.store import Store
from tests.e2e.screenshots import CHROMIUM, VIEWPORT, launch, serve

ARTIFACTS = Path(__file__).parent / "artifacts"


# Module scope: Playwright's sync API keeps an event loop running while it is
# open, and a later test that starts its own (the browser benchmark) would fail.
@pytest.fixture(scope="module")
def app_url(demo_store: Store) -> Iterator[str]:
    """``streamlit run app.py`` on a free port, reading the session's demo file."""
    with serve(demo_store.path) as (base, _process):
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"end-to-end tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):  # noqa: ANN001, ANN201
    """Open pages in fresh browser contexts: no cookies, cache or session."""
    contexts = []

    def open_page():  # noqa: ANN202
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
