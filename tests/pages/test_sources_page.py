"""The Data sources page, in Streamlit's runtime."""

from __future__ import annotations

from reliability.store import Store
from tests.conftest import open_page


def test_sources_page_shows_freshness_coverage_and_runs(demo_env: Store) -> None:
    at = open_page("app_pages/sources.py")

    assert not at.exception
    assert at.title[0].value == "Data sources"
    assert {m.label for m in at.metric} == {
        "Sentry",
        "SonarCloud",
        "Jira",
        "Azure Monitor",
    }
    coverage = at.dataframe[0].value.set_index("product")
    assert coverage.at["Adora", "runtime"] == 100.0
    assert coverage["system_health"].isna().sum() == 2  # Atlas and Sable
    assert not any(b.label == "Sync now" for b in at.button)
