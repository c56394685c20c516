"""What every table generator needs to know about the run: seed, scale, the window's timeline,
office days, incidents and `now`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.generator.draw import EPOCH, OfficeDays
from pulse.sandbox.generator.timeline import DAY, Timeline, rng_for
from pulse.sandbox.world import NULLABLE_INT, TABLES, TS
from pulse.sandbox.world_io import Incident

# How far past the window lifecycles are drawn (a parcel shipped on the last day is delivered
# after it); what lies beyond `now` is cut off by the as-of view.
AFTER_WINDOW_DAYS = 120


@dataclass
class Context:
    seed: int
    scale: float
    start: dt.date
    end: dt.date
    calendar: BusinessCalendar
    incidents: tuple[Incident, ...]
    timeline: Timeline = field(init=False)
    span: Timeline = field(init=False)
    office_days: OfficeDays = field(init=False)

    def __post_init__(self) -> None:
        self.timeline = Timeline(self.start, self.end, self.calendar)
        # same first day, so day indexes agree; reaches past the window for lifecycles
        self.span = Timeline(self.start, self.end + dt.timedelta(days=AFTER_WINDOW_DAYS), self.calendar)
        self.office_days = OfficeDays(
            self.calendar, self.start - dt.timedelta(days=3 * 365), self.span.end + dt.timedelta(days=30)
        )
        self.now = self.timeline.now
        self.start_epoch = int(self.timeline.at(np.array([0]), np.array([0]))[0])
        self.first_day = (self.start - EPOCH).days

    def rng(self, stream: str) -> np.random.Generator:
        return rng_for(self.seed, stream)

    def volume(self, per_scale: float) -> int:
        return max(1, round(per_scale * self.scale))

    def incident_days(self, name: str) -> np.ndarray:
        """Window day indexes an incident covers (empty when it is outside the window)."""
        incident = next((i for i in self.incidents if i.name == name), None)
        if incident is None:
            return np.array([], dtype="int64")
        first = (incident.start - self.start).days
        return np.arange(first, (incident.end - self.start).days + 1)

    def in_incident(self, name: str, epochs: np.ndarray) -> np.ndarray:
        days = self.incident_days(name)
        if len(days) == 0:
            return np.zeros(len(epochs), dtype=bool)
        return np.isin(self.span.day_of(epochs), days)


def to_table(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Epoch-second columns (NONE = null) of a generated frame to the table's timestamps,
    days-since-1970 columns to dates, NONE ids to nulls; the World conforms the rest."""
    result = frame.copy(deep=False)  # copy-on-write: columns are replaced, never modified
    for column in TABLES[table].columns:
        if column.name not in result:
            continue
        values = result[column.name]
        if column.type == TS and values.dtype.kind == "i":
            stamps = (values.to_numpy() * 1_000_000).astype("datetime64[us]")
            stamps[values.to_numpy() < 0] = np.datetime64("NaT")
            result[column.name] = pd.Series(stamps, index=result.index).dt.tz_localize("UTC")
        elif column.type == NULLABLE_INT and values.dtype.kind == "i":
            numbers = values.to_numpy(dtype="int64", na_value=-1)
            result[column.name] = pd.arrays.IntegerArray(numbers.copy(), numbers < 0)
        elif column.type == "date" and values.dtype.kind == "i":
            result[column.name] = pd.Series(
                (values.to_numpy() * DAY).astype("datetime64[s]"), index=result.index
            )
    return result
