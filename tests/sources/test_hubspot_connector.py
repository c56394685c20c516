"""The HubSpot connector against the sandbox: first load by list, incremental search from the saved
cursor minus its lookback, a late revision caught by the lookback, identical reruns, and search
windows split before any search reaches the 10,000-result cap (a lower cap here)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pandas as pd
import pytest

from pulse import landing
from pulse.sandbox.servers.hubspot import HubSpotServer
from pulse.sources.hubspot import CONTACTS, DEALS, HubSpotSource
from pulse.warehouse.hashing import table_hash
from sandbox.fixtures.sandbox_runs import (
    call,
    raw,
    run,
    small_world,
    state,
    use_temporary_pipeline,
    with_table,
)

STAGES = {"lead": "lead_at", "marketingqualifiedlead": "mql_at", "salesqualifiedlead": "sql_at",
          "opportunity": "opportunity_at", "customer": "customer_at"}


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    return use_temporary_pipeline(monkeypatch, tmp_path)


@pytest.fixture
def server():
    with HubSpotServer(small_world()) as running:
        yield running


def source_for(server, **overrides):
    source = HubSpotSource(connection=server.source_connection())
    for name, value in overrides.items():
        setattr(source, name, value)
    return source


def search_filters(batch_id):
    """The filters of every search the batch made, as landed with its pages."""
    manifest = landing.open_batch(batch_id).manifest
    bodies = [json.loads(f.meta["request_body"]) for f in manifest.files if f.meta.get("method") == "POST"]
    return [f for body in bodies for group in body["filterGroups"] for f in group["filters"]]


def millis(moment):
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)


def values(series):
    return [None if pd.isna(v) else v for v in series]


def load_earlier_then_now(server, warehouse, source, stream):
    """A first load with the server clock six days back, then an incremental run at its now.
    Returns the second batch and the cursor the first one saved."""
    now = server.clock
    earlier = now - dt.timedelta(days=6)
    server.set_clock(earlier)
    first, _ = run(source, stream.name, warehouse, end=earlier)
    saved = dt.datetime.fromisoformat(state(warehouse, stream)["cursor"])
    assert server.requests and all(r["method"] == "GET" for r in server.requests)  # listed: no search cap
    server.set_clock(None)
    server.requests.clear()
    second, _ = run(source, stream.name, warehouse, end=now)
    assert server.requests and all(r["method"] == "POST" for r in server.requests)
    # the incremental run searched from the saved cursor minus the lookback
    lows = {int(f["value"]) for f in search_filters(second.batch_id) if f["operator"] == "GTE"}
    assert min(lows) == millis(saved - stream.lookback) and first.record_count > second.record_count > 0
    return second, saved


def assert_rerun_is_identical(source, stream, warehouse, end):
    with warehouse.connect() as connection:
        before = table_hash(connection, stream.raw_table)
    run(source, stream.name, warehouse, end=end)
    with warehouse.connect() as connection:
        assert table_hash(connection, stream.raw_table) == before


def test_contacts_load_resume_rerun_and_a_late_revision(server, warehouse):
    source = source_for(server, list_page_size=25, search_page_size=20)
    load_earlier_then_now(server, warehouse, source, CONTACTS)
    world = small_world()["crm_contacts"].sort_values("contact_id")
    loaded = raw(warehouse, CONTACTS.raw_table, "id")
    assert loaded["id"].tolist() == world["contact_id"].tolist()
    assert values(loaded["lastmodifieddate"]) == values(world["updated_at"])
    for stage, column in STAGES.items():
        assert values(loaded[f"hs_lifecyclestage_{stage}_date"]) == values(world[column]), stage
    for field, column in (("hs_persona", "persona"), ("hs_analytics_source", "analytics_source"),
                          ("utm_campaign", "utm_campaign"), ("pulse_customer_id", "customer_id"),
                          ("hubspot_owner_id", "owner_id")):
        assert values(loaded[field]) == values(world[column]), field
    reached = pd.Series("subscriber", index=world.index)
    for stage, column in STAGES.items():
        reached = reached.mask(world[column].notna(), stage)
    assert loaded["lifecyclestage"].tolist() == reached.tolist()
    cursor = dt.datetime.fromisoformat(state(warehouse, CONTACTS)["cursor"])
    assert cursor == world["updated_at"].max()
    assert_rerun_is_identical(source, CONTACTS, warehouse, server.clock)

    # HubSpot's search index trails its writes: a change stamped before the saved cursor can show
    # up after the run. The next run starts a day before the cursor, and so still finds it.
    contacts = small_world()["crm_contacts"].copy()
    revised = int(contacts[contacts["persona"] != "persona_3"].iloc[0]["contact_id"])
    late = pd.Timestamp(cursor - dt.timedelta(hours=5))
    contacts.loc[contacts["contact_id"] == revised, ["persona", "updated_at"]] = ["persona_3", late]
    server.world = with_table(small_world(), "crm_contacts", contacts)
    server.set_clock(None)
    # the control: a search from the cursor itself (no lookback) does not return the revision
    control = call(server, "POST", "/crm/v3/objects/contacts/search", headers={
        "Authorization": f"Bearer {server.credentials['password']}"}, json={"limit": 200, "filterGroups": [
            {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(millis(cursor))}]}]})
    assert revised not in {int(r["id"]) for r in control.json()["results"]}
    run(source, "contacts", warehouse, end=server.clock)
    loaded = raw(warehouse, CONTACTS.raw_table, "id").set_index("id")
    assert loaded.loc[revised, "hs_persona"] == "persona_3" and loaded.loc[revised, "lastmodifieddate"] == late


def test_deals_load_resume_and_rerun(server, warehouse):
    source = source_for(server, list_page_size=10, search_page_size=10)
    load_earlier_then_now(server, warehouse, source, DEALS)
    world = small_world()["crm_deals"].sort_values("deal_id")
    loaded = raw(warehouse, DEALS.raw_table, "id")
    assert loaded["id"].tolist() == world["deal_id"].tolist()
    assert [float(v) for v in loaded["amount"]] == world["amount"].tolist()
    assert values(loaded["pulse_quote_id"]) == values(world["quote_id"])
    assert values(loaded["hs_lastmodifieddate"]) == values(world["updated_at"])
    stage = ["closedwon" if pd.notna(r.closedwon_at) else "closedlost" if pd.notna(r.closedlost_at)
             else "contractsent" if pd.notna(r.contractsent_at) else "appointmentscheduled" for r in world.itertuples()]
    assert loaded["dealstage"].tolist() == stage
    assert_rerun_is_identical(source, DEALS, warehouse, server.clock)


def test_windows_are_split_so_no_search_reaches_the_cap(server, warehouse):
    cap = 15
    server.search_result_cap = cap
    source = source_for(server, search_result_cap=cap, search_page_size=10)
    start = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)  # a backfill: a search over every contact
    extracted, _ = run(source, "contacts", warehouse, end=server.clock, start=start)
    assert raw(warehouse, CONTACTS.raw_table, "id")["id"].tolist() == sorted(small_world()["crm_contacts"]["contact_id"])
    windows = landing.open_batch(extracted.batch_id).manifest.metadata["windows"]
    assert len(windows) > len(small_world()["crm_contacts"]) // cap  # split until each window fits
    assert all(w["total"] <= cap for w in windows)
    assert sum(w["total"] for w in windows) == len(small_world()["crm_contacts"])
    # windows tile the backfill range: each starts where the previous ended
    bounds = [(pd.Timestamp(w["start"]), pd.Timestamp(w["end"])) for w in windows]
    assert bounds[0][0] == pd.Timestamp(start) and bounds[-1][1] == pd.Timestamp(server.clock)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
