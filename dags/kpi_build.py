"""Airflow DAG `kpi_build`: refresh, reconcile and publish the KPI layer when raw data changed, and daily."""

from pulse.orchestration.kpi_dag import build_kpi_dag

kpi_build = build_kpi_dag()
