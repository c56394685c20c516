"""Business-local days and the periods that contain them (ISO week from Monday, month, quarter).

Days are naive `datetime64` midnights in the business time zone; a period is named by its first day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

GRAINS = ("day", "week", "month", "quarter")


def local_day(moments: pd.Series, timezone: str) -> pd.Series:
    """The business-local day of each UTC timestamp (NaT stays NaT)."""
    moments = pd.to_datetime(moments, utc=True)
    return moments.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize().astype("datetime64[us]")


def as_day(dates: pd.Series) -> pd.Series:
    """A column of `datetime.date` (world DATE columns) as naive day timestamps."""
    return pd.to_datetime(dates).astype("datetime64[us]")


def period_start(days: pd.Series, grain: str) -> pd.Series:
    """The first day of the period containing each day (NaT stays NaT)."""
    values = pd.to_datetime(days).to_numpy(dtype="datetime64[D]")
    if grain == "day":
        starts = values
    elif grain == "week":
        # 1970-01-01 was a Thursday: (epoch day + 3) % 7 is the ISO weekday - 1
        starts = values - ((values.astype("int64") + 3) % 7).astype("timedelta64[D]")
    elif grain == "month":
        starts = values.astype("datetime64[M]").astype("datetime64[D]")
    elif grain == "quarter":
        months = values.astype("datetime64[M]").astype("int64")
        starts = (months - months % 3).astype("datetime64[M]").astype("datetime64[D]")
    else:
        raise ValueError(f"unknown grain {grain!r}; use one of {GRAINS}")
    starts = np.where(np.isnat(values), np.datetime64("NaT"), starts).astype("datetime64[us]")
    return pd.Series(starts, index=days.index)


def period_of(day: dt.date, grain: str) -> dt.date:
    return period_start(pd.Series([pd.Timestamp(day)]), grain).iloc[0].date()


def window_periods(first: dt.date, last: dt.date, grain: str) -> pd.DatetimeIndex:
    """Every period of the grain that overlaps the days first..last."""
    days = pd.Series(pd.date_range(first, last, freq="D"))
    return pd.DatetimeIndex(np.unique(period_start(days, grain).to_numpy()))
