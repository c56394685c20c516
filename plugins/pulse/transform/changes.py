"""What changed in the raw tables since the last KPI refresh: the loads `meta.raw_loads` records
(`pulse.warehouse.loader`) that no successful refresh has taken in yet.

A load is taken in by the refresh that read its rows, in the same transaction: a load committed
while a refresh runs is outside that refresh's snapshot and stays pending for the next one, and
a failed refresh leaves its loads pending. Raw tables change only through the loader; after a
change made by hand, run a full refresh (`pulse kpi refresh --full`).
"""

from __future__ import annotations

from pulse.transform import scratch
from pulse.warehouse.connection import Connection
from pulse.warehouse.meta import RAW_LOADS, ensure_raw_loads


def pending(connection: Connection) -> dict[str, int]:
    """Stage the pending loads (`scratch.PENDING_LOADS`) and the raw rows they carry
    (`scratch.changes(raw_table)`); returns the changed rows per raw table."""
    ensure_raw_loads(connection)
    connection.execute(f"create temporary table {scratch.PENDING_LOADS} as select raw_table, batch_id, loaded_at "
                       f"from {RAW_LOADS} where refresh_id is null")
    tables = [table for (table,) in connection.fetchall(
        f"select distinct raw_table from {scratch.PENDING_LOADS} order by raw_table")]
    if connection.dialect == "postgres":
        connection.execute(f"analyze {scratch.PENDING_LOADS}")
    counts = {}
    for table in tables:
        if not connection.table_exists(table):
            continue
        changes = scratch.changes(table)
        # a row loaded again later carries the later load: it is found once, as it is now
        connection.execute(
            f"create temporary table {changes} as select * from {table} where (_batch_id, _loaded_at) in "
            f"(select batch_id, loaded_at from {scratch.PENDING_LOADS} where raw_table = :table)", {"table": table})
        counts[table] = int(connection.scalar(f"select count(*) from {changes}"))
        if connection.dialect == "postgres":
            connection.execute(f"analyze {changes}")
    return counts


def take_in(connection: Connection, refresh_id: str) -> None:
    """Mark the staged loads as taken in by this refresh."""
    connection.execute(
        f"update {RAW_LOADS} set refresh_id = :refresh_id where refresh_id is null and (raw_table, batch_id, loaded_at) "
        f"in (select raw_table, batch_id, loaded_at from {scratch.PENDING_LOADS})", {"refresh_id": refresh_id})


def drop(connection: Connection, counts: dict[str, int]) -> None:
    for table in counts:
        connection.execute(f"drop table if exists {scratch.changes(table)}")
    connection.execute(f"drop table if exists {scratch.PENDING_LOADS}")
