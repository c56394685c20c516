"""What every Pulse DAG shares: owner, retries, the failure email, the warehouse pool, the raw
assets, the backfill window, and the `record_run` teardown that writes `meta.pipeline_runs`.

No DAG has a start_date: its first scheduled run is its next tick after deployment (the cron
timetables do not run immediately), so a new deployment does not fire every DAG at once. History is
loaded with a backfill, never by catchup."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Asset, AssetAlias, CronTriggerTimetable, Param, task, teardown

from pulse.orchestration import health
from pulse.orchestration.alerts import failure_notifier
from pulse.settings import get_settings
from pulse.sources.streams import Stream
from pulse.timestamps import plain_utc

OWNER = "pulse-data-team"
# DuckDB takes one writer at a time: every task that writes the warehouse takes a slot of this
# pool (scripts/airflow-init.sh sizes it from PULSE_WAREHOUSE_WRITERS; 1 for DuckDB).
WAREHOUSE_POOL = "warehouse"


def default_args() -> dict[str, Any]:
    """Retries with exponential back-off (1, 2, 4 minutes, at most 15); an email to the data team
    when a task fails for good, never on a retry."""
    return {
        "owner": OWNER,
        "retries": 3,
        "retry_delay": dt.timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=15),
        "on_failure_callback": [failure_notifier()],
    }


def cron(expression: str, every: dt.timedelta) -> CronTriggerTimetable:
    """A schedule in the business time zone whose runs cover the `every` before their tick."""
    # run_immediately=False still fires a tick that passed less than a tenth of a period ago when
    # the DAG first appears; a zero delta waits for the next tick
    return CronTriggerTimetable(expression, timezone=get_settings().business_timezone, interval=every,
                                run_immediately=dt.timedelta(0))


def raw_asset(stream: Stream) -> Asset:
    """The Airflow asset of a stream's raw table (`pulse://raw/<source>/<stream>`)."""
    return Asset(name=stream.raw_table, uri=stream.asset_uri, group="raw")


def load_alias(source: str) -> AssetAlias:
    """What a source's load tasks emit through: only the raw tables a load changed get an event."""
    return AssetAlias(name=f"pulse_load_{source}")


def backfill_params() -> dict[str, Param]:
    return {
        "start": Param(None, type=["null", "string"], format="date", title="Backfill from (business day)",
                       description="First business day to load, YYYY-MM-DD. Empty: resume from the saved cursor."),
        "end": Param(None, type=["null", "string"], format="date", title="Backfill through (business day)",
                     description="Last business day to load, YYYY-MM-DD (inclusive). Empty: up to now."),
    }


def window(params: dict[str, Any] | None, data_interval_end: dt.datetime | None,
           now: dt.datetime | None = None) -> tuple[dt.datetime | None, dt.datetime]:
    """The extraction window of a run. With `start` (a backfill): from that business day's first
    moment to the end of `end` (inclusive, business time zone; default now). Without: from the saved
    cursor minus the stream's lookback (None here) to the run's data-interval end (or now)."""
    now = now or dt.datetime.now(dt.UTC)
    params = params or {}
    zone = get_settings().tz
    if not params.get("start"):
        if params.get("end"):
            raise ValueError("backfill: `end` given without `start`; give both, or `start` alone to load up to now")
        return None, plain_utc(data_interval_end or now)
    first = dt.date.fromisoformat(params["start"])
    last = dt.date.fromisoformat(params["end"]) if params.get("end") else None
    if last is not None and last < first:
        raise ValueError(f"backfill: end {last} is before start {first}")
    start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC) if last else now
    return start, end


def run_interval(context: dict[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """What `meta.pipeline_runs` records as a run's interval: its backfill window, else its data interval."""
    params = context.get("params") or {}
    if params.get("start"):
        return window(params, None, now=context["dag_run"].start_date)
    return context.get("data_interval_start"), context.get("data_interval_end")


@teardown
@task(pool=WAREHOUSE_POOL)
def record_run(source: str | None = None, load_task_ids: list[str] | None = None, **context: Any) -> dict[str, Any]:
    """Write this run's row of `meta.pipeline_runs`."""
    from pulse.warehouse.connection import Warehouse

    ti, dag_run = context["ti"], context["dag_run"]
    states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
    states = {task: state for task, state in states.items() if task != ti.task_id}
    loads = ti.xcom_pull(task_ids=list(load_task_ids)) if load_task_ids else []
    run = health.summarize(
        dag_id=ti.dag_id, run_id=ti.run_id, source=source, run_type=getattr(dag_run.run_type, "value", dag_run.run_type),
        interval=run_interval(context), started_at=dag_run.start_date, finished_at=dt.datetime.now(dt.UTC),
        task_states=states, load_results=loads if isinstance(loads, list) else [loads],
    )
    with Warehouse.from_settings().connect() as connection:
        health.record(connection, run)
    return {"status": run.status, "rows_landed": run.rows_landed, "rows_quarantined": run.rows_quarantined,
            "failed_tasks": run.failed_tasks}
