"""Days of the simulated window, their rhythms, and local wall-clock time to UTC seconds."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from pulse.business_calendar import BusinessCalendar

DAY = 86_400
HOUR = 3_600


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent random stream per purpose: changing how one table is drawn leaves the
    others' draws as they were."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(stream.encode())])))


@dataclass
class Timeline:
    start: dt.date
    end: dt.date
    calendar: BusinessCalendar

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.calendar.timezone)
        self.dates = [self.start + dt.timedelta(days=i) for i in range(self.n_days)]
        self.weekday = np.array([d.isoweekday() for d in self.dates])
        self.is_office_day = np.array([self.calendar.is_office_day(d) for d in self.dates])
        # seconds to subtract from local wall-clock seconds to get UTC, per day (offset at noon)
        self._offset = np.array(
            [dt.datetime.combine(d, dt.time(12), self.tz).utcoffset().total_seconds() for d in self.dates]
        ).astype("int64")
        self._local_midnight = np.array(
            [(d - dt.date(1970, 1, 1)).days * DAY for d in self.dates], dtype="int64"
        )
        self.now = int(dt.datetime.combine(self.end, dt.time(23, 59, 59), self.tz).timestamp())

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def at(self, day_index: np.ndarray, local_seconds: np.ndarray) -> np.ndarray:
        """UTC epoch seconds of a local wall-clock time on a day of the window."""
        day_index = np.asarray(day_index)
        local = np.asarray(local_seconds).astype("int64")
        return self._local_midnight[day_index] + local - self._offset[day_index]

    def day_of(self, epochs: np.ndarray) -> np.ndarray:
        """Index of the business-local day of each UTC epoch (may fall outside the window)."""
        epochs = np.asarray(epochs, dtype="int64")
        nearest_day = np.clip((epochs - self._local_midnight[0]) // DAY, 0, self.n_days - 1)
        shifted = epochs + self._offset[nearest_day]
        return (shifted - self._local_midnight[0]) // DAY

    def seasonality(self) -> np.ndarray:
        """Demand over the year: a broad spring/autumn high, the July-August and Christmas lulls,
        and growth of about 10 % a year."""
        day_of_year = np.array([d.timetuple().tm_yday for d in self.dates])
        wave = 1 + 0.10 * np.sin(2 * np.pi * (day_of_year - 60) / 365.25)
        summer = np.where((day_of_year >= 196) & (day_of_year <= 232), 0.85, 1.0)
        christmas = np.where((day_of_year >= 355) | (day_of_year <= 3), 0.55, 1.0)
        years = np.array([(d - self.start).days for d in self.dates]) / 365.25
        return wave * summer * christmas * (1.10**years)

    def business_weekday_factor(self, weekend: float, office_closed: float | None = None) -> np.ndarray:
        """B2B rhythm: Monday busiest, Friday quieter, weekends and holidays a fraction."""
        by_weekday = {1: 1.08, 2: 1.04, 3: 1.0, 4: 0.98, 5: 0.90, 6: weekend, 7: weekend * 0.7}
        factor = np.array([by_weekday[w] for w in self.weekday])
        closed = office_closed if office_closed is not None else weekend
        holiday = (~self.is_office_day) & (self.weekday <= 5)
        return np.where(holiday, closed, factor)

    def to_timestamps(self, epochs: np.ndarray) -> pd.Series:
        """UTC epoch seconds (int64, with -1 for none) to tz-aware timestamps."""
        epochs = np.asarray(epochs, dtype="int64")
        values = (epochs * 1_000_000).astype("datetime64[us]")
        values[epochs < 0] = np.datetime64("NaT")
        return pd.Series(values).dt.tz_localize("UTC")

    def local_dates(self, epochs: np.ndarray) -> pd.Series:
        return self.to_timestamps(epochs).dt.tz_convert(self.tz).dt.date


NONE = -1  # "no timestamp" in int64 epoch arrays


def sample_time_of_day(rng: np.random.Generator, n: int, hourly: np.ndarray) -> np.ndarray:
    """Local seconds since midnight, hour drawn from a 24-value profile, uniform within the hour."""
    hourly = np.asarray(hourly, dtype="float64")
    hours = rng.choice(24, size=n, p=hourly / hourly.sum())
    return hours * HOUR + rng.integers(0, HOUR, size=n)


def to_business_epochs(calendar: BusinessCalendar, starts: np.ndarray,
                       business_seconds: np.ndarray) -> np.ndarray:
    """`starts` plus office time, as epoch seconds (vectorised through the business calendar)."""
    if len(starts) == 0:
        return np.asarray(starts, dtype="int64")
    moments = pd.Series(pd.to_datetime(np.asarray(starts, dtype="int64"), unit="s", utc=True))
    ends = calendar.add_business_seconds(moments, np.asarray(business_seconds, dtype="float64"))
    return (ends.to_numpy(dtype="datetime64[ns]").astype("int64") // 1_000_000_000).astype("int64")
