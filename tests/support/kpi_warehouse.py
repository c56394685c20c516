"""A small hand-made KPI layer for dashboard tests, on DuckDB or PostgreSQL.

It holds exactly the tables docs/data-contracts.md §5 names (kpi.kpi_values, kpi.kpi_summary, the
list tables, the data-health tables and quarantine.rows), with a few rows per KPI of kpis.yml:
every grain, the slice `all` and two values per slice. Values are drawn from a seeded generator and
kept in `KpiFixture.rows`, so tests compare what Superset shows with an independent computation.
When the SQL KPI layer lands, end-to-end tests swap `build_kpi_warehouse` for the real pipeline.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import Kpi, Registry, load_registry
from pulse.transform.refresh import REFRESHES_DDL
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.meta import ensure_meta

# Reseller names as the KPI tables write them. The second is hostile on purpose: a quote and SQL
# in a row-level-security value must stay inside its literal.
RESELLERS = ("North Supplies BV", "O'Hara & Sons'); drop table kpi.kpi_values; --")
PERIODS = {"day": 14, "week": 4, "month": 3, "quarter": 2}
SUMMARY_GRAINS = ("day", "week", "month")

KPI_DDL = {
    "kpi.kpi_values": """
        period_start date not null, grain text not null, kpi_id text not null, slice_name text not null,
        slice_value text not null, numerator double precision, denominator double precision,
        value double precision""",
    "kpi.kpi_summary": """
        kpi_id text not null, grain text not null, period_start date not null, value double precision,
        previous_value double precision, change double precision, target double precision,
        vs_target double precision, better text not null, status text not null, stale boolean not null,
        title text not null, unit text not null, dashboard text not null, refreshed_through date""",
    "kpi.kpi_calendar": "day date not null, iso_weekday integer not null, is_office_day boolean not null, holiday_name text",
    "kpi.kpi_judged_periods": """
        kpi_id text not null, grain text not null, period_start date not null, previous_period_start date,
        refreshed_through date not null""",
    "kpi.top_search_terms": "period_start date, grain text, rank integer, search_term text, searches bigint",
    "kpi.top_exit_pages": "period_start date, grain text, rank integer, page_path text, exits bigint",
    "kpi.top_customers": """period_start date, grain text, rank integer, customer_id bigint, customer_name text,
        reseller text, revenue decimal(18,2)""",
    "kpi.order_heatmap": "period_start date, grain text, iso_weekday integer, hour integer, orders bigint",
    "kpi.quote_list": """quote_id bigint, customer_name text, reseller text, sales_agent text,
        requested_at timestamptz, status text, list_amount decimal(18,2), quoted_amount decimal(18,2),
        discount_amount decimal(18,2), ordered_at timestamptz""",
    "kpi.customer_facts": """customer_id bigint, customer_name text, segment text, reseller text,
        registered_at timestamptz, orders_since_registration bigint, products_since_registration bigint,
        revenue_since_registration decimal(18,2), buyer_accounts bigint, days_since_last_order double precision,
        avg_days_between_orders double precision, credit_limit decimal(18,2), credit_used decimal(18,2),
        credit_usage_rate double precision""",
}
# meta.kpi_refreshes is created by the KPI refresh itself (pulse.transform.refresh); every other
# data-health table by pulse.warehouse.meta.ensure_meta.
OTHER_DDL = {"meta.kpi_refreshes": REFRESHES_DDL}


@dataclass
class KpiFixture:
    """What was written, for the tests' own expectations."""

    end: dt.date
    rows: list[dict[str, Any]] = field(default_factory=list)  # kpi.kpi_values
    summary: list[dict[str, Any]] = field(default_factory=list)  # kpi.kpi_summary
    resellers: tuple[str, ...] = RESELLERS

    def values(self, kpi_id: str, grain: str, slice_name: str = "all", slice_value: str = "all") -> list[dict]:
        return sorted((row for row in self.rows if row["kpi_id"] == kpi_id and row["grain"] == grain
                       and row["slice_name"] == slice_name and row["slice_value"] == slice_value),
                      key=lambda row: row["period_start"])


def period_starts(grain: str, end: dt.date, count: int) -> list[dt.date]:
    if grain == "day":
        starts = [end - dt.timedelta(days=n) for n in range(count)]
    elif grain == "week":
        monday = end - dt.timedelta(days=end.weekday())
        starts = [monday - dt.timedelta(weeks=n) for n in range(count)]
    else:
        months = 1 if grain == "month" else 3
        first = dt.date(end.year, end.month - (end.month - 1) % months, 1)
        starts = []
        for _ in range(count):
            starts.append(first)
            month = first.month - months
            first = dt.date(first.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return sorted(starts)


def _slice_values(name: str) -> tuple[str, ...]:
    if name == "reseller":
        return RESELLERS
    return (f"{name} a", f"{name} b")


def _row(kpi: Kpi, rng: random.Random, period: dt.date, grain: str, slice_name: str, slice_value: str) -> dict:
    scale = {"day": 1, "week": 5, "month": 21, "quarter": 63}[grain]
    numerator = denominator = None
    if kpi.kind in ("sum", "count"):
        value = float(rng.randint(20, 400) * scale) if kpi.kind == "count" else round(rng.uniform(500, 9000) * scale, 2)
        numerator = value
    elif kpi.kind in ("ratio", "share", "average"):
        denominator = float(rng.randint(40, 400) * scale)
        share = rng.uniform(0.05, 0.9)
        numerator = round(denominator * share * (100 if kpi.unit in ("eur", "seconds", "hours", "days", "score")
                                                 else 1), 2)
        value = numerator / denominator
    else:
        value = round(rng.uniform(1, 500), 2)
    return {"period_start": period, "grain": grain, "kpi_id": kpi.id, "slice_name": slice_name,
            "slice_value": slice_value, "numerator": numerator, "denominator": denominator, "value": value}


def _status(better: str, change: float | None) -> str:
    if change is None or better == "neutral":
        return "sun"
    signed = change if better == "higher" else -change
    return "sun" if signed >= 0 else ("cloud" if signed > -0.1 else "storm")


def make_fixture(registry: Registry | None = None, *, end: dt.date | None = None, seed: int = 7) -> KpiFixture:
    registry = registry or load_registry()
    rng = random.Random(seed)
    fixture = KpiFixture(end=end or dt.date.today() - dt.timedelta(days=1))
    for kpi in registry.periodic():
        for grain in kpi.grains:
            for period in period_starts(grain, fixture.end, PERIODS[grain]):
                fixture.rows.append(_row(kpi, rng, period, grain, "all", "all"))
                for name in kpi.slices:
                    for value in _slice_values(name):
                        fixture.rows.append(_row(kpi, rng, period, grain, name, value))
    for kpi in registry.summary():
        for grain in SUMMARY_GRAINS:
            if grain not in kpi.grains:
                continue
            history = fixture.values(kpi.id, grain)
            latest, previous = history[-1], history[-2]
            change = (latest["value"] - previous["value"]) / previous["value"] if previous["value"] else None
            target = None
            if kpi.target:
                target = kpi.target.max if kpi.target.max is not None else kpi.target.min
            vs_target = (latest["value"] - target) / target if target else None
            fixture.summary.append({
                "kpi_id": kpi.id, "grain": grain, "period_start": latest["period_start"], "value": latest["value"],
                "previous_value": previous["value"], "change": change, "target": target, "vs_target": vs_target,
                "better": kpi.better, "status": _status(kpi.better, change), "stale": kpi.id == "nps",
                "title": kpi.title, "unit": kpi.unit, "dashboard": kpi.dashboard,
            })
    return fixture


def _lists(end: dt.date) -> dict[str, list[dict[str, Any]]]:
    moment = dt.datetime.combine(end, dt.time(10, 30), tzinfo=dt.UTC)
    days = period_starts("day", end, 3)
    calendar = BusinessCalendar.from_settings()
    return {
        "kpi.kpi_calendar": [{"day": day, "iso_weekday": day.isoweekday(), "is_office_day": calendar.is_office_day(day),
                              "holiday_name": calendar.holiday_name(day)} for day in period_starts("day", end, 120)],
        "kpi.top_search_terms": [{"period_start": day, "grain": "day", "rank": rank, "search_term": term,
                                  "searches": 50 - rank} for day in days
                                 for rank, term in enumerate(("pallets", "gloves", "tape"), start=1)],
        "kpi.top_exit_pages": [{"period_start": day, "grain": "day", "rank": rank, "page_path": path,
                                "exits": 80 - rank} for day in days
                               for rank, path in enumerate(("/cart", "/quote", "/"), start=1)],
        "kpi.top_customers": [{"period_start": day, "grain": "day", "rank": rank, "customer_id": 100 + rank,
                               "customer_name": f"Customer {rank}", "reseller": RESELLERS[rank % 2],
                               "revenue": 1000.0 * (5 - rank)} for day in days for rank in (1, 2, 3, 4)],
        "kpi.order_heatmap": [{"period_start": day, "grain": "day", "iso_weekday": day.isoweekday(), "hour": hour,
                               "orders": hour % 5 + 1} for day in days for hour in range(8, 18)],
        "kpi.quote_list": [{"quote_id": n, "customer_name": f"Customer {n}", "reseller": RESELLERS[n % 2],
                            "sales_agent": "Agent A", "requested_at": moment - dt.timedelta(days=n),
                            "status": ("open", "won", "lost")[n % 3], "list_amount": 1000.0, "quoted_amount": 900.0,
                            "discount_amount": 100.0, "ordered_at": None} for n in range(1, 5)],
        "kpi.customer_facts": [{"customer_id": 100 + n, "customer_name": f"Customer {n}", "segment": "SMB",
                                "reseller": RESELLERS[n % 2], "registered_at": moment - dt.timedelta(days=300),
                                "orders_since_registration": 10 * n, "products_since_registration": 30 * n,
                                "revenue_since_registration": 5000.0 * n, "buyer_accounts": n,
                                "days_since_last_order": 3.0 * n, "avg_days_between_orders": 12.5,
                                "credit_limit": 10000.0, "credit_used": 2500.0 * n, "credit_usage_rate": 0.25 * n}
                               for n in range(1, 5)],
        "meta.landing_batches": [{"batch_id": f"b{n}", "source": "shop", "stream": "orders", "extracted_at": moment,
                                  "window_start": None, "window_end": None, "complete": True, "record_count": 100,
                                  "file_count": 1, "bytes": 2048, "path": f"landing/shop/orders/b{n}",
                                  "status": "loaded" if n else "blocked", "rows_loaded": 98 if n else 0,
                                  "rows_quarantined": 2 if n else 0, "error": None if n else "schema drift",
                                  "updated_at": moment} for n in range(3)],
        "meta.validation_results": [{"batch_id": "b1", "source": "shop", "stream": "orders", "suite": "shop.orders",
                                     "success": False, "evaluated_rows": 100, "failed_rows": 2, "expectations": 12,
                                     "failed_expectations": 1, "batch_failures": None, "details": None,
                                     "data_docs_path": None, "run_seconds": 0.4, "validated_at": moment}],
        "quarantine.rows": [{"source": "shop", "stream": "orders", "batch_id": "b1", "row_number": n,
                             "rule": "revenue_not_negative", "column_name": "revenue", "bad_value": "-5",
                             "record": "{}", "quarantined_at": moment} for n in (1, 2)],
        "meta.reconciliation_results": [{"day": day, "check_name": "ga_vs_shop_orders", "expected": 60.0,
                                         "observed": 55.0, "ratio": 55 / 60, "band_low": 0.8, "band_high": 1.05,
                                         "success": True, "note": None, "checked_at": moment} for day in days],
        "meta.pipeline_runs": [{"run_id": f"r{n}", "dag_id": "extract_shop", "source": "shop", "run_type": "scheduled",
                                "interval_start": moment - dt.timedelta(days=n), "interval_end": moment,
                                "status": "success", "started_at": moment - dt.timedelta(days=n),
                                "finished_at": moment, "duration_seconds": 30.0 + n, "rows_landed": 100,
                                "rows_quarantined": 2, "failed_tasks": None} for n in range(3)],
        "meta.source_freshness": [{"source": "shop", "stream": "orders", "extracted_by": "extract_shop",
                                   "last_batch_id": "b1", "last_loaded_at": moment, "data_until": moment,
                                   "schedule": "hourly", "max_lag_hours": 26.0, "lag_hours": 2.0, "stale": False,
                                   "watched_since": moment, "stale_since": None, "alerted_at": None,
                                   "checked_at": moment}],
        "meta.kpi_refreshes": [{"refresh_id": f"k{n}", "started_at": moment - dt.timedelta(days=n),
                                "finished_at": moment, "status": "success", "mode": "incremental", "through": end,
                                "window_start": end, "days_rebuilt": 7, "periods_rebuilt": 12, "models_run": 90,
                                "duration_seconds": 40.0 + n, "kpi_values_rows": 1000, "error": None}
                               for n in range(3)],
    }


def _insert(connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    if connection.dialect == "duckdb":
        import pandas as pd

        frame = pd.DataFrame(rows, columns=columns)
        connection.native.register("fixture_rows", frame)
        connection.native.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} "
                                  "from fixture_rows")
        connection.native.unregister("fixture_rows")
    else:
        placeholders = ", ".join(["%s"] * len(columns))
        with connection.native.cursor() as cursor:
            cursor.executemany(f"insert into {table} ({', '.join(columns)}) values ({placeholders})",
                               [tuple(row[c] for c in columns) for row in rows])


def read_fixture(url: str) -> KpiFixture:
    """A KpiFixture read back from a warehouse's KPI layer, so that the dashboard tests' expectations
    can run on the real pipeline's output instead of `make_fixture()`'s rows."""
    kpi_columns = ["period_start", "grain", "kpi_id", "slice_name", "slice_value", "numerator", "denominator", "value"]
    summary_columns = ["kpi_id", "grain", "period_start", "value", "previous_value", "change", "target", "vs_target",
                       "better", "status", "stale", "title", "unit", "dashboard"]
    with Warehouse(url).connect() as connection:
        rows = [dict(zip(kpi_columns, row, strict=True))
                for row in connection.fetchall(f"select {', '.join(kpi_columns)} from kpi.kpi_values")]
        summary = [dict(zip(summary_columns, row, strict=True))
                   for row in connection.fetchall(f"select {', '.join(summary_columns)} from kpi.kpi_summary")]
    resellers = tuple(sorted({row["slice_value"] for row in rows if row["slice_name"] == "reseller"}))
    end = max((row["period_start"] for row in rows if row["grain"] == "day"), default=dt.date.today())
    return KpiFixture(end=end, rows=rows, summary=summary, resellers=resellers)


def build_kpi_warehouse(url: str, fixture: KpiFixture) -> None:
    """Create the served schemas at `url` (a DuckDB file or a PostgreSQL database) and fill them."""
    with Warehouse(url).connect() as connection:
        ensure_meta(connection)
        for table, ddl in {**KPI_DDL, **OTHER_DDL}.items():
            connection.execute(f"create table if not exists {table} ({ddl})")
        _insert(connection, "kpi.kpi_values", fixture.rows)
        _insert(connection, "kpi.kpi_summary", fixture.summary)
        for table, rows in _lists(fixture.end).items():
            _insert(connection, table, rows)
