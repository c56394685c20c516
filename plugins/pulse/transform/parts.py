"""The vocabulary of `sql/kpi/values/*.sql`: a KPI is a numerator (and for ratios a denominator),
each a `part`, a set of records with a business day, the slice columns they carry and an
aggregate. The `kpi_values` macro (`sql/macros/kpi.sql`) turns parts into rows of `kpi.kpi_values`.

These helpers only build and check the descriptions; all SQL is in the macro.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulse.transform.project import ProjectError

AGGREGATES = ("count", "sum", "distinct", "median", "min", "max")


def part(relation: str, day: str | None = None, *, agg: str = "count", value: str | None = None,
         where: str | None = None, slices: Sequence[str] | None = None,
         columns: Mapping[str, str] | None = None, period_filter: str | None = None) -> dict[str, Any]:
    """Records of `relation` dated by the business day column `day`.

    agg: count (rows), sum, distinct (count of distinct `value`), median, min or max of `value`.
    where: condition on the relation's columns. slices: the KPI slices these records carry (default:
    all of the KPI's slices); a side that does not carry a slice counts the period's total for every
    value of it (that is what makes a share a share). columns: slice -> column when the column is not
    named like the slice. period_filter: condition on record `r` and period `p` for membership that
    depends on the period (e.g. "ordered before the period started").
    """
    if agg not in AGGREGATES:
        raise ProjectError(f"part of {relation}: unknown aggregate {agg!r}; use one of {AGGREGATES}")
    if agg != "count" and not value:
        raise ProjectError(f"part of {relation}: aggregate {agg!r} needs a value")
    if not day:
        raise ProjectError(f"part of {relation}: name the business day column that dates the records")
    return {"relation": relation, "day": day, "agg": agg, "value": value, "where": where,
            "slices": None if slices is None else list(slices), "columns": dict(columns or {}),
            "period_filter": period_filter, "per_period": False}


def period_part(relation: str, *, value: str, slices: Sequence[str] = ()) -> dict[str, Any]:
    """Records already aggregated per period by the source (GA4's users per day, ISO week, month
    and quarter: distinct counts cannot be summed). `relation` has grain, period_start, slice_name,
    slice_value and the `value` expression's columns; one row per period and slice value."""
    return {"relation": relation, "day": None, "agg": "sum", "value": value, "where": None,
            "slices": list(slices), "columns": {}, "period_filter": None, "per_period": True}


def measure(numerator: dict[str, Any], denominator: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parts of a KPI for one slice when they differ from the KPI's own (`by_slice`)."""
    return {"numerator": numerator, "denominator": denominator}


def columns_read(p: dict[str, Any], kpi_slices: Sequence[str]) -> set[str]:
    """The names a part's records are read by: its day, the columns its value, where and
    period_filter name (any identifier: SQL words match no column), and the columns of the slices
    it carries. A KPI is rebuilt for a day only when one of these changed on it."""
    names = {p["day"]} if p["day"] else {"grain", "period_start", "slice_name", "slice_value"}
    for expression in (p["value"], p["where"], p["period_filter"]):
        names |= set(re.findall(r"(?<![\w.])(?:[a-z]\.)?([a-z_][a-z0-9_]*)", expression or ""))
    carried = kpi_slices if p["slices"] is None else [s for s in p["slices"] if s in kpi_slices]
    return names | {p["columns"].get(name, name) for name in carried}
