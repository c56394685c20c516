"""The oracle's service-quality KPIs (phone, helpdesk, NPS, site speed) on hand-made records,
every value worked out by hand: office hours, SLA boundaries, business hours across a weekend,
the daylight-saving change of Sunday 29 March 2026 and the Easter holidays. Budget: about 3 s."""

from __future__ import annotations

import datetime as dt

import pytest

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.oracle import Oracle
from pulse.sandbox.oracle.handmade import handmade_world
from pulse.settings import Settings

CALENDAR = BusinessCalendar(timezone="Europe/Amsterdam", opening=dt.time(8, 30), closing=dt.time(17, 30),
                            weekdays=frozenset({1, 2, 3, 4, 5}), holiday_country="NL")
SETTINGS = Settings(phone_sla_seconds=40, ticket_sla_hours=48)
MON_2_MARCH = dt.date(2026, 3, 2)
WEEK_OF_DST = dt.date(2026, 3, 23)  # Mon 23 - Sun 29 March; clocks go forward on the Sunday
WEEK_AFTER_DST = dt.date(2026, 3, 30)
EASTER_WEEK = dt.date(2026, 4, 6)


def call(started, answered=None, direction="inbound"):
    return dict(started_at=started, answered_at=answered, direction=direction)


def ticket(created, first_reply=None, solved=None, priority="normal", channel="email"):
    return dict(created_at=created, first_reply_at=first_reply, solved_at=solved, priority=priority, channel=channel)


@pytest.fixture(scope="module")
def oracle():
    world = handmade_world({
        "calls": [
            call("2026-03-02 10:00:00+01:00", "2026-03-02 10:00:30+01:00"),  # 30 s
            call("2026-03-02 10:05:00+01:00", "2026-03-02 10:05:40+01:00"),  # 40 s: still within the SLA
            call("2026-03-02 11:00:00+01:00", "2026-03-02 11:00:41+01:00"),  # 41 s: a breach
            call("2026-03-02 12:00:00+01:00"),  # missed
            call("2026-03-02 18:00:00+01:00"),  # after closing: not in the answer rate
            call("2026-03-02 10:00:00+01:00", "2026-03-02 10:00:10+01:00", direction="outbound"),
            call("2026-03-02 17:29:59+01:00", "2026-03-02 17:30:20+01:00"),  # rang before closing: 21 s
        ],
        "tickets": [
            # Fri 16:30 CET -> Mon 10:30 CEST: 65 calendar hours (the clock jumped), 1 h + 2 h of office time
            ticket("2026-03-27 16:30+01:00", "2026-03-30 09:00+02:00", "2026-03-30 10:30+02:00", priority="high"),
            ticket("2026-03-30 09:00+02:00", "2026-03-30 09:30+02:00", "2026-03-30 15:00+02:00", channel="web"),
            # exactly 48 calendar hours: within the SLA
            ticket("2026-03-26 10:00+01:00", "2026-03-26 11:00+01:00", "2026-03-28 10:00+01:00"),
            ticket("2026-03-31 10:00+02:00"),  # still open
            # Thu before Easter -> Tue after: Good Friday and Easter Monday are holidays
            ticket("2026-04-02 17:00+02:00", "2026-04-07 09:00+02:00", "2026-04-07 09:30+02:00"),
        ],
        "orders": [dict(order_id=n, customer_id=1, placed_at="2026-03-31 10:00+02:00") for n in range(1, 5)],
        "nps_responses": [dict(submitted_at="2026-03-10 10:00+01:00", customer_id=1, score=s)
                          for s in (10, 9, 8, 7, 6, 0, 10)]
        + [dict(submitted_at="2026-04-10 10:00+02:00", customer_id=1, score=s) for s in (9, 9)],
        "speed_samples": [
            dict(measured_at="2026-03-02 10:00+01:00", device="desktop", page_type="home", load_time_ms=1200),
            dict(measured_at="2026-03-02 11:00+01:00", device="mobile", page_type="product", load_time_ms=1800),
            dict(measured_at="2026-03-02 12:00+01:00", device="mobile", page_type="product", load_time_ms=3000),
        ],
    }, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30))
    return Oracle(world, CALENDAR, SETTINGS)


def test_phone_kpis_follow_office_hours_and_the_sla(oracle):
    assert oracle.value("call_wait_time", "day", MON_2_MARCH) == 33.0  # (30 + 40 + 41 + 21) / 4
    assert oracle.value("call_answer_rate", "day", MON_2_MARCH) == 0.8  # 4 of the 5 in opening hours
    assert oracle.value("phone_sla_compliance", "day", MON_2_MARCH) == 0.6  # 30 s, 40 s, 21 s
    assert oracle.value("inbound_calls", "day", MON_2_MARCH) == 6


def test_ticket_durations_in_calendar_and_business_hours_across_dst(oracle):
    assert oracle.value("resolution_time", "week", WEEK_AFTER_DST) == 35.5  # (65 + 6) / 2
    assert oracle.value("resolution_time_business", "week", WEEK_AFTER_DST) == 4.5  # (3 + 6) / 2
    assert oracle.value("resolution_time", "week", WEEK_AFTER_DST, "priority", "high") == 65.0
    # first replies: 63.5 h (1.5 h of office time) and 0.5 h
    assert oracle.value("first_response_time", "week", WEEK_AFTER_DST) == 32.0
    assert oracle.value("first_response_time_business", "week", WEEK_AFTER_DST) == 1.0
    # the ticket solved on Saturday 28 March, 48 h after Thursday 10:00; 7.5 h + 9 h of office time
    assert oracle.value("resolution_time", "week", WEEK_OF_DST) == 48.0
    assert oracle.value("resolution_time_business", "week", WEEK_OF_DST) == 16.5


def test_business_hours_skip_holidays(oracle):
    # Thu 17:00 -> Tue 09:30: 0.5 h on Thursday and 1 h on Tuesday; 112.5 calendar hours
    assert oracle.value("resolution_time_business", "week", EASTER_WEEK) == 1.5
    assert oracle.value("resolution_time", "week", EASTER_WEEK) == 112.5
    assert oracle.value("first_response_time_business", "week", EASTER_WEEK) == 1.0


def test_ticket_sla_and_volumes(oracle):
    assert oracle.value("ticket_sla_compliance", "week", WEEK_OF_DST) == 1.0  # 48 h is within
    assert oracle.value("ticket_sla_compliance", "week", WEEK_AFTER_DST) == 0.5  # the 65 h ticket breached
    assert oracle.value("tickets_created", "week", WEEK_OF_DST) == 2
    assert oracle.value("tickets_created", "week", WEEK_OF_DST, "ticket_channel", "email") == 2
    assert oracle.value("ticket_to_order_ratio", "week", WEEK_AFTER_DST) == 0.75  # 3 tickets (one on 2 April), 4 orders
    assert oracle.value("ticket_to_order_ratio", "week", WEEK_OF_DST) is None  # no orders that week


def test_nps_is_monthly(oracle):
    rows = oracle.values("nps", "month")
    march = rows[(rows.period_start == dt.date(2026, 3, 1)) & (rows.slice_name == "all")].iloc[0]
    # 3 promoters, 2 detractors, 7 answers
    assert (march.numerator, march.denominator) == (100.0, 7.0)
    assert march.value == pytest.approx(100 / 7, rel=1e-12)
    assert oracle.value("nps", "month", dt.date(2026, 4, 1)) == 100.0
    assert oracle.value("nps", "quarter", dt.date(2026, 1, 1)) == pytest.approx(100 / 7, rel=1e-12)


def test_site_speed(oracle):
    assert oracle.value("site_speed", "day", MON_2_MARCH) == 2.0
    assert oracle.value("site_speed", "day", MON_2_MARCH, "device", "mobile") == 2.4
    assert oracle.value("site_speed", "day", MON_2_MARCH, "page_type", "home") == 1.2
