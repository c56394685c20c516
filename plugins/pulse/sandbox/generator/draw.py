"""Vectorised drawing helpers shared by the table generators: events spread over days and hours,
weighted choices, durations, office days and cents."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.generator.timeline import DAY, Timeline, sample_time_of_day

EPOCH = dt.date(1970, 1, 1)

# Share of a day's events per local hour (0-23): office rhythm on weekdays, later and flatter at weekends.
OFFICE_HOURS_PROFILE = np.array(
    [0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 8, 10, 10, 9.5, 8, 9, 9.5, 9, 8, 6, 4, 3.5, 3.5, 3, 2, 0.8]
)
WEEKEND_PROFILE = np.array(
    [0.5, 0.3, 0.2, 0.2, 0.2, 0.4, 1, 2, 4, 6, 7.5, 8, 8, 7.5, 7, 6.5, 6, 5.5, 5.5, 6, 6, 5, 3, 1.5]
)


def spread_over_days(
    rng: np.random.Generator, timeline: Timeline, expected_per_day: np.ndarray,
    weekday_hours: np.ndarray = OFFICE_HOURS_PROFILE, weekend_hours: np.ndarray = WEEKEND_PROFILE,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts per day, each event at a time drawn from the day's hourly profile.
    Returns (day index, UTC epoch seconds), sorted by time."""
    counts = rng.poisson(np.maximum(expected_per_day, 0))
    day = np.repeat(np.arange(timeline.n_days), counts)
    office = timeline.is_office_day[day]
    seconds = np.empty(len(day), dtype="int64")
    seconds[office] = sample_time_of_day(rng, int(office.sum()), weekday_hours)
    seconds[~office] = sample_time_of_day(rng, int((~office).sum()), weekend_hours)
    epochs = timeline.at(day, seconds)
    order = np.argsort(epochs, kind="stable")
    return day[order], epochs[order]


def choice(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    weights = np.asarray(weights, dtype="float64")
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def choice_per_row(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One column index per row of a (rows x options) weight matrix."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities)) * cumulative[:, -1]
    return np.minimum((cumulative < u[:, None]).sum(axis=1), probabilities.shape[1] - 1)


def lognormal(rng: np.random.Generator, median, sigma: float, size: int) -> np.ndarray:
    return np.asarray(median, dtype="float64") * np.exp(sigma * rng.standard_normal(size))


def categorical(codes: np.ndarray, labels) -> pd.Categorical:
    """`labels[code]` for each code (labels may repeat); code -1 is null."""
    codes = np.asarray(codes, dtype="int64")
    unique, inverse = np.unique(np.asarray(list(labels), dtype=object), return_inverse=True)
    mapped = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1)
    return pd.Categorical.from_codes(mapped, categories=unique)


def nullable_ids(values) -> pd.arrays.IntegerArray:
    """Ids with NONE (or any negative) as null."""
    values = np.asarray(values, dtype="int64")
    return pd.arrays.IntegerArray(values.copy(), values < 0)


def cents(amount: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(amount, dtype="float64") * 100).astype("int64")


def euros(amount_cents: np.ndarray) -> np.ndarray:
    return np.asarray(amount_cents, dtype="int64") / 100


class OfficeDays:
    """Office days of the business calendar as numpy business days (days since 1970)."""

    def __init__(self, calendar: BusinessCalendar, first: dt.date, last: dt.date):
        weekmask = [weekday in calendar.weekdays for weekday in range(1, 8)]
        holidays = [
            first + dt.timedelta(days=i) for i in range((last - first).days + 1)
            if calendar.holiday_name(first + dt.timedelta(days=i)) is not None
        ]
        self.calendar = np.busdaycalendar(weekmask=weekmask,
                                          holidays=np.array(holidays, dtype="datetime64[D]"))

    def offset(self, days: np.ndarray, n, roll: str = "forward") -> np.ndarray:
        """The office day `n` office days after `days` (rolled forward first when not an office day)."""
        dates = np.asarray(days, dtype="int64").astype("datetime64[D]")
        return np.busday_offset(dates, n, roll=roll, busdaycal=self.calendar).astype("int64")

    def is_office(self, days: np.ndarray) -> np.ndarray:
        return np.is_busday(np.asarray(days, dtype="int64").astype("datetime64[D]"), busdaycal=self.calendar)


def local_days(timeline: Timeline, epochs: np.ndarray) -> np.ndarray:
    """Business-local day (days since 1970) of UTC epochs."""
    return timeline.day_of(epochs) + (timeline.start - EPOCH).days


def at_local(timeline: Timeline, days: np.ndarray, local_seconds: np.ndarray) -> np.ndarray:
    """UTC epoch of a local time on a local day given as days since 1970 (inside the timeline's range)."""
    index = np.asarray(days, dtype="int64") - (timeline.start - EPOCH).days
    return timeline.at(np.clip(index, 0, timeline.n_days - 1), local_seconds) + (
        index - np.clip(index, 0, timeline.n_days - 1)
    ) * DAY


