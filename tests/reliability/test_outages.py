"""Outages: a source down for two days is caught up by the next run, with no gap, as the oracle counts.

Four daily runs of the extract DAGs of Aircall and Zendesk (`dag.test()`, the sandbox's clock at each
tick). The runs of the second and third morning meet Aircall answering 500 to every request and
the Zendesk server stopped (connection refused): they fail, keep their partial batches in landing
as incomplete and never load them, and leave the cursors where they were. The fourth run resumes
from the saved cursors and catches up. Then raw holds every call and ticket of every business day
(counted from the world's own tables), and the KPI layer's phone and helpdesk values for the days
the sources were down equal the oracle's (exact for counts, 1e-9 relative otherwise).

Budget: eight runs of two 4-task DAGs and one KPI refresh on a 10-day company at scale 0.3: about
a minute and a half on an idle 2-core machine.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from warehouse_state import reconcile

from dags.airflow_harness import no_retries, run_dag, serve_sandbox, table, use_pipeline
from pulse.mailsink import MailSink
from pulse.sandbox.generator import generate
from pulse.sandbox.oracle import Oracle
from pulse.sandbox.servers import server_class
from pulse.transform import refresh_kpis

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

WORLD = {"seed": 2612, "days": 10, "scale": 0.3, "end": dt.date(2026, 3, 20)}
SOURCES = ("aircall", "zendesk")
DOWN = (1, 2)  # the runs (0-based) that meet the outage: the second and third morning
KPIS = ("inbound_calls", "call_answer_rate", "call_wait_time", "phone_sla_compliance", "tickets_created",
        "first_response_time", "resolution_time", "ticket_sla_compliance")


def local_days(moments: pd.Series, zone: str) -> pd.Series:
    return moments.dt.tz_convert(zone).dt.date


@pytest.fixture(scope="module")
def outage(airflow_db, tmp_path_factory):
    from pulse.orchestration.extract_dag import build_extract_dag

    world = generate(**WORLD)
    zone = ZoneInfo(world.meta.business_timezone)
    end = world.meta.end
    # every morning at six: the runs of the last three days and of the morning after the last day
    ticks = [dt.datetime.combine(end - dt.timedelta(days=days), dt.time(6), zone) for days in (2, 1, 0, -1)]
    root = tmp_path_factory.mktemp("outage")
    patch = pytest.MonkeyPatch()
    try:
        with serve_sandbox(world, root / "sandbox", only=SOURCES) as sandbox, MailSink(root / "mail") as sink:
            warehouse = use_pipeline(patch, root / "data", sandbox, PULSE_SMTP_PORT=str(sink.port),
                                     PULSE_DATA_TEAM_EMAILS='["data-team@pulse.test"]')
            dags = {source: build_extract_dag(source) for source in SOURCES}
            for dag in dags.values():
                no_retries(dag)
            aircall, zendesk = sandbox.servers["aircall"], sandbox.servers["zendesk"]
            runs, cursors, raw_after_outage, restarted = [], [], {}, None
            for number, tick in enumerate(ticks):
                sandbox.set_clock(min(tick, world.meta.now))
                if number == DOWN[0]:
                    aircall.faults.server_errors = 10**6
                    zendesk.stop()
                if number == DOWN[-1] + 1:
                    aircall.faults.server_errors = 0
                    # the same address and credentials, as a service coming back
                    restarted = server_class("zendesk")(world, port=zendesk.port, credentials=zendesk.credentials)
                    sandbox.servers["zendesk"] = restarted.start()
                    restarted.set_clock(min(tick, world.meta.now))
                runs.append({source: run_dag(dag, logical_date=tick) for source, dag in dags.items()})
                cursors.append(dict(table(warehouse, "select source || '.' || stream, state from meta.extract_state")
                                    .itertuples(index=False, name=None)))
                if number == DOWN[-1]:
                    raw_after_outage = raw_per_day(warehouse, world)
            load_shop_orders(world, warehouse, root)
            refresh = refresh_kpis(warehouse=warehouse, full=True, through=end)
            try:
                yield {"world": world, "warehouse": warehouse, "runs": runs, "cursors": cursors, "refresh": refresh,
                       "raw_after_outage": raw_after_outage, "mail": sink}
            finally:
                if restarted is not None:
                    restarted.stop()
    finally:
        patch.undo()


def load_shop_orders(world, warehouse, root) -> None:
    """The KPI window starts with the first order (`refresh_kpis` gives no period a row before it): the
    shop's orders are loaded too, once, through the pipeline steps."""
    from pulse.pipeline import steps
    from pulse.sandbox.shopdb import source_connection, write_shop_db
    from pulse.sources import source_class

    url = f"sqlite:///{root / 'shop.sqlite'}"
    write_shop_db(world, url)
    shop = source_class("shop")(connection=source_connection(url))
    batch = steps.extract("shop", "orders", source=shop, warehouse=warehouse, end=world.meta.now)
    steps.validate(batch.batch_id, source=shop, warehouse=warehouse)
    steps.load(batch.batch_id, source=shop, warehouse=warehouse)


def raw_per_day(warehouse, world) -> dict[str, pd.Series]:
    zone = world.meta.business_timezone
    calls = table(warehouse, "select started_at from raw.aircall__calls")
    tickets = table(warehouse, "select created_at from raw.zendesk__tickets")
    return {"calls": local_days(pd.to_datetime(calls["started_at"], utc=True), zone).value_counts(),
            "tickets": local_days(pd.to_datetime(tickets["created_at"], utc=True), zone).value_counts()}


def world_per_day(world) -> dict[str, pd.Series]:
    zone = world.meta.business_timezone
    return {"calls": local_days(world["calls"]["started_at"], zone).value_counts(),
            "tickets": local_days(world["tickets"]["created_at"], zone).value_counts()}


def outage_days(world) -> list[dt.date]:
    """The business days whose data the failed runs should have brought."""
    return [world.meta.end - dt.timedelta(days=2), world.meta.end - dt.timedelta(days=1)]


def test_the_runs_during_the_outage_fail_and_the_others_succeed(outage):
    for number, runs in enumerate(outage["runs"]):
        for source, run in runs.items():
            extract = next(state for task, state in run.states.items() if task.endswith(".extract"))
            if number in DOWN:
                assert extract == "failed", (number, source, run.states)
                assert all(state == "upstream_failed" for task, state in run.states.items()
                           if task.endswith((".validate", ".load"))), (number, source, run.states)
            else:
                assert run.succeeded, (number, source, run.states)


def test_failed_runs_keep_their_batches_as_incomplete_and_move_no_cursor(outage):
    batches = table(outage["warehouse"], "select source, status, complete, rows_loaded from meta.landing_batches")
    incomplete = batches[batches["status"] == "incomplete"]
    assert sorted(incomplete["source"]) == sorted(SOURCES * len(DOWN))
    assert not incomplete["complete"].any() and incomplete["rows_loaded"].isna().all()
    cursors = outage["cursors"]
    assert cursors[DOWN[0] - 1] == cursors[DOWN[-1]], "a failed run moved a cursor"
    assert all(cursors[DOWN[-1] + 1][key] != cursors[DOWN[-1]][key] for key in ("aircall.calls", "zendesk.tickets"))


def test_the_next_run_catches_up_every_day_with_no_gap(outage):
    world = outage["world"]
    expected = world_per_day(world)
    caught_up = raw_per_day(outage["warehouse"], world)
    for entity in ("calls", "tickets"):
        assert caught_up[entity].sort_index().to_dict() == expected[entity].sort_index().to_dict(), entity
    # the control: before the catch-up, the days of the outage were short in raw
    before = outage["raw_after_outage"]
    for day in outage_days(world):
        assert before["calls"].get(day, 0) < expected["calls"][day] > 0, day
    assert sum(before["tickets"].get(day, 0) for day in outage_days(world)) < \
        sum(expected["tickets"].get(day, 0) for day in outage_days(world))


def test_kpi_values_of_the_outage_days_equal_the_oracle(outage):
    world = outage["world"]
    oracle = Oracle(world)
    values = table(outage["warehouse"], "select kpi_id, period_start, value from kpi.kpi_values "
                                        "where grain = 'day' and slice_name = 'all'")
    values["period_start"] = pd.to_datetime(values["period_start"]).dt.date
    sql = {(row.kpi_id, row.period_start): row.value for row in values.itertuples()}
    compared = []
    for kpi_id in KPIS:
        for day in outage_days(world):
            truth = oracle.value(kpi_id, "day", day)
            got = sql.get((kpi_id, day))
            got = None if got is None or (isinstance(got, float) and math.isnan(got)) else float(got)
            if truth is None:
                assert got is None, (kpi_id, day, got)
            else:
                assert got is not None and math.isclose(got, truth, rel_tol=1e-9, abs_tol=0), (kpi_id, day, got, truth)
                compared.append(kpi_id)
    assert {"inbound_calls", "tickets_created"} <= set(compared)
    print(f"\noutage: {len(compared)} KPI values of the two outage days equal the oracle's")


def test_landing_and_raw_reconcile_after_the_outage(outage):
    assert reconcile(outage["warehouse"]) == []
    assert json.loads(outage["cursors"][-1]["aircall.calls"])["cursor"]
