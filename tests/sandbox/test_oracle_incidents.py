"""The oracle on a generated world: each sandbox incident shows in the KPI it breaks on its dates
and not on the office days around it; a few KPIs recomputed independently from the raw tables;
and every registry KPI computes at the week grain with every slice, with consistent rows.

Budget: about 25 s (one world of 65 days at scale 0.5, built once)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import load_registry
from pulse.sandbox.generator import generate
from pulse.sandbox.incidents import MISPRICED_CATEGORY, STRIKING_CARRIER
from pulse.sandbox.oracle import Oracle
from pulse.settings import Settings

TZ = "Europe/Amsterdam"
CALENDAR = BusinessCalendar(timezone=TZ, opening=dt.time(8, 30), closing=dt.time(17, 30),
                            weekdays=frozenset({1, 2, 3, 4, 5}), holiday_country="NL")
SETTINGS = Settings(phone_sla_seconds=40, ticket_sla_hours=48)
END = dt.date(2026, 6, 19)
AROUND = 7  # office days either side of an incident that must look normal


@pytest.fixture(scope="module")
def world():
    return generate(seed=5, days=65, scale=0.5, end=END, calendar=CALENDAR)


@pytest.fixture(scope="module")
def oracle(world):
    return Oracle(world, CALENDAR, SETTINGS)


def daily(oracle, kpi_id, slice_name="all", slice_value="all", grain="day") -> pd.Series:
    rows = oracle.values(kpi_id, grain)
    rows = rows[(rows.slice_name == slice_name) & (rows.slice_value == slice_value)]
    return rows.set_index("period_start")["value"]


def incident_and_neighbours(world, name) -> tuple[list[dt.date], list[dt.date]]:
    """The incident's office days and the office days around it (AROUND each side)."""
    incident = world.meta.incident(name)
    assert incident is not None, f"the world has no {name} incident"
    days = [d.date() for d in pd.date_range(world.meta.start, world.meta.end) if CALENDAR.is_office_day(d.date())]
    inside = [d for d in days if incident.covers(d)]
    before = [d for d in days if d < incident.start][-AROUND:]
    after = [d for d in days if d > incident.end][:AROUND]
    return inside, before + after


def test_checkout_bug_spikes_abandonment_and_drops_web_orders(world, oracle):
    (day,), around = incident_and_neighbours(world, "checkout_bug")
    abandonment = daily(oracle, "cart_abandonment_rate")
    assert abandonment[day] > 0.5
    assert abandonment[day] > 2 * abandonment[around].max()
    orders = daily(oracle, "web_transactions")
    assert orders[day] < 0.5 * orders[around].median()


def test_ga_outage_collapses_sessions_while_shop_orders_hold(world, oracle):
    (day,), around = incident_and_neighbours(world, "ga_tracking_outage")
    for kpi_id in ("sessions", "unique_visitors"):
        values = daily(oracle, kpi_id)
        assert values[day] < 0.2 * values[around].min(), kpi_id
    orders = daily(oracle, "web_transactions")
    assert orders[day] > 0.5 * orders[around].median()
    conversion = daily(oracle, "conversion_rate")
    assert conversion[day] > 5 * conversion[around].max()


def test_phone_staffing_gap(world, oracle):
    gap, around = incident_and_neighbours(world, "phone_staffing_gap")
    assert len(gap) == 3
    wait = daily(oracle, "call_wait_time")
    assert wait[gap].min() > wait[around].max()
    for kpi_id in ("call_answer_rate", "phone_sla_compliance"):
        values = daily(oracle, kpi_id)
        assert values[gap].max() < values[around].min(), kpi_id


def test_carrier_strike_makes_postnl_late_that_week_and_the_next(world, oracle):
    strike = world.meta.incident("carrier_strike")
    weeks = {strike.start, strike.start + dt.timedelta(days=7)}  # parcels shipped in the strike arrive late
    late = daily(oracle, "late_delivery_rate", "carrier", STRIKING_CARRIER, grain="week")
    others = late[[week for week in late.index if week not in weeks]]
    assert late[sorted(weeks)].min() > 2 * others.max()
    for carrier in ("DHL", "UPS"):
        assert daily(oracle, "late_delivery_rate", "carrier", carrier, grain="week")[sorted(weeks)].max() < 0.25
    disputes = daily(oracle, "dispute_rate", grain="week")
    assert disputes[sorted(weeks)].max() > 2 * disputes[[w for w in disputes.index if w not in weeks]].median()


def test_price_error_makes_the_category_margin_negative(world, oracle):
    days, _ = incident_and_neighbours(world, "price_error")
    margin = daily(oracle, "profit_margin", "category", MISPRICED_CATEGORY)
    assert (margin[days] < 0).all()
    assert (margin.drop(days) >= 0).all()
    assert (daily(oracle, "profit_margin_rate", "category", MISPRICED_CATEGORY)[days] < 0).all()


# ---------------------------------------------------------------- independent recomputations
def test_daily_revenue_matches_a_direct_computation(world, oracle):
    orders = world["orders"]
    orders = orders[orders["status"] != "cancelled"]
    local_day = orders["placed_at"].dt.tz_convert(TZ).dt.date
    expected = (orders["revenue"] * 100).round().groupby(local_day).sum() / 100
    got = daily(oracle, "revenue")
    assert got[got > 0].to_dict() == pytest.approx(expected.to_dict(), abs=1e-9)


def test_weekly_unique_visitors_match_a_direct_computation(world, oracle):
    sessions = world["web_sessions"]
    sessions = sessions[sessions["ga_tracked"] & (sessions["ga_processed_at"] <= world.meta.now)]
    local = sessions["started_at"].dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize()
    monday = (local - pd.to_timedelta(local.dt.weekday, unit="D")).dt.date
    expected = sessions.groupby(monday)["user_pseudo_id"].nunique()
    got = daily(oracle, "unique_visitors", grain="week")
    assert got[got > 0].to_dict() == expected.to_dict()


def test_monthly_abandonment_matches_a_direct_computation(world, oracle):
    carts = world["carts"]
    carts = carts[carts["status"] != "open"]
    month = carts["created_at"].dt.tz_convert(TZ).dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date
    expected = (carts["status"] == "abandoned").groupby(month).mean()
    got = daily(oracle, "cart_abandonment_rate", grain="month")
    assert got.to_dict() == pytest.approx(expected.to_dict(), rel=1e-12)


# ---------------------------------------------------------------- every KPI, every slice
def test_every_kpi_computes_with_consistent_rows(oracle):
    registry = load_registry()
    rows = oracle.all_values(grains=["week"])
    weeks = set(oracle.periods("week"))
    for kpi in registry.periodic():
        if "week" not in kpi.grains:
            continue
        mine = rows[rows.kpi_id == kpi.id]
        everything = mine[mine.slice_name == "all"]
        assert set(everything.period_start) == weeks, kpi.id
        assert set(mine.slice_name) <= {"all", *kpi.slices}, kpi.id
        for slice_name in kpi.slices:
            assert (mine.slice_name == slice_name).any(), f"{kpi.id}: no row for slice {slice_name}"
        if kpi.kind in {"ratio", "share", "average"}:
            valid = mine[mine.denominator != 0]
            assert np.allclose(valid.value, valid.numerator / valid.denominator, rtol=1e-12), kpi.id
            assert mine[mine.denominator == 0].value.isna().all(), kpi.id
        if kpi.kind in {"sum", "count"}:
            # every record carries exactly one value of each slice: the slices add up to the total
            total = everything.set_index("period_start").value
            for slice_name in kpi.slices:
                parts = mine[mine.slice_name == slice_name].groupby("period_start").value.sum()
                assert np.allclose(parts, total[parts.index], atol=1e-6), f"{kpi.id} by {slice_name}"
    for kpi in registry.lists():
        table = oracle.list(kpi.id, "week" if kpi.grains else None)
        assert list(table.columns) == list(kpi.columns), kpi.id
        assert len(table) > 0, kpi.id


def test_acquisition_channel_rules_agree_with_ga_channel_groups(world, oracle):
    """The registry's utm rules put each web order in the channel group GA4 gave its session."""
    orders = oracle.facts.all_orders
    sessions = world["web_sessions"].set_index("session_id")["channel_group"]
    # the last hours' tracked sessions are not in the world until GA has processed them
    web = orders[(orders["order_channel"] == "web") & orders["ga_session_id"].isin(sessions.index)]
    expected = sessions.reindex(web["ga_session_id"].astype("int64").to_numpy()).to_numpy()
    assert len(web) > 100
    assert (web["acquisition_channel"].to_numpy() == expected).all()
    offline = orders[orders["order_channel"] != "web"]
    assert (offline["acquisition_channel"] == "Offline").all()
