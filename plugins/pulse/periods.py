"""The KPI periods: a business day, its ISO week (Monday first), month and quarter, each named by
its first day (kpis.yml `period` convention)."""

from __future__ import annotations

import datetime as dt

from pulse.kpi.registry import GRAINS


def period_start(day: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    raise ValueError(f"unknown grain {grain!r}; use one of {GRAINS}")


def period_end(start: dt.date, grain: str) -> dt.date:
    """The last day of the period starting on `start`."""
    if grain == "day":
        return start
    if grain == "week":
        return start + dt.timedelta(days=6)
    months = 1 if grain == "month" else 3
    year, month = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)
