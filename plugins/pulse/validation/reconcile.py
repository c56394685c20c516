"""Cross-source reconciliation: after a load, sources that describe the same business are checked
against each other per business day, as GX expectations on warehouse query results.

- GA4 transactions and purchase revenue vs the shop's web orders (GA sees only consenting,
  tracked visitors: the ratio sits below 1, inside a configurable band; a tracking outage drops
  it far below);
- the shop's shipments vs those a carrier reports (EasyPost trackers, carrier CSV files), by
  tracking code: a feed that stopped, or a carrier that never got the parcel, shows as a gap;
- tickets and calls vs the same weekday of the previous weeks (a day that lost its extraction
  stands out).

Each check turns two daily series into (day, expected, observed, ratio); a day whose expected
count is below `reconcile_min_count` is recorded but not judged (`success` null): a Sunday with
two web orders says nothing about tracking. Results go to `meta.reconciliation_results`, which the
data-health dashboard reads, and to the GX Data Docs. The queries read the raw tables and run
unchanged on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from pulse.settings import Settings, get_settings
from pulse.sources.streams import ROW_NUMBER
from pulse.warehouse.connection import Connection, Warehouse
from pulse.warehouse.meta import ensure_meta

log = logging.getLogger(__name__)

BAND_LOW, BAND_HIGH = "band_low", "band_high"


@dataclass(frozen=True)
class Daily:
    """A daily series from one raw table: `value` and the number of events per business-local day
    of `moment`."""

    table: str
    moment: str
    value: str = "count(*)"
    where: str = ""

    def sql(self) -> str:
        condition = f"{self.where} and " if self.where else ""
        return f"""
            with events as (
                select cast({self.moment} at time zone :tz as date) as day, *
                from {self.table}
                where {condition}{self.moment} >= :start and {self.moment} < :end
            ),
            final as (
                select day, {self.value} as value, count(*) as events from events group by day
            )
            select * from final
        """


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    band: Callable[[Settings], tuple[float, float]]
    observed: Daily
    expected: Daily | None = None  # None: the observed series' same weekday in the previous weeks
    settle_days: int = 0  # the newest days a source may still revise are not judged yet
    also_needs: tuple[str, ...] = ()  # tables the series' conditions read

    @property
    def needs(self) -> tuple[str, ...]:
        return (*(d.table for d in (self.observed, self.expected) if d is not None), *self.also_needs)


_GA_TRAFFIC = {"table": "raw.ga4__traffic", "moment": "hour_start"}
_WEB_ORDERS = {"table": "raw.shop__orders", "moment": "placed_at", "where": "channel = 'web'"}
_KNOWN_TO_A_CARRIER = ("tracking_code in (select tracking_code from raw.easypost__trackers "
                       "union select tracking_code from raw.carrier_files__events)")

CHECKS: tuple[Check, ...] = (
    Check(
        "ga_transactions_vs_web_orders", "GA4 transactions per day / the shop's web orders that day",
        lambda s: s.reconcile_ga_orders_band,
        observed=Daily(**_GA_TRAFFIC, value="sum(transactions)"), expected=Daily(**_WEB_ORDERS), settle_days=1,
    ),
    Check(
        "ga_revenue_vs_web_revenue", "GA4 purchase revenue per day / the shop's web order revenue that day",
        lambda s: s.reconcile_ga_revenue_band,
        observed=Daily(**_GA_TRAFFIC, value="sum(purchase_revenue)"),
        expected=Daily(**_WEB_ORDERS, value="sum(revenue)"), settle_days=1,
    ),
    Check(
        "shipments_vs_shipped_orders", "The shop's shipments per ship day that a carrier feed (EasyPost or "
        "the carriers' CSV files) reports / all the shop's shipments that day",
        lambda s: s.reconcile_shipments_band,
        observed=Daily("raw.shop__shipments", "shipped_at", where=_KNOWN_TO_A_CARRIER),
        expected=Daily("raw.shop__shipments", "shipped_at"),
        # CSV scan files arrive the next morning; give the carriers a day more
        settle_days=2, also_needs=("raw.easypost__trackers", "raw.carrier_files__events"),
    ),
    Check(
        "tickets_vs_previous_weeks", "Zendesk tickets created per day / the mean of that weekday in previous weeks",
        lambda s: s.reconcile_weekly_band, observed=Daily("raw.zendesk__tickets", "created_at"),
    ),
    Check(
        "calls_vs_previous_weeks", "Aircall calls started per day / the mean of that weekday in previous weeks",
        lambda s: s.reconcile_weekly_band, observed=Daily("raw.aircall__calls", "started_at"),
    ),
)


@dataclass(frozen=True)
class DayResult:
    day: dt.date
    check: str
    expected: float | None
    observed: float | None
    ratio: float | None
    band: tuple[float, float]
    success: bool | None  # None: too few events that day to judge
    note: str | None = None


@dataclass
class Reconciliation:
    results: list[DayResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    docs_paths: dict[str, str | None] = field(default_factory=dict)

    def failures(self) -> list[DayResult]:
        return [r for r in self.results if r.success is False]


def suite(check: Check) -> dict[str, Any]:
    """The GX suite of a check: each judged day's ratio inside the band (given per run)."""
    return {
        "name": f"reconcile.{check.name}",
        "expectations": [{
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "judged_ratio", "min_value": {"$PARAMETER": BAND_LOW},
                       "max_value": {"$PARAMETER": BAND_HIGH}},
            "meta": {"level": "row", "rule": check.name, "notes": check.description},
        }],
        "meta": {"check": check.name, "notes": check.description},
    }


def suites() -> list[dict[str, Any]]:
    return [suite(check) for check in CHECKS]


def run(*, end: dt.date | None = None, days: int | None = None, warehouse: Warehouse | None = None,
        checks: tuple[Check, ...] = CHECKS) -> Reconciliation:
    """Reconcile the `days` business days up to `end` (default: yesterday, business time) and
    store the results."""
    settings = get_settings()
    zone = ZoneInfo(settings.business_timezone)
    end = end or (dt.datetime.now(zone).date() - dt.timedelta(days=1))
    days = days or settings.reconcile_days
    first = end - dt.timedelta(days=days - 1)
    warehouse = warehouse or Warehouse.from_settings()
    outcome = Reconciliation()
    with warehouse.connect() as connection:
        ensure_meta(connection)
        for check in checks:
            missing = [table for table in check.needs if not connection.table_exists(table)]
            if missing:
                outcome.skipped.append(f"{check.name}: no {', '.join(missing)} yet")
                continue
            frame = _compare(connection, check, first, end, zone, settings)
            results, docs_path = _judge(check, frame, settings, end)
            outcome.results += results
            outcome.docs_paths[check.name] = docs_path
            _store(connection, check, first, end, results)
    for failure in outcome.failures():
        log.warning("reconciliation %s failed on %s: observed %s vs expected %s (ratio %.2f, band %s)",
                    failure.check, failure.day, failure.observed, failure.expected, failure.ratio, failure.band)
    return outcome


def _series(connection: Connection, daily: Daily, first: dt.date, end: dt.date, zone: ZoneInfo) -> pd.DataFrame:
    """(value, events) per day from `first` to `end`; a day without events is zero."""
    start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    rows = connection.fetchall(daily.sql(), {"tz": zone.key, "start": start, "end": stop})
    by_day = {pd.Timestamp(row[0]).date(): (float(row[1] or 0), float(row[2])) for row in rows}
    days = pd.date_range(first, end, freq="D").date
    return pd.DataFrame([by_day.get(day, (0.0, 0.0)) for day in days], index=days, columns=["value", "events"])


def _compare(connection: Connection, check: Check, first: dt.date, end: dt.date, zone: ZoneInfo,
             settings: Settings) -> pd.DataFrame:
    """Per day: expected and observed values, the events behind the expected value (what decides
    whether a day is judged) and how many weeks of history it rests on."""
    if check.expected is not None:
        observed = _series(connection, check.observed, first, end, zone)
        expected = _series(connection, check.expected, first, end, zone)
        history = [settings.reconcile_weeks] * len(observed)
    else:
        weeks = settings.reconcile_weeks
        long = _series(connection, check.observed, first - dt.timedelta(weeks=weeks), end, zone)
        observed = long.loc[first:]
        earliest = _earliest(connection, check.observed, zone)
        rows, history = [], []
        for day in observed.index:
            previous = [day - dt.timedelta(weeks=k) for k in range(1, weeks + 1)]
            previous = [d for d in previous if earliest is not None and d >= earliest]
            rows.append(long.loc[previous].mean() if previous else pd.Series({"value": None, "events": 0.0}))
            history.append(len(previous))
        expected = pd.DataFrame(rows, index=observed.index)
    frame = pd.DataFrame({"day": observed.index, "expected": expected["value"].astype("float64").to_numpy(),
                          "observed": observed["value"].to_numpy(), "events": expected["events"].to_numpy(),
                          "history": history})
    frame["ratio"] = (frame["observed"] / frame["expected"]).where(frame["expected"] > 0)
    return frame


def _earliest(connection: Connection, daily: Daily, zone: ZoneInfo) -> dt.date | None:
    """The first day the series has data for: weeks before it are no history."""
    value = connection.scalar(f"select min({daily.moment}) from {daily.table}")
    return None if value is None else pd.Timestamp(value).tz_convert(zone).date()


def _judge(check: Check, frame: pd.DataFrame, settings: Settings, end: dt.date) -> tuple[list[DayResult], str | None]:
    from pulse.validation import engine

    low, high = check.band(settings)
    settled_until = end - dt.timedelta(days=check.settle_days)
    judged = ((frame["events"] >= settings.reconcile_min_count) & (frame["history"] >= 2)
              & (frame["day"] <= settled_until))
    frame = frame.assign(judged_ratio=frame["ratio"].where(judged), **{ROW_NUMBER: range(len(frame))})
    run_ = engine.run(suite(check), frame, {BAND_LOW: low, BAND_HIGH: high},
                      batch_id=f"reconcile.{check.name}.{end.isoformat()}")
    [outcome] = run_.outcomes
    if outcome.error:
        raise RuntimeError(f"reconciliation {check.name}: GX could not evaluate: {outcome.error}")
    failed = {row for row, _ in outcome.unexpected}
    results = []
    for position, row in enumerate(frame.itertuples(index=False)):  # _row is the position
        if row.day > settled_until:
            note = f"not judged: the newest {check.settle_days} day(s) may still be revised"
        elif row.history < 2:
            note = "not judged: fewer than two previous weeks of data"
        elif not row.events >= settings.reconcile_min_count:
            note = f"not judged: {row.events:.0f} events expected, fewer than {settings.reconcile_min_count}"
        else:
            note = None
        success = None if note else position not in failed
        results.append(DayResult(row.day, check.name, _number(row.expected), _number(row.observed),
                                 _number(row.ratio), (low, high), success, note))
    return results, run_.docs_path


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 6)


def _store(connection: Connection, check: Check, first: dt.date, end: dt.date, results: list[DayResult]) -> None:
    now = dt.datetime.now(dt.UTC)
    with connection.transaction():
        connection.execute(
            "delete from meta.reconciliation_results where check_name = :check and day >= :first and day <= :end",
            {"check": check.name, "first": first, "end": end},
        )
        for r in results:
            connection.execute(
                """
                insert into meta.reconciliation_results (day, check_name, expected, observed, ratio, band_low,
                    band_high, success, note, checked_at)
                values (:day, :check, :expected, :observed, :ratio, :low, :high, :success, :note, :now)
                """,
                {"day": r.day, "check": r.check, "expected": r.expected, "observed": r.observed, "ratio": r.ratio,
                 "low": r.band[0], "high": r.band[1], "success": r.success, "note": r.note, "now": now},
            )
