"""The Aircall sandbox speaks `GET /v1/calls`: documented fields, basic `api_id:api_token` auth,
inclusive `from`/`to` on the start time, page links, at most 10,000 items per query (a lower cap
here), and calls listed once they have ended.
Docs: https://developer.aircall.io/api-references/#list-all-calls,
https://support.aircall.io/en-gb/articles/34702023578397"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pulse.sandbox.servers.aircall import AircallServer
from sandbox.fixtures.sandbox_runs import call, check_payload, small_world

SCHEMA = "aircall_calls.schema.json"


@pytest.fixture(scope="module")
def server():
    with AircallServer(small_world()) as running:
        yield running


@pytest.fixture(autouse=True)
def reset(server):
    server.set_clock(None)
    server.faults = type(server.faults)()
    server.result_cap = AircallServer.result_cap


def auth(server):
    return (server.credentials["login"], server.credentials["password"])


def pages(server, **params):
    url, found = "/v1/calls", []
    while url:
        response = call(server, "GET", url, auth=auth(server), params=params)
        assert response.status_code == 200, response.text
        found.append(response.json())
        link = found[-1]["meta"]["next_page_link"]
        url, params = (link.removeprefix(server.url), None) if link else (None, None)
    return found


def epoch(moment):
    return int(pd.Timestamp(moment).timestamp())


def test_calls_follow_the_documented_fields_and_match_the_world(server):
    listed = pages(server, per_page=50, order="asc")
    for page in listed:
        check_payload(SCHEMA, page)
    calls = [c for page in listed for c in page["calls"]]
    world = small_world()["calls"].sort_values(["started_at", "call_id"])
    assert [c["id"] for c in calls] == world["call_id"].tolist()
    assert listed[0]["meta"]["total"] == len(world)
    for record, truth in zip(calls, world.itertuples(), strict=True):
        assert record["started_at"] == epoch(truth.started_at) and record["ended_at"] == epoch(truth.ended_at)
        assert record["answered_at"] == (None if pd.isna(truth.answered_at) else epoch(truth.answered_at))
        assert record["duration"] == epoch(truth.ended_at) - epoch(truth.started_at)
        assert record["missed_call_reason"] == (None if pd.isna(truth.missed_call_reason) else truth.missed_call_reason)
        assert (record["user"] or {}).get("id") == (None if pd.isna(truth.user_id) else truth.user_id)


def test_from_and_to_are_inclusive_bounds_on_the_start(server):
    world = small_world()["calls"].sort_values("started_at")
    low, high = world.iloc[10]["started_at"], world.iloc[40]["started_at"]
    calls = [c for page in pages(server, **{"from": epoch(low), "to": epoch(high), "per_page": 20})
             for c in page["calls"]]
    expected = world[(world["started_at"] >= low.floor("s")) & (world["started_at"] <= high.floor("s"))]
    assert sorted(c["id"] for c in calls) == sorted(expected["call_id"]) and len(calls) >= 31


def test_no_page_past_the_cap_is_served(server):
    server.result_cap = 30
    first = call(server, "GET", "/v1/calls", auth=auth(server), params={"per_page": 20, "page": 2}).json()
    assert first["meta"]["total"] == len(small_world()["calls"]) > 30
    assert len(first["calls"]) == 10 and first["meta"]["next_page_link"] is None
    refused = call(server, "GET", "/v1/calls", auth=auth(server), params={"per_page": 20, "page": 3})
    assert refused.status_code == 400
    assert call(server, "GET", "/v1/calls", auth=auth(server), params={"per_page": 51}).status_code == 400


def test_a_call_is_listed_once_it_has_ended(server):
    longest = small_world()["calls"].assign(
        length=lambda f: f["ended_at"] - f["started_at"]).sort_values("length").iloc[-1]
    server.set_clock(longest["ended_at"].to_pydatetime() - dt.timedelta(seconds=1))
    assert longest["call_id"] not in [c["id"] for p in pages(server, per_page=50) for c in p["calls"]]
    server.set_clock(longest["ended_at"].to_pydatetime())
    assert longest["call_id"] in [c["id"] for p in pages(server, per_page=50) for c in p["calls"]]


def test_credentials_are_checked_like_aircall(server):
    assert call(server, "GET", "/v1/calls").status_code == 401
    swapped = (server.credentials["password"], server.credentials["login"])
    assert call(server, "GET", "/v1/calls", auth=swapped).status_code == 401
