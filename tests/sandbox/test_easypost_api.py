"""The EasyPost sandbox speaks `GET /v2/trackers`: documented fields, the API key as basic-auth
user, newest first with `before_id` and `has_more`, creation-time windows (a month when a bound
is missing), only the carriers that report through EasyPost, and estimates that move.
Docs: https://docs.easypost.com/docs/trackers"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pulse.sandbox.servers.easypost import EasyPostServer, tracker_id
from sandbox.fixtures.sandbox_runs import call, check_payload, small_world

SCHEMA = "easypost_trackers.schema.json"
EVER = {"start_datetime": "2000-01-01T00:00:00Z", "end_datetime": "2100-01-01T00:00:00Z"}


@pytest.fixture(scope="module")
def server():
    with EasyPostServer(small_world()) as running:
        yield running


@pytest.fixture(autouse=True)
def reset(server):
    server.set_clock(None)
    server.faults = type(server.faults)()


def auth(server):
    return (server.credentials["password"], "")


def pages(server, **params):
    found = []
    while True:
        response = call(server, "GET", "/v2/trackers", auth=auth(server), params=params)
        assert response.status_code == 200, response.text
        found.append(response.json())
        if not found[-1]["has_more"]:
            return found
        params = {**params, "before_id": found[-1]["trackers"][-1]["id"]}


def easypost_shipments():
    shipments = small_world()["shipments"]
    return shipments[shipments["feed"] == "easypost"]


def test_trackers_follow_the_documented_fields_newest_first(server):
    listed = pages(server, page_size=25, **EVER)
    for page in listed:
        check_payload(SCHEMA, page)
    trackers = [t for page in listed for t in page["trackers"]]
    shipments = easypost_shipments()
    assert sorted(t["tracking_code"] for t in trackers) == sorted(shipments["tracking_code"])
    created = [t["created_at"] for t in trackers]
    assert created == sorted(created, reverse=True)
    events = small_world()["shipment_events"]
    for tracker in trackers[:20]:
        scans = events[events["tracking_code"] == tracker["tracking_code"]].sort_values("occurred_at")
        assert [d["status"] for d in tracker["tracking_details"]] == scans["status"].tolist()
        assert tracker["status"] == (scans["status"].iloc[-1] if len(scans) else "pre_transit")
        truth = shipments.set_index("tracking_code").loc[tracker["tracking_code"]]
        assert tracker["est_delivery_date"] == f"{truth['est_delivery_date']}T00:00:00Z"
        assert tracker["id"] == tracker_id(tracker["tracking_code"])


def test_windows_filter_on_creation_and_default_to_a_month(server):
    shipments = easypost_shipments()
    start = pd.Timestamp(server.clock) - pd.Timedelta(days=10)
    listed = [t for p in pages(server, start_datetime=start.isoformat()) for t in p["trackers"]]
    expected = shipments[(shipments["shipped_at"] >= start) & (shipments["shipped_at"] < start + pd.DateOffset(months=1))]
    assert sorted(t["tracking_code"] for t in listed) == sorted(expected["tracking_code"])
    end = pd.Timestamp(server.clock) - pd.Timedelta(days=2)
    before_end = [t for p in pages(server, end_datetime=end.isoformat()) for t in p["trackers"]]
    expected = shipments[(shipments["shipped_at"] < end) & (shipments["shipped_at"] >= end - pd.DateOffset(months=1))]
    assert sorted(t["tracking_code"] for t in before_end) == sorted(expected["tracking_code"])
    assert call(server, "GET", "/v2/trackers", auth=auth(server), params={"page_size": 101}).status_code == 422


def test_an_estimate_moves_as_the_clock_runs(server):
    events = small_world()["shipment_events"]
    codes = set(easypost_shipments()["tracking_code"])
    estimates = events[events["tracking_code"].isin(codes)].groupby("tracking_code")["est_delivery_date"].nunique()
    moved = estimates[estimates > 1]
    if moved.empty:
        pytest.fail("the small world has no EasyPost parcel whose estimate moved; pick another seed")
    code = moved.index[0]
    scans = events[events["tracking_code"] == code].sort_values("occurred_at")
    change = scans[scans["est_delivery_date"] != scans["est_delivery_date"].iloc[0]].iloc[0]
    seen = []
    for clock in (change["occurred_at"] - dt.timedelta(seconds=1), change["occurred_at"]):
        server.set_clock(clock.to_pydatetime())
        trackers = {t["tracking_code"]: t for p in pages(server, page_size=100, **EVER) for t in p["trackers"]}
        seen.append(trackers[code]["est_delivery_date"])
    assert seen == [f"{scans['est_delivery_date'].iloc[0]}T00:00:00Z", f"{change['est_delivery_date']}T00:00:00Z"]


def test_the_api_key_is_the_user_name(server):
    assert call(server, "GET", "/v2/trackers").status_code == 401
    assert call(server, "GET", "/v2/trackers", auth=("", server.credentials["password"])).status_code == 401


def test_prepared_answers_are_the_ones_computed_on_the_first_request(server):
    clock = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
    server.set_clock(clock)
    lazily = pages(server, page_size=50, **EVER)
    server.set_clock(clock)
    server.prepare()
    assert server._tracker_cache[0] is server.view  # computed before any request
    assert pages(server, page_size=50, **EVER) == lazily
