"""`kpi_build`: the KPI layer rebuilt from raw, checked, and published to the dashboards.

Scheduled on the raw tables' assets (any load that changed one) OR a daily deadline
(`cadences.KPI_BUILD_DEADLINE`), so a dead source never freezes every dashboard: the build still
runs, and the freshness step marks that source's streams stale for the dashboards to show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, AssetAny, AssetOrTimeSchedule, Param, task

from pulse.orchestration.cadences import KPI_BUILD_DEADLINE
from pulse.orchestration.common import WAREHOUSE_POOL, cron, default_args, raw_asset, record_run
from pulse.settings import get_settings
from pulse.sources import all_streams

DAG_ID = "kpi_build"


@task(pool=WAREHOUSE_POOL)
def mark_freshness() -> dict[str, Any]:
    from pulse.orchestration import freshness
    from pulse.warehouse.connection import Warehouse

    with Warehouse.from_settings().connect() as connection:
        rows = freshness.check(connection, dt.datetime.now(dt.UTC))
    return {"streams": len(rows), "stale": sorted(row.key for row in rows if row.stale)}


@task(pool=WAREHOUSE_POOL)
def refresh(params: dict[str, Any] | None = None) -> dict[str, Any]:
    from pulse.transform import refresh_kpis

    params = params or {}
    through = dt.date.fromisoformat(params["through"]) if params.get("through") else None
    result = refresh_kpis(full=bool(params.get("full")), through=through)
    return {"refresh_id": result.refresh_id, "mode": result.mode, "through": result.through.isoformat(),
            "days_rebuilt": len(result.days_rebuilt), "periods_rebuilt": result.periods_rebuilt,
            "seconds": round(result.duration_seconds, 1), "row_counts": result.row_counts}


@task(pool=WAREHOUSE_POOL)
def reconcile(params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sources checked against each other; disagreements are recorded for the data-health
    dashboard and logged, and do not stop publication (the figures are what the sources say)."""
    from pulse.validation import reconcile as reconciliation

    through = dt.date.fromisoformat(params["through"]) if params and params.get("through") else None
    outcome = reconciliation.run(end=through)
    return {"checked": len(outcome.results), "failures": [f"{r.check} {r.day}" for r in outcome.failures()],
            "skipped": outcome.skipped}


@task(pool=WAREHOUSE_POOL)
def publish() -> str | None:
    from pulse.warehouse.publish import publish as publish_serving_copy

    published = publish_serving_copy()
    return str(published) if published else None


def build_kpi_dag() -> DAG:
    settings = get_settings()
    assets = [raw_asset(stream) for stream in all_streams()]
    with DAG(
        dag_id=DAG_ID,
        schedule=AssetOrTimeSchedule(
            timetable=cron(KPI_BUILD_DEADLINE, dt.timedelta(days=1)),
            assets=AssetAny(*assets),
        ),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        params={
            "full": Param(False, type="boolean", title="Full rebuild",
                          description="Rebuild every table and period instead of the changed business days."),
            "through": Param(None, type=["null", "string"], format="date", title="Through (business day)",
                             description="Last business day of the KPI window. Empty: yesterday."),
        },
        tags=["pulse", "kpi"],
        doc_md=_doc(settings.business_timezone, len(assets)),
    ) as dag:
        stale = mark_freshness()
        built = refresh()
        checked = reconcile()
        served = publish()
        stale >> built >> checked >> served >> record_run.override(task_id="record_run")()
    return dag


def _doc(zone: str, asset_count: int) -> str:
    return f"""\
# KPI build

{__doc__.split(chr(10) + chr(10))[1]}

**Schedule:** any of the {asset_count} raw-table assets (`pulse://raw/<source>/<stream>`) changed,
or `{KPI_BUILD_DEADLINE}` ({zone}) every day. **Catchup: off**: one build covers every change
since the last (the refresh is incremental by changed business day). Never two at once.

1. `mark_freshness`: `meta.source_freshness` as of now; stale streams make their KPIs stale.
2. `refresh`: `pulse.transform.refresh_kpis()` in one transaction (params `full`, `through`).
3. `reconcile`: sources against each other (`meta.reconciliation_results`); does not block.
4. `publish`: the serving copy Superset reads is swapped in (DuckDB); nothing to do on PostgreSQL.
5. `record_run`: `meta.pipeline_runs`.

Runbook: `docs/operations.md`.
"""
