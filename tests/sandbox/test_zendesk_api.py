"""The Zendesk sandbox speaks the cursor-based incremental ticket export: documented fields,
`email/token` basic auth, cursors that resume where a page ended, `end_of_stream`, tickets that
come back when they change again, the last minute held back, and metric sets in business minutes.
Docs: https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.servers.zendesk import CUSTOMER_ID_FIELD, EXPORT_PATH, ORDER_ID_FIELD, ZendeskServer
from sandbox.fixtures.sandbox_runs import call, check_payload, small_world

SCHEMA = "zendesk_incremental_tickets.schema.json"


@pytest.fixture(scope="module")
def server():
    with ZendeskServer(small_world()) as running:
        yield running


@pytest.fixture(autouse=True)
def reset(server):
    server.set_clock(None)
    server.faults = type(server.faults)()


def auth(server):
    return (f"{server.credentials['login']}/token", server.credentials["password"])


def export(server, **params):
    """Every page from the given start, following after_cursor until end_of_stream."""
    pages = []
    while True:
        response = call(server, "GET", EXPORT_PATH, auth=auth(server), params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if pages[-1]["end_of_stream"]:
            return pages
        params = {"cursor": pages[-1]["after_cursor"], "per_page": params.get("per_page", 1000),
                  "include": "metric_sets"}


def test_the_export_pages_every_ticket_once_in_change_order_with_documented_fields(server):
    pages = export(server, start_time=0, per_page=15, include="metric_sets")
    for page in pages:
        check_payload(SCHEMA, page)
        assert [m["ticket_id"] for m in page["metric_sets"]] == [t["id"] for t in page["tickets"]]
    tickets = [t for page in pages for t in page["tickets"]]
    world = small_world()["tickets"]
    assert sorted(t["id"] for t in tickets) == sorted(world["ticket_id"])
    order = [(t["generated_timestamp"], t["id"]) for t in tickets]
    assert order == sorted(order)
    assert len(pages) == -(-len(world) // 15) and not any(p["end_of_stream"] for p in pages[:-1])
    by_id = world.set_index("ticket_id")
    for ticket in tickets:
        truth = by_id.loc[ticket["id"]]
        fields = {f["id"]: f["value"] for f in ticket["custom_fields"]}
        assert fields[ORDER_ID_FIELD] == (None if pd.isna(truth["order_id"]) else str(truth["order_id"]))
        assert fields[CUSTOMER_ID_FIELD] == (None if pd.isna(truth["customer_id"]) else str(truth["customer_id"]))
        assert ticket["status"] == truth["status"] and ticket["via"]["channel"] == truth["channel"]


def test_a_start_time_and_a_cursor_resume_where_they_should(server):
    world = small_world()["tickets"]
    middle = world["updated_at"].sort_values().iloc[len(world) // 2]
    start = int(middle.timestamp())
    since = [t["id"] for p in export(server, start_time=start) for t in p["tickets"]]
    assert sorted(since) == sorted(world[world["updated_at"] >= pd.Timestamp(start, unit="s", tz="UTC")]["ticket_id"])
    first = call(server, "GET", EXPORT_PATH, auth=auth(server), params={"start_time": 0, "per_page": 10}).json()
    rest = [t["id"] for p in export(server, cursor=first["after_cursor"]) for t in p["tickets"]]
    assert [t["id"] for t in first["tickets"]] + rest == [t["id"] for p in export(server, start_time=0) for t in
                                                         p["tickets"]]


def test_a_ticket_that_changes_later_comes_back_further_on(server):
    world = small_world()["tickets"]
    solved = world.dropna(subset=["solved_at"]).sort_values("solved_at").iloc[-1]
    server.set_clock(solved["solved_at"].to_pydatetime() - dt.timedelta(minutes=5))
    pages = export(server, start_time=0)
    before = {t["id"]: t for p in pages for t in p["tickets"]}
    assert before[solved["ticket_id"]]["status"] in {"new", "open", "pending"}
    server.set_clock(None)
    after = [t for p in export(server, cursor=pages[-1]["after_cursor"]) for t in p["tickets"]]
    again = [t for t in after if t["id"] == solved["ticket_id"]]
    assert len(again) == 1 and again[0]["status"] in {"solved", "closed"}
    assert all(t["updated_at"] >= pages[-1]["tickets"][-1]["updated_at"] for t in after)


def test_changes_of_the_last_minute_are_held_back(server):
    latest = small_world()["tickets"].sort_values("updated_at").iloc[-1]
    server.set_clock(latest["updated_at"].to_pydatetime() + dt.timedelta(seconds=30))
    assert latest["ticket_id"] not in [t["id"] for p in export(server, start_time=0) for t in p["tickets"]]
    server.set_clock(latest["updated_at"].to_pydatetime() + dt.timedelta(seconds=61))
    assert latest["ticket_id"] in [t["id"] for p in export(server, start_time=0) for t in p["tickets"]]


def test_metric_sets_count_calendar_and_business_minutes(server):
    metrics = {m["ticket_id"]: m for p in export(server, start_time=0, include="metric_sets")
               for m in p["metric_sets"]}
    world = small_world()
    calendar = BusinessCalendar.from_settings()
    checked = 0
    for row in world["tickets"].dropna(subset=["first_reply_at"]).itertuples():
        reply = metrics[row.ticket_id]["reply_time_in_minutes"]
        seconds = (row.first_reply_at - row.created_at).total_seconds()
        assert reply["calendar"] == int(seconds // 60)
        # the scalar business-seconds walk, not the vectorised one the server uses
        walked = calendar.business_seconds(row.created_at.to_pydatetime(), row.first_reply_at.to_pydatetime())
        assert reply["business"] == int(walked // 60)
        checked += 1
    assert checked > 10
    unreplied = world["tickets"][world["tickets"]["first_reply_at"].isna()]["ticket_id"]
    assert all(metrics[t]["reply_time_in_minutes"] == {"calendar": None, "business": None} for t in unreplied)


def test_credentials_are_checked_like_zendesk(server):
    assert call(server, "GET", EXPORT_PATH, params={"start_time": 0}).status_code == 401
    token_as_password = (server.credentials["login"], server.credentials["password"])  # missing "/token"
    refused = call(server, "GET", EXPORT_PATH, auth=token_as_password, params={"start_time": 0})
    assert refused.status_code == 401 and refused.json() == {"error": "Couldn't authenticate you"}
    assert call(server, "GET", EXPORT_PATH, auth=auth(server)).status_code == 400  # neither start_time nor cursor
