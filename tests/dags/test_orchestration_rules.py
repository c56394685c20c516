"""The rules under the DAGs, without running Airflow: the backfill window in the business time zone,
when a stream counts as late and when the data team is told, and how a run's health row adds up.

Budget: a few seconds."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pulse.orchestration import freshness, health
from pulse.orchestration.cadences import SOURCE_CADENCES
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.meta import ensure_meta

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


# --- the backfill window -----------------------------------------------------------------------------
def test_a_backfill_covers_whole_business_days_across_a_daylight_saving_change(monkeypatch):
    from pulse.orchestration.common import window

    monkeypatch.setenv("PULSE_BUSINESS_TIMEZONE", "Europe/Amsterdam")
    from pulse.settings import get_settings

    get_settings.cache_clear()
    # Amsterdam moves to summer time on 2026-03-29: the day before starts at 23:00 UTC, the day after at 22:00
    start, end = window({"start": "2026-03-28", "end": "2026-03-29"}, None)
    assert start == dt.datetime(2026, 3, 27, 23, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC)
    assert window({"start": "2026-03-28", "end": None}, None, now=NOW)[1] == NOW  # up to now
    interval_end = dt.datetime(2026, 3, 20, 9, 5, tzinfo=dt.UTC)
    assert window({"start": None, "end": None}, interval_end) == (None, interval_end)  # a scheduled run
    with pytest.raises(ValueError, match="before start"):
        window({"start": "2026-03-29", "end": "2026-03-28"}, None)
    with pytest.raises(ValueError, match="without `start`"):
        window({"start": None, "end": "2026-03-28"}, None)
    get_settings.cache_clear()


# --- lateness --------------------------------------------------------------------------------------------
@pytest.fixture
def connection(tmp_path):
    with Warehouse(f"duckdb:///{tmp_path}/wh.duckdb").connect() as opened:
        ensure_meta(opened)
        yield opened


def land(connection, source: str, stream: str, at: dt.datetime, status: str = "loaded", cursor: str | None = None):
    batch_id = f"{source}.{stream}.{at:%Y%m%dT%H%M%S}"
    connection.execute(
        "insert into meta.landing_batches (batch_id, source, stream, extracted_at, window_end, complete, "
        "file_count, bytes, path, status, updated_at) values (:id, :source, :stream, :at, :at, true, 1, 1, 'x', "
        ":status, :at)", {"id": batch_id, "source": source, "stream": stream, "at": at, "status": status})
    if cursor:
        connection.execute("delete from meta.extract_state where source = :source and stream = :stream",
                           {"source": source, "stream": stream})
        connection.execute("insert into meta.extract_state values (:source, :stream, :state, :id, :at)",
                           {"source": source, "stream": stream, "state": json.dumps({"cursor": cursor}), "id": batch_id,
                            "at": at})
    return batch_id


def rows_of(rows, source):
    return {row.stream: row for row in rows if row.source == source}


def test_a_stream_is_late_once_nothing_has_loaded_for_longer_than_its_source_allows(connection):
    late_after = SOURCE_CADENCES["aircall"].late_after
    land(connection, "aircall", "calls", NOW - late_after + dt.timedelta(minutes=1), cursor="2026-03-20T08:00:00+00:00")
    land(connection, "aircall", "calls", NOW - dt.timedelta(minutes=5), status="blocked")  # not landed
    calls = rows_of(freshness.check(connection, NOW), "aircall")["calls"]
    assert not calls.stale and calls.lag_hours == pytest.approx(late_after / dt.timedelta(hours=1) - 1 / 60)
    assert calls.data_until == dt.datetime(2026, 3, 20, 8, 0, tzinfo=dt.UTC)
    assert calls.max_lag_hours == late_after / dt.timedelta(hours=1)

    later = NOW + dt.timedelta(minutes=2)
    calls = rows_of(freshness.check(connection, later), "aircall")["calls"]
    assert calls.stale and calls.stale_since == later


def test_a_new_source_gets_its_allowance_to_land_a_first_batch_and_fed_streams_follow_their_batches(connection):
    first = freshness.check(connection, NOW)
    assert not any(row.stale for row in first)  # nothing loaded yet, but nothing was due yet either
    land(connection, "zendesk", "tickets", NOW + dt.timedelta(hours=1))
    rows = freshness.check(connection, NOW + SOURCE_CADENCES["zendesk"].late_after + dt.timedelta(minutes=1))
    zendesk = rows_of(rows, "zendesk")
    assert not zendesk["tickets"].stale and not zendesk["ticket_metrics"].stale
    assert zendesk["ticket_metrics"].extracted_by == "tickets"
    assert rows_of(rows, "aircall")["calls"].stale  # watched since the first check, never landed


def test_the_data_team_is_told_once_per_lateness(connection):
    late_after = SOURCE_CADENCES["aircall"].late_after
    land(connection, "aircall", "calls", NOW)
    late_at = NOW + late_after + dt.timedelta(minutes=1)
    told = freshness.newly_late(freshness.check(connection, late_at))
    assert [row.key for row in told.get("aircall", [])] == ["aircall.calls"]
    freshness.mark_alerted(connection, told["aircall"], late_at)
    assert "aircall" not in freshness.newly_late(freshness.check(connection, late_at + dt.timedelta(hours=1)))

    land(connection, "aircall", "calls", late_at + dt.timedelta(hours=2))  # back, then late again
    assert "aircall" not in freshness.newly_late(freshness.check(connection, late_at + dt.timedelta(hours=2)))
    again = freshness.newly_late(freshness.check(connection, late_at + dt.timedelta(hours=2) + late_after * 2))
    assert [row.key for row in again["aircall"]] == ["aircall.calls"]


# --- a run's health row -----------------------------------------------------------------------------------
def test_a_run_fails_when_any_task_failed_and_counts_only_what_loads_committed():
    finished = NOW + dt.timedelta(minutes=3)
    run = health.summarize(
        dag_id="extract_shop", run_id="manual__x", source="shop", run_type="manual", interval=(NOW, finished),
        started_at=NOW, finished_at=finished,
        task_states={"orders.extract": "success", "orders.load": "success", "carts.extract": "failed",
                     "carts.validate": "upstream_failed", "carts.load": "upstream_failed"},
        load_results=[{"rows_loaded": {"orders": 40}, "rows_quarantined": {"orders": 2}},
                      {"rows_loaded": {"order_lines": 7, "x": 0}, "rows_quarantined": {}}, None],
    )
    assert (run.status, run.rows_landed, run.rows_quarantined) == ("failed", 47, 2)
    assert run.failed_tasks == "carts.extract, carts.load, carts.validate"
    assert run.duration_seconds == 180
    ok = health.summarize(dag_id="kpi_build", run_id="r", source=None, run_type="asset_triggered",
                          interval=(None, None), started_at=None, finished_at=finished,
                          task_states={"refresh": "success", "publish": "success"}, load_results=[])
    assert (ok.status, ok.failed_tasks, ok.duration_seconds) == ("success", None, None)
