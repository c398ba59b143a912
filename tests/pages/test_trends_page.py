"""The trends page on the demo portfolio, driven through AppTest."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from streamlit.testing.v1 import AppTest

from reliability.store import Store
from tests.conftest import open_page

PAGE = "app_pages/trends.py"


def run_trends(**params: str) -> AppTest:
    return open_page(PAGE, **params)


def names(frame) -> list[str]:  # noqa: ANN001
    return [link.split("#")[-1] for link in frame["product"]]


def test_trends_page_shows_mean_movers_and_risk(demo_env: Store) -> None:
    at = run_trends()

    assert not at.exception
    assert at.title[0].value == "Trends"
    subheaders = [s.value for s in at.subheader]
    assert "Mean score, last 90 days" in subheaders
    assert "Biggest movers" in subheaders
    assert "Forecast to fall into a worse band within 14 days" in subheaders
    # The demo's stories: Billing degrades, CAIMS improves over 30 days.
    assert names(at.dataframe(key="decliners_delta_30d").value)[0] == "Billing"
    assert names(at.dataframe(key="improvers_delta_30d").value)[0] == "CAIMS"


def test_trends_page_movers_link_to_product_pages_with_the_view(
    demo_env: Store,
) -> None:
    at = run_trends(w="10,30,20,40")
    links = at.dataframe(key="decliners_delta_30d").value["product"]

    assert not at.exception
    for link in links:
        url = urlsplit(link)
        query = parse_qs(url.query)
        assert url.path == "product"
        assert query["w"] == ["10,30,20,40"]
        assert query["product"][0] in set(
            at.session_state["_frame_context"].table["slug"]
        )


def test_trends_page_follows_the_filters(demo_env: Store) -> None:
    at = run_trends(team="Payments", window="30")

    assert not at.exception
    assert "Mean score, last 30 days" in [s.value for s in at.subheader]
    teams = {team for df in at.dataframe for team in df.value["team"]}
    assert teams == {"Payments"}


def test_trends_page_with_no_match_says_so(demo_env: Store) -> None:
    at = run_trends(q="zzz-no-such-name")

    assert not at.exception
    assert any("No product matches" in i.value for i in at.info)
