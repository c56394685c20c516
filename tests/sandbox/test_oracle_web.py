"""The oracle's GA4 KPIs on a hand-made week of sessions, every value worked out by hand.

Budget: about 2 s.

The week of Monday 2 March 2026 (CET, UTC+1). Sessions GA reports:
  s1  user A  Mon 10:00  desktop  engaged      5 pages  300 s  new       exit /cart
  s7  user E  Mon 00:30  desktop  engaged      4 pages   60 s  new       exit /     (Sun 23:30 UTC)
  s2  user A  Tue 11:00  mobile   not engaged  1 page      5 s  returning exit /
  s3  user B  Tue 14:00  desktop  engaged      3 pages  120 s  new       exit /cart
  s4  user C  Wed 09:00  tablet   not engaged  1 page      0 s  returning exit /
  s5  user B  Sun 23:30  desktop  engaged      2 pages 3600 s  returning exit /checkout/confirmation (ends Mon 9)
Not reported: s6 (no consent: ga_tracked false) and s8 (GA processes it after the clock).
"""

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
MON, TUE, WED, THU, SUN = (dt.date(2026, 3, d) for d in (2, 3, 4, 5, 8))
WEEK = MON


def session(number, user, started, device="desktop", engaged=True, pages=1, seconds=0, new=False, exit_page="/",
            **extra):
    return dict(session_id=number, user_pseudo_id=user, started_at=started, device_category=device,
                engaged=engaged, page_views=pages, duration_seconds=seconds, is_new_user=new, exit_page=exit_page,
                channel_group="Organic Search" if number % 2 else "Direct", **extra)


@pytest.fixture(scope="module")
def oracle():
    world = handmade_world({
        "web_sessions": [
            session(1, "A", "2026-03-02 10:00+01:00", pages=5, seconds=300, new=True, exit_page="/cart"),
            session(2, "A", "2026-03-03 11:00+01:00", "mobile", engaged=False, seconds=5),
            session(3, "B", "2026-03-03 14:00+01:00", pages=3, seconds=120, new=True, exit_page="/cart"),
            session(4, "C", "2026-03-04 09:00+01:00", "tablet", engaged=False),
            session(5, "B", "2026-03-08 23:30+01:00", pages=2, seconds=3600, exit_page="/checkout/confirmation"),
            session(6, "D", "2026-03-02 12:00+01:00", ga_tracked=False),
            session(7, "E", "2026-03-01 23:30+00:00", pages=4, seconds=60, new=True),
            session(8, "F", "2026-03-03 10:00+01:00", ga_processed_at="2026-04-02 00:00+02:00"),
        ],
        "site_searches": [
            dict(session_id=1, occurred_at="2026-03-02 10:01+01:00", search_term="boormachine"),
            dict(session_id=3, occurred_at="2026-03-03 14:01+01:00", search_term="schroeven"),
            dict(session_id=3, occurred_at="2026-03-03 14:02+01:00", search_term="boormachine"),
            dict(session_id=6, occurred_at="2026-03-02 12:01+01:00", search_term="zaag"),
        ],
        "key_events": [
            dict(session_id=3, occurred_at="2026-03-03 14:05+01:00", event_name="whitepaper_download"),
            dict(session_id=1, occurred_at="2026-03-02 10:04+01:00", event_name="contact_form"),
            dict(session_id=6, occurred_at="2026-03-02 12:02+01:00", event_name="whitepaper_download"),
        ],
        "orders": [
            dict(order_id=1, customer_id=1, placed_at="2026-03-02 10:04+01:00", revenue=10.0),
            dict(order_id=2, customer_id=1, placed_at="2026-03-03 10:00+01:00", status="cancelled"),
            dict(order_id=3, customer_id=1, placed_at="2026-03-03 10:00+01:00", channel="sales_rep"),
        ],
    })
    return Oracle(world, CALENDAR, SETTINGS)


def test_sessions_are_dated_by_the_business_day_and_only_what_ga_reports_counts(oracle):
    # s7 starts on Sunday 1 March in UTC but on Monday 2 March in Amsterdam
    assert oracle.value("sessions", "day", MON) == 2
    assert oracle.value("sessions", "day", TUE) == 2  # s8 is not processed yet, s6 was never tracked
    assert oracle.value("sessions", "week", WEEK) == 6
    assert oracle.value("sessions", "month", dt.date(2026, 3, 1)) == 6
    assert oracle.value("sessions", "quarter", dt.date(2026, 1, 1)) == 6


def test_unique_visitors_are_distinct_per_grain_not_summed(oracle):
    daily = [oracle.value("unique_visitors", "day", day) for day in (MON, TUE, WED, SUN)]
    assert daily == [2, 2, 1, 1]  # sums to 6
    assert oracle.value("unique_visitors", "week", WEEK) == 4  # A, B, C, E
    assert oracle.value("unique_visitors", "week", WEEK, "device", "desktop") == 3  # A, B, E
    assert oracle.value("unique_visitors", "week", WEEK, "device", "mobile") == 1


def test_bounce_rate_of_a_week_is_summed_not_averaged(oracle):
    rows = oracle.values("bounce_rate", "week")
    week = rows[(rows.period_start == WEEK) & (rows.slice_name == "all")].iloc[0]
    assert (week.numerator, week.denominator) == (2, 6)  # s2 and s4 were not engaged
    assert week.value == pytest.approx(1 / 3, rel=1e-12)  # the mean of the daily rates would be 0.375
    assert oracle.value("bounce_rate", "day", MON) == 0
    assert oracle.value("bounce_rate", "day", TUE) == 0.5
    assert oracle.value("bounce_rate", "week", WEEK, "device", "tablet") == 1.0


def test_visitor_ratios(oracle):
    assert oracle.value("new_visitor_rate", "week", WEEK) == 0.75  # A, B, E of A, B, C, E
    assert oracle.value("returning_visitors", "week", WEEK) == 1  # C
    assert oracle.value("sessions_per_visitor", "week", WEEK) == 1.5
    assert oracle.value("session_duration", "week", WEEK) == pytest.approx(4085 / 6, rel=1e-12)
    assert oracle.value("pages_per_session", "week", WEEK) == pytest.approx(16 / 6, rel=1e-12)
    assert oracle.value("mobile_desktop_ratio", "week", WEEK) == pytest.approx(2 / 6, rel=1e-12)


def test_all_rows_are_dense_and_slices_sparse(oracle):
    rows = oracle.values("sessions", "day")
    everything = rows[rows.slice_name == "all"]
    assert len(everything) == 31 and everything.period_start.min() == dt.date(2026, 3, 1)
    assert oracle.value("sessions", "day", THU) == 0  # a day without sessions is 0, not missing
    assert oracle.value("bounce_rate", "day", THU) is None  # 0 / 0
    devices = rows[(rows.slice_name == "device") & (rows.period_start == THU)]
    assert devices.empty
    # ISO weeks that overlap March, named by their Monday
    assert oracle.periods("week") == [dt.date(2026, 2, 23)] + [dt.date(2026, 3, d) for d in (2, 9, 16, 23, 30)]


def test_rows_follow_the_kpi_values_contract(oracle):
    rows = oracle.values("sessions", "week")
    assert list(rows.columns) == ["period_start", "grain", "kpi_id", "slice_name", "slice_value", "numerator",
                                  "denominator", "value"]
    assert set(rows.slice_name) == {"all", "device", "channel"}
    assert rows.denominator.isna().all()  # a count has no denominator


def test_top_search_terms_and_exit_pages(oracle):
    terms = oracle.list("top_search_terms", "week")
    week = terms[terms.period_start == WEEK]
    assert week[["rank", "search_term", "searches"]].values.tolist() == [[1, "boormachine", 2], [2, "schroeven", 1]]
    exits = oracle.list("top_exit_pages", "week")
    assert exits[exits.period_start == WEEK][["rank", "page_path", "exits"]].values.tolist() == [
        [1, "/", 3], [2, "/cart", 2]]
    # s5 ends after midnight: its page_exit belongs to the next week
    assert exits[exits.period_start == dt.date(2026, 3, 9)][["page_path", "exits"]].values.tolist() == [
        ["/checkout/confirmation", 1]]
    # a tie is broken by the page path
    tuesday = oracle.list("top_exit_pages", "day")
    assert tuesday[tuesday.period_start == TUE]["page_path"].tolist() == ["/", "/cart"]


def test_soft_conversions_and_conversion_rate(oracle):
    assert oracle.value("soft_conversions", "week", WEEK) == 2
    assert oracle.value("soft_conversions", "week", WEEK, "event_name", "whitepaper_download") == 1
    # one web order that is not cancelled (the sales-rep order is not a web transaction) over 6 GA sessions
    assert oracle.value("conversion_rate", "week", WEEK) == pytest.approx(1 / 6, rel=1e-12)


def test_lists_and_grains_are_checked(oracle):
    with pytest.raises(ValueError, match="list"):
        oracle.values("top_search_terms", "week")
    with pytest.raises(ValueError, match="grain"):
        oracle.values("nps", "day")
    with pytest.raises(ValueError, match="not a list"):
        oracle.list("sessions", "week")
