"""The shop/ERP database, read through SQLAlchemy: a SQLite file in the demo, PostgreSQL in tests
and production (connection `pulse_shop`).

Facts are extracted incrementally on `updated_at` with a two-day lookback (an ERP transaction can
commit after a later one was read, and back-office staff backdate changes); small dimensions are
extracted whole every run. Every table has an integer `id`, the primary key of its stream.

The extractor is dlt's `sql_table` resource with the pyarrow backend, iterated directly: it
reflects the table, runs the query with a server-side cursor (`yield_per`) and yields Arrow tables
of `CHUNK_ROWS` rows, so a million-row table never sits in memory during extraction. It is not run
in a dlt pipeline: the rows must go to landing (each chunk as Parquet, exactly as read) and be
validated and merged by our load step in one transaction with their quarantine and state, which a
dlt destination cannot do. The window (`updated_at` from the planned start, before the run's end)
is added by a query adapter rather than `dlt.sources.incremental`, whose state lives in a dlt
pipeline; ours lives in `meta.extract_state` and moves only when a batch loads.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from pulse.landing import BatchWriter, LandingBatch
from pulse.sources.base import ExtractRequest, Source
from pulse.sources.connections import SourceConnection
from pulse.sources.streams import ContractError, Field, Stream

# dlt looks for its own secrets in an Airflow Variable on every config resolution when Airflow is
# installed: a metadata-database query per call (seconds on the first). Credentials reach our
# extractors explicitly from Airflow connections, so the probe is off unless configured otherwise.
os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")

LOOKBACK = dt.timedelta(days=2)
CHUNK_ROWS = 50_000
PARQUET = "application/vnd.apache.parquet"
# connection extras passed on to libpq; the others are ours (`timezone`, `schema`)
_LIBPQ_OPTIONS = {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name"}


def _fact(name: str, *fields: Field, doc: str = "") -> Stream:
    return Stream("shop", name, ("id",), (Field("id", "int"), *fields, Field("updated_at", "timestamp")),
                  cursor="updated_at", lookback=LOOKBACK, doc=doc)


def _dimension(name: str, *fields: Field, doc: str = "") -> Stream:
    return Stream("shop", name, ("id",), (Field("id", "int"), *fields, Field("updated_at", "timestamp")),
                  mode="full", doc=doc)


def _f(spec: str) -> tuple[Field, ...]:
    """`name:type name:type ...` -> fields."""
    return tuple(Field(*item.split(":")) for item in spec.split())


STREAMS = (
    _dimension("resellers", *_f("name:str created_at:timestamp")),
    _dimension("sales_agents", *_f("name:str email:str hubspot_owner_id:int created_at:timestamp")),
    _dimension("catalogs", *_f("name:str kind:str customer_id:int created_at:timestamp"),
               doc="kind: public | customer; customer_id owns a customer-specific catalogue"),
    _dimension("products", *_f("sku:str name:str category:str product_type:str list_price:money unit_cost:money "
                               "created_at:timestamp")),
    _fact("customers", *_f("name:str segment:str reseller_id:int sales_agent_id:int catalog_id:int country:str "
                           "credit_limit:money registered_at:timestamp crm_contact_id:int created_at:timestamp")),
    _fact("buyers", *_f("customer_id:int email:str name:str registered_at:timestamp created_at:timestamp")),
    _fact("orders", *_f("customer_id:int buyer_id:int placed_at:timestamp channel:str catalog_id:int quote_id:int "
                        "cart_id:int payment_method:str status:str cancelled_at:timestamp revenue:money cost:money "
                        "utm_source:str utm_medium:str utm_campaign:str"),
          doc="revenue and cost net of discount, excluding VAT and shipping; channel web = placed on the platform"),
    _fact("order_lines", *_f("order_id:int product_id:int quantity:int unit_list_price:money unit_price:money "
                             "unit_cost:money")),
    _fact("carts", *_f("customer_id:int buyer_id:int created_at:timestamp status:str ordered_at:timestamp "
                       "abandoned_at:timestamp order_id:int item_count:int value:money")),
    _fact("quotes", *_f("customer_id:int buyer_id:int sales_agent_id:int requested_at:timestamp "
                        "first_action_at:timestamp issued_at:timestamp decided_at:timestamp outcome:str "
                        "ordered_at:timestamp order_id:int list_amount:money quoted_amount:money "
                        "discount_amount:money deal_id:int")),
    _fact("invoices", *_f("order_id:int customer_id:int amount:money issued_at:timestamp due_date:date "
                          "paid_at:timestamp")),
    _fact("disputes", *_f("order_id:int kind:str reason:str carrier_related:bool created_at:timestamp "
                          "zendesk_ticket_id:int")),
    _fact("shipments", *_f("order_id:int carrier:str tracking_code:str shipped_at:timestamp promised_date:date "
                           "delivered_at:timestamp")),
)


def database_url(connection: SourceConnection) -> sa.URL:
    kind = (connection.conn_type or "").lower()
    if kind == "sqlite":
        return sa.URL.create("sqlite", database=connection.schema or connection.host)
    if kind.startswith("postgres"):
        return sa.URL.create(
            "postgresql+psycopg", username=connection.login, password=connection.password.get_secret_value() or None,
            host=connection.host, port=connection.port, database=connection.schema,
            query={key: str(value) for key, value in connection.extra.items() if key in _LIBPQ_OPTIONS},
        )
    raise ValueError(f"{connection.conn_id}: unsupported connection type {connection.conn_type!r} "
                     f"(the shop database is sqlite or postgres)")


class ShopSource(Source):
    name = "shop"
    streams = STREAMS
    chunk_rows = CHUNK_ROWS

    def extract(self, stream: Stream, request: ExtractRequest, batch: BatchWriter) -> dict[str, Any]:
        from dlt.sources.sql_database import sql_table

        engine = sa.create_engine(database_url(self.connection), poolclass=sa.pool.NullPool)
        naive_zone = self._naive_zone(engine)
        try:
            resource = sql_table(
                credentials=engine, table=stream.name, schema=self.connection.extra.get("schema"),
                backend="pyarrow", chunk_size=self.chunk_rows, reflection_level="full_with_precision",
                query_adapter_callback=self._window(stream, request, naive_zone),
            )
            count, latest = 0, None
            for number, chunk in enumerate(resource):
                batch.add_bytes(f"part-{number:05d}.parquet", _parquet(chunk), PARQUET, rows=chunk.num_rows)
                count += chunk.num_rows
                if stream.cursor and chunk.num_rows:
                    chunk_latest = pc.max(chunk[stream.cursor]).as_py()
                    latest = chunk_latest if latest is None else max(latest, chunk_latest)
        finally:
            engine.dispose()
        batch.manifest.record_count = count
        batch.manifest.metadata.update({
            "extractor": "dlt.sources.sql_database.sql_table (pyarrow backend)", "dialect": engine.dialect.name,
            "table": stream.name, "naive_timestamps_zone": naive_zone,
        })
        if not stream.cursor:
            return {}
        if latest is None:
            return dict(request.state)
        return {"cursor": _aware(latest, naive_zone).astimezone(dt.UTC).isoformat()}

    def parse(self, stream: Stream, batch: LandingBatch) -> pd.DataFrame:
        parts = [pq.read_table(batch.file_path(f.name)) for f in batch.manifest.files]
        if not parts:
            return pd.DataFrame(columns=stream.field_names)
        table = pa.concat_tables(parts, promote_options="permissive")
        zone = batch.manifest.metadata.get("naive_timestamps_zone")
        for index, column in enumerate(table.schema):
            if pa.types.is_timestamp(column.type) and column.type.tz is None and zone:
                try:
                    aware = pc.assume_timezone(table.column(index), zone, ambiguous="raise", nonexistent="raise")
                except pa.ArrowInvalid as error:
                    raise ContractError(stream, f"local time that does not exist or is ambiguous in {zone}: {error}",
                                        field_name=column.name) from error
                table = table.set_column(index, column.name, aware)
        return table.to_pandas()

    def _naive_zone(self, engine: sa.Engine) -> str | None:
        """The zone of timestamp columns stored without one: the connection's `timezone` extra, else
        UTC on SQLite (it has no zone-aware type; the ERP writes UTC there, documented)."""
        zone = self.connection.extra.get("timezone") or ("UTC" if engine.dialect.name == "sqlite" else None)
        if zone:
            ZoneInfo(zone)  # fails early on a misspelt zone
        return zone

    @staticmethod
    def _window(stream: Stream, request: ExtractRequest, naive_zone: str | None):
        def adapt(query, table):
            if not stream.cursor:
                return query
            column = table.c[stream.cursor]
            naive = not getattr(column.type, "timezone", False)
            if naive and not naive_zone:
                raise ContractError(
                    stream, "the column is a timestamp without time zone and connection pulse_shop names no "
                    "`timezone` extra: say which zone the ERP writes", field_name=stream.cursor,
                )

            def bound(moment: dt.datetime) -> dt.datetime:
                return moment.astimezone(ZoneInfo(naive_zone)).replace(tzinfo=None) if naive else moment

            if request.start is not None:
                query = query.where(column >= bound(request.start))
            return query.where(column < bound(request.end))

        return adapt


def _aware(moment: dt.datetime, naive_zone: str | None) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(naive_zone or "UTC"))
    return moment


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()
