"""The SQL runner: builds `sql/` (staging, intermediate, marts, kpi) on DuckDB or PostgreSQL.

`refresh_kpis()` is the entry point (Airflow's KPI-build DAG, `pulse kpi refresh`, benchmarks);
see `pulse.transform.project` for how models are found and materialized and `docs/sql.md` for the
conventions of the SQL itself.
"""

from pulse.transform.refresh import RefreshResult, default_through, refresh_kpis

__all__ = ["RefreshResult", "default_through", "refresh_kpis"]
