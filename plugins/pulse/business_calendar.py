"""The business calendar: business-local days, office hours and holidays.

Office hours are wall-clock times in the business time zone, so an office day is 9 hours long
in summer and in winter; its UTC bounds shift across daylight-saving changes. The SQL layer gets
the same calendar as a table (`calendar_days`), built from here, and computes durations its own
way; the sandbox and the oracle use the functions below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
import numpy as np
import pandas as pd

from pulse.settings import Settings, get_settings


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str
    opening: dt.time
    closing: dt.time
    weekdays: frozenset[int]  # ISO weekday numbers the office is open
    holiday_country: str = ""
    extra_holidays: frozenset[dt.date] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> BusinessCalendar:
        settings = settings or get_settings()
        return cls(
            timezone=settings.business_timezone,
            opening=settings.opening_time,
            closing=settings.closing_time,
            weekdays=settings.office_weekdays,
            holiday_country=settings.holiday_country,
            extra_holidays=frozenset(settings.extra_holidays),
        )

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def holiday_name(self, day: dt.date) -> str | None:
        if day in self.extra_holidays:
            return "company closing day"
        if not self.holiday_country:
            return None
        return _holidays(self.holiday_country, day.year).get(day)

    def is_office_day(self, day: dt.date) -> bool:
        return day.isoweekday() in self.weekdays and self.holiday_name(day) is None

    def office_window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """Opening and closing of `day` in UTC, or None when the office is closed all day."""
        if not self.is_office_day(day):
            return None
        opening = dt.datetime.combine(day, self.opening, self.tz).astimezone(dt.UTC)
        closing = dt.datetime.combine(day, self.closing, self.tz).astimezone(dt.UTC)
        return opening, closing

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()

    def is_open_at(self, moment: dt.datetime) -> bool:
        window = self.office_window(self.local_date(moment))
        return window is not None and window[0] <= moment < window[1]

    def business_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds between `start` and `end` that fall inside office hours (0 if end <= start)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = self.local_date(start)
        last = self.local_date(end)
        while day <= last:
            window = self.office_window(day)
            if window is not None:
                overlap = min(end, window[1]) - max(start, window[0])
                total += max(overlap.total_seconds(), 0.0)
            day += dt.timedelta(days=1)
        return total

    def days(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """One row per calendar day from `start` to `end` inclusive: the calendar table."""
        dates = pd.date_range(start, end, freq="D")
        rows = []
        for stamp in dates:
            day = stamp.date()
            window = self.office_window(day)
            rows.append(
                {
                    "date": day,
                    "iso_weekday": day.isoweekday(),
                    "is_office_day": window is not None,
                    "holiday_name": self.holiday_name(day),
                    "opens_at": window[0] if window else None,
                    "closes_at": window[1] if window else None,
                }
            )
        frame = pd.DataFrame(rows)
        for column in ("opens_at", "closes_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def business_seconds_between(self, starts: pd.Series, ends: pd.Series) -> pd.Series:
        """Vectorised `business_seconds` for aligned Series of UTC timestamps (NaN where either is null)."""
        valid = starts.notna() & ends.notna()
        result = pd.Series(np.nan, index=starts.index, dtype="float64")
        if not valid.any():
            return result
        s = pd.to_datetime(starts[valid], utc=True)
        e = pd.to_datetime(ends[valid], utc=True)
        timeline = _OfficeTimeline(self, _local_date(s.min(), self.tz), _local_date(e.max(), self.tz))
        seconds = (timeline.office_ns_until(_ns(e)) - timeline.office_ns_until(_ns(s))) / 1e9
        result[valid] = np.clip(seconds, 0, None)
        return result

    def add_business_seconds(self, starts: pd.Series, seconds: pd.Series | np.ndarray) -> pd.Series:
        """The moment `seconds` of office time after each start (a start outside office hours
        counts from the next opening)."""
        s = pd.to_datetime(pd.Series(starts), utc=True)
        seconds = np.asarray(seconds, dtype="float64")
        # office days are at most 24 h long: a window of days*? wide enough to hold the result
        span_days = int(np.nanmax(seconds) // 3600 // max(self._office_hours_per_day(), 1) * 3 + 14)
        first = _local_date(s.min(), self.tz)
        timeline = _OfficeTimeline(self, first, first + dt.timedelta(days=(s.max() - s.min()).days + span_days))
        target = timeline.office_ns_until(_ns(s)) + np.round(seconds * 1e9).astype("int64")
        ends = timeline.moment_at_office_ns(target)
        return pd.Series(pd.to_datetime(ends, utc=True), index=pd.Series(starts).index)

    def _office_hours_per_day(self) -> float:
        opening = dt.datetime.combine(dt.date(2000, 1, 3), self.opening)
        closing = dt.datetime.combine(dt.date(2000, 1, 3), self.closing)
        return (closing - opening).total_seconds() / 3600


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> dict[dt.date, str]:
    return dict(holiday_calendars.country_holidays(country, years=year))


def _ns(moments: pd.Series) -> np.ndarray:
    return moments.to_numpy(dtype="datetime64[ns]").astype("int64")


def _local_date(moment: pd.Timestamp, tz: ZoneInfo) -> dt.date:
    return moment.tz_convert(tz).date()


class _OfficeTimeline:
    """Office windows of a date range laid end to end: office time as one running clock."""

    def __init__(self, calendar: BusinessCalendar, first: dt.date, last: dt.date):
        days = calendar.days(first - dt.timedelta(days=1), last + dt.timedelta(days=1))
        days = days[days["is_office_day"]]
        self.opens = days["opens_at"].to_numpy(dtype="datetime64[ns]").astype("int64")
        self.closes = days["closes_at"].to_numpy(dtype="datetime64[ns]").astype("int64")
        self.length = self.closes - self.opens
        # office nanoseconds before each window opens
        self.before = np.concatenate([[0], np.cumsum(self.length)[:-1]])

    def office_ns_until(self, ns: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.opens, ns, side="right") - 1  # last window opened at or before
        clipped = np.clip(index, 0, None)
        inside = np.clip(ns - self.opens[clipped], 0, self.length[clipped])
        return np.where(index >= 0, self.before[clipped] + inside, 0)

    def moment_at_office_ns(self, office_ns: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.before + self.length, office_ns, side="left")
        if (index >= len(self.opens)).any():
            raise ValueError("business time beyond the calendar range")
        return (self.opens[index] + (office_ns - self.before[index])).astype("datetime64[ns]")
