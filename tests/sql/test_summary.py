"""The periods KPIs are judged on (kpi.kpi_judged_periods) and the daily summary (kpi.kpi_summary),
worked out here from kpi.kpi_values, kpis.yml and the business calendar, on both engines.

For every summary KPI and grain: the period judged is the latest one that ended at least the KPI's
`settles_after_days` before the refresh's last day (GA KPIs and cart abandonment skip the day
still growing), at day grain an office day (pulse.business_calendar); the previous period is the
one before it (the office day before); change, distance to target and weather follow the rules
stated in sql/kpi/kpi_summary.sql. Budget: a second per engine on the
directory's KPI layer.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import Kpi, load_registry
from pulse.periods import period_end, period_start
from pulse.transform.refresh import SUMMARY_TOLERANCE

REGISTRY = load_registry()
SUMMARY_GRAINS = ("day", "week", "month")


CALENDAR = BusinessCalendar.from_settings()


def judged_period(through: dt.date, grain: str, settles_after_days: int) -> dt.date:
    last_settled = through - dt.timedelta(days=settles_after_days)
    start = period_start(last_settled, grain)
    start = start if period_end(start, grain) <= last_settled else period_start(start - dt.timedelta(days=1), grain)
    return start if grain != "day" else previous_office_day(start + dt.timedelta(days=1))


def previous_office_day(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while not CALENDAR.is_office_day(day):
        day -= dt.timedelta(days=1)
    return day


def previous_period(start: dt.date, grain: str) -> dt.date:
    return previous_office_day(start) if grain == "day" else period_start(start - dt.timedelta(days=1), grain)


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
    summary["refreshed_through"] = pd.to_datetime(summary["refreshed_through"]).dt.date
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
            previous_start = previous_period(judged, grain)
            value, previous = _value(values, kpi.id, grain, judged), _value(values, kpi.id, grain, previous_start)
            where = f"{kpi.id} {grain} {judged}"
            assert row.period_start == judged, f"{kpi.id} {grain}: judged {row.period_start}, expected {judged}"
            assert _close(row.value, value), (where, row.value, value)
            assert _close(row.previous_value, previous), (where, row.previous_value, previous)
            change = (value - previous) / abs(previous) if value is not None and previous not in (None, 0) else None
            assert _close(row.change, change), (where, row.change, change)
            assert row.status == weather(kpi, value, previous), (where, value, previous, row.status)
            assert row.refreshed_through == through
    assert len(summary) == expected_rows


def test_every_periodic_kpi_is_judged_on_its_latest_settled_period_at_every_grain(built):
    judged = built.table("kpi.kpi_judged_periods")
    for column in ("period_start", "previous_period_start", "refreshed_through"):
        judged[column] = pd.to_datetime(judged[column]).dt.date
    through, window_start = built.refresh.through, built.refresh.window_start

    def compared_with(start: dt.date, grain: str) -> dt.date | None:  # none before the KPI window
        previous = previous_period(start, grain)
        return previous if period_end(previous, grain) >= window_start else None

    expected = {(kpi.id, grain): (start, compared_with(start, grain))
                for kpi in REGISTRY.periodic() for grain in kpi.grains
                for start in [judged_period(through, grain, kpi.settles_after_days)]}
    found = {(row.kpi_id, row.grain): (row.period_start, None if pd.isna(row.previous_period_start)
                                       else row.previous_period_start) for row in judged.itertuples()}
    wrong = {key: (found.get(key), value) for key, value in expected.items() if found.get(key) != value}
    assert not wrong and len(found) == len(expected), f"(found, expected): {dict(list(wrong.items())[:5])}"
    assert set(judged.refreshed_through) == {through}


def test_the_day_judged_is_an_office_day_against_the_office_day_before(tables):
    through, summary, _ = tables
    days = summary[summary.grain == "day"]
    assert not CALENDAR.is_office_day(through), "the world should end on a weekend, to show the rule"
    assert all(CALENDAR.is_office_day(day) for day in days.period_start)
    assert set(days.period_start) == {previous_office_day(through)}


def test_still_growing_days_are_left_to_the_detail_charts(tables):
    through, summary, values = tables
    settling = [kpi for kpi in REGISTRY.summary() if kpi.settles_after_days]
    assert settling, "no summary KPI waits for its data to settle: the GA KPIs should"
    for kpi in settling:
        day = summary[(summary.kpi_id == kpi.id) & (summary.grain == "day")].iloc[0]
        assert day.period_start <= through - dt.timedelta(days=kpi.settles_after_days)
        held = values[(values.kpi_id == kpi.id) & (values.grain == "day") & (values.period_start == through)]
        assert not held.empty, f"{kpi.id}: the detail layer should still hold {through}"
