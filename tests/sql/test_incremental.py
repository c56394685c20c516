"""An incremental refresh gives the same tables as a full rebuild, table by table, on both engines:
after new days arrive and after late changes to records older than the lookback window (an order
cancelled weeks later, a customer moved to another reseller, a contact of an old lead cohort
reaching MQL, GA4 revising an old week's users). The changes arrive as sources deliver them: a
batch with the revised records, merged by the loader."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pytest
from raw_loader import load_batches

from pulse.sources import find_stream
from pulse.transform import refresh_kpis
from pulse.warehouse.connection import Connection, Warehouse
from pulse.warehouse.hashing import table_hash
from pulse.warehouse.loader import merge
from support.services import temporary_postgres_database

NEW_DAYS = 3


@pytest.fixture(params=["duckdb", "postgres"])
def fresh_warehouse(request, tmp_path, raw_batches) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        warehouse = Warehouse(f"duckdb:///{tmp_path}/incremental.duckdb")
        load_batches(raw_batches, warehouse)
        yield warehouse
    else:
        with temporary_postgres_database("pulse_sql_incremental") as url:
            warehouse = Warehouse(url)
            load_batches(raw_batches, warehouse)
            yield warehouse


def test_incremental_refresh_equals_a_full_rebuild(fresh_warehouse, world):
    end = world.meta.end
    first = refresh_kpis(warehouse=fresh_warehouse, full=True, through=end - dt.timedelta(days=NEW_DAYS))
    assert first.mode == "full"

    with fresh_warehouse.connect() as connection:
        changed = _late_changes(connection, end)
        revenue_before = _day_revenue(connection, changed["cancelled_order_day"])

    incremental = refresh_kpis(warehouse=fresh_warehouse, through=end)
    assert incremental.mode == "incremental"
    with fresh_warehouse.connect() as connection:
        assert connection.scalar("select count(*) from meta.raw_loads where refresh_id is null") == 0
        # the long table's row count is carried from the previous refresh, not counted again
        assert incremental.row_counts["kpi.kpi_values"] == connection.scalar("select count(*) from kpi.kpi_values")
    window_days = (end - incremental.window_start).days + 1
    assert len(incremental.days_rebuilt) < window_days / 2, "an incremental refresh rebuilt most of the window"
    for what in ("cancelled_order_day", "lead_day", "moved_customer_order_day"):
        assert changed[what] in incremental.days_rebuilt, f"the late change's {what} was not rebuilt"
    with fresh_warehouse.connect() as connection:
        assert _day_revenue(connection, changed["cancelled_order_day"]) < revenue_before
        after_incremental = _hashes(connection)

    full = refresh_kpis(warehouse=fresh_warehouse, full=True, through=end)
    assert full.mode == "full"
    with fresh_warehouse.connect() as connection:
        after_full = _hashes(connection)
    assert after_incremental.keys() == after_full.keys()
    different = sorted(table for table in after_full if after_incremental[table] != after_full[table])
    assert not different, f"incremental and full refreshes differ in {different}"


def _late_changes(connection: Connection, end: dt.date) -> dict[str, dt.date]:
    """Revise raw records dated well before the lookback window, as sources deliver revisions."""
    long_ago = end - dt.timedelta(days=30)
    order = connection.fetchone(
        "select id, placed_at from raw.shop__orders where status <> 'cancelled' and placed_at < :before "
        "order by placed_at desc limit 1", {"before": dt.datetime.combine(long_ago, dt.time(12), dt.UTC)})
    _revise(connection, "shop.orders", "id = :id", {"id": order[0]},
            status="cancelled", cancelled_at=dt.datetime.combine(end, dt.time(9), dt.UTC))

    customer, reseller = connection.fetchone(
        "select customers.id, (select min(id) from raw.shop__resellers where id is distinct from "
        "customers.reseller_id) from raw.shop__customers as customers "
        "where exists (select 1 from raw.shop__orders o where o.customer_id = customers.id and o.placed_at < :before) "
        "order by customers.id limit 1", {"before": dt.datetime.combine(long_ago, dt.time(0), dt.UTC)})
    _revise(connection, "shop.customers", "id = :id", {"id": customer}, reseller_id=reseller)
    first_order = connection.scalar("select min(placed_at) from raw.shop__orders where customer_id = :id",
                                    {"id": customer})

    contact = connection.fetchone(
        "select id, hs_lifecyclestage_lead_date from raw.hubspot__contacts "
        "where hs_lifecyclestage_marketingqualifiedlead_date is null and hs_lifecyclestage_lead_date < :before "
        "order by hs_lifecyclestage_lead_date limit 1", {"before": dt.datetime.combine(long_ago, dt.time(0), dt.UTC)})
    _revise(connection, "hubspot.contacts", "id = :id", {"id": contact[0]},
            hs_lifecyclestage_marketingqualifiedlead_date=dt.datetime.combine(end, dt.time(10), dt.UTC))

    week = connection.scalar("select min(period_start) from raw.ga4__users where grain = 'week'")
    users = connection.fetchall("select total_users from raw.ga4__users where grain = 'week' "
                                "and period_start = :week", {"week": week})
    _revise(connection, "ga4.users", "grain = 'week' and period_start = :week", {"week": week},
            total_users=[value + 1 for (value,) in users])
    return {"cancelled_order_day": _business_day(order[1]), "lead_day": _business_day(contact[1]),
            "moved_customer_order_day": _business_day(first_order)}


def _revise(connection: Connection, stream_key: str, where: str, params: dict, **values) -> None:
    """A source's revision: the matching raw records delivered again with `values` changed (a
    list gives one value per record), merged as a batch of their own."""
    stream = find_stream(stream_key)
    rows = connection.fetch_arrow(f"select {', '.join(stream.field_names)} from {stream.raw_table} where {where}",
                                  params).cast(stream.arrow_schema())
    assert rows.num_rows, f"nothing to revise in {stream.raw_table} where {where}"
    for name, value in values.items():
        column = value if isinstance(value, list) else [value] * rows.num_rows
        index = rows.schema.get_field_index(name)
        rows = rows.set_column(index, name, pa.array(column, rows.schema.field(index).type))
    merge(connection, stream, rows, f"{stream_key}.revision")


def _business_day(moment: dt.datetime) -> dt.date:
    from pulse.settings import get_settings

    return moment.astimezone(get_settings().tz).date()


def _day_revenue(connection: Connection, day: dt.date) -> float:
    return connection.scalar(
        "select value from kpi.kpi_values where kpi_id = 'revenue' and grain = 'day' and slice_name = 'all' "
        "and period_start = :day", {"day": day})


def _hashes(connection: Connection) -> dict[str, str]:
    tables = connection.fetchall(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('marts', 'kpi') and table_type = 'BASE TABLE' order by 1, 2")
    return {f"{schema}.{name}": table_hash(connection, f"{schema}.{name}") for schema, name in tables}
