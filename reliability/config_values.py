"""Checks for the values of the portfolio file, and the one error they raise.

Each check takes the file's path, the product (None at the top level) and the key,
so a failing one raises a ``ConfigError`` the user can act on without reading code.
``reliability.config`` builds the portfolio from these and re-exports the error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reliability.scoring import DIMENSIONS, METRICS_BY_NAME

_ANCHOR_KEYS = {"good", "bad", "weight"}


class ConfigError(Exception):
    """The portfolio file cannot be read or says something we cannot use."""

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        product: str | None = None,
        key: str | None = None,
    ) -> None:
        where = [str(path)]
        if product:
            where.append(f"product {product!r}")
        if key:
            where.append(f"key {key!r}")
        super().__init__(f"{': '.join(where)}: {message}")
        self.path, self.product, self.key = str(path), product, key


def thresholds_table(
    table: Mapping[str, Any], path: Path | str, product: str | None
) -> dict[str, dict[str, float]]:
    """Read ``thresholds.<dimension>.<metric>.{good,bad,weight}``."""
    result: dict[str, dict[str, float]] = {}
    for dim, metrics in table.items():
        key = f"thresholds.{dim}"
        if dim not in DIMENSIONS:
            raise ConfigError(
                path,
                f"unknown dimension (one of {', '.join(DIMENSIONS)})",
                product=product,
                key=key,
            )
        if not isinstance(metrics, dict):
            raise ConfigError(path, "must be a table", product=product, key=key)
        for name, anchors in metrics.items():
            result[name] = _anchors(dim, name, anchors, path, product)
    return result


def _anchors(
    dim: str, name: str, anchors: Any, path: Path | str, product: str | None
) -> dict[str, float]:
    """Read the anchors and weight of one metric of ``thresholds.<dim>``."""
    metric_key = f"thresholds.{dim}.{name}"
    metric = METRICS_BY_NAME.get(name)
    if metric is None or metric.dimension != dim:
        raise ConfigError(
            path, f"unknown metric in {dim}", product=product, key=metric_key
        )
    if not isinstance(anchors, dict):
        raise ConfigError(path, "must be a table", product=product, key=metric_key)
    reject_unknown(anchors, _ANCHOR_KEYS, path, product, prefix=f"{metric_key}.")

    # Bands and ratings score by fixed steps, so good and bad mean nothing there.
    if metric.kind != "linear" and set(anchors) - {"weight"}:
        raise ConfigError(
            path,
            "this metric has fixed scores; only its weight can change",
            product=product,
            key=metric_key,
        )
    values = {
        k: number(v, path, product, f"{metric_key}.{k}") for k, v in anchors.items()
    }
    if values.get("weight", 0) < 0:
        raise ConfigError(
            path,
            "weight must be 0 or more",
            product=product,
            key=f"{metric_key}.weight",
        )
    return values


def reject_unknown(
    table: Mapping[str, Any],
    allowed: set[str],
    path: Path | str,
    product: str | None,
    *,
    prefix: str,
) -> None:
    """Raise on the first key of ``table`` that is not in ``allowed``."""
    for key in table:
        if key not in allowed:
            raise ConfigError(
                path,
                f"unknown key (expected one of {', '.join(sorted(allowed))})",
                product=product,
                key=f"{prefix}{key}",
            )


def table(
    parent: Mapping[str, Any], key: str, path: Path | str, product: str | None
) -> Mapping[str, Any]:
    """The sub-table ``key`` of ``parent``, empty when it is not there."""
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(path, "must be a table", product=product, key=key)
    return value


def string(value: Any, path: Path | str, product: str | None, key: str) -> str:
    """Check that ``value`` is a string with more than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            path, f"must be a non-empty string, not {value!r}", product=product, key=key
        )
    return value


def optional_string(
    raw: Mapping[str, Any], key: str, path: Path | str, product: str | None
) -> str | None:
    """The string at ``key`` of ``raw``, None when the key is not there."""
    return None if key not in raw else string(raw[key], path, product, key)


def strings(
    raw: Mapping[str, Any],
    key: str,
    path: Path | str,
    product: str | None,
    *,
    prefix: str = "",
) -> tuple[str, ...]:
    """The list of non-empty strings at ``key`` of ``raw``, empty when not there."""
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(
            path, "must be a list of strings", product=product, key=prefix + key
        )
    return tuple(value)


def number(value: Any, path: Path | str, product: str | None, key: str) -> float:
    """Check that ``value`` is a finite int or float, and return it as a float."""
    # TOML booleans parse to bool, which is an int subclass: true is not 1 here.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
    ):
        raise ConfigError(
            path, f"must be a number, not {value!r}", product=product, key=key
        )
    return float(value)


def slo(value: Any, path: Path | str, product: str | None, key: str) -> float:
    """Check that ``value`` is a percentage strictly between 0 and 100."""
    percent = number(value, path, product, key)
    if not 0 < percent < 100:
        raise ConfigError(
            path,
            f"must be a percentage between 0 and 100 (exclusive), not {percent:g}",
            product=product,
            key=key,
        )
    return percent
