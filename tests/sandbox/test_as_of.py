"""The world as of a clock: later rows gone, later moments null, statuses and amounts as they
were then. Each expectation is worked out here from the world at `now`.

Budget: about 5 s (one small world)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.as_of import world_as_of
from pulse.sandbox.generator import generate
from pulse.sandbox.world import TABLES
from sandbox.test_generator import FOREIGN_KEYS

END = dt.date(2026, 3, 13)
TZ = "Europe/Amsterdam"
CALENDAR = BusinessCalendar(
    timezone=TZ, opening=dt.time(8, 30), closing=dt.time(17, 30), weekdays=frozenset({1, 2, 3, 4, 5}),
    holiday_country="NL",
)
CLOCK = pd.Timestamp("2026-03-04 11:00", tz=TZ).tz_convert("UTC")  # a Wednesday morning, 9 days before now


@pytest.fixture(scope="module")
def world():
    return generate(seed=21, days=40, scale=0.4, end=END, calendar=CALENDAR)


@pytest.fixture(scope="module")
def then(world):
    return world_as_of(world, CLOCK.to_pydatetime())


CREATED = {
    "resellers": "created_at", "sales_agents": "created_at", "catalogs": "created_at",
    "products": "created_at", "customers": "created_at", "buyers": "created_at", "crm_contacts": "created_at",
    "crm_deals": "created_at",
    "carts": "created_at", "quotes": "requested_at", "orders": "placed_at", "invoices": "issued_at",
    "shipments": "shipped_at", "shipment_events": "occurred_at", "disputes": "created_at",
    "tickets": "created_at",
    "nps_responses": "submitted_at", "speed_samples": "measured_at", "site_searches": "occurred_at",
    "key_events": "occurred_at", "calls": "ended_at",
}


def test_rows_created_after_the_clock_are_gone_and_earlier_ones_stay(world, then):
    for name, column in CREATED.items():
        expected = set(world[name].loc[world[name][column] <= CLOCK, TABLES[name].primary_key[0]])
        if name in ("site_searches", "key_events"):
            continue  # they follow their GA session: checked below
        assert set(then[name][TABLES[name].primary_key[0]]) == expected, name
    for name in TABLES:
        for column in TABLES[name].columns:
            if column.type == "timestamp":
                assert (then[name][column.name].dropna() <= CLOCK).all(), f"{name}.{column.name}"


def test_every_reference_resolves_at_the_clock(then):
    for child, column, parent, key in FOREIGN_KEYS:
        values = then[child][column].dropna()
        missing = values[~values.isin(then[parent][key])]
        assert missing.empty, f"{child}.{column} at {CLOCK}: {len(missing)} values not in {parent}.{key}"


def test_ga_has_only_the_sessions_it_had_processed(world, then):
    sessions = world["web_sessions"]
    ended = sessions["started_at"] + pd.to_timedelta(sessions["duration_seconds"], unit="s")
    processed = sessions["ga_processed_at"] <= CLOCK
    expected = sessions[(ended <= CLOCK) & (~sessions["ga_tracked"] | processed)]
    assert set(then["web_sessions"]["session_id"]) == set(expected["session_id"])
    late = sessions[sessions["ga_tracked"] & (ended <= CLOCK) & ~processed]
    assert len(late) > 0  # some sessions of the hours before the clock are still being processed
    assert not then["web_sessions"]["session_id"].isin(late["session_id"]).any()
    searches = then["site_searches"]
    assert searches["session_id"].isin(then["web_sessions"]["session_id"]).all()
    kept = world["site_searches"][world["site_searches"]["session_id"].isin(expected["session_id"])
                                  & (world["site_searches"]["occurred_at"] <= CLOCK)]
    assert set(searches["search_id"]) == set(kept["search_id"])


def test_a_ticket_solved_after_the_clock_was_open_then(world, then):
    tickets = world["tickets"]
    later = tickets[(tickets["first_reply_at"] <= CLOCK) & (tickets["solved_at"] > CLOCK)]
    assert len(later) > 0
    before = then["tickets"].set_index("ticket_id").loc[later["ticket_id"]]
    assert before["solved_at"].isna().all()
    assert before["status"].isin(["open", "pending"]).all()
    assert (before["updated_at"] == later.set_index("ticket_id")["first_reply_at"]).all()
    now_status = world["tickets"].set_index("ticket_id").loc[later["ticket_id"], "status"]
    assert set(now_status) <= {"solved", "closed"}
    unanswered = tickets[(tickets["created_at"] <= CLOCK) & (tickets["first_reply_at"] > CLOCK)]
    assert (then["tickets"].set_index("ticket_id").loc[unanswered["ticket_id"], "status"] == "new").all()
    assert (then["tickets"].set_index("ticket_id").loc[unanswered["ticket_id"], "replies"] == 0).all()


def test_a_cart_abandoned_or_ordered_after_the_clock_was_open_then(world, then):
    carts = world["carts"]
    settled_later = carts[(carts["created_at"] <= CLOCK)
                          & ((carts["ordered_at"] > CLOCK) | (carts["abandoned_at"] > CLOCK))]
    assert len(settled_later) > 0
    before = then["carts"].set_index("cart_id").loc[settled_later["cart_id"]]
    assert (before["status"] == "open").all()
    assert before["order_id"].isna().all() and before["ordered_at"].isna().all()
    assert (before["updated_at"] == settled_later.set_index("cart_id")["created_at"]).all()


def test_a_quote_and_its_deal_show_their_stage_at_the_clock(world, then):
    quotes = world["quotes"]
    undecided = quotes[(quotes["issued_at"] <= CLOCK) & (quotes["decided_at"] > CLOCK)]
    unissued = quotes[(quotes["requested_at"] <= CLOCK) & (quotes["issued_at"] > CLOCK)]
    assert len(undecided) > 0 and len(unissued) > 0
    q = then["quotes"].set_index("quote_id")
    assert q.loc[undecided["quote_id"], "outcome"].isna().all()
    assert q.loc[undecided["quote_id"], "order_id"].isna().all()
    quoted = undecided.set_index("quote_id")["quoted_amount"]
    assert (q.loc[undecided["quote_id"], "quoted_amount"] == quoted).all()
    assert q.loc[unissued["quote_id"], "quoted_amount"].isna().all()
    deals = then["crm_deals"].set_index("quote_id")
    assert (deals.loc[unissued["quote_id"], "amount"] == unissued.set_index("quote_id")["list_amount"]).all()
    assert deals.loc[undecided["quote_id"], ["closedwon_at", "closedlost_at"]].isna().all().all()
    assert deals.loc[undecided["quote_id"], "contractsent_at"].notna().all()


def test_a_parcel_delivered_after_the_clock_was_in_transit_with_its_estimate_then(world, then):
    shipments = world["shipments"]
    in_transit = shipments[(shipments["shipped_at"] <= CLOCK) & (shipments["delivered_at"] > CLOCK)]
    assert len(in_transit) > 0
    before = then["shipments"].set_index("tracking_code").loc[in_transit["tracking_code"]]
    assert before["delivered_at"].isna().all()
    scans = world["shipment_events"]
    seen = scans[scans["occurred_at"] <= CLOCK].sort_values("occurred_at").groupby("tracking_code").last()
    assert (before["est_delivery_date"] == seen.loc[before.index, "est_delivery_date"]).all()
    assert (before["updated_at"] == seen.loc[before.index, "occurred_at"]).all()
    orders = then["orders"].set_index("order_id").loc[in_transit["order_id"]]
    assert (orders["status"] == "shipped").all()
    assert (world["orders"].set_index("order_id").loc[in_transit["order_id"], "status"] == "delivered").all()


def test_a_contact_shows_only_the_stages_reached_by_then(world, then):
    contacts = world["crm_contacts"]
    moved_on = contacts[(contacts["created_at"] <= CLOCK) & (contacts["mql_at"] > CLOCK)]
    assert len(moved_on) > 0
    before = then["crm_contacts"].set_index("contact_id").loc[moved_on["contact_id"]]
    assert before[["mql_at", "sql_at", "opportunity_at", "customer_at"]].isna().all().all()
    assert before["customer_id"].isna().all() and before["owner_id"].isna().all()
    expected = moved_on.set_index("contact_id")[["created_at", "subscriber_at", "lead_at"]].max(axis=1)
    assert (before["updated_at"] == expected).all()
    became = contacts[(contacts["created_at"] <= CLOCK) & (contacts["customer_at"] > CLOCK)]
    assert not then["customers"]["customer_id"].isin(became["customer_id"]).any()


def test_an_invoice_paid_after_the_clock_was_unpaid_then(world, then):
    invoices = world["invoices"]
    unpaid = invoices[(invoices["issued_at"] <= CLOCK) & (invoices["paid_at"] > CLOCK)]
    assert len(unpaid) > 0
    before = then["invoices"].set_index("invoice_id").loc[unpaid["invoice_id"]]
    assert before["paid_at"].isna().all()
    assert (before["updated_at"] == unpaid.set_index("invoice_id")["issued_at"]).all()


def test_the_view_at_now_is_the_world_itself_and_views_compose(world, then):
    at_now = world_as_of(world, world.meta.now)
    for name in TABLES:
        pd.testing.assert_frame_equal(at_now[name], world[name], check_dtype=False, obj=name)
    later = world_as_of(world, (CLOCK + pd.Timedelta(days=3)).to_pydatetime())
    again = world_as_of(later, CLOCK.to_pydatetime())
    for name in TABLES:
        pd.testing.assert_frame_equal(again[name], then[name], check_dtype=False, obj=name)
    assert then.meta == world.meta


def test_a_clock_without_time_zone_is_refused(world):
    with pytest.raises(ValueError, match="no time zone"):
        world_as_of(world, dt.datetime(2026, 3, 4, 11))


def test_a_clock_before_the_first_carrier_scan_is_a_valid_view():
    import datetime as dt

    from pulse.sandbox.generator import generate

    world = generate(1, 10, 0.1, dt.date(2026, 1, 20))
    view = world.as_of(dt.datetime(2026, 1, 11, 6, tzinfo=dt.UTC))
    assert view["shipment_events"].empty or view["shipment_events"]["occurred_at"].max() <= dt.datetime(2026, 1, 11, 6, tzinfo=dt.UTC)
    assert (view["shipments"]["updated_at"] >= view["shipments"]["shipped_at"]).all()
