"""How each kind of model is written to the warehouse (see `pulse.transform.project` for which
folder gets which). Every function runs inside the refresh's transaction.

Tables that dashboards read (schema `kpi`) are never dropped while their columns stay the same:
their rows are deleted and inserted. On PostgreSQL a reader blocked behind a dropped table fails
("could not open relation") instead of reading the new one, and no reader may ever see an error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from pulse.transform import scratch
from pulse.transform.project import (
    INCREMENTAL_PERIODS,
    KEYED,
    KPI_VALUES,
    REPLACE_ROWS,
    Keyed,
    Link,
    Model,
    ProjectError,
    keyed,
)
from pulse.warehouse.connection import Connection

ALL_COLUMNS = "*"
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
    """What building one model did: rows it holds now (None when not counted), for facts the
    business days whose rows changed (every date value of a row that was added, changed or
    removed, except the model's `attribute_dates`), and for tables kept by key how many of their
    rows changed (old and new versions, in `scratch.delta(model)` until the refresh ends)."""

    rows: int | None
    changed_days: frozenset[dt.date] = frozenset()
    rebuilt: bool = False  # written from scratch (first build, full refresh)
    delta_rows: int = 0
    # facts, incremental: the columns that changed on each changed day (ALL_COLUMNS for a row added
    # or removed), so that a KPI is rebuilt only where what it reads changed
    changed_columns: Mapping[dt.date, frozenset[str]] = field(default_factory=dict)
    rows_added: int = 0  # KPI values: rows inserted less rows deleted


def build(connection: Connection, model: Model, sql: str, *, full: bool, incremental_sql: str | None = None,
          changed_inputs: Mapping[str, int] | None = None) -> Built:
    kind = model.materialization
    if kind == KEYED:
        if full:
            return _keyed_full(connection, model, sql)
        return _keyed_incremental(connection, model, incremental_sql or sql, changed_inputs or {})
    if kind == KPI_VALUES:
        return _kpi_values(connection, model, sql, full=full)
    if kind == INCREMENTAL_PERIODS:
        return _incremental_periods(connection, model, sql, full=full)
    if kind == REPLACE_ROWS:
        return _replace_rows(connection, model, sql)
    raise AssertionError(kind)


# --- tables kept by key -------------------------------------------------------------------------
def _keyed_full(connection: Connection, model: Model, sql: str) -> Built:
    """Build the whole table from its inputs and swap it in (a table dashboards read is refilled
    in place while its columns stay the same)."""
    spec = keyed(model)
    new = f"{model.schema}.{model.name}__new"
    connection.execute(f"drop table if exists {new}")
    connection.execute(f"create table {new} as\nselect * from (\n{sql}\n) as model_rows{_dated(spec)}")
    _check_key(connection, model, spec, new)
    if model.layer == "kpi" and connection.table_exists(model.relation) and \
            connection.columns(new) == connection.columns(model.relation):
        connection.execute(f"delete from {model.relation}")
        connection.execute(f"insert into {model.relation} select * from {new}")
        connection.execute(f"drop table {new}")
    else:
        _drop_relation(connection, model.relation)
        connection.execute(f"alter table {new} rename to {model.name}")
        _index(connection, model, spec)
    return Built(rows=_count(connection, model.relation), rebuilt=True,
                 changed_days=frozenset(_days(connection, model.relation, _day_columns(connection, model, spec))))


def _keyed_incremental(connection: Connection, model: Model, sql: str, changed_inputs: Mapping[str, int]) -> Built:
    """Rewrite the rows the changed inputs reach: find their keys (`_affected`), compute the
    model's rows for those keys only, keep as the model's delta the stored rows that differ from
    the new ones ('old') and the new rows that differ from the stored ones ('new'), and replace
    exactly those keys. A row that is no longer produced (its input row gone or filtered out) is
    an 'old' row without a 'new' one: it is deleted."""
    spec = keyed(model)
    affected, new, old, delta = (scratch.affected(model.name), scratch.new_rows(model.name),
                                 scratch.old_rows(model.name), scratch.delta(model.name))
    key = ", ".join(spec.key)
    if model.layer == "staging":
        if not changed_inputs.get("raw.{}__{}".format(*next(iter(model.sources)))):
            return Built(rows=None)
        # the raw rows loaded since the last refresh (`source()`), one staging row each
        connection.execute(f"create temporary table {new} as select * from (\n{sql}\n) as model_rows")
        connection.execute(f"create temporary table {affected} as select distinct {key} from {new}")
        _analyze(connection, affected)
    else:
        selections = [_affected_by(model, spec, link) for link in spec.links if changed_inputs.get(link.input)]
        if not selections:
            return Built(rows=None)
        connection.execute(f"create temporary table {affected} as {' union '.join(selections)}")
        _analyze(connection, affected)
        connection.execute(f"create temporary table {new} as select * from (\n{sql}\n) as model_rows "
                           f"where ({key}) in (select {key} from {affected}){_dated(spec, 'and')}")
    _check_key(connection, model, spec, new)
    connection.execute(f"create temporary table {old} as select * from {model.relation} "
                       f"where ({key}) in (select {key} from {affected})")
    connection.execute(
        f"create temporary table {delta} as "
        f"select 'old' as _change, * from (select * from {old} except select * from {new}) as gone "
        f"union all select 'new' as _change, * from (select * from {new} except select * from {old}) as came"
    )
    connection.execute(f"delete from {model.relation} where ({key}) in (select {key} from {delta})")
    connection.execute(f"insert into {model.relation} select * from {new} "
                       f"where ({key}) in (select {key} from {delta} where _change = 'new')")
    for table in (affected, new, old):
        connection.execute(f"drop table {table}")
    _analyze(connection, delta)
    changed = int(connection.scalar(f"select count(*) from {delta}"))
    columns = _changed_columns(connection, model, spec, delta) if changed and spec.day_column else {}
    return Built(rows=None, changed_days=frozenset(columns), delta_rows=changed, changed_columns=columns)


def _changed_columns(connection: Connection, model: Model, spec: Keyed,
                     delta: str) -> dict[dt.date, frozenset[str]]:
    """Each date of a changed fact row (old and new), with the columns that changed in the rows
    dated by it: a row's old and new versions are paired by key; a row added or removed changed
    every column."""
    day_columns = _day_columns(connection, model, spec)
    compared = [column for column in connection.columns(model.relation) if column not in spec.key]
    on = " and ".join(f"o.{key} = n.{key}" for key in spec.key)
    flags = ", ".join(f"case when o.{column} is distinct from n.{column} then 1 else 0 end as c{index}"
                      for index, column in enumerate(compared))
    days = ", ".join(f"o.{column} as o{index}, n.{column} as n{index}" for index, column in enumerate(day_columns))
    listed = ", ".join(f"c{index}" for index in range(len(compared)))
    dated = " union all ".join(f"select {side}{index} as day, whole, {listed} from pairs"
                               for index in range(len(day_columns)) for side in ("o", "n"))
    rows = connection.fetchall(
        f"with old as (select * from {delta} where _change = 'old'), new as (select * from {delta} where "
        f"_change = 'new'), pairs as (select {days}, case when o.{spec.key[0]} is null or n.{spec.key[0]} is null "
        f"then 1 else 0 end as whole, {flags} from old o full outer join new n on {on}) "
        f"select day, max(whole), {', '.join(f'max(c{index})' for index in range(len(compared)))} from ({dated}) as dated "
        f"where day is not null group by day"
    )
    return {_as_date(row[0]): frozenset([ALL_COLUMNS] if row[1] else
                                        [column for column, flag in zip(compared, row[2:], strict=True) if flag])
            for row in rows}


def _affected_by(model: Model, spec: Keyed, link: Link) -> str:
    """The model's keys an input's changed rows reach: by the whole key, the input's own values;
    by other columns, the stored rows holding those values (a column the model takes from its
    driving row: a row whose value changed is reached through that row's key link)."""
    source = scratch.delta(link.input)
    if link.reads:
        # what the model reads of the input's changed rows, old against new (as multisets): rows
        # whose linked and read columns are as before (an order shipped, for a model reading its
        # placement) reach nothing
        read = ", ".join(dict.fromkeys([*link.input_columns, *link.reads]))
        old, new = (f"select {read} from {source} where _change = '{change}'" for change in ("old", "new"))
        source = f"(({old} except all {new}) union all ({new} except all {old})) as read_changes"
    if link.via:
        columns, inputs = ", ".join(link.columns), ", ".join(link.input_columns)
        return (f"select {', '.join(spec.key)} from {model.relations[link.via]} where ({columns}) in "
                f"(select {inputs} from {source})")
    if set(link.columns) == set(spec.key):
        by_column = dict(zip(link.columns, link.input_columns, strict=True))
        listed = ", ".join(f"{by_column[column]} as {column}" for column in spec.key)
        return f"select {listed} from {source}"
    columns, inputs = ", ".join(link.columns), ", ".join(link.input_columns)
    return f"select {', '.join(spec.key)} from {model.relation} where ({columns}) in (select {inputs} from {source})"


def _dated(spec: Keyed, glue: str = "where") -> str:
    """A fact's rows without a business day belong to no period: they are not stored."""
    return f" {glue} {spec.day_column} is not null" if spec.day_column else ""


def _check_key(connection: Connection, model: Model, spec: Keyed, table: str) -> None:
    """The key must identify every row: never null, never twice."""
    key = ", ".join(spec.key)
    nulls = " or ".join(f"{column} is null" for column in spec.key)
    found = connection.fetchone(f"select {key} from {table} where {nulls} limit 1")
    if found is not None:
        raise ProjectError(f"{model.path}: a row has a null key ({key}) = {tuple(found)}")
    found = connection.fetchone(f"select {key}, count(*) from {table} group by {key} having count(*) > 1 limit 1")
    if found is not None:
        raise ProjectError(f"{model.path}: the key ({key}) is not unique: {tuple(found[:-1])} occurs "
                           f"{found[-1]} times")


def _index(connection: Connection, model: Model, spec: Keyed) -> None:
    """PostgreSQL: the key (the refresh deletes and looks up by it), the columns links look up,
    those the model declares (`indexes`: read by other models' `affected()`), and every date that
    dates a fact's records (a KPI reads the days of its rebuilt periods by the date it counts by:
    shipments by their delivery, tickets by their solving, not only by the day they are stored
    by); then statistics for the queries that follow. DuckDB scans columns fast enough without
    indexes, which slow its bulk deletes."""
    if connection.dialect != "postgres":
        return
    looked_up = [link.columns for link in spec.links if set(link.columns) != set(spec.key) and not link.via]
    dated = [(column,) for column in _day_columns(connection, model, spec)]
    connection.execute(f"create unique index {_index_name(model, 'key')} on {model.relation} ({', '.join(spec.key)})")
    for columns in dict.fromkeys([*looked_up, *spec.indexes, *dated]):
        connection.execute(f"create index {_index_name(model, 'by_' + '_'.join(columns))} on {model.relation} "
                           f"({', '.join(columns)})")
    connection.execute(f"analyze {model.relation}")


def _index_name(model: Model, what: str) -> str:
    name = f"{model.name}__{what}"
    if len(name) <= 63:  # PostgreSQL's limit on names
        return name
    return f"{name[:50]}_{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def _analyze(connection: Connection, table: str) -> None:
    """PostgreSQL keeps no statistics of temporary tables unless told: without them it plans the
    lookups of a few keys as joins over whole tables."""
    if connection.dialect == "postgres":
        connection.execute(f"analyze {table}")


def _day_columns(connection: Connection, model: Model, spec: Keyed) -> list[str]:
    """A fact's dates that date its records: its date columns except its attribute dates."""
    if not spec.day_column:
        return []
    columns = connection.columns(model.relation)
    if spec.day_column not in columns:
        raise ProjectError(f"{model.path}: day_column {spec.day_column!r} is not a column of the model")
    dates = [name for name, kind in columns.items() if kind.lower() == "date" and name not in spec.attribute_dates]
    if spec.day_column not in dates:
        raise ProjectError(f"{model.path}: day_column {spec.day_column!r} is {columns[spec.day_column]}, not a date")
    return dates


def _drop_relation(connection: Connection, relation: str) -> None:
    """Drop a table, or the view an older Pulse built there (staging models were views)."""
    schema, _, name = relation.partition(".")
    kind = connection.scalar("select table_type from information_schema.tables where table_schema = :schema "
                             "and table_name = :name", {"schema": schema, "name": name})
    if kind == "VIEW":
        connection.execute(f"drop view {relation}")
    elif kind is not None:
        connection.execute(f"drop table {relation}")


def _kpi_values(connection: Connection, model: Model, sql: str, *, full: bool) -> Built:
    """One KPI's rows of the long table: those of the refresh's periods are replaced."""
    listed = "period_start, grain, kpi_id, slice_name, slice_value, numerator, denominator, value"
    scope = "" if full else (
        " and (grain, period_start) in (select grain, period_start from meta.kpi_refresh_periods)"
    )
    removed = connection.execute_rows("delete from kpi.kpi_values where kpi_id = :kpi_id" + scope,
                                      {"kpi_id": model.name})
    added = connection.execute_rows(
        f"insert into kpi.kpi_values ({listed}) select {listed} from (\n{sql}\n) as rows_of_kpi "
        f"where kpi_id = :kpi_id",
        {"kpi_id": model.name},
    )
    return Built(rows=None, rows_added=added - removed)


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
def _count(connection: Connection, relation: str) -> int:
    return int(connection.scalar(f"select count(*) from {relation}"))


def _days(connection: Connection, relation: str, day_columns: list[str]) -> set[dt.date]:
    if not day_columns:
        return set()
    union = " union ".join(f"select {column} as day from {relation}" for column in day_columns)
    rows = connection.fetchall(f"select distinct day from ({union}) as days where day is not null")
    return {_as_date(row[0]) for row in rows}


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
