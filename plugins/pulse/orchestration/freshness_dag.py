"""`source_freshness`: hourly, has every source landed by its expected time? A source that turned
late gets one email to the data team (DAG, load task, interval, log link); it is told again only
after the source has landed and turned late once more."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, task

from pulse.orchestration.cadences import FRESHNESS_CHECK
from pulse.orchestration.common import WAREHOUSE_POOL, cron, default_args, record_run
from pulse.settings import get_settings

DAG_ID = "source_freshness"


def _checked_at(data_interval_end: dt.datetime | None) -> dt.datetime:
    """A scheduled check judges as of its tick; a manual one as of its trigger."""
    return data_interval_end or dt.datetime.now(dt.UTC)


@task(pool=WAREHOUSE_POOL)
def check_freshness(data_interval_end=None) -> dict[str, Any]:
    from pulse.orchestration import freshness
    from pulse.warehouse.connection import Warehouse

    with Warehouse.from_settings().connect() as connection:
        rows = freshness.check(connection, _checked_at(data_interval_end))
    return {"streams": len(rows), "stale": sorted(row.key for row in rows if row.stale)}


@task(pool=WAREHOUSE_POOL)
def alert_late_sources(data_interval_end=None, **context: Any) -> list[str]:
    from pulse.orchestration import alerts, freshness, health
    from pulse.warehouse.connection import Warehouse

    checked_at = _checked_at(data_interval_end)
    warehouse = Warehouse.from_settings()
    with warehouse.connect() as connection:
        late = freshness.newly_late(freshness.read(connection))
        last_runs = {source: health.last_run(connection, f"extract_{source}") for source in late}
    told = []
    for source, streams in late.items():
        subject, body = alerts.lateness_mail(source, f"extract_{source}", streams, last_runs[source], checked_at)
        alerts.send_lateness_mail(context, subject, body)
        with warehouse.connect() as connection:  # recorded per source: a failed send is retried, a sent one not
            freshness.mark_alerted(connection, streams, checked_at)
        told.append(source)
    return told


def build_freshness_dag() -> DAG:
    settings = get_settings()
    with DAG(
        dag_id=DAG_ID,
        schedule=cron(FRESHNESS_CHECK, dt.timedelta(hours=1)),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["pulse", "monitoring"],
        doc_md=f"""\
# Source freshness

{__doc__}

**Schedule:** `{FRESHNESS_CHECK}` ({settings.business_timezone}). **Catchup: off**: only now matters.
When a source counts as late: `pulse.orchestration.cadences` (`late_after` per source).

1. `check_freshness`: rewrites `meta.source_freshness` (the data-health dashboard reads it).
2. `alert_late_sources`: one email per newly late source.
3. `record_run`: `meta.pipeline_runs`.

Runbook: `docs/operations.md` ("A source is late").
""",
    ) as dag:
        check_freshness() >> alert_late_sources() >> record_run.override(task_id="record_run")()
    return dag
