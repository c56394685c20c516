"""The Zendesk connector against the sandbox: a first export from the start, a resume from the
saved export cursor that brings back the tickets that changed (a solved ticket is solved in raw),
identical reruns, and a ticket exported twice in one batch kept once, in its latest version."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from pulse import landing
from pulse.pipeline import steps
from pulse.sandbox.servers.zendesk import EXPORT_PATH, ZendeskServer
from pulse.sources.zendesk import TICKET_METRICS, TICKETS, ZendeskSource
from pulse.warehouse.hashing import table_hash
from sandbox.fixtures.sandbox_runs import raw, run, small_world, state, use_temporary_pipeline


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    return use_temporary_pipeline(monkeypatch, tmp_path)


@pytest.fixture
def server():
    with ZendeskServer(small_world()) as running:
        yield running


def connector(server):
    source = ZendeskSource(connection=server.source_connection())
    source.page_size = 25
    return source


def values(series):
    return [None if pd.isna(v) else v for v in series]


def test_first_export_then_resume_from_the_cursor_then_identical_rerun(server, warehouse):
    source = connector(server)
    world = small_world()["tickets"]
    solved = world.dropna(subset=["solved_at"]).sort_values("solved_at").iloc[-1]
    earlier = solved["solved_at"].to_pydatetime() - dt.timedelta(hours=1)
    server.set_clock(earlier)
    run(source, "tickets", warehouse, end=earlier)
    saved = state(warehouse, TICKETS)
    assert server.requests[0]["query"]["start_time"] == ["0"]
    assert raw(warehouse, TICKETS.raw_table, "id").set_index("id").loc[solved["ticket_id"], "status"] != "solved"

    server.set_clock(None)
    server.requests.clear()
    second, _ = run(source, "tickets", warehouse, end=server.clock)
    assert server.requests[0]["query"]["cursor"] == [saved["export_cursor"]]  # no start_time, no lookback
    assert 0 < second.record_count < len(world)
    tickets = raw(warehouse, TICKETS.raw_table, "id")
    world = world.sort_values("ticket_id")
    assert tickets["id"].tolist() == world["ticket_id"].tolist()
    assert tickets["status"].tolist() == world["status"].tolist()
    assert values(tickets["order_id"]) == values(world["order_id"])
    assert values(tickets["customer_id"]) == values(world["customer_id"])
    assert values(tickets["updated_at"]) == values(world["updated_at"])
    metrics = raw(warehouse, TICKET_METRICS.raw_table, "ticket_id")
    assert metrics["ticket_id"].tolist() == world["ticket_id"].tolist()
    assert values(metrics["solved_at"]) == values(world["solved_at"])
    assert metrics["replies"].tolist() == world["replies"].tolist()
    replied = (world["first_reply_at"] - world["created_at"]).dt.total_seconds() // 60
    assert values(metrics["reply_time_calendar_minutes"]) == values(replied)
    assert state(warehouse, TICKETS)["cursor"] == world["updated_at"].max().isoformat()

    with warehouse.connect() as connection:
        before = [table_hash(connection, s.raw_table) for s in (TICKETS, TICKET_METRICS)]
    run(source, "tickets", warehouse, end=server.clock)
    with warehouse.connect() as connection:
        assert [table_hash(connection, s.raw_table) for s in (TICKETS, TICKET_METRICS)] == before


def test_a_ticket_exported_twice_in_one_batch_is_kept_once_in_its_latest_version(server, warehouse, tmp_path):
    """A ticket that changes while the export is paged comes back further on: two pages received
    at two moments, landed as one batch, load one row per ticket with the later values."""
    import requests

    world = small_world()["tickets"]
    solved = world.dropna(subset=["solved_at"]).sort_values("solved_at").iloc[-1]
    auth = (f"{server.credentials['login']}/token", server.credentials["password"])
    bodies = []
    for clock in (solved["solved_at"] - dt.timedelta(hours=1), None):
        server.set_clock(clock.to_pydatetime() if clock is not None else None)
        response = requests.get(f"{server.url}{EXPORT_PATH}", auth=auth, timeout=10,
                                params={"start_time": int((solved["created_at"]).timestamp()), "include": "metric_sets"})
        bodies.append(response.content)
    source = connector(server)
    with landing.BatchWriter("zendesk", "tickets", {"start": None, "end": server.clock.isoformat()}) as batch:
        for number, body in enumerate(bodies, 1):
            batch.add_bytes(f"export-{number:05d}.json", body)
        batch.manifest.metadata = {"custom_fields": source.custom_field_ids()}
        batch.manifest.state_after = {}
    steps.validate(batch.batch_id, source=source, warehouse=warehouse)
    loaded = steps.load(batch.batch_id, source=source, warehouse=warehouse)
    tickets = raw(warehouse, TICKETS.raw_table, "id").set_index("id")
    received = [t["id"] for body in bodies for t in json.loads(body)["tickets"]]
    assert received.count(solved["ticket_id"]) == 2
    assert loaded.rows_loaded["tickets"] == len(tickets) == len(set(received)) < len(received)
    assert tickets.loc[solved["ticket_id"], "status"] == world.set_index("ticket_id").loc[solved["ticket_id"], "status"]
    metrics = raw(warehouse, TICKET_METRICS.raw_table, "ticket_id").set_index("ticket_id")
    assert metrics.loc[solved["ticket_id"], "solved_at"] == solved["solved_at"]
