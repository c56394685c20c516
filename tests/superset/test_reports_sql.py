"""Every alert's SQL, straight on a small hand-made KPI layer, on DuckDB and on PostgreSQL.

Each alert's value is computed here from the rows the test wrote and from kpis.yml, and compared
with what its SQL returns; then the file's condition decides whether it fires. Two days: one where
every alert must fire, one where none may (its ROAS day had no spend: no value, no alert). An alert
judges its KPI's judged day (kpi.kpi_judged_periods): for a KPI that settles after a day, the day
before the latest. Rows at other grains and slices, and on a day not yet settled, carry the
opposite values as traps. Budget: a few seconds per engine.
"""

from __future__ import annotations

import datetime as dt
import operator
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulse.kpi.registry import load_registry
from pulse.superset.reports import read_schedules
from pulse.transform.refresh import REFRESHES_DDL
from pulse.transform.seeds import build_registry
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.meta import ensure_meta
from support.kpi_warehouse import KPI_DDL
from support.services import temporary_postgres_database

REGISTRY = load_registry()
ALERTS = {doc["name"]: doc for doc in read_schedules().values() if doc["type"] == "alert"}
LATEST = dt.date(2026, 3, 18)  # a Wednesday
HISTORY_DAYS = 35
NOW = dt.datetime.now(dt.UTC)
OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}

# alert name -> (rule, KPI); a new alert fails the test until it is described here
RULES = {
    "Bounce rate above target": ("above", "bounce_rate"),
    "Cart abandonment rate above target": ("above", "cart_abandonment_rate"),
    "New visitor rate above target": ("above", "new_visitor_rate"),
    "ROAS below target": ("below", "roas"),
    "Late delivery rate above target": ("above", "late_delivery_rate"),
    "Conversion rate drop": ("drop", "conversion_rate"),
    "Data freshness": ("freshness", None),
}
# KPI -> (denominator range, normal value range, value on the bad day)
USUAL = {
    "bounce_rate": ((200, 400), (0.18, 0.28), 0.42),
    "cart_abandonment_rate": ((20, 60), (0.10, 0.25), 0.80),
    "new_visitor_rate": ((150, 300), (0.20, 0.35), 0.55),
    "roas": ((300, 600), (3.0, 8.0), 1.2),
    "late_delivery_rate": ((30, 60), (0.0, 0.04), 0.20),
    "conversion_rate": ((800, 1500), (0.025, 0.035), None),  # the bad day: 30 % of its usual
}


def _row(kpi: str, day: dt.date, numerator: float | None, denominator: float, grain: str = "day",
         slice_name: str = "all", slice_value: str = "all") -> dict:
    value = numerator / denominator if denominator else None
    return {"period_start": day, "grain": grain, "kpi_id": kpi, "slice_name": slice_name,
            "slice_value": slice_value, "numerator": numerator, "denominator": denominator, "value": value}


def judged_day(kpi: str) -> dt.date:
    """LATEST and the day before are office days (a Wednesday and a Tuesday)."""
    return LATEST - dt.timedelta(days=REGISTRY.get(kpi).settles_after_days)


def kpi_rows(bad: bool, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for kpi, ((low, high), (least, most), bad_value) in USUAL.items():
        judged = judged_day(kpi)
        for back in range(HISTORY_DAYS, -1, -1):
            day = LATEST - dt.timedelta(days=back)
            denominator = float(rng.randint(low, high))
            value = rng.uniform(least, most)
            # the judged day is bad on the bad day; a day still settling is bad on the normal day
            if (day == judged and bad) or (day > judged and not bad):
                value = bad_value if bad_value is not None else 0.3 * (least + most) / 2
            if day == judged and not bad and kpi == "roas":
                rows.append(_row(kpi, day, 0.0, 0.0))  # no spend that day
                continue
            rows.append(_row(kpi, day, round(value * denominator, 6), denominator))
        # traps: an alert reads the day grain and the `all` slice only
        rows.append(_row(kpi, LATEST - dt.timedelta(days=LATEST.weekday()), 99.0, 100.0, grain="week"))
        rows.append(_row(kpi, LATEST, 0.0 if kpi in ("roas", "conversion_rate") else 99.0, 100.0,
                         slice_name="device", slice_value="mobile"))
    return rows


def freshness_rows(bad: bool) -> tuple[list[dict], list[dict]]:
    checked = NOW - (dt.timedelta(hours=5) if bad else dt.timedelta(minutes=10))
    streams = [("shop", "orders", bad), ("ga4", "traffic", bad), ("zendesk", "tickets", False)]
    freshness = [{"source": source, "stream": stream, "extracted_by": stream, "schedule": "5 * * * *",
                  "max_lag_hours": 3.0, "stale": stale, "watched_since": NOW - dt.timedelta(days=3),
                  "checked_at": checked} for source, stream, stale in streams]
    last_success = NOW - (dt.timedelta(hours=30) if bad else dt.timedelta(hours=1))
    refreshes = [
        {"refresh_id": "ok", "started_at": last_success - dt.timedelta(minutes=1), "finished_at": last_success,
         "status": "success"},
        {"refresh_id": "broken", "started_at": NOW - dt.timedelta(hours=1), "finished_at": NOW, "status": "failed"},
    ]
    return freshness, refreshes


def expected_value(name: str, rows: list[dict], freshness: list[dict], refreshes: list[dict]) -> float | None:
    rule, kpi = RULES[name]
    daily = {row["period_start"]: row for row in rows
             if row["kpi_id"] == kpi and row["grain"] == "day" and row["slice_name"] == "all"}
    if rule == "freshness":
        last_success = max(row["finished_at"] for row in refreshes if row["status"] == "success")
        return (sum(row["stale"] for row in freshness)
                + (max(row["checked_at"] for row in freshness) < NOW - dt.timedelta(hours=3))
                + (last_success < NOW - dt.timedelta(hours=26)))
    judged = judged_day(kpi)
    value = daily[judged]["value"]
    if value is None:
        return None
    target = REGISTRY.get(kpi).target
    if rule == "above":
        return (value - target.max) / target.max
    if rule == "below":
        return (target.min - value) / target.min
    weeks_before = [daily[judged - dt.timedelta(weeks=n)] for n in range(1, 5)]
    usual = sum(row["numerator"] for row in weeks_before) / sum(row["denominator"] for row in weeks_before)
    return (usual - value) / usual


def fires(name: str, value: float | None) -> bool:
    condition = ALERTS[name]["condition"]
    return value is not None and OPERATORS[condition["op"]](value, condition["threshold"])


def build(url: str, rows: list[dict], freshness: list[dict], refreshes: list[dict]) -> None:
    with Warehouse(url).connect() as connection, connection.transaction():
        ensure_meta(connection)
        for table in ("kpi.kpi_values", "kpi.kpi_judged_periods"):
            connection.execute(f"create table {table} ({KPI_DDL[table]})")
        connection.execute(f"create table if not exists meta.kpi_refreshes ({REFRESHES_DDL})")
        build_registry(connection, REGISTRY)
        judged = [{"kpi_id": kpi, "grain": "day", "period_start": judged_day(kpi),
                   "previous_period_start": judged_day(kpi) - dt.timedelta(days=1), "refreshed_through": LATEST}
                  for kpi in USUAL]
        for table, records in (("kpi.kpi_values", rows), ("kpi.kpi_judged_periods", judged),
                               ("meta.source_freshness", freshness), ("meta.kpi_refreshes", refreshes)):
            for record in records:
                connection.execute(f"insert into {table} ({', '.join(record)}) "
                                   f"values ({', '.join(':' + key for key in record)})", record)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with temporary_postgres_database("pulse_alerts") as url:
            yield url
    else:
        yield f"duckdb:///{tmp_path / 'alerts.duckdb'}"


def test_every_alert_is_described_here():
    assert set(ALERTS) == set(RULES)


@pytest.mark.parametrize("bad", [True, False], ids=["bad day", "normal day"])
def test_alert_sql_returns_the_value_computed_from_the_rows(warehouse_url, bad):
    rows = kpi_rows(bad, seed=11)
    freshness, refreshes = freshness_rows(bad)
    build(warehouse_url, rows, freshness, refreshes)
    problems = []
    with Warehouse(warehouse_url).connect() as connection:
        for name, alert in sorted(ALERTS.items()):
            result = connection.fetchall(alert["sql"])
            assert len(result) == 1 and len(result[0]) == 1, f"{name}: an alert returns one value, got {result}"
            got = result[0][0]
            expected = expected_value(name, rows, freshness, refreshes)
            if (got is None) != (expected is None) or (
                    expected is not None and abs(float(got) - expected) > 1e-9 * max(1.0, abs(expected))):
                problems.append(f"{name}: SQL gives {got}, the rows give {expected}")
            if fires(name, None if got is None else float(got)) != bad:
                problems.append(f"{name}: {'quiet' if bad else 'fires'} on the {'bad' if bad else 'normal'} day "
                                f"(value {got})")
    assert not problems, "\n".join(problems)
