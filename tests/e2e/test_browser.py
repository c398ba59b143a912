"""The real app in headless Chromium: clicks, links that reopen, hostile text."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from reliability.demo import HOSTILE_TITLE
from tests.e2e.screenshots import screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_clicking_a_product_opens_its_page_and_the_link_reopens_it(
    app_url: str,
    new_page,
    artifacts: Path,  # noqa: ANN001
) -> None:
    page = new_page()
    page.goto(app_url + "?w=10,30,20,40")
    wait_for_app(page)
    screenshot(page, artifacts / "overview.png")

    # The table is a canvas grid: click the row-selection cell of the first row.
    grid = page.locator("[data-testid=stDataFrame]").first
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 36 + 18)
    page.wait_for_url("**/product?**", timeout=15_000)
    wait_for_app(page)

    url = page.url
    assert urlsplit(url).path == "/product"
    slug = query(url)["product"][0]
    assert query(url)["w"] == ["10,30,20,40"]
    heading = page.locator("[data-testid=stMain] h1").first.inner_text()
    screenshot(page, artifacts / "product.png")

    again = new_page()
    again.goto(url)
    wait_for_app(again)
    assert again.locator("[data-testid=stMain] h1").first.inner_text() == heading
    assert query(again.url)["product"] == [slug]
    sliders = again.locator(
        "[data-testid=stSidebar] [data-testid=stSlider] input[type=range]"
    )
    assert [sliders.nth(i).input_value() for i in range(4)] == ["10", "30", "20", "40"]
    # The share box opens from the sidebar with the exact address to paste.
    again.locator("[data-testid=stSidebar]").get_by_text("Share this view").click()
    assert f"product={slug}" in again.locator("[data-testid=stCode]").inner_text()


def test_hostile_issue_title_shows_as_text_and_runs_nothing(
    app_url: str,
    new_page,
    artifacts: Path,  # noqa: ANN001
) -> None:
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(app_url + "product?product=billing")
    wait_for_app(page)
    page.get_by_text("Open Sentry issues that weigh most").scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    screenshot(page, artifacts / "billing.png")

    assert page.get_by_text(HOSTILE_TITLE, exact=True).count() >= 1
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []


def test_trends_page_opens_a_mover_on_click(
    app_url: str, new_page, artifacts: Path
) -> None:  # noqa: ANN001
    page = new_page()
    page.goto(app_url + "trends?window=30")
    wait_for_app(page)
    screenshot(page, artifacts / "trends.png")
    assert page.get_by_text("Mean score, last 30 days").count() == 1

    # Tables: improved and declined over 7 days, then over 30 days.
    decliners_30d = page.locator("[data-testid=stDataFrame]").nth(3)
    decliners_30d.scroll_into_view_if_needed()
    box = decliners_30d.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 36 + 18)
    page.wait_for_url("**/product?**", timeout=15_000)
    wait_for_app(page)

    assert query(page.url)["product"] == ["billing"]
    assert query(page.url)["window"] == ["30"]
    assert page.locator("[data-testid=stMain] h1").first.inner_text() == "Billing"
