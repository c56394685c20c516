"""What a refresh rebuilds: business days, and the periods (ISO week, month, quarter) containing them.

A full refresh rebuilds every period overlapping the KPI window (first business day of the data
to `through`). An incremental refresh rebuilds the days of the lookback window
(`PULSE_KPI_LOOKBACK_DAYS` ending at `through`), the days since the previous refresh's `through`,
the days whose facts changed (late changes found by the fact tables), the days the window gained
or lost, and every period containing one of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from pulse.kpi.registry import GRAINS
from pulse.periods import period_end, period_start
from pulse.warehouse.connection import Connection

SCOPE_DDL = {
    "meta.kpi_refresh_days": "day date not null primary key",
    "meta.kpi_refresh_periods": (
        "grain text not null, period_start date not null, first_day date not null, last_day date not null, "
        "primary key (grain, period_start)"
    ),
    "meta.kpi_refresh_day_periods": (
        "day date not null, grain text not null, period_start date not null, primary key (day, grain)"
    ),
    "meta.kpi_window_periods": (
        "grain text not null, period_start date not null, first_day date not null, last_day date not null, "
        "primary key (grain, period_start)"
    ),
}


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


@dataclass(frozen=True)
class Scope:
    full: bool
    through: dt.date
    window_start: dt.date
    days: frozenset[dt.date]  # business days whose periods are rebuilt

    def periods(self) -> list[tuple[str, dt.date]]:
        """(grain, period_start) of every period containing a rebuilt day."""
        return sorted({(grain, period_start(day, grain)) for day in self.days for grain in GRAINS},
                      key=lambda item: (GRAINS.index(item[0]), item[1]))

    def window_periods(self) -> list[tuple[str, dt.date]]:
        starts = {(grain, period_start(day, grain)) for day in days_between(self.window_start, self.through)
                  for grain in GRAINS}
        return sorted(starts, key=lambda item: (GRAINS.index(item[0]), item[1]))


def full_scope(window_start: dt.date, through: dt.date) -> Scope:
    return Scope(True, through, window_start, frozenset(days_between(window_start, through)))


def incremental_scope(*, through: dt.date, window_start: dt.date, lookback_days: int, previous_through: dt.date,
                      previous_window_start: dt.date, changed_days: Iterable[dt.date]) -> Scope:
    days = set(days_between(through - dt.timedelta(days=lookback_days - 1), through))
    days |= set(days_between(previous_through + dt.timedelta(days=1), through))
    days |= {day for day in changed_days if day <= through}
    old_window = set(days_between(previous_window_start, previous_through))
    new_window = set(days_between(window_start, through))
    days |= old_window ^ new_window
    return Scope(False, through, window_start, frozenset(days))


def write_scope(connection: Connection, scope: Scope, *, window: bool = True) -> None:
    """The scope as tables the KPI models join: rebuilt days, rebuilt periods, each day of a rebuilt
    period inside the window mapped to its period (up to `through`), and (unless `window` is
    False: it is written already) the window's periods."""
    for table, columns in SCOPE_DDL.items():
        if window or table != "meta.kpi_window_periods":
            connection.execute(f"create table if not exists {table} ({columns})")
            connection.execute(f"delete from {table}")
    periods = scope.periods()
    _insert(connection, "meta.kpi_refresh_days", ["day"], [(day,) for day in sorted(scope.days)])
    _insert(connection, "meta.kpi_refresh_periods", ["grain", "period_start", "first_day", "last_day"],
            [(grain, start, start, period_end(start, grain)) for grain, start in periods])
    window_periods = set(scope.window_periods())
    if window:
        _insert(connection, "meta.kpi_window_periods", ["grain", "period_start", "first_day", "last_day"],
                [(grain, start, start, period_end(start, grain)) for grain, start in sorted(window_periods)])
    day_periods = [
        (day, grain, start)
        for grain, start in periods if (grain, start) in window_periods
        for day in days_between(start, min(period_end(start, grain), scope.through))
    ]
    _insert(connection, "meta.kpi_refresh_day_periods", ["day", "grain", "period_start"], day_periods)


def _insert(connection: Connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    import pyarrow as pa

    from pulse.warehouse.loader import append

    if not rows:
        return
    arrays = list(zip(*rows, strict=True))
    append(connection, table, pa.table({name: list(values) for name, values in zip(columns, arrays, strict=True)}))
