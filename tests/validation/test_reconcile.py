"""Reconciliation on hand-built raw tables, on DuckDB and PostgreSQL: the day GA lost its tracking
and the day tickets went missing fail, the days around them pass, thin days are not judged.
Budget: ~20 s per engine."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pyarrow as pa

from pulse.sources.streams import Field, Stream
from pulse.validation import reconcile
from pulse.warehouse.loader import merge
from pulse.warehouse.meta import ensure_meta

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FIRST, END = dt.date(2026, 3, 2), dt.date(2026, 3, 15)  # two ISO weeks, Monday to Sunday
OUTAGE, TICKETS_LOST, CSV_FEED_LOST = dt.date(2026, 3, 10), dt.date(2026, 3, 12), dt.date(2026, 3, 5)

ORDERS = Stream("shop", "orders", ("id",), (Field("id", "int"), Field("placed_at", "timestamp"),
                                             Field("channel", "str"), Field("revenue", "money")))
TRAFFIC = Stream("ga4", "traffic", ("hour_start", "device_category"),
                 (Field("hour_start", "timestamp"), Field("device_category", "str"), Field("transactions", "int"),
                  Field("purchase_revenue", "money")))
TICKETS = Stream("zendesk", "tickets", ("id",), (Field("id", "int"), Field("created_at", "timestamp")))
SHIPMENTS = Stream("shop", "shipments", ("id",), (Field("id", "int"), Field("shipped_at", "timestamp"),
                                                   Field("tracking_code", "str")))
TRACKERS = Stream("easypost", "trackers", ("id",), (Field("id", "str"), Field("tracking_code", "str")))
SCANS = Stream("carrier_files", "events", ("tracking_code", "status"),
               (Field("tracking_code", "str"), Field("status", "str")))


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), AMSTERDAM).astimezone(dt.UTC)


def web_orders(day: dt.date) -> int:
    return 20 if day.isoweekday() <= 5 else 3


def build(connection):
    """Each day: web orders of 100 EUR, the first at 00:30 local time (23:30 UTC the day before:
    it must count on its local day), plus a phone order GA never sees. GA records 90 % of the web
    purchases, split over two devices and two hours (00:00 local, also the UTC day before, and
    09:00), except on the outage day (10 %). Tickets: 12 each weekday for five weeks, 1 on
    TICKETS_LOST. Shipments: 12 each office day at 16:00, half reported through EasyPost, half
    by the carriers' CSV files, which never arrived for CSV_FEED_LOST."""
    orders, hours, tickets, shipments, trackers, scans = [], [], [], [], [], []
    day = FIRST
    while day <= END:
        count = web_orders(day)
        for n in range(count):
            at = local(day, 0, 30) if n == 0 else local(day, 9 + n % 8, n)
            orders.append((len(orders) + 1, at, "web", 100))
        orders.append((len(orders) + 1, local(day, 10), "phone", 5000))
        tracked = round(count * (0.1 if day == OUTAGE else 0.9))
        hours += [(local(day, 0), "desktop", tracked // 2, 100 * (tracked // 2)),
                  (local(day, 9), "mobile", tracked - tracked // 2, 100 * (tracked - tracked // 2))]
        for n in range(12 if day.isoweekday() <= 5 else 0):
            code = f"3S{day:%m%d}{n:02d}"
            shipments.append((len(shipments) + 1, local(day, 16), code))
            if n % 2:
                trackers.append((f"trk_{code}", code))
            elif day != CSV_FEED_LOST:
                scans.append((code, "in_transit"))
        day += dt.timedelta(days=1)
    day = FIRST - dt.timedelta(weeks=5)
    while day <= END:
        if day.isoweekday() <= 5:
            for n in range(1 if day == TICKETS_LOST else 12):
                tickets.append((len(tickets) + 1, local(day, 8, n)))
        day += dt.timedelta(days=1)

    def table(stream, rows):
        return pa.Table.from_pylist([dict(zip(stream.field_names, row, strict=True)) for row in rows],
                                    schema=stream.arrow_schema())

    with connection.transaction():
        merge(connection, ORDERS, table(ORDERS, orders), "test")
        merge(connection, TRAFFIC, table(TRAFFIC, hours), "test")
        merge(connection, TICKETS, table(TICKETS, tickets), "test")
        merge(connection, SHIPMENTS, table(SHIPMENTS, shipments), "test")
        merge(connection, TRACKERS, table(TRACKERS, trackers), "test")
        merge(connection, SCANS, table(SCANS, scans), "test")


def test_outage_days_fail_their_checks_and_the_days_around_pass(warehouse, toyshop):
    with warehouse.connect() as connection:
        ensure_meta(connection)
        build(connection)
    outcome = reconcile.run(end=END, days=14, warehouse=warehouse)

    assert outcome.skipped == ["calls_vs_previous_weeks: no raw.aircall__calls yet"]
    by_check = {}
    for result in outcome.results:
        by_check.setdefault(result.check, {})[result.day] = result
    for check in ("ga_transactions_vs_web_orders", "ga_revenue_vs_web_revenue"):
        results = by_check[check]
        assert sorted(results) == [FIRST + dt.timedelta(days=n) for n in range(14)]
        weekdays = [d for d in results if d.isoweekday() <= 5]
        assert [d for d in results if results[d].success is False] == [OUTAGE]
        assert all(results[d].success for d in weekdays if d != OUTAGE)
        # weekends (3 web orders) are too thin to judge; the last day is not settled
        assert all(results[d].success is None for d in results if d.isoweekday() > 5)
    orders = by_check["ga_transactions_vs_web_orders"]
    assert orders[OUTAGE].expected == 20 and orders[OUTAGE].observed == 2 and orders[OUTAGE].ratio == 0.1
    assert orders[dt.date(2026, 3, 9)].ratio == 0.9  # 18 of 20, the 00:30 order counted on its local day
    tickets = by_check["tickets_vs_previous_weeks"]
    assert [d for d in tickets if tickets[d].success is False] == [TICKETS_LOST]
    assert tickets[TICKETS_LOST].expected == 12 and tickets[TICKETS_LOST].observed == 1
    assert tickets[TICKETS_LOST].ratio == round(1 / 12, 6)
    shipped = by_check["shipments_vs_shipped_orders"]
    assert [d for d in shipped if shipped[d].success is False] == [CSV_FEED_LOST]
    assert shipped[CSV_FEED_LOST].ratio == 0.5 and shipped[dt.date(2026, 3, 4)].ratio == 1

    with warehouse.connect() as connection:
        stored = connection.fetchall(
            "select day, check_name, expected, observed, ratio, band_low, band_high, success "
            "from meta.reconciliation_results where success = false order by check_name, day")
        total = connection.scalar("select count(*) from meta.reconciliation_results")
    assert [(r[0], r[1]) for r in stored] == [
        (OUTAGE, "ga_revenue_vs_web_revenue"), (OUTAGE, "ga_transactions_vs_web_orders"),
        (CSV_FEED_LOST, "shipments_vs_shipped_orders"), (TICKETS_LOST, "tickets_vs_previous_weeks")]
    assert total == 4 * 14
    # a rerun replaces the days it checks instead of adding to them
    reconcile.run(end=END, days=14, warehouse=warehouse)
    with warehouse.connect() as connection:
        assert connection.scalar("select count(*) from meta.reconciliation_results") == total
    # checked on a Friday, Thursday's and Friday's shipments wait for the carriers' next files
    friday = reconcile.run(end=dt.date(2026, 3, 13), days=3, warehouse=warehouse)
    shipped = {r.day: r.success for r in friday.results if r.check == "shipments_vs_shipped_orders"}
    assert shipped == {dt.date(2026, 3, 11): True, dt.date(2026, 3, 12): None, dt.date(2026, 3, 13): None}
