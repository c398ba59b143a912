"""The demo portfolio's products: who they are and the health curves they follow.

Each product has a health curve per dimension (0 = on fire, 1 = exemplary) over
the last days of the demo; ``demo_rows`` draws raw rows from them. The first
twelve products tell stories the pages should reveal; products past twelve get
random curves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reliability.scoring import DIMENSIONS

DEFAULT_PRODUCTS = 12
DEFAULT_DAYS = 180
DEFAULT_SEED = 7
TEAMS = ("Payments", "Platform", "Customer", "Data")
HOUR = np.timedelta64(3600, "s")
DAY = np.timedelta64(86400, "s")

# An issue title full of markup: the pages must show it as text, not render it.
HOSTILE_TITLE = "TypeError: <img src=x onerror=alert(1)> is not a **function**"


@dataclass(frozen=True, kw_only=True)
class Curve:
    """Health that moves from ``before`` to ``after`` between two days-ago marks."""

    before: float
    after: float
    change_from: int = 0  # days ago the change starts
    change_to: int = 0  # days ago it is complete

    def at(self, days_ago: np.ndarray) -> np.ndarray:
        if self.change_from <= self.change_to:
            return np.where(days_ago > self.change_to, self.before, self.after)
        span = self.change_from - self.change_to
        progress = np.clip((self.change_from - days_ago) / span, 0.0, 1.0)
        return self.before + (self.after - self.before) * progress


def _flat(h: float) -> Curve:
    return Curve(before=h, after=h)


@dataclass(frozen=True, kw_only=True)
class Story:
    slug: str
    name: str
    team: str
    tier: int
    curves: dict[str, Curve]
    slo: float = 99.9
    has_sessions: bool = True
    sonar_projects: int = 1
    failing_gate: bool = False
    note: str = ""


STORIES: tuple[Story, ...] = (
    Story(
        slug="adora",
        name="Adora",
        team="Payments",
        tier=1,
        slo=99.95,
        curves={d: _flat(0.95) for d in DIMENSIONS},
        note="healthy throughout",
    ),
    Story(
        slug="billing",
        name="Billing",
        team="Payments",
        tier=1,
        note="degrading",
        curves={
            "runtime": Curve(before=0.9, after=0.1, change_from=32, change_to=18),
            "quality": _flat(0.75),
            "operations": Curve(before=0.85, after=0.2, change_from=32, change_to=18),
            "system_health": Curve(
                before=0.95, after=0.15, change_from=30, change_to=15
            ),
        },
    ),
    Story(
        slug="caims",
        name="CAIMS",
        team="Customer",
        tier=2,
        note="improving",
        curves={
            "runtime": Curve(before=0.15, after=0.95, change_from=55, change_to=30),
            "quality": Curve(before=0.3, after=0.85, change_from=35, change_to=15),
            "operations": Curve(before=0.2, after=0.9, change_from=45, change_to=25),
            "system_health": Curve(
                before=0.3, after=0.95, change_from=40, change_to=20
            ),
        },
    ),
    Story(
        slug="ledger",
        name="Ledger",
        team="Payments",
        tier=2,
        sonar_projects=2,
        failing_gate=True,
        note="failing quality gate, hundreds of bugs",
        curves={
            "runtime": _flat(0.7),
            "quality": _flat(0.05),
            "operations": _flat(0.7),
            "system_health": _flat(0.8),
        },
    ),
    Story(
        slug="helpdesk",
        name="Helpdesk",
        team="Customer",
        tier=2,
        note="SLA breaches",
        curves={
            "runtime": _flat(0.75),
            "quality": _flat(0.7),
            "operations": _flat(0.05),
            "system_health": _flat(0.85),
        },
    ),
    Story(
        slug="atlas",
        name="Atlas",
        team="Data",
        tier=3,
        note="no Azure data",
        curves={
            "runtime": _flat(0.8),
            "quality": _flat(0.8),
            "operations": _flat(0.75),
        },
    ),
    Story(
        slug="orion",
        name="Orion",
        team="Platform",
        tier=1,
        note="critical today",
        curves={
            "runtime": _flat(0.15),
            "quality": _flat(0.3),
            "operations": _flat(0.25),
            "system_health": _flat(0.3),
        },
    ),
    Story(
        slug="kestrel",
        name="Kestrel",
        team="Platform",
        tier=2,
        has_sessions=False,
        note="backend only: no Sentry sessions",
        curves={d: _flat(0.7) for d in DIMENSIONS},
    ),
    Story(
        slug="nimbus",
        name="Nimbus",
        team="Platform",
        tier=3,
        note="sliding slowly: forecast to turn Critical",
        curves={
            "runtime": Curve(before=0.85, after=0.0, change_from=28, change_to=0),
            "quality": _flat(0.6),
            "operations": Curve(before=0.8, after=0.0, change_from=28, change_to=0),
            "system_health": _flat(0.6),
        },
    ),
    Story(
        slug="quartz",
        name="Quartz",
        team="Data",
        tier=2,
        curves={d: _flat(0.8) for d in DIMENSIONS},
    ),
    Story(
        slug="sable",
        name="Sable",
        team="Data",
        tier=3,
        note="Sentry and Jira only",
        curves={"runtime": _flat(0.65), "operations": _flat(0.6)},
    ),
    Story(
        slug="vega",
        name="Vega",
        team="Customer",
        tier=3,
        curves={d: _flat(0.85) for d in DIMENSIONS},
    ),
)


def story_for(index: int, seed: int) -> Story:
    if index < len(STORIES):
        return STORIES[index]
    rng = np.random.default_rng([seed, index, 1])
    curves = {}
    for dim in DIMENSIONS:
        if dim == "system_health" and rng.random() < 0.15:
            continue
        before, after = rng.uniform(0.3, 0.98, size=2)
        start = int(rng.integers(20, 120))
        curves[dim] = Curve(
            before=before,
            after=after,
            change_from=start,
            change_to=max(0, start - int(rng.integers(5, 40))),
        )
    number = index + 1
    return Story(
        slug=f"product-{number:04d}",
        name=f"Product {number:04d}",
        team=f"Team {1 + int(rng.integers(0, max(4, number // 25)))}",
        tier=int(rng.integers(1, 4)),
        curves=curves,
        has_sessions=bool(rng.random() > 0.1),
    )


def sentry_projects(story: Story) -> list[str]:
    return [f"{story.slug}-web", f"{story.slug}-api"]


def sonar_projects(story: Story) -> list[str]:
    suffixes = ["core", "ui", "jobs"][: story.sonar_projects]
    return [
        f"acme_{story.slug}" if len(suffixes) == 1 else f"acme_{story.slug}-{s}"
        for s in suffixes
    ]
