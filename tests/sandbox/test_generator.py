"""The simulated company: determinism, referential integrity, lifecycles, volumes and rhythms,
each checked by computing from the world's tables directly.

Budget: about 15 s (one medium world of 75 days at scale 1, built once; a few tiny ones)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.generator import generate
from pulse.sandbox.world import TABLES
from pulse.sandbox.world_io import load_world

END = dt.date(2026, 6, 19)  # a Friday
TZ = "Europe/Amsterdam"
STAGES = ("lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at")
CALENDAR = BusinessCalendar(
    timezone=TZ, opening=dt.time(8, 30), closing=dt.time(17, 30), weekdays=frozenset({1, 2, 3, 4, 5}),
    holiday_country="NL",
)


@pytest.fixture(scope="module")
def world():
    return generate(seed=11, days=75, scale=1.0, end=END, calendar=CALENDAR)


def _local_day(series: pd.Series) -> pd.Series:
    return series.dt.tz_convert(TZ).dt.date


def _office_days(world, exclude=()) -> list[dt.date]:
    days = pd.date_range(world.meta.start, world.meta.end).date
    return [d for d in days if CALENDAR.is_office_day(d) and d not in exclude]


def _hashes(directory) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(directory.iterdir())}


# --- determinism ---------------------------------------------------------------------------------

def test_same_arguments_give_identical_files_and_another_seed_differs(tmp_path):
    first = generate(seed=5, days=12, scale=0.2, end=END, calendar=CALENDAR).save(tmp_path / "a")
    second = generate(seed=5, days=12, scale=0.2, end=END, calendar=CALENDAR).save(tmp_path / "b")
    other = generate(seed=6, days=12, scale=0.2, end=END, calendar=CALENDAR).save(tmp_path / "c")
    assert set(_hashes(first)) == {f"{name}.parquet" for name in TABLES} | {"world.json"}
    assert _hashes(first) == _hashes(second)
    differing = {name for name, digest in _hashes(other).items() if _hashes(first)[name] != digest}
    assert {"web_sessions.parquet", "orders.parquet", "order_lines.parquet", "world.json"} <= differing


def test_saved_world_loads_back_equal(tmp_path, world):
    loaded = load_world(world.save(tmp_path))
    assert loaded.meta == world.meta
    for name in TABLES:
        pd.testing.assert_frame_equal(loaded[name], world[name], check_dtype=False)


# --- referential integrity -------------------------------------------------------------------------

FOREIGN_KEYS = [
    ("customers", "reseller_id", "resellers", "reseller_id"),
    ("customers", "sales_agent_id", "sales_agents", "agent_id"),
    ("customers", "catalog_id", "catalogs", "catalog_id"),
    ("customers", "crm_contact_id", "crm_contacts", "contact_id"),
    ("catalogs", "customer_id", "customers", "customer_id"),
    ("buyers", "customer_id", "customers", "customer_id"),
    ("web_sessions", "order_id", "orders", "order_id"),
    ("web_sessions", "buyer_id", "buyers", "buyer_id"),
    ("site_searches", "session_id", "web_sessions", "session_id"),
    ("key_events", "session_id", "web_sessions", "session_id"),
    ("crm_contacts", "customer_id", "customers", "customer_id"),
    ("crm_contacts", "owner_id", "sales_agents", "hubspot_owner_id"),
    ("crm_deals", "quote_id", "quotes", "quote_id"),
    ("crm_deals", "owner_id", "sales_agents", "hubspot_owner_id"),
    ("carts", "customer_id", "customers", "customer_id"),
    ("carts", "buyer_id", "buyers", "buyer_id"),
    ("carts", "order_id", "orders", "order_id"),
    ("quotes", "customer_id", "customers", "customer_id"),
    ("quotes", "buyer_id", "buyers", "buyer_id"),
    ("quotes", "sales_agent_id", "sales_agents", "agent_id"),
    ("quotes", "order_id", "orders", "order_id"),
    ("quotes", "deal_id", "crm_deals", "deal_id"),
    ("orders", "customer_id", "customers", "customer_id"),
    ("orders", "buyer_id", "buyers", "buyer_id"),
    ("orders", "catalog_id", "catalogs", "catalog_id"),
    ("orders", "quote_id", "quotes", "quote_id"),
    ("orders", "cart_id", "carts", "cart_id"),
    ("order_lines", "order_id", "orders", "order_id"),
    ("order_lines", "product_id", "products", "product_id"),
    ("invoices", "order_id", "orders", "order_id"),
    ("invoices", "customer_id", "customers", "customer_id"),
    ("shipments", "order_id", "orders", "order_id"),
    ("shipment_events", "tracking_code", "shipments", "tracking_code"),
    ("disputes", "order_id", "orders", "order_id"),
    ("disputes", "zendesk_ticket_id", "tickets", "ticket_id"),
    ("tickets", "customer_id", "customers", "customer_id"),
    ("tickets", "order_id", "orders", "order_id"),
    ("nps_responses", "customer_id", "customers", "customer_id"),
]


def test_primary_keys_are_unique_and_not_null(world):
    for name, table in TABLES.items():
        keys = world[name][list(table.primary_key)]
        assert keys.notna().all().all(), name
        assert not keys.duplicated().any(), name
    assert not world["shipments"]["tracking_code"].duplicated().any()


@pytest.mark.parametrize(("child", "column", "parent", "key"), FOREIGN_KEYS, ids=lambda v: str(v))
def test_foreign_keys_resolve(world, child, column, parent, key):
    values = world[child][column].dropna()
    assert len(values) > 0, f"{child}.{column} is never set"
    missing = values[~values.isin(world[parent][key])]
    assert missing.empty, f"{child}.{column}: {len(missing)} not in {parent}.{key}: {missing.head().tolist()}"


def test_ga_session_of_an_order_resolves_unless_ga_has_not_processed_it_yet(world):
    orders = world["orders"].dropna(subset=["ga_session_id"])
    dangling = orders[~orders["ga_session_id"].isin(world["web_sessions"]["session_id"])]
    # GA processes a session up to ~72 h after it: the newest ones are not in GA's data yet
    assert (dangling["placed_at"] > pd.Timestamp(world.meta.now) - pd.Timedelta(hours=72)).all()
    assert (orders["channel"] == "web").all()


def test_links_agree_in_both_directions(world):
    orders = world["orders"]
    buyers = world["buyers"].set_index("buyer_id")["customer_id"]
    for name in ("orders", "carts", "quotes"):
        frame = world[name]
        assert (frame["buyer_id"].map(buyers) == frame["customer_id"]).all(), name
    carts = world["carts"].dropna(subset=["order_id"])
    assert (carts["order_id"].map(orders.set_index("order_id")["cart_id"]) == carts["cart_id"]).all()
    quotes = world["quotes"].dropna(subset=["order_id"])
    assert (quotes["order_id"].map(orders.set_index("order_id")["quote_id"]) == quotes["quote_id"]).all()
    deals = world["crm_deals"].set_index("deal_id")
    assert (world["quotes"]["deal_id"].map(deals["quote_id"]) == world["quotes"]["quote_id"]).all()
    sessions = world["web_sessions"].dropna(subset=["order_id"])
    session_of_order = orders.set_index("order_id")["ga_session_id"]
    assert (sessions["order_id"].map(session_of_order) == sessions["session_id"]).all()
    customers = world["customers"].dropna(subset=["crm_contact_id"])
    contacts = world["crm_contacts"].set_index("contact_id")
    converted = customers[customers["crm_contact_id"].map(contacts["customer_at"]).notna()]
    assert (converted["crm_contact_id"].map(contacts["customer_id"]) == converted["customer_id"]).all()
    catalog_of = world["customers"].set_index("customer_id")["catalog_id"]
    assert (orders["catalog_id"] == orders["customer_id"].map(catalog_of)).all()
    own = world["catalogs"].dropna(subset=["customer_id"])
    assert (own["customer_id"].map(catalog_of) == own["catalog_id"]).all()


def test_money_adds_up_in_cents(world):
    lines = world["order_lines"]
    cents = (lines["quantity"] * (lines["unit_price"] * 100).round()).groupby(lines["order_id"]).sum()
    orders = world["orders"].set_index("order_id")
    assert ((orders["revenue"] * 100).round() == cents.reindex(orders.index)).all()
    cost = (lines["quantity"] * (lines["unit_cost"] * 100).round()).groupby(lines["order_id"]).sum()
    assert ((orders["cost"] * 100).round() == cost.reindex(orders.index)).all()
    quotes = world["quotes"].dropna(subset=["quoted_amount"])
    assert ((quotes["list_amount"] - quotes["quoted_amount"] - quotes["discount_amount"]).abs() < 0.005).all()
    assert (quotes["discount_amount"] >= 0).all()
    invoices = world["invoices"]
    assert (invoices["amount"] == invoices["order_id"].map(orders["revenue"])).all()
    quote_orders = world["quotes"].dropna(subset=["order_id"])
    assert (quote_orders["order_id"].map(orders["revenue"]) == quote_orders["quoted_amount"]).all()


# --- lifecycles ------------------------------------------------------------------------------------

def _ordered(frame: pd.DataFrame, *columns: str) -> None:
    """Each present moment is at or after the previous present one."""
    for earlier, later in itertools.pairwise(columns):
        both = frame[[earlier, later]].dropna()
        bad = both[both[later] < both[earlier]]
        assert bad.empty, f"{earlier} after {later} in {len(bad)} rows"


def _in_office_hours(moments: pd.Series) -> pd.Series:
    local = moments.dt.tz_convert(TZ)
    seconds = (local - local.dt.normalize()).dt.total_seconds()
    office_day = local.dt.date.map(CALENDAR.is_office_day).astype(bool)
    return office_day & (seconds >= 8.5 * 3600) & (seconds <= 17.5 * 3600)


def test_lifecycles_are_in_order(world):
    _ordered(world["crm_contacts"], "subscriber_at", "lead_at")
    _ordered(world["crm_contacts"], "created_at", *STAGES)
    _ordered(world["quotes"], "requested_at", "first_action_at", "issued_at", "decided_at", "ordered_at")
    _ordered(world["crm_deals"], "created_at", "contractsent_at", "closedwon_at")
    _ordered(world["crm_deals"], "contractsent_at", "closedlost_at")
    _ordered(world["tickets"], "created_at", "first_reply_at", "solved_at")
    _ordered(world["calls"], "started_at", "answered_at", "ended_at")
    _ordered(world["calls"], "started_at", "ended_at")
    _ordered(world["carts"], "created_at", "ordered_at")
    _ordered(world["carts"], "created_at", "abandoned_at")
    _ordered(world["invoices"], "issued_at", "paid_at")
    shipments = world["shipments"].merge(world["orders"][["order_id", "placed_at"]], on="order_id")
    _ordered(shipments, "placed_at", "shipped_at", "delivered_at")
    contacts = world["crm_contacts"]
    later_stage = contacts[["mql_at", "sql_at", "opportunity_at", "customer_at"]].notna()
    assert (contacts.loc[later_stage.any(axis=1), "lead_at"].notna()).all()
    # a stage is only reached when the one before it was
    for earlier, later in itertools.pairwise(STAGES[1:]):
        assert contacts.loc[contacts[later].notna(), earlier].notna().all()


def test_drop_off_through_the_funnel(world):
    contacts = world["crm_contacts"]
    window = contacts[contacts["created_at"] >= pd.Timestamp(world.meta.start, tz=TZ)]
    counts = [window[c].notna().sum() for c in STAGES]
    assert all(a > b for a, b in itertools.pairwise(counts)), counts
    assert 0.2 < counts[1] / counts[0] < 0.7


def test_office_work_happens_in_office_hours(world):
    quotes = world["quotes"].dropna(subset=["first_action_at"])
    assert _in_office_hours(quotes["first_action_at"]).all()
    assert _in_office_hours(quotes["issued_at"].dropna()).all()
    tickets = world["tickets"].dropna(subset=["first_reply_at"])
    assert _in_office_hours(tickets["first_reply_at"]).all()
    assert _in_office_hours(tickets["solved_at"].dropna()).all()
    # a ticket's reply time in office hours never exceeds its calendar time
    business = CALENDAR.business_seconds_between(tickets["created_at"], tickets["first_reply_at"])
    calendar = (tickets["first_reply_at"] - tickets["created_at"]).dt.total_seconds()
    assert (business <= calendar + 1e-6).all()
    inbound = world["calls"][world["calls"]["direction"] == "inbound"]
    closed = inbound["missed_call_reason"].eq("out_of_opening_hours").fillna(False)
    assert (~_in_office_hours(inbound.loc[closed, "started_at"])).all()
    assert _in_office_hours(inbound.loc[inbound["answered_at"].notna(), "started_at"]).all()


def test_statuses_match_the_moments_as_of_now(world):
    now = pd.Timestamp(world.meta.now)
    for name in TABLES:
        for column in TABLES[name].columns:
            if column.type == "timestamp":
                assert (world[name][column.name].dropna() <= now).all(), f"{name}.{column.name} after now"
    tickets = world["tickets"]
    assert (tickets["solved_at"].isna() == tickets["status"].isin(["new", "open", "pending"])).all()
    assert (tickets["first_reply_at"].isna() == (tickets["status"] == "new")).all()
    closed = tickets["status"] == "closed"
    assert (tickets.loc[closed, "solved_at"] + pd.Timedelta(days=4) <= now).all()
    carts = world["carts"]
    assert (carts["status"] == np.select([carts["ordered_at"].notna(), carts["abandoned_at"].notna()],
                                         ["ordered", "abandoned"], "open")).all()
    assert (carts.loc[carts["status"] == "open", "created_at"] > now - pd.Timedelta(hours=24)).all()
    parcels = world["shipments"][["order_id", "shipped_at", "delivered_at"]]
    orders = world["orders"].merge(parcels, "left", "order_id")
    expected = np.select(
        [orders["cancelled_at"].notna(), orders["delivered_at"].notna(), orders["shipped_at"].notna()],
        ["cancelled", "delivered", "shipped"], "placed")
    assert (orders["status"] == expected).all()
    quotes = world["quotes"]
    assert (quotes["outcome"].isna() == quotes["decided_at"].isna()).all()
    for name, created in [("orders", "placed_at"), ("carts", "created_at"), ("tickets", "created_at"),
                          ("crm_contacts", "created_at"), ("quotes", "requested_at"),
                          ("shipments", "shipped_at")]:
        frame = world[name]
        assert (frame["updated_at"] >= frame[created]).all(), name
    # updated_at is the last change: e.g. a delivered order was last changed at delivery
    delivered = orders[orders["status"] == "delivered"]
    assert (delivered["updated_at"] == delivered["delivered_at"]).all()


def test_ga_sees_most_sessions_some_hours_to_three_days_later(world):
    sessions = world["web_sessions"]
    normal = sessions[~_local_day(sessions["started_at"]).isin(
        [i.start for i in world.meta.incidents if i.name == "ga_tracking_outage"])]
    assert 0.82 < normal["ga_tracked"].mean() < 0.93
    tracked = sessions[sessions["ga_tracked"]]
    ended = tracked["started_at"] + pd.to_timedelta(tracked["duration_seconds"], unit="s")
    lag = (tracked["ga_processed_at"] - ended).dt.total_seconds() / 3600
    assert lag.min() > 0 and lag.max() <= 72 and (lag > 24).mean() > 0.1
    assert sessions.loc[~sessions["ga_tracked"], "ga_processed_at"].isna().all()
    # a session is engaged, or it is a one-page bounce under ten seconds
    bounced = sessions[~sessions["engaged"]]
    assert (bounced["page_views"] == 1).all() and (bounced["duration_seconds"] < 10).all()
    assert (sessions["engagement_seconds"] <= sessions["duration_seconds"]).all()
    assert (bounced["landing_page"] == bounced["exit_page"]).all()
    # a user is new only in its first session
    users = sessions.sort_values(["started_at", "session_id"])
    first = ~users["user_pseudo_id"].duplicated()
    assert (users.loc[users["is_new_user"], "user_pseudo_id"].duplicated().sum()) == 0
    assert first[users["is_new_user"]].all()
    assert 0.2 < sessions["is_new_user"].mean() < 0.4


def test_site_search_terms_follow_a_zipf_like_curve(world):
    counts = world["site_searches"]["search_term"].value_counts().to_numpy()
    assert len(counts) > 100
    assert counts[0] > 5 * counts[20] and counts[20] > 2 * counts[150]


def test_ad_clicks_cover_the_paid_sessions(world):
    sessions = world["web_sessions"]
    paid = sessions[sessions["google_ads_campaign"].notna()]
    assert set(paid["medium"]) <= {"cpc", "display"} and set(paid["source"]) == {"google"}
    visits = paid.groupby([_local_day(paid["started_at"]), "google_ads_campaign"]).size()
    ads = world["ad_daily"].set_index(["date", "campaign"])
    clicks = ads.loc[ads["platform"] == "google_ads", "clicks"]
    joined = pd.concat([visits.rename("visits"), clicks.rename("clicks")], axis=1).fillna(0)
    assert (joined["clicks"] >= joined["visits"]).all()
    assert 1.0 < joined["clicks"].sum() / joined["visits"].sum() < 1.3
    assert set(world["ad_daily"]["platform"]) == {"google_ads", "linkedin", "microsoft_ads"}
    assert (world["ad_daily"]["impressions"] >= world["ad_daily"]["clicks"]).all()


# --- volumes and rhythms ---------------------------------------------------------------------------

def _per_day(moments: pd.Series, world) -> pd.Series:
    days = pd.date_range(world.meta.start, world.meta.end).date
    return _local_day(moments).value_counts().reindex(days, fill_value=0)


def test_scale_one_volumes(world):
    incident_days = {d.date() for i in world.meta.incidents for d in pd.date_range(i.start, i.end)}
    office = _office_days(world, exclude=incident_days)
    orders = _per_day(world["orders"]["placed_at"], world)
    sessions = _per_day(world["web_sessions"]["started_at"], world)
    assert 45 <= orders[office].mean() <= 75
    assert 1_200 <= sessions[office[:-3]].mean() <= 1_800  # GA has not processed all of the last days
    assert 250 <= len(world["customers"]) <= 380
    assert set(world["customers"]["segment"]) == {"wholesale", "installer", "retail_chain", "public_sector"}
    assert 2 <= len(world["buyers"]) / len(world["customers"]) <= 5
    assert len(world["products"]) == 400 and world["products"]["category"].nunique() == 8
    assert len(world["sales_agents"]) == 8 and len(world["resellers"]) == 6
    assert 0.1 <= world["customers"]["reseller_id"].notna().mean() <= 0.3
    assert world["catalogs"]["kind"].value_counts()["public"] >= 1
    assert world["catalogs"]["kind"].value_counts()["customer"] >= 10
    products = world["products"]
    margin = 1 - products["unit_cost"] / products["list_price"]
    assert margin.between(0.19, 0.41).all()
    channels = world["orders"]["channel"].value_counts(normalize=True)
    assert set(channels.index) == {"web", "sales_rep", "phone", "email"} and channels["web"] > 0.5
    methods = {"invoice", "ideal", "credit_card", "paypal", "direct_debit"}
    assert set(world["orders"]["payment_method"]) == methods


def test_scale_multiplies_volumes(world):
    doubled = generate(seed=11, days=14, scale=2.0, end=END, calendar=CALENDAR)
    days = _office_days(doubled)[:-3]
    base_days = _office_days(world)
    for table, column in [("orders", "placed_at"), ("web_sessions", "started_at"), ("calls", "started_at"),
                          ("carts", "created_at")]:
        doubled_mean = _per_day(doubled[table][column], doubled)[days].mean()
        ratio = doubled_mean / _per_day(world[table][column], world)[base_days[:-3]].mean()
        assert 1.6 < ratio < 2.5, (table, ratio)
    assert 1.8 < len(doubled["customers"]) / len(world["customers"]) < 2.3


def test_weekdays_are_busy_weekends_and_holidays_quiet(world):
    days = pd.date_range(world.meta.start, world.meta.end).date
    weekend = [d for d in days if d.isoweekday() >= 6]
    office = _office_days(world)
    for table, column, factor in [("orders", "placed_at", 6), ("web_sessions", "started_at", 3),
                                  ("calls", "started_at", 6), ("quotes", "requested_at", 4)]:
        per_day = _per_day(world[table][column], world)
        assert per_day[office].mean() > factor * per_day[weekend].mean(), table
    placed = world["orders"]["placed_at"].dt.tz_convert(TZ)
    in_office_hours = placed.dt.hour.between(8, 17)
    assert 0.7 < in_office_hours.mean() < 0.97  # some orders come in the evening (G5)


def test_lateness_and_disputes_are_realistic_outside_incidents(world):
    strike = world.meta.incident("carrier_strike")
    shipments = world["shipments"].dropna(subset=["delivered_at"])
    shipped_day = _local_day(shipments["shipped_at"])
    normal = shipments[~shipped_day.between(strike.start, strike.end)]
    late = _local_day(normal["delivered_at"]) > normal["promised_date"]
    assert 0.02 < late.mean() < 0.10
    assert set(world["shipments"]["carrier"]) == {"PostNL", "DHL", "UPS", "DPD"}
    assert set(world["shipments"]["feed"]) == {"csv", "easypost"}
    disputes = world["disputes"]
    assert 0.015 < len(disputes) / len(world["orders"]) < 0.06
    assert disputes["zendesk_ticket_id"].notna().mean() > 0.4
    nps = world["nps_responses"]
    assert nps["score"].between(0, 10).all() and nps["submitted_at"].dt.tz_convert(TZ).dt.month.nunique() >= 2


# --- incidents -------------------------------------------------------------------------------------

def _neighbours(world, day: dt.date, span: int = 7) -> list[dt.date]:
    incident_days = {d.date() for i in world.meta.incidents for d in pd.date_range(i.start, i.end)}
    office = _office_days(world, exclude=incident_days)
    return [d for d in office if 0 < abs((d - day).days) <= span]


def test_incidents_inside_the_window_are_listed_and_outside_ones_are_not(world):
    assert {i.name for i in world.meta.incidents} == {
        "checkout_bug", "ga_tracking_outage", "phone_staffing_gap", "carrier_strike", "price_error"}
    for incident in world.meta.incidents:
        assert world.meta.start <= incident.start <= incident.end <= world.meta.end
    strike = world.meta.incident("carrier_strike")
    assert strike.start.isoweekday() == 1 and (strike.end - strike.start).days == 6
    short = generate(seed=11, days=25, scale=0.2, end=END, calendar=CALENDAR)
    assert {i.name for i in short.meta.incidents} == {"checkout_bug", "ga_tracking_outage"}


def test_checkout_bug_spikes_cart_abandonment_and_drops_web_orders(world):
    day = world.meta.incident("checkout_bug").start
    carts = world["carts"]
    created = _local_day(carts["created_at"])
    abandoned = (carts["status"] != "ordered").groupby(created).mean()
    web = _per_day(world["orders"].loc[world["orders"]["channel"] == "web", "placed_at"], world)
    around = _neighbours(world, day)
    assert abandoned[day] > 0.6
    assert abandoned[around].max() < 0.45 and abandoned[around].mean() < 0.3
    assert web[day] < 0.4 * web[around].mean()


def test_ga_outage_collapses_ga_sessions_but_not_shop_orders(world):
    day = world.meta.incident("ga_tracking_outage").start
    sessions = world["web_sessions"]
    ga = _per_day(sessions.loc[sessions["ga_tracked"], "started_at"], world)
    orders = world["orders"]
    shop = _per_day(orders["placed_at"], world)
    around = [d for d in _neighbours(world, day) if d < world.meta.end - dt.timedelta(days=3)]
    assert ga[day] < 0.2 * ga[around].mean()
    assert ga[around].min() > 0.6 * ga[around].mean()
    assert shop[day] > 0.6 * shop[around].mean()
    on_day = orders[_local_day(orders["placed_at"]) == day]
    assert on_day.loc[on_day["channel"] == "web", "ga_tracked"].mean() < 0.1


def test_phone_staffing_gap_raises_wait_and_lowers_answer_rate_and_sla(world):
    incident = world.meta.incident("phone_staffing_gap")
    calls = world["calls"]
    closed = calls["missed_call_reason"].eq("out_of_opening_hours").fillna(False)
    inbound = calls[(calls["direction"] == "inbound") & ~closed]
    day = _local_day(inbound["started_at"])
    wait = (inbound["answered_at"] - inbound["started_at"]).dt.total_seconds()
    answered = inbound["answered_at"].notna()
    within_sla = answered & (wait <= 40)
    gap = day.between(incident.start, incident.end)
    around = day.isin(_neighbours(world, incident.start, 10))
    assert wait[gap].mean() > 2 * wait[around].mean()
    assert answered[gap].mean() < answered[around].mean() - 0.2
    assert within_sla[gap].mean() < within_sla[around].mean() - 0.2


def test_carrier_strike_makes_one_carriers_parcels_late_for_one_week(world):
    strike = world.meta.incident("carrier_strike")
    shipments = world["shipments"].dropna(subset=["delivered_at"])
    shipped = _local_day(shipments["shipped_at"])
    late = _local_day(shipments["delivered_at"]) > shipments["promised_date"]
    postnl = shipments["carrier"] == "PostNL"
    in_week = shipped.between(strike.start, strike.end)
    week_before = shipped.between(strike.start - dt.timedelta(days=7), strike.start - dt.timedelta(days=1))
    week_after = shipped.between(strike.end + dt.timedelta(days=1), strike.end + dt.timedelta(days=7))
    assert late[postnl & in_week].mean() > 0.6
    assert late[postnl & week_before].mean() < 0.2 and late[postnl & week_after].mean() < 0.2
    assert late[~postnl & in_week].mean() < 0.2
    scans = world["shipment_events"]
    delayed = scans[scans["message"].str.contains("industrial action")]
    assert delayed["tracking_code"].isin(shipments.loc[postnl & in_week, "tracking_code"]).all()


def test_price_error_sells_one_category_below_cost(world):
    incident = world.meta.incident("price_error")
    lines = world["order_lines"].merge(world["orders"][["order_id", "placed_at"]], on="order_id").merge(
        world["products"][["product_id", "category"]], on="product_id")
    lines = lines[lines["category"] == "Power tools"]
    day = _local_day(lines["placed_at"])
    margin = (lines["quantity"] * (lines["unit_price"] - lines["unit_cost"])).groupby(day).sum()
    during = [d for d in pd.date_range(incident.start, incident.end).date if CALENDAR.is_office_day(d)]
    assert (margin[during] < 0).all()
    assert (margin.reindex(_neighbours(world, incident.start)).dropna() > 0).all()


# --- the command line ------------------------------------------------------------------------------

def test_cli_generates_a_world_and_lists_its_incidents(tmp_path, monkeypatch):
    from pulse.cli import main

    monkeypatch.setenv("PULSE_HOLIDAY_COUNTRY", "NL")
    runner = CliRunner()
    result = runner.invoke(main, ["sandbox", "generate", "--seed", "3", "--days", "25", "--scale", "0.1",
                                  "--end", "2026-06-19", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    world = load_world(tmp_path)
    assert (world.meta.seed, world.meta.start, world.meta.end) == (3, dt.date(2026, 5, 26), END)
    assert len(world["orders"]) > 0
    listed = runner.invoke(main, ["sandbox", "incidents", "--out", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    for incident in world.meta.incidents:
        assert f"{incident.name}" in listed.output and str(incident.start) in listed.output
    missing = runner.invoke(main, ["sandbox", "incidents", "--out", str(tmp_path / "world")])
    assert missing.exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(main, ["sandbox", "incidents", "--out", str(empty)])
    assert nothing.exit_code != 0 and "pulse sandbox generate" in nothing.output
