"""What to fix first, ranked by the overall points it would gain, and what is missing.

A gain is the product re-scored with ``scoring.score_frame`` with one metric moved
to its target and everything else unchanged, under the weights in use, so it is
exactly the change the dashboard would show. The target is the metric's good
anchor, except for the slow-moving measures of a code base (coverage, duplication,
ratings) far from it (sub-score under 50): there the target is halfway, because
taking 16% coverage to 80% or 600 bugs to none is months of work, not a next step.

Evidence and actions are text made from the metric values, plus a few read-only
queries of the store (``load_details``) for the numbers behind a metric: bugs
behind a rating, tickets past their SLA, the age of the oldest open issue.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from reliability import scoring
from reliability.metrics import PRIORITY_LEVEL_SQL, RESOLUTION_TARGET_HOURS
from reliability.scoring import DIMENSION_SOURCES, DIMENSIONS, METRICS, Metric
from reliability.snapshot import Snapshot
from reliability.store import Store, StoreError

logger = logging.getLogger(__name__)

DEFAULT_TIER1_FACTOR = 2.0
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
MIN_GAIN = 0.05
RATING_LETTERS = {1: "A", 2: "B", 3: "C", 4: "D", 5: "E"}
SOURCE_LABELS = {
    "sentry": "Sentry",
    "sonar": "SonarCloud",
    "jira": "Jira",
    "azure": "Azure Monitor",
}
_PERCENT_RATIOS = {"ratio"}
_COUNT_UNITS = {"issues", "tickets"}

INSIGHT_COLUMNS = [
    "product",
    "name",
    "team",
    "tier",
    "metric",
    "label",
    "dimension",
    "value",
    "target",
    "is_halfway",
    "target_note",
    "evidence",
    "action",
    "dimension_before",
    "dimension_after",
    "overall_before",
    "overall_after",
    "gain",
    "priority",
    "status_before",
    "status_after",
]
MISSING_COLUMNS = [
    "product",
    "name",
    "source",
    "dimension",
    "kind",
    "missing",
    "metrics",
    "uncovered_weight",
    "fix",
]

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


@dataclass(frozen=True, kw_only=True)
class Details:
    """Facts from the raw rows behind a product's metrics, as of one day."""

    bugs: int | None = None
    vulnerabilities: int | None = None
    code_smells: int | None = None
    failing_gate_projects: tuple[str, ...] = ()
    past_sla: int | None = None
    past_sla_high: int | None = None
    oldest_past_sla_high_days: float | None = None
    oldest_open_high_days: float | None = None
    oldest_open_critical_days: float | None = None
    is_jsm_without_sla: bool = False


@dataclass(frozen=True, kw_only=True)
class WhatIf:
    """One product re-scored with one metric set to a chosen value."""

    product: str
    metric: str
    dimension: str
    value_before: object
    value_after: object
    dimension_before: float | None
    dimension_after: float | None
    overall_before: float | None
    overall_after: float | None
    status_before: str
    status_after: str
    coverage_before: float
    coverage_after: float


# -- targets and text --------------------------------------------------------------


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
        "reliability_rating": (d.bugs, "bugs"),
        "security_rating": (d.vulnerabilities, "vulnerabilities"),
        "maintainability_rating": (d.code_smells, "code smells"),
    }

    if metric.name in counts:
        count, noun = counts[metric.name]
        rating = f"{metric.label.lower()} {shown.removeprefix('rating ')}"
        return rating if count is None else f"{count:,} {noun}; {rating}"
    if metric.name == "quality_gate":
        failing = ", ".join(d.failing_gate_projects)
        return f"quality gate {shown}" + (f" on {failing}" if failing else "")
    if metric.name == "sla_compliance_30d":
        text = f"SLA compliance {shown} against {format_value(metric, metric.good)}"
        if d.past_sla:
            text += f"; {d.past_sla} open tickets past SLA"
        if d.past_sla_high:
            text += f", {d.past_sla_high} of them high priority"
            if d.oldest_past_sla_high_days is not None:
                text += f", oldest {d.oldest_past_sla_high_days:.0f} days"
        return text
    if metric.name == "open_high_priority" and d.oldest_open_high_days is not None:
        return f"{float(value):.0f} open high-priority tickets, oldest {d.oldest_open_high_days:.0f} days"  # type: ignore[arg-type]
    if (
        metric.name == "open_critical_issues"
        and d.oldest_open_critical_days is not None
    ):
        return f"{float(value):.0f} open fatal or error issues in Sentry, oldest {d.oldest_open_critical_days:.0f} days"  # type: ignore[arg-type]
    return against


# -- gains ---------------------------------------------------------------------------


def metric_gains(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    products: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Re-score each product once per metric moved to its target.

    One row per product and metric that has a target, with ``value``, ``target``,
    ``is_halfway``, ``target_note``, ``dimension_before``/``_after``,
    ``overall_before``/``_after``, ``status_before``/``_after`` and ``gain``
    (overall points, after minus before).
    """
    today = _today(snapshot, products)
    candidates = []
    for product, row in today.iterrows():
        own = snapshot.overrides.get(str(product))
        for metric in METRICS:
            target = target_for(
                scoring.apply_overrides(metric, own), _plain(row[metric.name])
            )
            if target is not None:
                candidates.append((product, metric, row[metric.name], target))
    columns = [
        "product",
        "metric",
        "dimension",
        "value",
        "target",
        "is_halfway",
        "target_note",
        "dimension_before",
        "dimension_after",
        "overall_before",
        "overall_after",
        "status_before",
        "status_after",
        "gain",
    ]
    if not candidates:
        return pd.DataFrame(columns=columns)

    base = today.reset_index()[["product", *scoring.METRIC_NAMES]]
    position = {slug: i for i, slug in enumerate(base["product"])}
    moved = base.iloc[[position[c[0]] for c in candidates]].reset_index(drop=True)
    moved = moved.astype({"quality_gate": object})
    for i, (_, metric, _, target) in enumerate(candidates):
        moved.at[i, metric.name] = target.value

    before = scoring.score_frame(base, weights, snapshot.overrides).set_index("product")
    after = scoring.score_frame(moved, weights, snapshot.overrides)
    rows = []
    for i, (product, metric, value, target) in enumerate(candidates):
        old, new = before.loc[product], after.iloc[i]
        rows.append(
            {
                "product": product,
                "metric": metric.name,
                "dimension": metric.dimension,
                "value": _plain(value),
                "target": target.value,
                "is_halfway": target.is_halfway,
                "target_note": target.note,
                "dimension_before": old[metric.dimension],
                "dimension_after": new[metric.dimension],
                "overall_before": old["overall"],
                "overall_after": new["overall"],
                "status_before": old["status"],
                "status_after": new["status"],
                "gain": new["overall"] - old["overall"],
            }
        )
    return pd.DataFrame(rows, columns=columns)


def insights(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    *,
    tier1_factor: float = DEFAULT_TIER1_FACTOR,
    details: Mapping[str, Details] | None = None,
    products: Iterable[str] | None = None,
) -> pd.DataFrame:
    """What to fix, most valuable first: one row per product and metric.

    Columns are ``INSIGHT_COLUMNS``. ``gain`` is overall points; ``priority`` is the
    gain with a tier-1 product's points multiplied by ``tier1_factor``; rows are
    ranked by priority, then gain. Gains under ``MIN_GAIN`` points are left out.
    """
    gains = metric_gains(snapshot, weights, products)
    gains = gains[gains["gain"] >= MIN_GAIN]
    if gains.empty:
        return pd.DataFrame(columns=INSIGHT_COLUMNS)

    info = snapshot.products.set_index("slug")[["name", "team", "tier"]]
    table = gains.join(info, on="product")
    factor = table["tier"].map(lambda tier: tier1_factor if int(tier) == 1 else 1.0)
    table["priority"] = table["gain"] * factor
    metrics = [scoring.METRICS_BY_NAME[name] for name in table["metric"]]
    table["label"] = [m.label for m in metrics]
    details = details or {}
    table["evidence"] = [
        evidence_text(m, v, details.get(p))
        for m, v, p in zip(metrics, table["value"], table["product"], strict=True)
    ]
    table["action"] = [ACTIONS[m.name] for m in metrics]

    table = table.sort_values(
        ["priority", "gain", "name", "metric"], ascending=[False, False, True, True]
    )
    return table[INSIGHT_COLUMNS].reset_index(drop=True)


def top_per_product(table: pd.DataFrame) -> pd.DataFrame:
    """The best insight of each product, in the ranking's order."""
    return table.drop_duplicates("product").reset_index(drop=True)


def what_if(
    snapshot: Snapshot,
    product: str,
    weights: Mapping[str, float],
    metric: str,
    value: object,
) -> WhatIf:
    """Re-score ``product`` with ``metric`` set to ``value``, all else unchanged."""
    base = _today(snapshot, [product]).reset_index()[["product", *scoring.METRIC_NAMES]]
    if base.empty:
        raise KeyError(f"no metric values for product {product!r}")
    moved = base.astype({"quality_gate": object}).copy()
    moved.at[0, metric] = value
    frame = scoring.score_frame(
        pd.concat([base, moved], ignore_index=True), weights, snapshot.overrides
    )
    old, new = frame.iloc[0], frame.iloc[1]
    dim = scoring.METRICS_BY_NAME[metric].dimension
    return WhatIf(
        product=product,
        metric=metric,
        dimension=dim,
        value_before=_plain(base.at[0, metric]),
        value_after=_plain(value),
        dimension_before=_number(old[dim]),
        dimension_after=_number(new[dim]),
        overall_before=_number(old["overall"]),
        overall_after=_number(new["overall"]),
        status_before=str(old["status"]),
        status_after=str(new["status"]),
        coverage_before=float(old["coverage"]),
        coverage_after=float(new["coverage"]),
    )


# -- missing data ------------------------------------------------------------------


def missing_data(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    products: Iterable[str] | None = None,
    *,
    details: Mapping[str, Details] | None = None,
) -> pd.DataFrame:
    """What is not measured per product and source, and what that costs.

    Columns are ``MISSING_COLUMNS``. ``uncovered_weight`` is the share of the
    product's overall weight (0..1, under ``weights``) the gap leaves without data;
    a product's entries add up to 1 - coverage. ``kind`` is "not configured",
    "no data", "not measured", "no events" (nothing to configure) or "history"
    (measured today, but the trend window has days without data).
    """
    w = scoring.normalise_weights(weights)
    total = sum(w.values())
    today = _today(snapshot, products)
    info = snapshot.products.set_index("slug")
    rows: list[dict[str, object]] = []
    for slug, values in today.iterrows():
        product = str(slug)
        sources = (
            set(_as_list(info.at[product, "sources"]))
            if product in info.index
            else set()
        )
        own = snapshot.overrides.get(product)
        for dim in DIMENSIONS:
            members = [scoring.apply_overrides(m, own) for m in scoring.metrics_of(dim)]
            share = w[dim] / total
            rows += _dimension_gaps(product, dim, members, values, sources, share)
        rows += _history_gaps(snapshot, product, sources)
        if details and details.get(product, Details()).is_jsm_without_sla:
            rows.append(
                _gap(
                    product,
                    "jira",
                    "operations",
                    "not measured",
                    "no Jira Service Management SLA data: compliance uses the default priority targets",
                    (),
                    0.0,
                    'add the SLA fields to the project\'s JSM SLAs, or set jira_sla = "priority"',
                )
            )

    frame = pd.DataFrame(rows, columns=[c for c in MISSING_COLUMNS if c != "name"])
    frame.insert(1, "name", frame["product"].map(info["name"]) if len(info) else None)
    return frame.sort_values(
        ["uncovered_weight", "product"], ascending=[False, True], ignore_index=True
    )


def _dimension_gaps(
    product: str,
    dim: str,
    members: list[Metric],
    values: pd.Series,
    sources: set[str],
    share: float,
) -> list[dict[str, object]]:
    missing = [m for m in members if _plain(values[m.name]) is None]
    if not missing:
        return []
    dim_weight = sum(m.weight for m in members)

    def uncovered(ms: list[Metric]) -> float:
        return share * sum(m.weight for m in ms) / dim_weight if dim_weight > 0 else 0.0

    source = DIMENSION_SOURCES[dim]
    label = SOURCE_LABELS[source]
    names = tuple(m.name for m in missing)
    if source not in sources:
        return [
            _gap(
                product,
                source,
                dim,
                "not configured",
                f"no {label} data: not configured",
                names,
                uncovered(missing),
                SOURCE_FIXES[source],
            )
        ]
    if len(missing) == len(members):
        fix = (
            f"run `python -m reliability sync --source {source} --product {product}` "
            "and check the Data sources page for its last error"
        )
        return [
            _gap(
                product,
                source,
                dim,
                "no data",
                f"{label} is configured but has delivered no data",
                names,
                uncovered(missing),
                fix,
            )
        ]

    # Metrics that share one cause (no Azure requests) make one entry.
    grouped: dict[tuple[str, str, str], list[Metric]] = {}
    for metric in missing:
        grouped.setdefault(METRIC_GAPS[metric.name], []).append(metric)
    return [
        _gap(
            product,
            source,
            dim,
            kind,
            what,
            tuple(m.name for m in ms),
            uncovered(ms),
            fix,
        )
        for (what, fix, kind), ms in grouped.items()
    ]


def _history_gaps(
    snapshot: Snapshot, product: str, sources: set[str]
) -> list[dict[str, object]]:
    values = snapshot.values[snapshot.values["product"] == product]
    if values.empty:
        return []
    rows = []
    first_day, days = values["day"].min(), len(values)
    for dim in DIMENSIONS:
        source = DIMENSION_SOURCES[dim]
        names = [m.name for m in scoring.metrics_of(dim)]
        has_data = values[names].notna().any(axis=1).to_numpy()
        if source not in sources or not has_data[-1] or has_data.all():
            continue
        start = values["day"].iloc[int(has_data.argmax())]
        empty = int((~has_data).sum())
        what = (
            f"no {SOURCE_LABELS[source]} history before {start:%Y-%m-%d} "
            f"({empty} of {days} days since {first_day:%Y-%m-%d} without data)"
        )
        fix = f"run `python -m reliability sync --source {source} --product {product} --full` to backfill"
        rows.append(_gap(product, source, dim, "history", what, tuple(names), 0.0, fix))
    return rows


def _gap(
    product: str,
    source: str,
    dim: str,
    kind: str,
    what: str,
    metrics: tuple[str, ...],
    uncovered: float,
    fix: str,
) -> dict[str, object]:
    return {
        "product": product,
        "source": source,
        "dimension": dim,
        "kind": kind,
        "missing": what,
        "metrics": metrics,
        "uncovered_weight": uncovered,
        "fix": fix,
    }


# -- details from the store --------------------------------------------------------


def load_details(store: Store, as_of: dt.date) -> dict[str, Details]:
    """Read the facts behind the metrics as of the end of ``as_of``, per product.

    Read-only; an unreadable store gives no details (evidence then falls back to
    the metric values alone), with a warning.
    """
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    try:
        with store.reading() as con:
            sonar = _sonar_facts(con, end)
            jira = _jira_facts(con, end)
            sentry = con.execute(
                """SELECT product, date_diff('second', min(first_seen), ?::TIMESTAMP) / 86400.0
                   FROM sentry_issues
                   WHERE level IN ('fatal', 'error') AND first_seen < ?
                     AND (resolved_at IS NULL OR resolved_at >= ?
                          OR (regressed_at > resolved_at AND regressed_at < ?))
                   GROUP BY product""",
                [end, end, end, end],
            ).fetchall()
    except (StoreError, duckdb.Error) as exc:
        logger.warning("Could not read insight details from %s: %s", store.path, exc)
        return {}

    facts: dict[str, dict[str, object]] = {}
    for product, oldest in sentry:
        facts.setdefault(product, {})["oldest_open_critical_days"] = oldest
    for part in (sonar, jira):
        for product, values in part.items():
            facts.setdefault(product, {}).update(values)
    return {product: Details(**values) for product, values in facts.items()}  # type: ignore[arg-type]


def _sonar_facts(
    con: duckdb.DuckDBPyConnection, end: dt.datetime
) -> dict[str, dict[str, object]]:
    rows = con.execute(
        """SELECT product, project_key, metric, arg_max(value, analysed_at),
                  arg_max(text_value, analysed_at)
           FROM sonar_measures
           WHERE analysed_at < ? AND metric IN ('bugs', 'vulnerabilities', 'code_smells', 'alert_status')
           GROUP BY ALL ORDER BY product, project_key""",
        [end],
    ).fetchall()
    facts: dict[str, dict[str, object]] = {}
    names = {
        "bugs": "bugs",
        "vulnerabilities": "vulnerabilities",
        "code_smells": "code_smells",
    }
    for product, project_key, metric, value, text in rows:
        own = facts.setdefault(product, {"failing_gate_projects": ()})
        if metric == "alert_status" and str(text).upper() == "ERROR":
            own["failing_gate_projects"] = (*own["failing_gate_projects"], project_key)  # type: ignore[misc]
        elif metric in names and value is not None:
            own[names[metric]] = int(own.get(names[metric]) or 0) + int(value)  # type: ignore[call-overload]
    return facts


def _jira_facts(
    con: duckdb.DuckDBPyConnection, end: dt.datetime
) -> dict[str, dict[str, object]]:
    targets = " ".join(
        f"WHEN '{level}' THEN {hours}"
        for level, hours in RESOLUTION_TARGET_HOURS.items()
    )
    rows = con.execute(
        f"""WITH t AS (
               SELECT j.product, j.created, j.sla_due, p.jira_sla,
                      j.resolved IS NULL OR j.resolved >= $end AS is_open,
                      {PRIORITY_LEVEL_SQL} IN ('Highest', 'High') AS is_high,
                      coalesce(j.sla_due, j.created + to_hours(CASE {PRIORITY_LEVEL_SQL} {targets} END)) AS due_at
               FROM jira_tickets j LEFT JOIN products p ON p.slug = j.product
               WHERE j.created < $end)
           SELECT product,
                  count(*) FILTER (WHERE is_open AND due_at < $end),
                  count(*) FILTER (WHERE is_open AND due_at < $end AND is_high),
                  date_diff('second', min(created) FILTER (WHERE is_open AND due_at < $end AND is_high), $end) / 86400.0,
                  date_diff('second', min(created) FILTER (WHERE is_open AND is_high), $end) / 86400.0,
                  any_value(jira_sla) = 'jsm' AND count(sla_due) = 0
           FROM t GROUP BY product""",
        {"end": end},
    ).fetchall()
    return {
        product: {
            "past_sla": past,
            "past_sla_high": past_high,
            "oldest_past_sla_high_days": oldest_past,
            "oldest_open_high_days": oldest_high,
            "is_jsm_without_sla": bool(jsm),
        }
        for product, past, past_high, oldest_past, oldest_high, jsm in rows
    }


# -- helpers -------------------------------------------------------------------------


def _today(snapshot: Snapshot, products: Iterable[str] | None) -> pd.DataFrame:
    today = snapshot.values_today()
    if products is not None:
        today = today[today.index.isin(list(products))]
    return today


def _plain(value: object) -> object:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()  # type: ignore[union-attr]
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _number(value: object) -> float | None:
    plain = _plain(value)
    return None if plain is None else float(plain)  # type: ignore[arg-type]


def _as_list(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [str(v) for v in value]  # type: ignore[attr-defined]
