"""Orchestration in Airflow: the DAG builders the thin files in `dags/` call, the task glue around
`pulse.pipeline.steps`, alerts to the data team, pipeline health (`meta.pipeline_runs`), source
freshness (`meta.source_freshness`) and `pulse demo`. Cadences live in `cadences.py`; the runbook
is `docs/operations.md`."""
