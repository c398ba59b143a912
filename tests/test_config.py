"""The portfolio file: what it accepts, and one clear error for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.config import ConfigError, load_portfolio

GOOD = """
[defaults]
slo = 99.5

[[products]]
slug = "adora"
name = "Adora"
team = "Payments"
tier = 1
sentry_projects = ["adora-web", "adora-api"]
sonar_projects = ["acme_adora"]
jira_jql = "project = ADO"

[products.thresholds.runtime.open_critical_issues]
bad = 50

[[products]]
slug = "billing"
name = "Billing"
team = "Payments"
tier = 2
slo = 99.95
azure_workspace = "0000"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portfolio.toml"
    path.write_text(text)
    return path


def test_a_good_file_reads_into_products(tmp_path: Path) -> None:
    portfolio = load_portfolio(write(tmp_path, GOOD))

    assert [p.slug for p in portfolio.products] == ["adora", "billing"]
    adora, billing = portfolio.products
    assert adora.slo == 99.5 and billing.slo == 99.95
    assert adora.sources == ("sentry", "sonar", "jira")
    assert billing.sources == ("azure",)
    assert portfolio.overrides() == {"adora": {"open_critical_issues": {"bad": 50.0}}}


def test_no_file_means_no_portfolio(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_portfolio() is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            ("tier = 1", 'tier = "one"'), "product 'adora': key 'tier'", id="wrong-type"
        ),
        pytest.param(
            ('slug = "billing"', 'slug = "adora"'),
            "product 'adora': key 'slug': duplicate",
            id="duplicate-slug",
        ),
        pytest.param(
            ('slug = "billing"', 'slug = "Bad Slug"'), "key 'slug'", id="bad-slug"
        ),
        pytest.param(
            ('jira_jql = "project = ADO"', 'jira_query = "x"'),
            "key 'jira_query': unknown key",
            id="unknown-key",
        ),
        pytest.param(
            ("open_critical_issues]", "open_critical_issuez]"),
            "thresholds.runtime.open_critical_issuez",
            id="unknown-metric",
        ),
        pytest.param(
            ("slo = 99.95", "slo = 100"),
            "product 'billing': key 'slo'",
            id="slo-out-of-range",
        ),
        pytest.param(
            ("[defaults]", "[defaultz]"), "key 'defaultz'", id="unknown-table"
        ),
    ],
)
def test_mistakes_name_the_file_product_and_key(
    tmp_path: Path, change, expected
) -> None:
    path = write(tmp_path, GOOD.replace(*change, 1))

    with pytest.raises(ConfigError) as caught:
        load_portfolio(path)

    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_broken_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "\n[[products]\n")

    with pytest.raises(ConfigError, match="not valid TOML"):
        load_portfolio(path)


def test_a_named_file_must_exist(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RELIABILITY_CONFIG", str(tmp_path / "missing.toml"))

    with pytest.raises(ConfigError, match="no such file"):
        load_portfolio()


def test_example_file_is_valid() -> None:
    portfolio = load_portfolio(Path("data/portfolio.example.toml"))

    assert portfolio is not None and len(portfolio.products) >= 2


def test_global_thresholds_reach_products_the_file_does_not_list(
    tmp_path: Path,
) -> None:
    portfolio = load_portfolio(write(tmp_path, GOOD))

    overrides = portfolio.overrides(["adora", "billing", "elsewhere"])

    assert "billing" not in overrides  # listed, no thresholds of its own
    assert overrides["adora"] == {"open_critical_issues": {"bad": 50.0}}
    assert "elsewhere" not in overrides  # GOOD has no global thresholds

    with_global = GOOD.replace(
        "[[products]]", "[thresholds.quality.coverage]\ngood = 60\n\n[[products]]", 1
    )
    portfolio = load_portfolio(write(tmp_path, with_global))
    overrides = portfolio.overrides(["adora", "elsewhere"])
    assert overrides["elsewhere"] == {"coverage": {"good": 60.0}}
    assert overrides["adora"]["coverage"] == {"good": 60.0}
