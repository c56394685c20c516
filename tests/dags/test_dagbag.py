"""The DAG folder as Airflow loads it: no import error, one extract DAG per source, and every DAG
with tags, an owner, retries with back-off, documentation and stated catchup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pulse.orchestration.cadences import SOURCE_CADENCES
from pulse.sources import SOURCES, all_streams, source_class

pytestmark = pytest.mark.airflow

EXPECTED = {f"extract_{source}" for source in SOURCES} | {"kpi_build", "source_freshness"}


def test_the_dag_folder_imports_without_errors_and_holds_every_dag(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


def test_every_dag_has_tags_owner_retries_with_backoff_docs_and_catchup_stated(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags and "pulse" in dag.tags, dag.dag_id
        assert dag.doc_md and len(dag.doc_md) > 200 and "Catchup" in dag.doc_md, dag.dag_id
        assert dag.catchup is False, dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            assert task.owner not in {"", "airflow"}, where
            assert task.retries >= 2, where
            assert task.retry_exponential_backoff >= 2, where
            assert task.max_retry_delay is not None, where
            assert task.on_failure_callback, where


def test_every_source_has_a_cadence_and_its_dag_runs_in_the_business_time_zone(dagbag):
    assert set(SOURCES) <= set(SOURCE_CADENCES)
    for source in SOURCES:
        timetable = dagbag.get_dag(f"extract_{source}").timetable
        assert timetable.expression == SOURCE_CADENCES[source].cron
        assert str(timetable.timezone) in {"Europe/Amsterdam", "Timezone('Europe/Amsterdam')"}


def test_each_extracted_stream_is_extract_validate_load_and_writers_take_the_warehouse_pool(dagbag):
    for source in SOURCES:
        dag = dagbag.get_dag(f"extract_{source}")
        streams = [stream.name for stream in source_class(source).extracted_streams()]
        assert {task.task_id for task in dag.tasks} == {
            f"{stream}.{step}" for stream in streams for step in ("extract", "validate", "load")} | {"record_run"}
        for stream in streams:
            assert dag.get_task(f"{stream}.extract").downstream_task_ids == {f"{stream}.validate", f"{stream}.load"}
            assert dag.get_task(f"{stream}.validate").downstream_task_ids == {f"{stream}.load"}
            assert dag.get_task(f"{stream}.load").pool == "warehouse"
            assert dag.get_task(f"{stream}.validate").pool == "warehouse"
            assert [outlet.name for outlet in dag.get_task(f"{stream}.load").outlets] == [f"pulse_load_{source}"]
        record = dag.get_task("record_run")
        assert record.is_teardown and record.upstream_task_ids == {f"{stream}.load" for stream in streams}
        assert set(dag.params) == {"start", "end"}


def test_the_kpi_build_runs_on_any_raw_asset_or_its_daily_deadline(dagbag):
    dag = dagbag.get_dag("kpi_build")
    timetable = dag.timetable
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    assert timetable.timetable.expression == "45 6 * * *"
    uris = {asset.uri for asset in timetable.asset_condition.objects}
    assert uris == {f"pulse://raw/{stream.source}/{stream.name}" for stream in all_streams()}
    assert [task.task_id for task in dag.topological_sort()] == [
        "mark_freshness", "refresh", "reconcile", "publish", "record_run"]
    assert all(task.pool == "warehouse" for task in dag.tasks)


def test_the_runbook_lists_every_cadence_as_the_code_has_it():
    runbook = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    rows = re.findall(r"^\| (\w+) \| `([^`]+)` \| ([^|]+) \|$", runbook, flags=re.MULTILINE)
    assert {source: (cron, late.strip()) for source, cron, late in rows} == {
        source: (cadence.cron, str(cadence.late_after)) for source, cadence in SOURCE_CADENCES.items()}
