"""How an incremental fact finds the business days whose rows changed (`pulse.transform.materialize`),
on both engines: days are compared by their rows' summaries first, then the rows of the days that
differ, so that every date of a changed row counts and nothing else does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulse.transform.materialize import build
from pulse.transform.project import Model
from pulse.warehouse.connection import Connection, Warehouse
from support.services import temporary_postgres_database

D = [dt.date(2026, 3, day) for day in range(1, 11)]
# (order_id, placed_day, cancelled_day, amount)
STORED = [(1, D[0], None, 10.0), (2, D[1], None, 20.0), (3, D[2], None, 30.0), (4, D[2], None, 40.0),
          (5, D[4], None, 50.0)]


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        yield Warehouse(f"duckdb:///{tmp_path}/facts.duckdb")
    else:
        with temporary_postgres_database("pulse_fact_changes") as url:
            yield Warehouse(url)


def fact(tmp_path: Path) -> Model:
    return Model("fct_orders", "marts", "marts", tmp_path / "fct_orders.sql", config={"day_column": "placed_day"})


def rows_sql(rows: list[tuple]) -> str:
    def literal(value: object) -> str:
        if value is None:
            return "cast(null as date)"
        if isinstance(value, dt.date):
            return f"cast('{value.isoformat()}' as date)"
        return repr(value)

    return " union all ".join(
        f"select {order_id} as order_id, {literal(placed)} as placed_day, {literal(cancelled)} as cancelled_day, "
        f"cast({amount} as double precision) as amount"
        for order_id, placed, cancelled, amount in rows)


def refresh(connection: Connection, model: Model, rows: list[tuple]) -> set[dt.date]:
    return set(build(connection, model, rows_sql(rows), full=False).changed_days)


def stored(connection: Connection) -> list[tuple]:
    return [tuple(row) for row in connection.fetchall(
        "select order_id, placed_day, cancelled_day, amount from marts.fct_orders order by order_id")]


@pytest.mark.parametrize(("change", "days"), [
    ("nothing", set()),
    ("an old order's amount", {D[1]}),
    ("an old order cancelled later", {D[2], D[8]}),
    ("an order moved to another day", {D[0], D[3]}),
    ("an order removed", {D[4]}),
    ("a new order", {D[9]}),
    ("a row delivered twice", {D[1]}),
])
def test_a_refresh_rewrites_exactly_the_days_of_changed_rows(warehouse, tmp_path, change, days):
    model = fact(tmp_path)
    new = {
        "nothing": STORED,
        "an old order's amount": [STORED[0], (2, D[1], None, 21.0), *STORED[2:]],
        "an old order cancelled later": [*STORED[:3], (4, D[2], D[8], 40.0), STORED[4]],
        "an order moved to another day": [(1, D[3], None, 10.0), *STORED[1:]],
        "an order removed": STORED[:4],
        "a new order": [*STORED, (6, D[9], None, 60.0)],
        "a row delivered twice": [*STORED, STORED[1]],
    }[change]
    with warehouse.connect() as connection:
        connection.execute("create schema if not exists marts")
        assert build(connection, model, rows_sql(STORED), full=True).rebuilt
        assert refresh(connection, model, new) == days
        assert stored(connection) == sorted(new)
