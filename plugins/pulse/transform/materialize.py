"""How each kind of model is written to the warehouse (see `pulse.transform.project` for which
folder gets which). Every function runs inside the refresh's transaction.

Tables that dashboards read (schema `kpi`) are never dropped while their columns stay the same:
their rows are deleted and inserted. On PostgreSQL a reader blocked behind a dropped table fails
("could not open relation") instead of reading the new one, and no reader may ever see an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pulse.transform.project import (
    INCREMENTAL_DAYS,
    INCREMENTAL_PERIODS,
    KPI_VALUES,
    REPLACE_ROWS,
    TABLE,
    VIEW,
    Model,
    ProjectError,
)
from pulse.warehouse.connection import Connection

KPI_VALUES_COLUMNS = """
    period_start date not null,
    grain text not null,
    kpi_id text not null,
    slice_name text not null,
    slice_value text not null,
    numerator double precision,
    denominator double precision,
    value double precision
"""


@dataclass(frozen=True)
class Built:
    """What building one model did: rows it holds now, and for incremental facts the business days
    whose rows changed (every date value of a row that was added, changed or removed, except the
    model's `attribute_dates`)."""

    rows: int | None
    changed_days: frozenset[dt.date] = frozenset()
    rebuilt: bool = False  # written from scratch (first build, full refresh or changed columns)


def build(connection: Connection, model: Model, sql: str, *, full: bool) -> Built:
    kind = model.materialization
    if kind == VIEW:
        return _view(connection, model, sql)
    if kind == TABLE:
        return _table(connection, model, sql)
    if kind == INCREMENTAL_DAYS:
        return _incremental_days(connection, model, sql, full=full)
    if kind == KPI_VALUES:
        return _kpi_values(connection, model, sql, full=full)
    if kind == INCREMENTAL_PERIODS:
        return _incremental_periods(connection, model, sql, full=full)
    if kind == REPLACE_ROWS:
        return _replace_rows(connection, model, sql)
    raise AssertionError(kind)


def _view(connection: Connection, model: Model, sql: str) -> Built:
    connection.execute(f"drop view if exists {model.relation}")
    connection.execute(f"create view {model.relation} as\n{sql}")
    return Built(rows=None)


def _table(connection: Connection, model: Model, sql: str) -> Built:
    connection.execute(f"drop table if exists {model.relation}")
    # intermediate tables are read only by the refresh that rebuilds them: no need to write them
    # to PostgreSQL's WAL too (about two thirds of their build time; empty after a server crash
    # until the next refresh, which rebuilds them first)
    create = _create_scratch(connection) if model.layer == "intermediate" else "create table"
    connection.execute(f"{create} {model.relation} as\n{sql}")
    return Built(rows=_count(connection, model.relation), rebuilt=True)


def _incremental_days(connection: Connection, model: Model, sql: str, *, full: bool) -> Built:
    """A fact table written by business day. The model's rows are computed over all history and
    compared with the stored ones: a late change (an order cancelled weeks later, a quote accepted,
    a contact reaching MQL) can touch any day, and only comparing finds every such day, which is
    what makes an incremental refresh equal a full one. Only the days that changed are rewritten.

    The comparison is by day first: each day's rows are summarised (`_day_fingerprints`), and only
    the rows of days whose summaries differ are compared row by row. Comparing every row of years
    of history both ways was most of a one-day refresh on PostgreSQL (`make bench`)."""
    day_column = model.config.get("day_column")
    if not day_column:
        raise ProjectError(f"{model.path}: a fact needs {{{{ config(day_column='...') }}}}, the business day it is stored by")
    candidate = f"{model.schema}.{model.name}__candidate"
    connection.execute(f"drop table if exists {candidate}")
    # compared and dropped, unless it becomes the fact (then it is made durable first)
    scratch = not full and connection.table_exists(model.relation)
    create = _create_scratch(connection) if scratch else "create table"
    # a row without a business day belongs to no period: it is not stored, on either path
    connection.execute(f"{create} {candidate} as\nselect * from (\n{sql}\n) as model_rows "
                       f"where {day_column} is not null")
    columns = connection.columns(candidate)
    if day_column not in columns:
        raise ProjectError(f"{model.path}: day_column {day_column!r} is not a column of the model")
    # an attribute date (a customer's first web order day on each of its orders) dates no record:
    # a new order must not mark that old day as changed
    attributes = set(model.config.get("attribute_dates") or ())
    day_columns = [name for name, kind in columns.items() if kind.lower() == "date" and name not in attributes]
    if day_column not in day_columns:
        raise ProjectError(f"{model.path}: day_column {day_column!r} is {columns[day_column]}, not a date")
    stored = connection.columns(model.relation) if connection.table_exists(model.relation) else None
    if full or stored != columns:
        if scratch and connection.dialect == "postgres":
            connection.execute(f"alter table {candidate} set logged")
        connection.execute(f"drop table if exists {model.relation}")
        connection.execute(f"alter table {candidate} rename to {model.name}")
        _index_by_day(connection, model, day_column, new_table=True)
        return Built(rows=_count(connection, model.relation),
                     changed_days=frozenset(_days(connection, model.relation, day_columns)), rebuilt=True)
    _index_by_day(connection, model, day_column, new_table=False)
    listed = ", ".join(columns)
    changed = _differing_days(connection, candidate, model.relation, day_column, list(columns))
    if changed:
        connection.execute("create temporary table changed_days (day date primary key)")
        _insert_days(connection, "changed_days", sorted(changed))
        on_changed_days = f"where {day_column} in (select day from changed_days)"
        connection.execute(
            f"create temporary table fact_changes as (select {listed} from {candidate} {on_changed_days} except "
            f"select {listed} from {model.relation} {on_changed_days}) union all (select {listed} from "
            f"{model.relation} {on_changed_days} except select {listed} from {candidate} {on_changed_days})"
        )
        # the other dates of a changed row (an old order's cancellation day) changed too
        also = _days(connection, "fact_changes", day_columns) - changed
        connection.execute("drop table fact_changes")
        _insert_days(connection, "changed_days", sorted(also))
        changed |= also
        connection.execute(f"delete from {model.relation} {on_changed_days}")
        connection.execute(
            f"insert into {model.relation} ({listed}) select {listed} from {candidate} {on_changed_days}"
        )
        connection.execute("drop table changed_days")
    connection.execute(f"drop table {candidate}")
    return Built(rows=_count(connection, model.relation), changed_days=frozenset(changed))


def _index_by_day(connection: Connection, model: Model, day_column: str, *, new_table: bool) -> None:
    """PostgreSQL: a fact is indexed by its business day, so that a daily refresh's KPI queries
    read the days of its periods rather than scanning years (they were a third of a one-day
    refresh at three years, profiled on the bench's warehouse); a table just written gets its
    statistics before the KPI queries are planned. DuckDB scans a column fast enough without one (and its indexes slow bulk deletes)."""
    if connection.dialect != "postgres":
        return
    connection.execute(f"create index if not exists {model.name}__by_day on {model.relation} ({day_column})")
    if new_table:
        connection.execute(f"analyze {model.relation}")


def _kpi_values(connection: Connection, model: Model, sql: str, *, full: bool) -> Built:
    """One KPI's rows of the long table: those of the refresh's periods are replaced."""
    listed = "period_start, grain, kpi_id, slice_name, slice_value, numerator, denominator, value"
    scope = "" if full else (
        " and (grain, period_start) in (select grain, period_start from meta.kpi_refresh_periods)"
    )
    connection.execute("delete from kpi.kpi_values where kpi_id = :kpi_id" + scope, {"kpi_id": model.name})
    connection.execute(
        f"insert into kpi.kpi_values ({listed}) select {listed} from (\n{sql}\n) as rows_of_kpi "
        f"where kpi_id = :kpi_id",
        {"kpi_id": model.name},
    )
    return Built(rows=None)


def _incremental_periods(connection: Connection, model: Model, sql: str, *, full: bool) -> Built:
    """A list per period (grain, period_start): the refresh's periods are replaced."""
    if full or not connection.table_exists(model.relation):
        return _replace_rows(connection, model, sql)
    new = f"{model.schema}.{model.name}__new"
    connection.execute(f"drop table if exists {new}")
    connection.execute(f"create table {new} as\n{sql}")
    if connection.columns(new) != connection.columns(model.relation):
        connection.execute(f"drop table {new}")
        return _replace_rows(connection, model, sql)
    listed = ", ".join(connection.columns(new))
    connection.execute(
        f"delete from {model.relation} where (grain, period_start) in "
        f"(select grain, period_start from meta.kpi_refresh_periods)"
    )
    connection.execute(
        f"insert into {model.relation} ({listed}) select {listed} from {new} where (grain, period_start) in "
        f"(select grain, period_start from meta.kpi_refresh_periods)"
    )
    connection.execute(f"drop table {new}")
    return Built(rows=_count(connection, model.relation))


def _replace_rows(connection: Connection, model: Model, sql: str) -> Built:
    """Replace every row; the table itself is dropped only when its columns change."""
    new = f"{model.schema}.{model.name}__new"
    connection.execute(f"drop table if exists {new}")
    connection.execute(f"create table {new} as\n{sql}")
    if connection.table_exists(model.relation) and connection.columns(new) == connection.columns(model.relation):
        listed = ", ".join(connection.columns(new))
        connection.execute(f"delete from {model.relation}")
        connection.execute(f"insert into {model.relation} ({listed}) select {listed} from {new}")
        connection.execute(f"drop table {new}")
    else:
        connection.execute(f"drop table if exists {model.relation}")
        connection.execute(f"alter table {new} rename to {model.name}")
    return Built(rows=_count(connection, model.relation), rebuilt=True)


def ensure_kpi_values(connection: Connection) -> None:
    connection.execute(f"create table if not exists kpi.kpi_values ({KPI_VALUES_COLUMNS})")
    if connection.dialect == "postgres":
        # each KPI's periods are replaced by key, and dashboards read one KPI and grain at a time;
        # DuckDB scans columns fast enough and its indexes slow bulk deletes down
        connection.execute(
            "create index if not exists kpi_values_by_kpi on kpi.kpi_values (kpi_id, grain, period_start)")


# --- helpers ----------------------------------------------------------------------------------
def _create_scratch(connection: Connection) -> str:
    """How to create a table only the refresh reads: unlogged on PostgreSQL (no WAL)."""
    return "create unlogged table" if connection.dialect == "postgres" else "create table"


def _count(connection: Connection, relation: str) -> int:
    return int(connection.scalar(f"select count(*) from {relation}"))


def _days(connection: Connection, relation: str, day_columns: list[str]) -> set[dt.date]:
    union = " union ".join(f"select {column} as day from {relation}" for column in day_columns)
    rows = connection.fetchall(f"select distinct day from ({union}) as days where day is not null")
    return {_as_date(row[0]) for row in rows}


def _differing_days(connection: Connection, candidate: str, stored: str, day_column: str,
                    columns: list[str]) -> set[dt.date]:
    """The days (values of `day_column`) whose rows differ between the two tables: a row count, a
    sum and an exclusive-or of row hashes per day (a multiset's summary: the order of rows does not
    matter, a duplicated row does), compared in one join."""
    fingerprint = _day_fingerprints(connection.dialect, day_column, columns)
    rows = connection.fetchall(
        f"select coalesce(c.day, s.day) from ({fingerprint.format(table=candidate)}) as c "
        f"full outer join ({fingerprint.format(table=stored)}) as s on c.day = s.day "
        f"where c.day is null or s.day is null or c.row_count <> s.row_count or c.hash_sum <> s.hash_sum "
        f"or c.hash_xor <> s.hash_xor"
    )
    return {_as_date(row[0]) for row in rows}


def _day_fingerprints(dialect: str, day_column: str, columns: list[str]) -> str:
    """A query of `{table}`: per day, its rows' count, hash sum and hash exclusive-or. PostgreSQL
    hashes a row by its columns' own hash functions (no text conversion); DuckDB's `hash()` takes
    the columns directly. Both hashes depend on the columns' order, given here."""
    listed = ", ".join(columns)
    if dialect == "postgres":
        hashes = f"sum(hash_record(row({listed}))) as hash_sum, bit_xor(hash_record_extended(row({listed}), 0)) as hash_xor"
    else:
        hashes = f"sum(hash({listed})) as hash_sum, bit_xor(hash({listed})) as hash_xor"
    return f"select {day_column} as day, count(*) as row_count, {hashes} from {{table}} group by {day_column}"


def _insert_days(connection: Connection, table: str, days: list[dt.date]) -> None:
    for offset in range(0, len(days), 500):
        chunk = days[offset:offset + 500]
        values = ", ".join(f"(cast('{day.isoformat()}' as date))" for day in chunk)
        connection.execute(f"insert into {table} (day) values {values}")


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
