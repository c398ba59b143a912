"""Quality metrics from SonarCloud measure history, as of each day."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd


def sonar(
    con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date
) -> pd.DataFrame:
    """The newest known value of each measure per project, pooled per product.

    A history point without a value (the metric was not computed in that
    analysis) does not hide an older value: we take the newest point that has one.
    """
    # Each measure's newest point per analysis day (points before the window fold
    # into its first day), carried forward over one row per project and day: at
    # 2,000 products an as-of join per measure and day took seconds (#7).
    return con.execute(
        f"""
        WITH known AS (
            SELECT product, project_key, metric, analysed_at, value, text_value
            FROM sonar_measures
            WHERE metric IN ({", ".join(f"'{metric}'" for metric, _ in _SONAR_COLUMNS)})
              AND (value IS NOT NULL
                   OR (text_value IS NOT NULL AND text_value <> 'NONE'))
        ),
        points AS (
            SELECT product, project_key, metric,
                   greatest(CAST(analysed_at AS DATE), CAST($first AS DATE)) AS day,
                   arg_max({{'value': value, 'text_value': text_value}}, analysed_at)
                       AS point
            FROM known WHERE CAST(analysed_at AS DATE) <= CAST($last AS DATE)
            GROUP BY ALL
        ),
        daily AS (
            SELECT product, project_key, day,
                   {
            ", ".join(
                f"any_value(point) FILTER (metric = '{metric}') AS {column}"
                for metric, column in _SONAR_COLUMNS
            )
        }
            FROM points GROUP BY ALL
        ),
        projects AS (SELECT DISTINCT product, project_key FROM known),
        carried AS (
            SELECT g.product, g.day, k.project_key,
                   {
            ", ".join(
                f"last_value(d.{column} IGNORE NULLS) OVER w AS {column}"
                for _, column in _SONAR_COLUMNS
            )
        }
            FROM _grid g JOIN projects k USING (product)
            LEFT JOIN daily d
              ON d.product = g.product AND d.project_key = k.project_key
             AND d.day = g.day
            WINDOW w AS (PARTITION BY g.product, k.project_key ORDER BY g.day
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ),
        per_project AS (
            SELECT product, day, project_key, gate.text_value AS gate,
                   {
            ", ".join(
                f"{column}.value AS {column}"
                for _, column in _SONAR_COLUMNS
                if column != "gate"
            )
        }
            FROM carried
        )
        SELECT product, day,
               CASE WHEN bool_or(upper(gate) = 'ERROR') THEN 'ERROR'
                    WHEN bool_or(upper(gate) = 'WARN') THEN 'WARN'
                    WHEN bool_or(upper(gate) = 'OK') THEN 'OK' END AS quality_gate,
               max(reliability) AS reliability_rating,
               max(security) AS security_rating,
               max(maintainability) AS maintainability_rating,
               """
        + ",\n".join(
            _loc_weighted(column, name)
            for column, name in (
                ("coverage", "coverage"),
                ("dup", "duplicated_lines_density"),
                ("hotspots", "security_hotspots_reviewed"),
            )
        )
        + "\nFROM per_project GROUP BY ALL",
        {"first": first, "last": last},
    ).df()


# Sonar measure keys and the column each becomes per project.
_SONAR_COLUMNS = (
    ("alert_status", "gate"),
    ("reliability_rating", "reliability"),
    ("security_rating", "security"),
    ("sqale_rating", "maintainability"),
    ("coverage", "coverage"),
    ("duplicated_lines_density", "dup"),
    ("security_hotspots_reviewed", "hotspots"),
    ("ncloc", "ncloc"),
)


def _loc_weighted(column: str, name: str) -> str:
    # Weighted by lines of code when every project reporting the measure also
    # reports ncloc; equal weights otherwise (scoring.md).
    return f"""
        CASE WHEN count({column}) = 0 THEN NULL
             WHEN count(ncloc) FILTER ({column} IS NOT NULL) = count({column})
                  AND sum(ncloc) FILTER ({column} IS NOT NULL) > 0
             THEN sum({column} * ncloc) / sum(ncloc) FILTER ({column} IS NOT NULL)
             ELSE avg({column}) END AS {name}"""
