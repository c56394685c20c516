"""How a table kept by key finds and rewrites what changed (`pulse.transform.materialize`), on
both engines: the changed rows of its input reach the keys they link to, the model's rows for
those keys are computed again, and every date of a row that was added, changed or removed is a
changed day, and nothing else is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulse.transform import scratch
from pulse.transform.materialize import build
from pulse.transform.project import Model, ProjectError
from pulse.warehouse.connection import Connection, Warehouse
from support.services import temporary_postgres_database

D = [dt.date(2026, 3, day) for day in range(1, 11)]
# (order_id, placed_day, cancelled_day, amount)
STORED = [(1, D[0], None, 10.0), (2, D[1], None, 20.0), (3, D[2], None, 30.0), (4, D[2], None, 40.0),
          (5, D[4], None, 50.0)]
INPUT = "staging.stg_orders"
FACT_SQL = f"select order_id, placed_day, cancelled_day, amount from {INPUT}"


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        yield Warehouse(f"duckdb:///{tmp_path}/facts.duckdb")
    else:
        with temporary_postgres_database("pulse_fact_changes") as url:
            yield Warehouse(url)


def fact(tmp_path: Path) -> Model:
    model = Model("fct_orders", "marts", "marts", tmp_path / "fct_orders.sql",
                  config={"day_column": "placed_day", "key": "order_id", "links": {"stg_orders": "order_id"}})
    model.refs.add("stg_orders")
    return model


def write_input(connection: Connection, rows: list[tuple]) -> None:
    connection.execute(f"delete from {INPUT}")
    for row in rows:
        connection.execute(f"insert into {INPUT} values (:id, :placed, :cancelled, :amount)",
                           dict(zip(("id", "placed", "cancelled", "amount"), row, strict=True)))


def create_input(connection: Connection, rows: list[tuple], model_schema: str) -> None:
    """The input table in `staging`, holding `rows`, and the schema the model is built in."""
    for schema in ("staging", model_schema):
        connection.execute(f"create schema if not exists {schema}")
    connection.execute(f"create table {INPUT} (order_id bigint, placed_day date, cancelled_day date, "
                       "amount double precision)")
    write_input(connection, rows)


def change_input(connection: Connection, before: list[tuple], after: list[tuple]) -> int:
    """The input's new rows and its delta, as the refresh leaves them for the models reading it."""
    write_input(connection, after)
    delta = scratch.delta("stg_orders")
    connection.execute(f"create temporary table {delta} (_change text, order_id bigint, placed_day date, "
                       "cancelled_day date, amount double precision)")
    for change, rows in (("old", set(before) - set(after)), ("new", set(after) - set(before))):
        for row in rows:
            connection.execute(f"insert into {delta} values (:change, :id, :placed, :cancelled, :amount)",
                               {"change": change, **dict(zip(("id", "placed", "cancelled", "amount"), row, strict=True))})
    return len(set(before) ^ set(after))


def stored(connection: Connection) -> list[tuple]:
    return [(row[0], row[1], row[2], float(row[3])) for row in connection.fetchall(
        "select order_id, placed_day, cancelled_day, amount from marts.fct_orders order by order_id")]


@pytest.mark.parametrize(("change", "days"), [
    ("nothing", set()),
    ("an old order's amount", {D[1]}),
    ("an old order cancelled later", {D[2], D[8]}),
    ("an order moved to another day", {D[0], D[3]}),
    ("an order removed", {D[4]}),
    ("a new order", {D[9]}),
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
    }[change]
    with warehouse.connect() as connection:
        create_input(connection, STORED, "marts")
        assert build(connection, model, FACT_SQL, full=True).rebuilt
        changed = change_input(connection, STORED, new)
        built = build(connection, model, FACT_SQL, full=False, changed_inputs={"stg_orders": changed})
        assert set(built.changed_days) == days
        assert built.delta_rows == len(set(STORED) ^ set(new))  # each changed key: its old and new row
        assert stored(connection) == sorted(new)


def test_a_key_that_occurs_twice_is_refused(warehouse, tmp_path):
    with warehouse.connect() as connection:
        create_input(connection, [*STORED, STORED[1]], "marts")
        with pytest.raises(ProjectError, match=r"the key \(order_id\) is not unique: \(2,\) occurs 2 times"):
            build(connection, fact(tmp_path), FACT_SQL, full=True)


def test_a_link_that_names_what_it_reads_passes_other_changes_by(warehouse, tmp_path):
    """`links={input: {'on': ..., 'reads': ...}}`: a changed input row reaches the model only when
    a column the model reads changed (here the day's total reads amounts, not cancellations)."""
    model = Model("int_day_totals", "intermediate", "intermediate", tmp_path / "int_day_totals.sql",
                  config={"key": "placed_day", "links": {"stg_orders": {"on": "placed_day", "reads": "amount"}}})
    model.refs.add("stg_orders")
    sql = f"select placed_day, sum(amount) as amount, max(cancelled_day) as last_cancelled from {INPUT} group by placed_day"
    with warehouse.connect() as connection:
        create_input(connection, STORED, "intermediate")
        build(connection, model, sql, full=True)
        cancelled = [*STORED[:3], (4, D[2], D[8], 40.0), STORED[4]]
        changed = change_input(connection, STORED, cancelled)
        assert build(connection, model, sql, full=False, changed_inputs={"stg_orders": changed}).delta_rows == 0
        for name in ("stg_orders", "int_day_totals"):  # the refresh drops them when it ends
            connection.execute(f"drop table {scratch.delta(name)}")
        more = [*cancelled[:3], (4, D[2], D[8], 45.0), cancelled[4]]
        changed = change_input(connection, cancelled, more)
        built = build(connection, model, sql, full=False, changed_inputs={"stg_orders": changed})
        totals = connection.fetchall("select placed_day, amount, last_cancelled from intermediate.int_day_totals "
                                     "where placed_day = :day", {"day": D[2]})
    assert built.delta_rows == 2 and totals == [(D[2], 75.0, D[8])]
