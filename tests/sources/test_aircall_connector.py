"""The Aircall connector against the sandbox: a first load, an incremental resume from the saved
start-time cursor minus a day, which finds a long call that was still going on at the first run
(it started before the cursor), identical reruns, and windows split below the 10,000-item limit
(a lower limit here)."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from pulse import landing
from pulse.sandbox.servers.aircall import AircallServer
from pulse.sources.aircall import CALLS, AircallSource
from pulse.warehouse.hashing import table_hash
from sandbox.fixtures.sandbox_runs import raw, run, small_world, state, use_temporary_pipeline, with_table


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    return use_temporary_pipeline(monkeypatch, tmp_path)


def connector(server, **overrides):
    source = AircallSource(connection=server.source_connection())
    for name, value in overrides.items():
        setattr(source, name, value)
    return source


def values(series):
    return [None if pd.isna(v) else v for v in series]


def world_with_a_long_call():
    """The small world where one call runs on past the moment just after the next call ended (a
    few hours later): at that moment the next call is listed and the long one is not yet.
    Returns that world, the moment, the long call and the start of the next one."""
    calls = small_world()["calls"].copy()
    ordered = calls[calls["started_at"] < small_world().meta.now - dt.timedelta(days=5)].sort_values("started_at")
    gaps = ordered["started_at"].diff().shift(-1)
    position = int((gaps < pd.Timedelta(hours=6)).to_numpy().nonzero()[0][-1])
    long_call, following = ordered.iloc[position], ordered.iloc[position + 1]
    clock = following["ended_at"] + pd.Timedelta(seconds=1)
    calls.loc[calls["call_id"] == long_call["call_id"], "ended_at"] = clock + pd.Timedelta(minutes=20)
    return with_table(small_world(), "calls", calls), clock.to_pydatetime(), int(long_call["call_id"]), \
        following["started_at"]


def test_first_load_then_resume_with_lookback_then_identical_rerun(warehouse):
    world, clock, long_call, later_start = world_with_a_long_call()
    with AircallServer(world) as server:
        source = connector(server, page_size=40)
        server.set_clock(clock)
        run(source, "calls", warehouse, end=clock)
        cursor = dt.datetime.fromisoformat(state(warehouse, CALLS)["cursor"])
        assert cursor == later_start and long_call not in raw(warehouse, CALLS.raw_table, "id")["id"].tolist()

        server.set_clock(None)
        server.requests.clear()
        second, _ = run(source, "calls", warehouse, end=server.clock)
        asked_from = {int(r["query"]["from"][0]) for r in server.requests if "from" in r["query"]}
        assert min(asked_from) == int((cursor - CALLS.lookback).timestamp())
        truth = world["calls"].sort_values("call_id")
        calls = raw(warehouse, CALLS.raw_table, "id")
        assert calls["id"].tolist() == truth["call_id"].tolist()  # the long call too: it started before the cursor
        assert values(calls["ended_at"]) == values(truth["ended_at"])
        assert values(calls["answered_at"]) == values(truth["answered_at"])
        assert values(calls["missed_call_reason"]) == values(truth["missed_call_reason"])
        assert values(calls["user_id"]) == values(truth["user_id"])
        assert calls["number_id"].tolist() == truth["number_id"].tolist()
        assert calls["duration"].tolist() == ((truth["ended_at"] - truth["started_at"]).dt.total_seconds()).tolist()
        assert 0 < second.record_count < len(truth)

        with warehouse.connect() as connection:
            before = table_hash(connection, CALLS.raw_table)
        run(source, "calls", warehouse, end=server.clock)
        with warehouse.connect() as connection:
            assert table_hash(connection, CALLS.raw_table) == before


def test_windows_are_split_below_the_result_limit(warehouse):
    cap = 40
    with AircallServer(small_world()) as server:
        server.result_cap = cap
        extracted, _ = run(connector(server, result_cap=cap, page_size=20), "calls", warehouse, end=server.clock)
        assert not [r for r in server.requests if int(r["query"].get("page", ["1"])[0]) * 20 > cap]
    calls = small_world()["calls"]
    assert raw(warehouse, CALLS.raw_table, "id")["id"].tolist() == sorted(calls["call_id"])
    windows = landing.open_batch(extracted.batch_id).manifest.metadata["windows"]
    assert all(w["total"] <= cap for w in windows) and sum(w["total"] for w in windows) == len(calls)
    # whole seconds, inclusive bounds, no gap and no overlap
    assert all(a["to"] + 1 == b["from"] for a, b in itertools.pairwise(windows))
