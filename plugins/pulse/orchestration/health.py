"""Pipeline health: one row per DAG run in `meta.pipeline_runs` (DAG, run, interval, status,
duration, rows landed and quarantined), for the data-health dashboard.

Each DAG ends with a `record_run` teardown task: it runs whatever happened upstream, reads the
states of the run's other tasks and what the load tasks reported, and writes the row. Being a
teardown, its own outcome never changes the run's state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pulse.warehouse.connection import Connection
from pulse.warehouse.meta import ensure_meta

FAILED_STATES = frozenset({"failed", "upstream_failed"})


@dataclass(frozen=True)
class PipelineRun:
    dag_id: str
    run_id: str
    source: str | None
    run_type: str | None
    interval_start: dt.datetime | None
    interval_end: dt.datetime | None
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime
    duration_seconds: float | None
    rows_landed: int
    rows_quarantined: int
    failed_tasks: str | None


def summarize(*, dag_id: str, run_id: str, source: str | None, run_type: str | None,
              interval: tuple[dt.datetime | None, dt.datetime | None], started_at: dt.datetime | None,
              finished_at: dt.datetime, task_states: Mapping[str, str | None],
              load_results: Iterable[Mapping[str, Any] | None]) -> PipelineRun:
    """The row of one run from its task states (`task_id -> state`, this task excluded) and the
    load tasks' results (`{"rows_loaded": {...}, "rows_quarantined": {...}}`, None when a load did
    not finish: it loaded nothing, its transaction rolled back)."""
    failed = sorted(task for task, state in task_states.items() if state in FAILED_STATES)
    landed = quarantined = 0
    for result in load_results:
        if result:
            landed += sum(result["rows_loaded"].values())
            quarantined += sum(result["rows_quarantined"].values())
    return PipelineRun(
        dag_id=dag_id, run_id=run_id, source=source, run_type=run_type, interval_start=interval[0],
        interval_end=interval[1], status="failed" if failed else "success", started_at=started_at,
        finished_at=finished_at,
        duration_seconds=(finished_at - started_at).total_seconds() if started_at else None,
        rows_landed=landed, rows_quarantined=quarantined, failed_tasks=", ".join(failed) or None,
    )


def record(connection: Connection, run: PipelineRun) -> None:
    ensure_meta(connection)
    row = asdict(run)
    with connection.transaction():
        connection.execute("delete from meta.pipeline_runs where dag_id = :dag_id and run_id = :run_id",
                           {"dag_id": run.dag_id, "run_id": run.run_id})
        connection.execute(
            f"insert into meta.pipeline_runs ({', '.join(row)}) values ({', '.join(':' + c for c in row)})", row
        )


def last_run(connection: Connection, dag_id: str) -> dict[str, Any] | None:
    """The most recently finished recorded run of a DAG."""
    ensure_meta(connection)
    found = connection.fetchone(
        "select run_id, interval_start, interval_end, status, finished_at from meta.pipeline_runs "
        "where dag_id = :dag_id order by finished_at desc limit 1",
        {"dag_id": dag_id},
    )
    if found is None:
        return None
    return dict(zip(("run_id", "interval_start", "interval_end", "status", "finished_at"), found, strict=True))
