"""The oracle's after-sales and delivery KPIs on hand-made shipments, every value worked out by
hand: a parcel late by the business-local day (UTC says otherwise), carriers, disputes.
Budget: about 2 s.

Week of Monday 2 March 2026 (CET). Orders o1-o6, none cancelled:
  o1 Mon 10:00  PostNL  promised Tue 3  delivered Tue 3 23:30 local           on time
  o2 Mon 12:00  PostNL  promised Tue 3  delivered Wed 4 00:15 local (Tue UTC) late
  o3 Tue 09:00  DHL     promised Thu 5  delivered Thu 5 11:00                  on time
  o4 Tue 10:00  DHL     promised Wed 4  delivered Fri 6 10:00                  late
  o5 Tue 11:00  UPS     shipped Wed 4, not delivered yet
  o6 Wed 09:00  not shipped
Disputes: o2 claim (Thu), o4 return (Fri), o6 claim (Fri), o1 return (Fri).
"""

from __future__ import annotations

import datetime as dt

import pytest

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.oracle import Oracle
from pulse.sandbox.oracle.handmade import handmade_world
from pulse.settings import Settings

CALENDAR = BusinessCalendar(timezone="Europe/Amsterdam", opening=dt.time(8, 30), closing=dt.time(17, 30),
                            weekdays=frozenset({1, 2, 3, 4, 5}), holiday_country="NL")
SETTINGS = Settings(phone_sla_seconds=40, ticket_sla_hours=48)
WEEK = dt.date(2026, 3, 2)
TUE, WED, THU, FRI = (dt.date(2026, 3, d) for d in (3, 4, 5, 6))

PLACED = ["2026-03-02 10:00+01:00", "2026-03-02 12:00+01:00", "2026-03-03 09:00+01:00", "2026-03-03 10:00+01:00",
          "2026-03-03 11:00+01:00", "2026-03-04 09:00+01:00"]


def shipment(order_id, carrier, shipped, promised, delivered=None):
    return dict(order_id=order_id, carrier=carrier, shipped_at=shipped, promised_date=dt.date.fromisoformat(promised),
                delivered_at=delivered)


@pytest.fixture(scope="module")
def oracle():
    world = handmade_world({
        "customers": [dict(customer_id=1, segment="installer"), dict(customer_id=2, segment="wholesale")],
        "orders": [dict(order_id=n, customer_id=1 if n <= 3 else 2, placed_at=placed, revenue=100.0 * n)
                   for n, placed in enumerate(PLACED, start=1)],
        "shipments": [
            shipment(1, "PostNL", "2026-03-02 15:00+01:00", "2026-03-03", "2026-03-03 23:30+01:00"),
            shipment(2, "PostNL", "2026-03-02 15:00+01:00", "2026-03-03", "2026-03-04 00:15+01:00"),
            shipment(3, "DHL", "2026-03-03 15:00+01:00", "2026-03-05", "2026-03-05 11:00+01:00"),
            shipment(4, "DHL", "2026-03-03 15:00+01:00", "2026-03-04", "2026-03-06 10:00+01:00"),
            shipment(5, "UPS", "2026-03-04 15:00+01:00", "2026-03-06"),
        ],
        "disputes": [
            dict(order_id=2, kind="claim", created_at="2026-03-05 10:00+01:00"),
            dict(order_id=4, kind="return", created_at="2026-03-06 10:00+01:00"),
            dict(order_id=6, kind="claim", created_at="2026-03-06 11:00+01:00"),
            dict(order_id=1, kind="return", created_at="2026-03-06 12:00+01:00"),
        ],
    })
    return Oracle(world, CALENDAR, SETTINGS)


def test_late_deliveries_are_judged_on_the_business_day(oracle):
    assert oracle.value("late_delivery_rate", "day", TUE) == 0.0  # 23:30 local is still the promised day
    assert oracle.value("late_delivery_rate", "day", WED) == 1.0  # 00:15 local is a day late
    assert oracle.value("late_delivery_rate", "week", WEEK) == 0.5
    assert oracle.value("late_delivery_rate", "week", WEEK, "carrier", "PostNL") == 0.5
    assert oracle.value("late_delivery_rate", "week", WEEK, "carrier", "DHL") == 0.5
    rows = oracle.values("late_delivery_rate", "week")
    assert "UPS" not in set(rows[rows.slice_name == "carrier"].slice_value)  # nothing delivered yet


def test_disputes_per_order_and_per_carrier(oracle):
    assert oracle.value("dispute_rate", "week", WEEK) == pytest.approx(4 / 6, rel=1e-12)
    # the kind cuts the disputes only: claims over all orders
    assert oracle.value("dispute_rate", "week", WEEK, "dispute_kind", "claim") == pytest.approx(2 / 6, rel=1e-12)
    # per segment both sides are cut: wholesale has o4, o5, o6 and the disputes of o4 and o6
    assert oracle.value("dispute_rate", "week", WEEK, "segment", "wholesale") == pytest.approx(2 / 3, rel=1e-12)
    # disputes of shipped orders over deliveries: o1, o2 (PostNL), o4 (DHL) over 4 delivered
    assert oracle.value("incident_rate_by_carrier", "week", WEEK) == 0.75
    assert oracle.value("incident_rate_by_carrier", "week", WEEK, "carrier", "PostNL") == 1.0
    assert oracle.value("incident_rate_by_carrier", "week", WEEK, "carrier", "DHL") == 0.5


def test_sales_by_carrier_and_processing_time(oracle):
    assert oracle.value("carrier_orders", "week", WEEK) == 5
    assert oracle.value("carrier_orders", "week", WEEK, "carrier", "UPS") == 1
    assert oracle.value("carrier_revenue", "week", WEEK, "carrier", "DHL") == 700.0  # o3 300 + o4 400
    # placed -> delivered: 1 d 13.5 h, 1 d 12.25 h, 2 d 2 h, 3 d
    expected = (1 + 13.5 / 24 + 1 + 12.25 / 24 + 2 + 2 / 24 + 3) / 4
    assert oracle.value("order_processing_time", "week", WEEK) == pytest.approx(expected, rel=1e-12)
    assert oracle.value("order_processing_time", "day", FRI, "carrier", "DHL") == 3.0
