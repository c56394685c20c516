"""What the reliability tests compare: the content of a warehouse, and landing reconciled with raw.

`warehouse_state()` is every base table of the warehouse: data tables by content hash
(`pulse.warehouse.hashing.table_hash`, lineage `_` columns left out); tables that record runs (one row
per batch, validation, DAG run or refresh) only by how many rows they hold, since a rerun adds its own
rows by design; and for bookkeeping tables the rows without the columns that say when or in which run
they were written.

`reconcile()` rebuilds what raw must hold from landing alone: every loaded batch, oldest first, parsed
and conformed from its files, its quarantined rows left out, merged by primary key. Raw must hold
exactly those keys, each from the batch its current values came from (the last that changed it: a
batch delivering a row again unchanged leaves it as it is), and no row of a batch that is not loaded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pulse import landing
from pulse.sources import source_class
from pulse.sources.streams import ROW_NUMBER, conform
from pulse.warehouse.connection import Connection, Warehouse
from pulse.warehouse.hashing import table_hash
from pulse.warehouse.meta import LOADED

# one row per batch, validation, DAG run or KPI refresh: a rerun adds rows here by design. With
# `runs=True` (crash trials: was the batch recorded as loaded, the refresh as done?) they are compared
# too, without the columns that say when or in which run a row was written.
RUN_LOGS = {
    "meta.landing_batches": {"updated_at"},
    "meta.validation_results": {"validated_at", "run_seconds", "details", "data_docs_path"},
    "meta.pipeline_runs": {"run_id", "started_at", "finished_at", "duration_seconds"},
    "meta.kpi_refreshes": {"refresh_id", "started_at", "finished_at", "duration_seconds"},
    "meta.kpi_refresh_tables": {"refresh_id"},
    "meta.raw_loads": {"loaded_at", "refresh_id"},
}
# columns that say when, or in which run, a row was written
RUN_COLUMNS = {
    "meta.extract_state": {"batch_id", "updated_at"},
    "meta.landed_files": {"batch_id", "loaded_at"},
    "meta.reconciliation_results": {"checked_at"},
    "meta.source_freshness": {"last_batch_id", "last_loaded_at", "lag_hours", "stale", "checked_at",
                              "watched_since", "stale_since", "alerted_at"},
    "quarantine.rows": {"batch_id", "quarantined_at"},
}


def base_tables(connection: Connection) -> list[str]:
    catalog = "and table_catalog = current_database()" if connection.dialect == "duckdb" else ""
    rows = connection.fetchall(
        "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
        f"and table_schema not in ('information_schema', 'pg_catalog') {catalog} order by 1, 2"
    )
    return [f"{schema}.{name}" for schema, name in rows]


def warehouse_state(warehouse: Warehouse, *, runs: bool = False, schemas: tuple[str, ...] = ()) -> dict[str, Any]:
    with warehouse.connect() as connection:
        return connection_state(connection, runs=runs, schemas=schemas)


def connection_state(connection: Connection, *, runs: bool = False, schemas: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every base table (or those of `schemas`)."""
    state: dict[str, Any] = {}
    for table in base_tables(connection):
        if schemas and table.split(".")[0] not in schemas:
            continue
        if table in RUN_LOGS and not runs:
            state[table] = "run log"
        elif table in RUN_LOGS or table in RUN_COLUMNS:
            left_out = RUN_LOGS.get(table) or RUN_COLUMNS[table]
            columns = [c for c in connection.columns(table) if c not in left_out]
            rows = connection.fetchall(f"select {', '.join(columns)} from {table}")
            state[table] = sorted(tuple(_text(value) for value in row) for row in rows)
        else:
            state[table] = table_hash(connection, table)
    return state


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [table for table in sorted(set(before) | set(after)) if before.get(table) != after.get(table)]


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
    if isinstance(value, float):
        return repr(round(value, 9))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def reconcile(warehouse: Warehouse) -> list[str]:
    """Problems found reconciling landing with raw (an empty list when they agree row for row)."""
    with warehouse.connect() as connection:
        loaded = connection.fetchall(
            "select batch_id, source, stream from meta.landing_batches where status = :loaded "
            "order by updated_at, batch_id", {"loaded": LOADED},
        )
        quarantined = {(batch, stream, int(row)) for batch, stream, row in connection.fetchall(
            "select batch_id, stream, row_number from quarantine.rows")}
        # key -> (the batch its current values came from, those values): a batch delivering a row
        # again unchanged leaves its lineage as it is (pulse.warehouse.loader)
        expected: dict[str, dict[tuple, tuple[str, tuple]]] = {}
        streams = {}
        problems = []
        for batch_id, source_name, stream_name in loaded:
            batch = landing.open_batch(batch_id)
            batch.verify()
            if not batch.manifest.complete:
                problems.append(f"batch {batch_id} is loaded but landed incomplete")
            source = source_class(source_name)()
            for stream in source.fed_by(source.stream(stream_name)):
                streams[stream.raw_table] = stream
                keys = expected.setdefault(stream.raw_table, {})
                for key, row, values in _landed_keys(source, stream, batch):
                    if (batch_id, stream.name, row) not in quarantined and keys.get(key, (None, None))[1] != values:
                        keys[key] = (batch_id, values)
        for table, stream in sorted(streams.items()):
            columns = ", ".join(stream.primary_key)
            raw = connection.fetchall(f"select {columns}, _batch_id from {table}")
            held = {tuple(_text(v) for v in row[:-1]): row[-1] for row in raw}
            if len(held) != len(raw):
                problems.append(f"{table}: {len(raw) - len(held)} duplicate primary keys")
            want = {key: batch for key, (batch, _) in expected[table].items()}
            missing = sorted(set(want) - set(held))
            extra = sorted(set(held) - set(want))
            moved = sorted(key for key in set(want) & set(held) if want[key] != held[key])
            for label, keys in (("landed but not in raw", missing), ("in raw but in no loaded batch", extra),
                                ("from another batch than the last that changed it", moved)):
                if keys:
                    problems.append(f"{table}: {len(keys)} rows {label}, e.g. {keys[:3]}")
        for table in base_tables(connection):
            if table.startswith("raw.") and table not in streams and connection.scalar(f"select count(*) from {table}"):
                problems.append(f"{table} holds rows but no loaded batch feeds it")
    return problems


def _landed_keys(source, stream, batch: landing.LandingBatch):
    parsed = source.parse(stream, batch)
    records = parsed if isinstance(parsed, pd.DataFrame) else pd.DataFrame.from_records(list(parsed))
    if records.empty:
        return
    if ROW_NUMBER not in records.columns:
        records = records.assign(**{ROW_NUMBER: range(len(records))})
    table = conform(stream, records).table
    keys = zip(*(table[name].to_pylist() for name in stream.primary_key), strict=True)
    values = zip(*(table[name].to_pylist() for name in stream.field_names), strict=True)
    for key, row, record in zip(keys, table[ROW_NUMBER].to_pylist(), values, strict=True):
        yield tuple(_text(value) for value in key), int(row), record
