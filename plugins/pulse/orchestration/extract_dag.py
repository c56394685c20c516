"""`extract_<source>`: one DAG per source, extracting, validating and loading each of its streams.

Per extracted stream a task group `<stream>` with three tasks (`pulse.pipeline.steps`):
`extract` (source -> landing batch), `validate` (GX suites; bad rows to quarantine, a bad batch
blocked) and `load` (raw merge, quarantine, cursor, in one transaction). `load` emits the Airflow
asset of every raw table it changed (`pulse://raw/<source>/<stream>`), which schedules the KPI build.
"""

from __future__ import annotations

import inspect
from typing import Any

from airflow.sdk import DAG, TaskGroup, task
from airflow.sdk.exceptions import AirflowFailException

from pulse.orchestration.cadences import Cadence, cadence_for
from pulse.orchestration.common import (
    WAREHOUSE_POOL,
    backfill_params,
    cron,
    default_args,
    load_alias,
    raw_asset,
    record_run,
    window,
)
from pulse.settings import get_settings
from pulse.sources import source_class
from pulse.sources.base import Source


@task
def extract(source: str, stream: str, params: dict[str, Any] | None = None,
            data_interval_end=None) -> dict[str, Any]:
    from pulse.pipeline import steps

    try:
        start, end = window(params, data_interval_end)
    except ValueError as error:
        raise AirflowFailException(f"{source}.{stream}: {error}") from error
    outcome = steps.extract(source, stream, start=start, end=end)
    return {"batch_id": outcome.batch_id, "records": outcome.record_count,
            "start": start.isoformat() if start else None, "end": end.isoformat()}


@task
def validate(batch: dict[str, Any]) -> list[dict[str, Any]]:
    from pulse.pipeline import steps

    try:
        verdicts = steps.validate(batch["batch_id"])
    except steps.BatchRejected as error:  # an incomplete batch: retrying cannot complete it
        raise AirflowFailException(str(error)) from error
    return [{"suite": v.suite, "success": v.success, "evaluated_rows": v.evaluated_rows,
             "failed_rows": v.failed_rows, "batch_failures": list(v.batch_failures)} for v in verdicts]


@task
def load(batch: dict[str, Any], source: str, outlet_events=None) -> dict[str, Any]:
    from pulse.pipeline import steps

    try:
        outcome = steps.load(batch["batch_id"])
    except steps.BatchRejected as error:  # blocked by validation: the same batch fails the same way
        raise AirflowFailException(str(error)) from error
    alias = load_alias(source)
    for stream_name, rows in outcome.rows_loaded.items():
        if rows:
            outlet_events[alias].add(raw_asset(source_class(source).stream(stream_name)),
                                     extra={"batch_id": outcome.batch_id, "rows": rows})
    return {"batch_id": outcome.batch_id, "rows_loaded": outcome.rows_loaded,
            "rows_quarantined": outcome.rows_quarantined}


def build_extract_dag(source_name: str) -> DAG:
    source = source_class(source_name)
    cadence = cadence_for(source_name)
    settings = get_settings()
    with DAG(
        dag_id=f"extract_{source_name}",
        schedule=cron(cadence.cron, cadence.every),
        catchup=False,
        max_active_runs=1,  # runs of one source share its cursors: never two at once
        default_args=default_args(),
        params=backfill_params(),
        tags=["pulse", "extract", source_name],
        doc_md=_doc(source, cadence, settings.business_timezone),
    ) as dag:
        groups, load_ids = [], []
        for stream in source.extracted_streams():
            with TaskGroup(stream.name, tooltip=f"{stream.key}: extract, validate, load") as group:
                batch = extract.override(task_id="extract")(source_name, stream.name)
                checked = validate.override(task_id="validate", pool=WAREHOUSE_POOL)(batch)
                loaded = load.override(task_id="load", pool=WAREHOUSE_POOL, outlets=[load_alias(source_name)])(
                    batch, source_name)
                checked >> loaded
            groups.append(group)
            load_ids.append(f"{stream.name}.load")
        groups >> record_run.override(task_id="record_run")(source=source_name, load_task_ids=load_ids)
    return dag


def _doc(source: type[Source], cadence: Cadence, zone: str) -> str:
    about = inspect.getdoc(inspect.getmodule(source)) or ""
    streams = "\n".join(
        f"| `{s.name}` | `{s.raw_table}` | {s.mode} | {s.cursor or '-'} | "
        f"{', '.join(f.name for f in source.fed_by(s)[1:]) or '-'} |"
        for s in source.extracted_streams()
    )
    return f"""\
# Extract {source.name}

{about.split(chr(10) + chr(10))[0]}

**Schedule:** `{cadence.cron}` ({zone}): {cadence.why}. **Late** when nothing has loaded for
{cadence.late_after} (the `source_freshness` DAG emails the data team).

**Catchup: off.** Every run extracts from the stream's saved cursor minus its lookback, so one run
catches up whatever missed runs would have loaded; history is loaded with a backfill instead.

**Backfill:** trigger with the params `start` and `end` (business days, inclusive):
`airflow dags trigger extract_{source.name} --conf '{{"start": "2026-01-01", "end": "2026-01-31"}}'`.
A backfill never moves a cursor back. Runs of this DAG never overlap (`max_active_runs=1`).

Per stream: `<stream>.extract` -> `<stream>.validate` -> `<stream>.load` (pool `warehouse`); the
load emits the stream's asset when it changed the raw table. `record_run` writes `meta.pipeline_runs`.

| stream | raw table | mode | cursor | also loads |
|---|---|---|---|---|
{streams}

Runbook: `docs/operations.md`.
"""
