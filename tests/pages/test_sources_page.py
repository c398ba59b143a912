"""The Data sources page, in Streamlit's runtime."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from reliability.store import Store
from tests.conftest import APP_PATH


def test_sources_page_shows_freshness_coverage_and_runs(demo_env: Store) -> None:
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    at.run()
    at.switch_page("app_pages/sources.py").run()

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
