import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pulse.business_calendar import BusinessCalendar

AMS = dt.timezone(dt.timedelta(hours=1))  # CET, winter
CEST = dt.timezone(dt.timedelta(hours=2))


@pytest.fixture
def calendar():
    return BusinessCalendar(
        timezone="Europe/Amsterdam",
        opening=dt.time(8, 30),
        closing=dt.time(17, 30),
        weekdays=frozenset({1, 2, 3, 4, 5}),
        holiday_country="NL",
    )


def test_weekend_and_holidays_are_closed(calendar):
    assert calendar.is_office_day(dt.date(2026, 4, 24))  # Friday
    assert not calendar.is_office_day(dt.date(2026, 4, 25))  # Saturday
    assert not calendar.is_office_day(dt.date(2026, 4, 27))  # King's Day, a Monday
    assert calendar.holiday_name(dt.date(2026, 4, 27)) == "King's Day"


def test_office_window_follows_daylight_saving(calendar):
    # the clocks go forward on Sunday 29 March 2026: the office opens an hour earlier in UTC
    friday = calendar.office_window(dt.date(2026, 3, 27))
    monday = calendar.office_window(dt.date(2026, 3, 30))
    assert friday[0] == dt.datetime(2026, 3, 27, 7, 30, tzinfo=dt.UTC)
    assert monday[0] == dt.datetime(2026, 3, 30, 6, 30, tzinfo=dt.UTC)
    assert (friday[1] - friday[0]) == (monday[1] - monday[0]) == dt.timedelta(hours=9)


def test_business_seconds_over_a_weekend_across_daylight_saving(calendar):
    start = dt.datetime(2026, 3, 27, 17, 0, tzinfo=AMS)  # Friday, half an hour before closing
    end = dt.datetime(2026, 3, 30, 9, 0, tzinfo=CEST)  # Monday, half an hour after opening
    assert calendar.business_seconds(start, end) == 3600


def test_business_seconds_inside_one_day_and_outside_hours(calendar):
    day = dt.date(2026, 11, 24)
    at = lambda h, m=0: dt.datetime.combine(day, dt.time(h, m), calendar.tz)  # noqa: E731
    assert calendar.business_seconds(at(10), at(11, 15)) == 4500
    assert calendar.business_seconds(at(6), at(8)) == 0  # before opening
    assert calendar.business_seconds(at(7), at(20)) == 9 * 3600
    assert calendar.business_seconds(at(11), at(10)) == 0


def test_vectorised_equals_scalar(calendar):
    rng = np.random.default_rng(7)
    base = pd.Timestamp("2026-03-20", tz="UTC")
    starts = base + pd.to_timedelta(rng.integers(0, 40 * 86400, 500), unit="s")
    ends = starts + pd.to_timedelta(rng.integers(-3600, 9 * 86400, 500), unit="s")
    starts, ends = pd.Series(starts), pd.Series(ends)
    starts[3] = pd.NaT
    vectorised = calendar.business_seconds_between(starts, ends)
    for i in range(len(starts)):
        if i == 3:
            assert np.isnan(vectorised[i])
            continue
        assert vectorised[i] == pytest.approx(
            calendar.business_seconds(starts[i].to_pydatetime(), ends[i].to_pydatetime())
        )


def test_calendar_table(calendar):
    days = calendar.days(dt.date(2026, 4, 24), dt.date(2026, 4, 28))
    assert list(days["is_office_day"]) == [True, False, False, False, True]
    assert days.loc[3, "holiday_name"] == "King's Day"
    assert days["opens_at"].dt.tz is not None


def test_add_business_seconds_is_the_inverse_of_business_seconds(calendar):
    rng = np.random.default_rng(11)
    base = pd.Timestamp("2026-03-20", tz="UTC")
    starts = pd.Series(base + pd.to_timedelta(rng.integers(0, 40 * 86400, 300), unit="s"))
    seconds = rng.integers(0, 3 * 9 * 3600, 300)
    ends = calendar.add_business_seconds(starts, seconds)
    assert (ends >= starts).all()
    spent = calendar.business_seconds_between(starts, ends)
    assert np.allclose(spent, seconds)
    # an end lands inside office hours unless zero seconds were added
    for end, added in zip(ends, seconds, strict=True):
        if added > 0:
            assert calendar.is_open_at(end.to_pydatetime()) or calendar.is_open_at(
                (end - pd.Timedelta(seconds=1)).to_pydatetime()
            )


def test_add_business_seconds_from_friday_evening_lands_on_monday(calendar):
    friday_evening = pd.Series([pd.Timestamp("2026-11-20 19:00", tz="Europe/Amsterdam")])
    end = calendar.add_business_seconds(friday_evening, [3600]).iloc[0]
    assert end == pd.Timestamp("2026-11-23 09:30", tz="Europe/Amsterdam")
