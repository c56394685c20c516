"""The sandbox company's shop/ERP database: the world as of a clock, held the way an ERP holds it
(a SQLite file in the demo, PostgreSQL in tests and production-like runs).

Every table has an integer `id` and an `updated_at` the ERP sets on each change. Writing again at
a later clock upserts every table by `id`, so rows change in place like in a live ERP (a quote is
decided, a cart abandoned, an invoice paid) and only changed rows are touched; rows the clock no
longer shows are deleted. Timestamps are UTC: `timestamptz` on PostgreSQL, and on SQLite (which
has no zone-aware type) naive UTC text, which is this ERP's documented convention.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pulse.sandbox.world import BOOL, DATE, FLOAT, INT, MONEY, NULLABLE_INT, STR, TABLES, TS
from pulse.sandbox.world_io import World
from pulse.sources.connections import SourceConnection

_SQL_TYPES = {
    INT: sa.BigInteger(), NULLABLE_INT: sa.BigInteger(), FLOAT: sa.Float(), MONEY: sa.Numeric(18, 2),
    BOOL: sa.Boolean(), STR: sa.Text(), TS: sa.DateTime(timezone=True), DATE: sa.Date(),
}


@dataclass(frozen=True)
class ShopTable:
    name: str
    world_table: str
    omit: tuple[str, ...] = ()  # world columns the ERP does not know

    @property
    def world_key(self) -> str:
        (key,) = TABLES[self.world_table].primary_key
        return key


SHOP_TABLES: tuple[ShopTable, ...] = (
    ShopTable("resellers", "resellers"),
    ShopTable("sales_agents", "sales_agents"),
    ShopTable("catalogs", "catalogs"),
    ShopTable("products", "products"),
    ShopTable("customers", "customers"),
    ShopTable("buyers", "buyers"),
    # whether GA4 saw the purchase is the analytics side's knowledge, not the shop's
    ShopTable("orders", "orders", omit=("ga_session_id", "ga_tracked")),
    ShopTable("order_lines", "order_lines"),
    ShopTable("carts", "carts"),
    ShopTable("quotes", "quotes"),
    ShopTable("invoices", "invoices"),
    ShopTable("disputes", "disputes"),
    # the carrier's own delivery estimates live in the carrier feeds, not in the ERP
    ShopTable("shipments", "shipments", omit=("feed", "first_est_delivery_date", "est_delivery_date")),
)


def _columns(table: ShopTable) -> list[tuple[str, str]]:
    """(ERP column, world type): the world's key becomes `id`; a table without `updated_at` in the
    world gets one (its rows never change after creation)."""
    world = TABLES[table.world_table]
    columns = [("id" if c.name == table.world_key else c.name, c.type) for c in world.columns
               if c.name not in table.omit]
    if "updated_at" not in world.column_names:
        columns.append(("updated_at", TS))
    return columns


def metadata() -> sa.MetaData:
    schema = sa.MetaData()
    for table in SHOP_TABLES:
        sa.Table(
            table.name, schema,
            *(sa.Column(name, _SQL_TYPES[kind], primary_key=name == "id", autoincrement=False,
                        nullable=name != "id") for name, kind in _columns(table)),
            sa.Index(f"ix_{table.name}_updated_at", "updated_at"),
        )
    return schema


def shop_rows(world: World, table: ShopTable) -> pd.DataFrame:
    """The ERP rows of one table, in id order."""
    frame = world[table.world_table].drop(columns=list(table.omit)).rename(columns={table.world_key: "id"})
    if "updated_at" not in frame.columns:
        frame["updated_at"] = frame["created_at"]
    return frame[[name for name, _ in _columns(table)]].sort_values("id", ignore_index=True)


def write_shop_db(world: World, url: str, clock: dt.datetime | None = None) -> dict[str, int]:
    """Write (or bring up to date) the shop database at `url` with the world as of `clock`
    (default: the world's now). Returns the row count per table."""
    view = world if clock is None else world.as_of(clock)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    schema = metadata()
    counts = {}
    try:
        schema.create_all(engine)
        with engine.begin() as connection:
            for table in SHOP_TABLES:
                rows = shop_rows(view, table)
                _upsert(connection, schema.tables[table.name], rows)
                counts[table.name] = len(rows)
    finally:
        engine.dispose()
    return counts


def source_connection(url: str) -> SourceConnection:
    """The `pulse_shop` connection a connector needs to read the database at `url`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SourceConnection("pulse_shop", conn_type="sqlite", schema=parsed.database)
    from pydantic import SecretStr

    return SourceConnection(
        "pulse_shop", conn_type="postgres", host=parsed.host, port=parsed.port, schema=parsed.database,
        login=parsed.username, password=SecretStr(parsed.password or ""), extra=dict(parsed.query),
    )


def _upsert(connection: sa.Connection, target: sa.Table, rows: pd.DataFrame) -> None:
    # keyed like the target: SQLite's anti-join below would otherwise scan the stage once per row
    stage = sa.Table(f"_incoming_{target.name}", sa.MetaData(),
                     *(sa.Column(c.name, c.type, primary_key=c.primary_key, autoincrement=False) for c in target.columns),
                     prefixes=["TEMPORARY"])
    stage.create(connection)
    try:
        _bulk_insert(connection, stage, rows)
        names = [c.name for c in target.columns]
        values = [name for name in names if name != "id"]
        postgres = connection.dialect.name == "postgresql"
        differs = " or ".join(
            f"{target.name}.{name} {'is distinct from' if postgres else 'is not'} excluded.{name}" for name in values
        )
        connection.execute(sa.text(
            f"delete from {target.name} where not exists "
            f"(select 1 from {stage.name} s where s.id = {target.name}.id)"
        ))
        # `where true`: SQLite needs it to tell the upsert's `on` from a join's
        connection.execute(sa.text(
            f"insert into {target.name} ({', '.join(names)}) select {', '.join(names)} from {stage.name} where true "
            f"on conflict (id) do update set {', '.join(f'{n} = excluded.{n}' for n in values)} where {differs}"
        ))
    finally:
        stage.drop(connection)


def _bulk_insert(connection: sa.Connection, table: sa.Table, rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    arrow = pa.Table.from_pandas(rows, preserve_index=False)
    if connection.dialect.name == "postgresql":
        # COPY: a million-row table takes seconds instead of minutes
        cursor = connection.connection.driver_connection.cursor()
        columns = ", ".join(arrow.column_names)
        options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
        with cursor.copy(f"copy {table.name} ({columns}) from stdin with (format csv)") as copy:
            for offset in range(0, arrow.num_rows, 100_000):
                buffer = io.BytesIO()
                pa_csv.write_csv(arrow.slice(offset, 100_000), buffer, write_options=options)
                copy.write(buffer.getvalue())
        return
    for batch in arrow.to_batches(max_chunksize=50_000):
        records = batch.to_pylist()
        for record in records:
            for name, value in record.items():
                if isinstance(value, dt.datetime):
                    record[name] = value.astimezone(dt.UTC).replace(tzinfo=None)
        connection.execute(table.insert(), records)
