"""The words of an insight: its target, its evidence and its action.

The target is the metric's good anchor, except for the slow-moving measures of a
code base (coverage, duplication, ratings) far from it (sub-score under 50):
there the target is halfway, because taking 16% coverage to 80% or 600 bugs to
none is months of work, not a next step. Evidence is text made from the metric
values and the ``Details`` read from the store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reliability import scoring
from reliability.insight_details import Details
from reliability.scoring import Metric

HALFWAY_BELOW = 50.0
HALFWAY_METRICS = frozenset(
    {
        "coverage",
        "duplicated_lines_density",
        "reliability_rating",
        "security_rating",
        "maintainability_rating",
    }
)
RATING_LETTERS = {1: "A", 2: "B", 3: "C", 4: "D", 5: "E"}
SOURCE_LABELS = {
    "sentry": "Sentry",
    "sonar": "SonarCloud",
    "jira": "Jira",
    "azure": "Azure Monitor",
}
_PERCENT_RATIOS = {"ratio"}
_COUNT_UNITS = {"issues", "tickets"}
ACTIONS: dict[str, str] = {
    "crash_free_sessions": "Fix the top crashing issues of the latest release in Sentry",
    "open_critical_issues": "Triage the open fatal and error issues in Sentry: fix or resolve them",
    "new_issues_30d": "Find what brings new Sentry issues (a release, a dependency) and fix it at the source",
    "resolution_rate_90d": "Work down the Sentry issues first seen in the last 90 days",
    "mttr_days": "Give new Sentry issues an owner and a target date so they are resolved sooner",
    "quality_gate": "Make the SonarCloud quality gate pass on the main branch",
    "reliability_rating": "Fix the bugs SonarCloud reports, worst severity first",
    "security_rating": "Fix the vulnerabilities SonarCloud reports",
    "maintainability_rating": "Pay down the code smells SonarCloud reports in the worst files",
    "coverage": "Add tests to the least covered code and require coverage on new code",
    "duplicated_lines_density": "Extract the duplicated blocks SonarCloud lists into shared code",
    "security_hotspots_reviewed": "Review the open security hotspots in SonarCloud",
    "sla_compliance_30d": "Work the tickets past their SLA first and alert before a ticket breaches",
    "mttr_hours": "Swarm high-priority tickets: an owner at once, daily follow-up until resolved",
    "open_high_priority": "Clear the open high-priority Jira tickets, oldest first",
    "first_response_hours": "Set up an on-call rota so every new ticket gets a first response within hours",
    "error_budget_remaining": "Stop risky releases until the error budget recovers and fix the top failing requests",
    "p95_response_ms": "Profile the slowest endpoints in Application Insights and fix the worst",
    "failed_request_rate": "Fix the most frequent failing requests in Application Insights",
}

# What a missing metric means when its source is otherwise delivering data:
# (what is missing, how to fix it, kind). "no events" needs nothing configured.
METRIC_GAPS: dict[str, tuple[str, str, str]] = {
    "crash_free_sessions": (
        "no Sentry sessions (release health)",
        "enable session tracking (release health) in the Sentry SDK of the product's projects",
        "not measured",
    ),
    "open_critical_issues": (
        "no Sentry issue counts",
        "check the Sentry projects in the portfolio file and run the sync",
        "not measured",
    ),
    "new_issues_30d": (
        "no Sentry issue counts",
        "check the Sentry projects in the portfolio file and run the sync",
        "not measured",
    ),
    "resolution_rate_90d": (
        "no Sentry resolution data",
        "check the Sentry projects in the portfolio file and run the sync",
        "not measured",
    ),
    "mttr_days": (
        "no Sentry issue resolved in the last 90 days",
        "nothing to configure: fills in once an issue is resolved",
        "no events",
    ),
    "quality_gate": (
        "no SonarCloud quality gate",
        "assign a quality gate to the SonarCloud projects",
        "not measured",
    ),
    "reliability_rating": (
        "no SonarCloud reliability rating",
        "run a full SonarCloud analysis of the main branch",
        "not measured",
    ),
    "security_rating": (
        "no SonarCloud security rating",
        "run a full SonarCloud analysis of the main branch",
        "not measured",
    ),
    "maintainability_rating": (
        "no SonarCloud maintainability rating",
        "run a full SonarCloud analysis of the main branch",
        "not measured",
    ),
    "coverage": (
        "no coverage in SonarCloud",
        "upload a coverage report from CI to the SonarCloud analysis",
        "not measured",
    ),
    "duplicated_lines_density": (
        "no duplication measure in SonarCloud",
        "run a full SonarCloud analysis of the main branch",
        "not measured",
    ),
    "security_hotspots_reviewed": (
        "no security hotspot review data in SonarCloud",
        "run a full SonarCloud analysis of the main branch",
        "not measured",
    ),
    "sla_compliance_30d": (
        "no Jira SLA data",
        "check the product's jira_jql and jira_sla in the portfolio file",
        "not measured",
    ),
    "mttr_hours": (
        "no high-priority Jira ticket resolved in the last 30 days",
        "nothing to configure: fills in once one is resolved",
        "no events",
    ),
    "open_high_priority": (
        "no Jira ticket counts",
        "check the product's jira_jql in the portfolio file and run the sync",
        "not measured",
    ),
    "first_response_hours": (
        "no Jira ticket created in the last 30 days had a response",
        "nothing to configure: fills in once tickets get a response",
        "no events",
    ),
    "error_budget_remaining": (
        "no Azure request counts",
        "point azure_app_id or azure_workspace at the resource that logs the requests",
        "not measured",
    ),
    "p95_response_ms": (
        "no Azure response times",
        "send request durations to Application Insights",
        "not measured",
    ),
    "failed_request_rate": (
        "no Azure request counts",
        "point azure_app_id or azure_workspace at the resource that logs the requests",
        "not measured",
    ),
}

SOURCE_FIXES: dict[str, str] = {
    "sentry": "add sentry_projects to the product in the portfolio file, then run `python -m reliability sync --source sentry`",
    "sonar": "add sonar_projects to the product in the portfolio file, then run `python -m reliability sync --source sonar`",
    "jira": "add jira_jql to the product in the portfolio file, then run `python -m reliability sync --source jira`",
    "azure": "add azure_app_id or azure_workspace to the product in the portfolio file, then run `python -m reliability sync --source azure`",
}


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where a metric should go, and how to say it."""

    value: float | str
    is_halfway: bool
    note: str


def target_for(metric: Metric, value: object) -> Target | None:
    """Return the target of a metric value; None when missing or already at good.

    ``metric`` should carry the product's overrides (``scoring.apply_overrides``).
    """
    sub = scoring.sub_score(metric, value)  # type: ignore[arg-type]
    if sub is None or sub >= 100.0:
        return None
    if metric.kind == "gate":
        return Target(value="OK", is_halfway=False, note="gate passing (OK)")
    is_halfway = metric.name in HALFWAY_METRICS and sub < HALFWAY_BELOW
    if metric.kind == "rating":
        if is_halfway:
            rating = math.floor((round(float(value)) + 1) / 2)  # type: ignore[arg-type]
            letter = RATING_LETTERS[rating]
            return Target(
                value=float(rating),
                is_halfway=True,
                note=f"rating {letter}, halfway to A",
            )
        return Target(value=1.0, is_halfway=False, note="rating A")

    assert metric.good is not None and metric.bad is not None
    goal_sub = (sub + 100.0) / 2 if is_halfway else 100.0
    target = metric.bad + (metric.good - metric.bad) * goal_sub / 100.0
    if metric.unit in _COUNT_UNITS:
        target = math.floor(target) if metric.is_lower_better else math.ceil(target)
    good_text = format_value(metric, metric.good)
    if is_halfway:
        note = f"{format_value(metric, target)}, halfway to the good anchor {good_text}"
    else:
        note = f"{good_text}, the good anchor"
    return Target(value=float(target), is_halfway=is_halfway, note=note)


def format_value(metric: Metric, value: object) -> str:
    """Show a metric value with its unit: 97.8%, 12 issues, rating E, 3.2 days."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if metric.kind == "gate":
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if metric.kind == "rating":
        return f"rating {RATING_LETTERS.get(int(round(number)), '?')}"
    if metric.unit in _PERCENT_RATIOS:
        return f"{100 * number:.0f}%"
    if metric.unit == "%":
        return (
            f"{number:.2f}%"
            if metric.name == "crash_free_sessions"
            else f"{number:.1f}%"
        )
    if metric.unit in _COUNT_UNITS:
        return f"{number:.0f} {metric.unit}"
    if metric.unit == "ms":
        return f"{number:,.0f} ms"
    return f"{number:.1f} {metric.unit}"


def evidence_text(metric: Metric, value: object, details: Details | None = None) -> str:
    """Say what the data shows for one metric, in the product's own numbers."""
    d = details or Details()
    shown = format_value(metric, value)
    against = (
        f"{metric.label.lower()} {shown} against {format_value(metric, metric.good)}"
    )
    counts = {
        "reliability_rating": (d.bugs, "bug", "bugs"),
        "security_rating": (d.vulnerabilities, "vulnerability", "vulnerabilities"),
        "maintainability_rating": (d.code_smells, "code smell", "code smells"),
    }

    if metric.name in counts:
        count, noun, nouns = counts[metric.name]
        rating = f"{metric.label.lower()} {shown.removeprefix('rating ')}"
        return rating if count is None else f"{_counted(count, noun, nouns)}; {rating}"
    if metric.name == "quality_gate":
        failing = ", ".join(d.failing_gate_projects)
        return f"quality gate {shown}" + (f" on {failing}" if failing else "")
    if metric.name == "sla_compliance_30d":
        text = f"SLA compliance {shown} against {format_value(metric, metric.good)}"
        if d.past_sla:
            tickets = _counted(d.past_sla, "open ticket", "open tickets")
            text += f"; {tickets} past SLA"
        if d.past_sla_high:
            text += f", {d.past_sla_high} of them high priority"
            if d.oldest_past_sla_high_days is not None:
                text += f", oldest {_days(d.oldest_past_sla_high_days)}"
        return text
    if metric.name == "open_high_priority" and d.oldest_open_high_days is not None:
        tickets = _counted(
            float(value),  # type: ignore[arg-type]
            "open high-priority ticket",
            "open high-priority tickets",
        )
        return f"{tickets}, oldest {_days(d.oldest_open_high_days)}"
    if (
        metric.name == "open_critical_issues"
        and d.oldest_open_critical_days is not None
    ):
        issues = _counted(
            float(value),  # type: ignore[arg-type]
            "open fatal or error issue",
            "open fatal or error issues",
        )
        return f"{issues} in Sentry, oldest {_days(d.oldest_open_critical_days)}"
    return against


def _counted(number: float, noun: str, nouns: str) -> str:
    """``1 bug``, ``2 bugs``: a whole number with its noun in agreement."""
    whole = round(number)
    return f"{whole:,} {noun if whole == 1 else nouns}"


def _days(number: float) -> str:
    return _counted(number, "day", "days")
