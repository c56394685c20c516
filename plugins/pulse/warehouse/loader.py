"""Load validated rows into raw tables, merged by primary key, through each engine's bulk path
(DuckDB scans the Arrow table in place; PostgreSQL takes it by COPY). No row-by-row inserts.

Written by hand rather than with dlt's merge because one batch must land together with its
quarantined rows, its extraction state and its landing status in a single transaction (all or
nothing), and because a rerun must leave byte-identical tables; dlt's loader commits its own
load packages and bookkeeping tables on its own schedule.

`merge()` runs inside the caller's transaction; it never commits.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pa_csv

from pulse.sources.streams import ROW_NUMBER, SQL_TYPES, Stream
from pulse.warehouse.connection import Connection, WarehouseError

LINEAGE_COLUMNS = {"_batch_id": "text", "_loaded_at": "timestamptz"}


def ensure_raw_table(connection: Connection, stream: Stream) -> None:
    """Create the raw table, or add fields the contract gained since. A field whose type changed
    is refused: that needs a deliberate migration, not a silent cast."""
    types = SQL_TYPES[connection.dialect]
    table = stream.raw_table
    if not connection.table_exists(table):
        columns = [f"{f.name} {types[f.type]}" for f in stream.fields]
        columns += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS.items()]
        connection.execute(f"create table {table} ({', '.join(columns)})")
        if connection.dialect == "postgres":
            # the merge's delete joins on the key; DuckDB's hash join needs no index
            index = f"{stream.source}__{stream.name}__pk"
            connection.execute(f"create unique index if not exists {index} on {table} ({', '.join(stream.primary_key)})")
        return
    existing = connection.columns(table)
    for f in stream.fields:
        if f.name not in existing:
            connection.execute(f"alter table {table} add column {f.name} {types[f.type]}")
        elif not _same_type(existing[f.name], types[f.type]):
            raise WarehouseError(
                f"{table}.{f.name} is {existing[f.name]} in the warehouse but {f.type} in the contract of "
                f"{stream.key}: migrate the table before loading"
            )


def merge(connection: Connection, stream: Stream, rows: pa.Table, batch_id: str) -> int:
    """Replace the rows whose primary key occurs in `rows` and insert the rest. Returns the row count."""
    ensure_raw_table(connection, stream)
    rows = rows.select(stream.field_names) if ROW_NUMBER in rows.column_names else rows
    if rows.column_names != stream.field_names:
        raise WarehouseError(f"{stream.key}: rows have columns {rows.column_names}, contract {stream.field_names}")
    if rows.num_rows == 0:
        return 0
    if connection.dialect == "duckdb":
        _merge_duckdb(connection, stream, rows, batch_id)
    else:
        _merge_postgres(connection, stream, rows, batch_id)
    return rows.num_rows


def _key_match(stream: Stream, left: str, right: str) -> str:
    return " and ".join(f"{left}.{key} = {right}.{key}" for key in stream.primary_key)


def _merge_duckdb(connection: Connection, stream: Stream, rows: pa.Table, batch_id: str) -> None:
    native = connection.native
    relation = f"_incoming_{stream.source}__{stream.name}"
    native.register(relation, rows)
    try:
        columns = ", ".join(stream.field_names)
        types = SQL_TYPES["duckdb"]
        casts = ", ".join(f"cast({f.name} as {types[f.type]}) as {f.name}" for f in stream.fields)
        table = stream.raw_table
        connection.execute(f"delete from {table} using {relation} i where {_key_match(stream, table, 'i')}")
        connection.execute(
            f"insert into {table} ({columns}, _batch_id, _loaded_at) "
            f"select {casts}, :batch_id, current_timestamp from {relation}",
            {"batch_id": batch_id},
        )
    finally:
        native.unregister(relation)


def _merge_postgres(connection: Connection, stream: Stream, rows: pa.Table, batch_id: str) -> None:
    table = stream.raw_table
    incoming = f"_incoming_{stream.source}__{stream.name}"
    columns = ", ".join(stream.field_names)
    types = SQL_TYPES["postgres"]
    definitions = ", ".join(f"{f.name} {types[f.type]}" for f in stream.fields)
    connection.execute(f"create temporary table {incoming} ({definitions}) on commit drop")
    chunks = _copy_rows(connection, rows)
    with connection.native.cursor() as cursor, cursor.copy(
        f"copy {incoming} ({columns}) from stdin with (format csv, header false)"
    ) as copy:
        for chunk in chunks:
            copy.write(chunk)
    connection.execute(f"delete from {table} using {incoming} i where {_key_match(stream, table, 'i')}")
    connection.execute(
        f"insert into {table} ({columns}, _batch_id, _loaded_at) "
        f"select {columns}, :batch_id, now() from {incoming}",
        {"batch_id": batch_id},
    )
    connection.execute(f"drop table {incoming}")


def _copy_rows(connection: Connection, rows: pa.Table):
    """`rows` as CSV chunks for COPY, prepared before the COPY starts (the connection can run no
    other statement during it).

    Zone-aware timestamps are written without their zone: Arrow formats a zone-aware timestamp
    about twenty times slower than a naive one (it was most of a million-row load, `make bench`),
    and the values are UTC, which is how PostgreSQL reads them in a session whose time zone is UTC
    (`Warehouse.connect` sets it; checked here, since a wrong zone would shift every time)."""
    zone = connection.scalar("show time zone")
    if zone != "UTC":
        raise WarehouseError(f"COPY of timestamps needs a session in UTC, this one is in {zone!r}")
    for index, field in enumerate(rows.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            rows = rows.set_column(index, field.name, rows.column(index).cast(pa.timestamp(field.type.unit)))
    return _csv_chunks(rows)


def _csv_chunks(rows: pa.Table, rows_per_chunk: int = 100_000):
    """CSV for COPY: every present value quoted, nulls as nothing, so PostgreSQL tells an empty
    string ("") from a null."""
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    for offset in range(0, rows.num_rows, rows_per_chunk):
        buffer = io.BytesIO()
        pa_csv.write_csv(rows.slice(offset, rows_per_chunk), buffer, write_options=options)
        yield buffer.getvalue()


def _same_type(actual: str, declared: str) -> bool:
    normalise = {
        "character varying": "text", "varchar": "text", "text": "text", "double precision": "double",
        "double": "double", "bigint": "bigint", "boolean": "boolean", "date": "date",
        "timestamp with time zone": "timestamptz", "timestamptz": "timestamptz",
    }
    actual, declared = actual.lower(), declared.lower()
    if actual.startswith(("numeric", "decimal")) and declared.startswith(("numeric", "decimal")):
        return True
    return normalise.get(actual, actual) == normalise.get(declared, declared)


def append(connection: Connection, table: str, rows: pa.Table) -> int:
    """Append `rows` to an existing table by the bulk path (columns matched by name)."""
    if rows.num_rows == 0:
        return 0
    columns = ", ".join(rows.column_names)
    if connection.dialect == "duckdb":
        relation = "_append_rows"
        connection.native.register(relation, rows)
        try:
            connection.execute(f"insert into {table} ({columns}) select {columns} from {relation}")
        finally:
            connection.native.unregister(relation)
    else:
        chunks = _copy_rows(connection, rows)
        with connection.native.cursor() as cursor, cursor.copy(
            f"copy {table} ({columns}) from stdin with (format csv, header false)"
        ) as copy:
            for chunk in chunks:
                copy.write(chunk)
    return rows.num_rows
