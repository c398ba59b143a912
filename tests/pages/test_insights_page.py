"""AppTest runs of the insights page on the demo portfolio."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from reliability.store import Store
from tests.conftest import open_page

INSIGHTS_PAGE = "app_pages/insights.py"


def _insights_page(**params: str) -> AppTest:
    return open_page(INSIGHTS_PAGE, **params)


def _overall(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Overall")


def test_insights_page_runs_on_the_demo(demo_env: Store) -> None:
    at = _insights_page()

    assert not at.exception
    assert [t.value for t in at.title] == ["Insights"]
    headers = [h.value for h in at.header]
    assert "What needs attention" in headers and "Missing data" in headers
    top = at.dataframe[0].value
    names = top["product"].str.split("#").str[-1]
    assert {"Billing", "Ledger", "Helpdesk"} <= set(names.head(5))
    missing = at.dataframe[-1].value
    assert {"Atlas", "Kestrel", "Sable"} <= set(missing["product"])


def test_insights_page_product_filter_shows_the_what_if_panel(demo_env: Store) -> None:
    at = _insights_page()
    picker = next(s for s in at.selectbox if s.label == "Product")
    picker.select("ledger")
    at.run()

    assert not at.exception
    assert (
        at.query_params["product"] == ["ledger"]
        or at.query_params["product"] == "ledger"
    )
    assert set(at.dataframe[0].value["product"].str.split("#").str[-1]) == {"Ledger"}
    assert "What if" in [s.value for s in at.main.subheader]


@pytest.mark.parametrize(
    "slug",
    [pytest.param("billing", id="billing"), pytest.param("helpdesk", id="helpdesk")],
)
def test_what_if_panel_changes_the_overall_when_the_target_changes(
    demo_env: Store, slug: str
) -> None:
    at = _insights_page(product=slug)
    metric = at.selectbox(key=f"what_if_metric_{slug}")
    metric.select("sla_compliance_30d")
    at.run()
    target = at.number_input(key=f"what_if_value_{slug}_sla_compliance_30d")
    target.set_value(0.95)
    at.run()
    at_good = _overall(at)

    at.number_input(key=f"what_if_value_{slug}_sla_compliance_30d").set_value(0.6)
    at.run()

    assert not at.exception
    assert _overall(at) != at_good
    assert float(_overall(at)) < float(at_good)
