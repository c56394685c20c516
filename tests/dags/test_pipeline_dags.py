"""Every DAG run with `dag.test()` against the sandbox company, as the scheduler would run it: each
extract DAG lands what the world holds (counted from the world's own tables, not from the
connectors), emits the assets of the raw tables it changed, records its run; then the KPI build
refreshes, reconciles, marks freshness, publishes and records itself.

Budget: one run of each DAG on a 21-day company at scale 0.3 (about 90 seconds on 2 idle cores)."""

from __future__ import annotations

import datetime as dt
import json
import types
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from dags.airflow_harness import asset_events, loaded_rows, run_dag, serve_sandbox, table, use_pipeline
from pulse.mailsink import MailSink
from pulse.sandbox.shopdb import SHOP_TABLES
from pulse.sources import SOURCES, source_class
from sandbox.fixtures.sandbox_runs import small_world
from support.ga4_world import ga_sessions

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def _local_day(moments: pd.Series, zone: str) -> pd.Series:
    return moments.dt.tz_convert(zone).dt.date


def expected_rows(world) -> dict[str, int]:
    """Rows each raw table must hold after one run at the world's now, from the world's tables."""
    zone, end = world.meta.business_timezone, world.meta.end
    shipments = world["shipments"]
    csv_codes = set(shipments.loc[shipments["feed"] == "csv", "tracking_code"])
    scans = world["shipment_events"]
    # partners deliver a day's file the next morning: the world's last day is not in yet
    csv_scans = scans[scans["tracking_code"].isin(csv_codes) & (_local_day(scans["occurred_at"], zone) < end)]
    ads = world["ad_daily"]
    speed = world["speed_samples"]
    nps = world["nps_responses"]
    first_of_month = end.replace(day=1)  # monthly NPS files arrive on the 1st
    expected = {f"raw.shop__{t.name}": len(world[t.world_table]) for t in SHOP_TABLES}
    expected |= {
        "raw.hubspot__contacts": len(world["crm_contacts"]),
        "raw.hubspot__deals": len(world["crm_deals"]),
        "raw.zendesk__tickets": len(world["tickets"]),
        "raw.aircall__calls": len(world["calls"]),
        "raw.easypost__trackers": int((shipments["feed"] == "easypost").sum()),
        "raw.carrier_files__events": len(csv_scans),
        "raw.ad_spend__daily": int((ads["platform"].isin(["linkedin", "microsoft_ads"]) & (ads["date"] < end)).sum()),
        "raw.nps__responses": int((_local_day(nps["submitted_at"], zone) < first_of_month).sum()),
        "raw.site_speed__samples": int((_local_day(speed["measured_at"], zone) < end).sum()),
    }
    return expected


@pytest.fixture(scope="module")
def pipeline(airflow_db, dagbag, tmp_path_factory):
    world = small_world()
    patch = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("pipeline")
    with serve_sandbox(world, root / "sandbox") as sandbox, MailSink(root / "mail") as sink:
        warehouse = use_pipeline(patch, root / "data", sandbox, PULSE_SMTP_PORT=str(sink.port),
                                 PULSE_DATA_TEAM_EMAILS='["data-team@pulse.test"]')
        runs = {source: run_dag(dagbag.get_dag(f"extract_{source}")) for source in SOURCES}
        kpi = run_dag(dagbag.get_dag("kpi_build"), conf={"through": world.meta.end.isoformat()})
        yield types.SimpleNamespace(world=world, warehouse=warehouse, runs=runs, kpi=kpi, sink=sink,
                                    data_dir=root / "data")
    patch.undo()


@pytest.mark.parametrize("source", list(SOURCES))
def test_each_extract_dag_succeeds_and_lands_what_the_world_holds(pipeline, source):
    assert pipeline.runs[source].succeeded, pipeline.runs[source].states
    expected = expected_rows(pipeline.world)
    for stream in source_class(source).streams:
        if stream.raw_table in expected:
            assert loaded_rows(pipeline.warehouse, stream.raw_table) == expected[stream.raw_table], stream.key
        else:  # streams extracted with another: landed with it
            assert loaded_rows(pipeline.warehouse, stream.raw_table) > 0, stream.key


def test_ga4_traffic_counts_every_session_ga_processed(pipeline):
    sessions = table(pipeline.warehouse, "select sum(sessions) as n from raw.ga4__traffic")["n"].iloc[0]
    assert sessions == len(ga_sessions(pipeline.world))


def test_each_load_emits_the_asset_of_the_raw_table_it_changed(pipeline):
    for source in SOURCES:
        for stream in source_class(source).streams:
            rows = loaded_rows(pipeline.warehouse, stream.raw_table)
            events = [e for e in asset_events(stream.asset_uri) if e["source_run_id"] == pipeline.runs[source].run_id]
            assert len(events) == (1 if rows else 0), stream.key
            for event in events:
                assert event["source_task_id"] == f"{stream.extracted_with or stream.name}.load"
                assert event["extra"]["rows"] == rows


def test_every_run_is_recorded_with_its_rows(pipeline):
    runs = table(pipeline.warehouse, "select * from meta.pipeline_runs").set_index("dag_id")
    assert set(runs.index) == {f"extract_{s}" for s in SOURCES} | {"kpi_build"}
    assert (runs["status"] == "success").all() and runs["failed_tasks"].isna().all()
    for source in SOURCES:
        landed = sum(loaded_rows(pipeline.warehouse, s.raw_table) for s in source_class(source).streams)
        assert runs.loc[f"extract_{source}", "rows_landed"] == landed, source
    quarantined = table(pipeline.warehouse, "select source, count(distinct batch_id || ':' || stream || ':' "
                                            "|| row_number) as n from quarantine.rows group by source")
    for source, count in zip(quarantined["source"], quarantined["n"], strict=True):
        assert runs.loc[f"extract_{source}", "rows_quarantined"] == count, source
    assert (runs["duration_seconds"] > 0).all() and (runs["finished_at"] >= runs["started_at"]).all()
    assert runs.loc["kpi_build", "rows_landed"] == 0


def test_the_kpi_build_refreshes_reconciles_marks_freshness_and_publishes(pipeline):
    assert pipeline.kpi.succeeded, pipeline.kpi.states
    refreshes = table(pipeline.warehouse, "select status, through from meta.kpi_refreshes")
    assert refreshes["status"].tolist() == ["success"]
    assert pd.Timestamp(refreshes["through"].iloc[0]).date() == pipeline.world.meta.end
    assert len(table(pipeline.warehouse, "select * from meta.reconciliation_results")) > 0

    freshness = table(pipeline.warehouse, "select * from meta.source_freshness")
    assert len(freshness) == sum(len(source_class(s).streams) for s in SOURCES)
    assert not freshness["stale"].any() and freshness["last_batch_id"].notna().all()
    assert (freshness["lag_hours"] < 1).all()
    calls = freshness.set_index(["source", "stream"]).loc[("aircall", "calls")]
    state = table(pipeline.warehouse, "select state from meta.extract_state where source = 'aircall'")["state"]
    assert calls["data_until"] == pd.Timestamp(json.loads(state.iloc[0])["cursor"])

    serving = pipeline.data_dir / "serving" / "pulse.duckdb"
    with duckdb.connect(str(serving), read_only=True) as served:
        values = served.execute("select count(*) from kpi.kpi_values").fetchone()[0]
        recorded = served.execute("select count(*) from meta.source_freshness").fetchone()[0]
    assert values > 0 and recorded == len(freshness)
    assert pipeline.sink.messages() == []  # nothing failed, nothing is late


def test_a_load_that_changed_nothing_emits_no_asset(pipeline, dagbag):
    before = asset_events("pulse://raw/aircall/calls")
    # a backfill of a day before the company existed lands an empty batch
    run = run_dag(dagbag.get_dag("extract_aircall"), conf={"start": "2020-01-06", "end": "2020-01-06"})
    assert run.succeeded, run.states
    assert asset_events("pulse://raw/aircall/calls") == before
    runs = table(pipeline.warehouse, "select interval_start, interval_end, rows_landed from meta.pipeline_runs "
                                     f"where dag_id = 'extract_aircall' and run_id = '{run.run_id}'")
    zone = ZoneInfo("Europe/Amsterdam")
    assert runs["interval_start"].iloc[0] == dt.datetime(2020, 1, 6, tzinfo=zone)
    assert runs["interval_end"].iloc[0] == dt.datetime(2020, 1, 7, tzinfo=zone)
    assert runs["rows_landed"].iloc[0] == 0
