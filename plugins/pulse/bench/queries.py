"""Dashboard query time: every chart's SQL (`pulse.bench.charts`) against the KPI layer as the
dashboards read it (DuckDB: the published serving copy, opened read-only as Superset opens it;
PostgreSQL: the warehouse), and each summary KPI computed straight from the facts instead: the
KPI's own model (`sql/kpi/values/<kpi>.sql`) over the whole window, which is what a warehouse of
views over the facts would run for that chart.

Each chart's statement runs once untimed (the first read of a cold file), then `runs` times; a
run fetches every row. A KPI computed from the facts runs `runs` times (seconds to minutes each: no
warm-up), and the rows of its last run must equal what the KPI layer stores (the incremental
refresh must agree with a computation over all history): disagreements are counted and reported.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulse.bench.charts import SUMMARY_DASHBOARD, charts
from pulse.bench.timing import Timing
from pulse.warehouse.connection import Connection, Warehouse


@dataclass(frozen=True)
class QueryTiming:
    name: str
    dashboard: str
    summary: bool
    kpi_id: str | None
    rows: int
    timing: Timing

    def as_dict(self) -> dict[str, Any]:
        return {"chart": self.name, "dashboard": self.dashboard, "summary": self.summary, "kpi_id": self.kpi_id,
                "rows": self.rows, **self.timing.as_dict()}


def measure_charts(run_statement: Callable[[str], int], runs: int) -> list[QueryTiming]:
    results = []
    for chart in charts():
        results.append(_measure(chart.name, chart.dashboard, chart.dashboard == SUMMARY_DASHBOARD, chart.kpi_id,
                                chart.sql, run_statement, runs))
    return results


def measure_from_facts(connection: Connection, through: dt.date, runs: int) -> list[dict[str, Any]]:
    """Each summary tile's KPI computed from the facts over the whole window, at the tile's grain,
    compared with the stored values. Writes the full window as the refresh scope (the connection
    must be a disposable copy of the warehouse)."""
    from pulse.kpi.registry import load_registry
    from pulse.settings import get_settings
    from pulse.transform.project import SQL_DIR, discover
    from pulse.transform.refresh import _variables
    from pulse.transform.render import Renderer
    from pulse.transform.scope import full_scope, write_scope

    window_start = connection.scalar(
        "select window_start from meta.kpi_refreshes where status = 'success' order by finished_at desc limit 1")
    write_scope(connection, full_scope(_date(window_start), through))
    models = discover()
    renderer = Renderer(SQL_DIR, models, connection.dialect, _variables(get_settings(), through), load_registry())
    computed: dict = {}  # period -> value, from the last run of a KPI's statement

    def run_statement(statement: str) -> int:
        computed.clear()
        computed.update(connection.fetchall(statement))
        return len(computed)

    results = []
    for chart in charts():
        if chart.dashboard != SUMMARY_DASHBOARD or chart.kpi_id is None:
            continue
        grains = ", ".join(f"'{grain}'" for grain in chart.grains)
        sql = (f"select period_start, value from (\n{renderer.render(models[chart.kpi_id])}\n) as kpi "
               f"where grain in ({grains}) and slice_name = 'all' order by period_start")
        timing = _measure(chart.name, chart.dashboard, True, chart.kpi_id, sql, run_statement, runs, warm_up=False)
        stored = dict(connection.fetchall(
            f"select period_start, value from kpi.kpi_values where kpi_id = :kpi and grain in ({grains}) "
            f"and slice_name = 'all'", {"kpi": chart.kpi_id}))
        differing = sum(1 for day in set(computed) | set(stored) if not _equal(computed.get(day), stored.get(day)))
        results.append({**timing.as_dict(), "periods": len(computed), "differing_periods": differing})
    return results


def _measure(name: str, dashboard: str, summary: bool, kpi_id: str | None, sql: str,
             run_statement: Callable[[str], int], runs: int, *, warm_up: bool = True) -> QueryTiming:
    rows = run_statement(sql) if warm_up else 0
    timing = Timing()
    for _ in range(runs):
        load = os.getloadavg()[0]
        began = time.perf_counter()
        rows = run_statement(sql)
        timing.seconds.append(time.perf_counter() - began)
        timing.load.append(load)
    return QueryTiming(name, dashboard, summary, kpi_id, rows, timing)


@contextmanager
def serving_reader(path: Path) -> Iterator[Callable[[str], int]]:
    """Statements on the DuckDB serving copy, read-only as Superset opens it."""
    import duckdb

    native = duckdb.connect(str(path), read_only=True)
    try:
        native.execute("set TimeZone = 'UTC'")
        yield lambda sql: len(native.execute(sql).fetchall())
    finally:
        native.close()


@contextmanager
def warehouse_reader(warehouse: Warehouse) -> Iterator[Callable[[str], int]]:
    with warehouse.connect() as connection:
        yield lambda sql: len(connection.fetchall(sql))


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else \
        dt.date.fromisoformat(str(value)[:10])

