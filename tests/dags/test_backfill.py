"""A backfill over 14 days (one run with the params `start`/`end`) leaves the same warehouse as 14
daily scheduled runs that each saw the company as it was at their tick: same raw rows (content
hashes), same quarantine. Zendesk, because tickets change for days after they are created.

Budget: 15 runs of a 4-task DAG on a 14-day company (about 70 seconds on 2 idle cores)."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import pytest

from dags.airflow_harness import loaded_rows, run_dag, serve_sandbox, table, use_pipeline
from pulse.sandbox.world_io import World
from pulse.warehouse.hashing import table_hash

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAYS = 14
TABLES = ("raw.zendesk__tickets", "raw.zendesk__ticket_metrics")


@functools.cache
def fortnight() -> World:
    """A company that exists for exactly the 14 days, so the backfill covers its whole history."""
    from pulse.sandbox.generator import generate

    return generate(seed=5, days=DAYS, scale=0.3, end=dt.date(2026, 3, 20))


def fingerprint(warehouse) -> dict[str, object]:
    with warehouse.connect() as connection:
        hashes = {name: table_hash(connection, name) for name in TABLES}
    quarantine = table(warehouse, "select stream, rule, column_name, bad_value from quarantine.rows "
                                  "order by 1, 2, 3, 4")
    return {**hashes, "quarantine": quarantine.to_dict("records")}


def test_a_14_day_backfill_equals_14_daily_runs(airflow_db, monkeypatch, tmp_path):
    from pulse.orchestration.extract_dag import build_extract_dag

    world = fortnight()
    zone = ZoneInfo(world.meta.business_timezone)
    days = [world.meta.start + dt.timedelta(days=offset) for offset in range(DAYS)]
    assert days[-1] == world.meta.end
    dag = build_extract_dag("zendesk")
    with serve_sandbox(world, tmp_path / "sandbox", only=("zendesk",)) as sandbox:
        daily = use_pipeline(monkeypatch, tmp_path / "daily", sandbox)
        for day in days:
            tick = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
            sandbox.set_clock(min(tick, world.meta.now))  # the source as it was at the tick
            run = run_dag(dag, logical_date=tick)
            assert run.succeeded, (day, run.states)
        sandbox.set_clock(None)
        daily_state = fingerprint(daily)

        backfill = use_pipeline(monkeypatch, tmp_path / "backfill", sandbox)
        run = run_dag(dag, conf={"start": days[0].isoformat(), "end": days[-1].isoformat()})
        assert run.succeeded, run.states
        backfill_state = fingerprint(backfill)

    assert loaded_rows(daily, "raw.zendesk__tickets") == len(world["tickets"])
    assert daily_state == backfill_state
    batches = table(daily, "select count(*) as n from meta.landing_batches where status = 'loaded'")["n"].iloc[0]
    assert batches == DAYS
