"""The EasyPost connector against the sandbox: a first load, a resume that re-reads the trackers
created in the 30 days before the cursor (so parcels that moved on since are updated), identical
reruns, scans per tracker, and the first estimated delivery date kept although the tracker now
shows a later one."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pulse.sandbox.servers.easypost import EasyPostServer, tracker_id
from pulse.sources.easypost import TRACKER_ESTIMATES, TRACKERS, TRACKING_DETAILS, EasyPostSource
from pulse.warehouse.hashing import table_hash
from sandbox.fixtures.sandbox_runs import raw, run, small_world, state, use_temporary_pipeline

FIRST_ESTIMATE = """
select tracker_id, est_delivery_date
from raw.easypost__tracker_estimates
qualify row_number() over (partition by tracker_id order by updated_at) = 1
"""


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    return use_temporary_pipeline(monkeypatch, tmp_path)


@pytest.fixture
def server():
    with EasyPostServer(small_world()) as running:
        yield running


def parcels():
    shipments = small_world()["shipments"]
    return shipments[shipments["feed"] == "easypost"].assign(id=lambda f: f["tracking_code"].map(tracker_id))


def midnight(day):
    return pd.Timestamp(day).tz_localize("UTC")


def test_load_resume_with_30_days_of_lookback_rerun_and_first_estimates(server, warehouse):
    source = EasyPostSource(connection=server.source_connection())
    source.page_size = 30
    shipments = parcels()
    events = small_world()["shipment_events"]
    moved = events[events["tracking_code"].isin(shipments["tracking_code"])].groupby("tracking_code")[
        "est_delivery_date"].nunique()
    moved = moved[moved > 1].index
    # the first run happens when the first of those parcels has its first estimate, not its later one
    first_scans = events[events["tracking_code"].isin(moved)].sort_values("occurred_at")
    change = first_scans[first_scans["est_delivery_date"] != first_scans.groupby("tracking_code")[
        "est_delivery_date"].transform("first")].iloc[0]
    clock = change["occurred_at"].to_pydatetime() - dt.timedelta(seconds=1)
    in_transit = shipments[(shipments["shipped_at"] <= clock) & ~(shipments["delivered_at"] <= clock)]
    assert len(in_transit) > 0

    server.set_clock(clock)
    run(source, "trackers", warehouse, end=clock)
    cursor = dt.datetime.fromisoformat(state(warehouse, TRACKERS)["cursor"])
    early = raw(warehouse, TRACKERS.raw_table, "id").set_index("id")
    assert (early.loc[in_transit["id"], "status"] != "delivered").all()

    server.set_clock(None)
    server.requests.clear()
    run(source, "trackers", warehouse, end=server.clock)
    asked = pd.Timestamp(server.requests[0]["query"]["start_datetime"][0])
    assert asked == pd.Timestamp(cursor - TRACKERS.lookback)
    trackers = raw(warehouse, TRACKERS.raw_table, "id")
    truth = shipments.sort_values("id")
    assert trackers["id"].tolist() == truth["id"].tolist()
    assert trackers["est_delivery_date"].tolist() == [midnight(d) for d in truth["est_delivery_date"]]
    assert trackers["updated_at"].tolist() == truth["updated_at"].tolist()
    # parcels in transit at the first run, created before its cursor, were re-read and moved on
    delivered = truth[truth["id"].isin(in_transit["id"]) & truth["delivered_at"].notna()]
    assert len(delivered) and (trackers.set_index("id").loc[delivered["id"], "status"] == "delivered").all()

    details = raw(warehouse, TRACKING_DETAILS.raw_table, "tracker_id, seq")
    scans = events[events["tracking_code"].isin(shipments["tracking_code"])].assign(
        tracker_id=lambda f: f["tracking_code"].map(tracker_id)).sort_values(["tracker_id", "occurred_at", "event_id"])
    assert details["tracker_id"].tolist() == scans["tracker_id"].tolist()
    assert details["datetime"].tolist() == scans["occurred_at"].tolist()
    assert details["status"].tolist() == scans["status"].tolist()

    with warehouse.connect() as connection:
        first = dict(connection.fetchall(FIRST_ESTIMATE))
    for code in moved:
        if code in set(shipments[shipments["shipped_at"] <= clock]["tracking_code"]):
            expected = shipments.set_index("tracking_code").loc[code, "first_est_delivery_date"]
            assert first[tracker_id(code)] == midnight(expected), code
            assert trackers.set_index("id").loc[tracker_id(code), "est_delivery_date"] != midnight(expected)

    with warehouse.connect() as connection:
        before = [table_hash(connection, s.raw_table) for s in (TRACKERS, TRACKING_DETAILS, TRACKER_ESTIMATES)]
    run(source, "trackers", warehouse, end=server.clock)
    with warehouse.connect() as connection:
        after = [table_hash(connection, s.raw_table) for s in (TRACKERS, TRACKING_DETAILS, TRACKER_ESTIMATES)]
    assert after == before
