"""The daily summary (kpi.kpi_summary) worked out here from kpi.kpi_values and kpis.yml, on both engines.

For every summary KPI and grain: the period judged is the latest one that ended at least the KPI's
`settles_after_days` before the refresh's last day (GA KPIs and cart abandonment skip the day
still growing), the previous period is the one before it, and change, distance to target and
weather follow the rules stated in sql/kpi/kpi_summary.sql. Budget: a second per engine on the
directory's KPI layer.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from pulse.kpi.registry import Kpi, load_registry
from pulse.transform.refresh import SUMMARY_TOLERANCE
from pulse.transform.scope import period_end, period_start

REGISTRY = load_registry()
SUMMARY_GRAINS = ("day", "week", "month")


def judged_period(through: dt.date, grain: str, settles_after_days: int) -> dt.date:
    last_settled = through - dt.timedelta(days=settles_after_days)
    start = period_start(last_settled, grain)
    return start if period_end(start, grain) <= last_settled else period_start(start - dt.timedelta(days=1), grain)


def weather(kpi: Kpi, value: float | None, previous: float | None) -> str:
    if value is None:
        return "cloud"
    on_target = kpi.target.met_by(value) if kpi.target else None
    if on_target is False:
        return "storm"
    change = (value - previous) / abs(previous) if previous not in (None, 0) else None
    improvement = None if change is None else {"higher": change, "lower": -change}.get(kpi.better)
    if improvement is None:
        return "sun" if on_target else "cloud"
    if improvement < -SUMMARY_TOLERANCE:
        return "cloud" if on_target else "storm"
    return "sun"


def _value(values: pd.DataFrame, kpi_id: str, grain: str, start: dt.date) -> float | None:
    found = values[(values.kpi_id == kpi_id) & (values.grain == grain) & (values.period_start == start)]
    assert len(found) <= 1, (kpi_id, grain, start)
    return None if found.empty or pd.isna(found.value.iloc[0]) else float(found.value.iloc[0])


def _close(left: float | None, right: float | None) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)


@pytest.fixture
def tables(built) -> tuple[dt.date, pd.DataFrame, pd.DataFrame]:
    summary = built.table("kpi.kpi_summary")
    values = built.table("kpi.kpi_values", "where slice_name = 'all'")
    for frame in (summary, values):
        frame["period_start"] = pd.to_datetime(frame["period_start"]).dt.date
    summary = summary.astype(object).where(summary.notna(), None)
    return built.refresh.through, summary, values


def test_each_summary_kpi_is_judged_on_its_latest_settled_period(tables):
    through, summary, values = tables
    expected_rows = 0
    for kpi in REGISTRY.summary():
        for grain in (grain for grain in SUMMARY_GRAINS if grain in kpi.grains):
            expected_rows += 1
            rows = summary[(summary.kpi_id == kpi.id) & (summary.grain == grain)]
            assert len(rows) == 1, f"{kpi.id} {grain}: {len(rows)} summary rows"
            row = rows.iloc[0]
            judged = judged_period(through, grain, kpi.settles_after_days)
            previous_start = period_start(judged - dt.timedelta(days=1), grain)
            value, previous = _value(values, kpi.id, grain, judged), _value(values, kpi.id, grain, previous_start)
            where = f"{kpi.id} {grain} {judged}"
            assert row.period_start == judged, f"{kpi.id} {grain}: judged {row.period_start}, expected {judged}"
            assert _close(row.value, value), (where, row.value, value)
            assert _close(row.previous_value, previous), (where, row.previous_value, previous)
            change = (value - previous) / abs(previous) if value is not None and previous not in (None, 0) else None
            assert _close(row.change, change), (where, row.change, change)
            assert row.status == weather(kpi, value, previous), (where, value, previous, row.status)
    assert len(summary) == expected_rows


def test_still_growing_days_are_left_to_the_detail_charts(tables):
    through, summary, values = tables
    settling = [kpi for kpi in REGISTRY.summary() if kpi.settles_after_days]
    assert settling, "no summary KPI waits for its data to settle: the GA KPIs should"
    for kpi in settling:
        day = summary[(summary.kpi_id == kpi.id) & (summary.grain == "day")].iloc[0]
        assert day.period_start == through - dt.timedelta(days=kpi.settles_after_days)
        held = values[(values.kpi_id == kpi.id) & (values.grain == "day") & (values.period_start == through)]
        assert not held.empty, f"{kpi.id}: the detail layer should still hold {through}"
