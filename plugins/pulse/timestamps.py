"""Timestamps as the rest of Pulse expects them: timezone-aware, in UTC, of the standard type."""

from __future__ import annotations

import datetime as dt


def plain_utc(value):
    """A plain UTC `datetime` (anything else is returned as is). Some drivers hand back naive UTC;
    Airflow hands pendulum datetimes, whose differences do not divide by a timedelta."""
    if not isinstance(value, dt.datetime):
        return value
    value = (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value).astimezone(dt.UTC)
    return dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                       value.microsecond, tzinfo=dt.UTC)
