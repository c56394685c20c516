"""Airflow DAG `source_freshness`, an hourly check: marks late sources stale and emails the data team about them."""

from pulse.orchestration.freshness_dag import build_freshness_dag

source_freshness = build_freshness_dag()
