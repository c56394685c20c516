"""`pulse kpi refresh` and `pulse kpi publish`: build the KPI layer, publish it to readers."""

from __future__ import annotations

import datetime as dt

import click


@click.group()
def kpi() -> None:
    """Build and publish the KPI layer (sql/)."""


@kpi.command()
@click.option("--full", is_flag=True, help="Rebuild every period instead of the lookback window and changed days.")
@click.option("--through", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last business day to include (default: yesterday in the business time zone).")
@click.option("--publish/--no-publish", "and_publish", default=True, help="Publish the serving copy afterwards.")
def refresh(full: bool, through: dt.datetime | None, and_publish: bool) -> None:
    """Refresh the KPI tables from the raw tables."""
    from pulse.transform import refresh_kpis
    from pulse.warehouse.publish import publish

    result = refresh_kpis(full=full, through=through.date() if through else None)
    click.echo(
        f"{result.mode} refresh {result.refresh_id} through {result.through}: {len(result.days_rebuilt)} days, "
        f"periods {result.periods_rebuilt}, {len(result.models_run)} models, {result.duration_seconds:.1f}s, "
        f"{result.row_counts.get('kpi.kpi_values', 0)} KPI rows"
    )
    if and_publish:
        target = publish()
        click.echo(f"published {target}" if target else "published (PostgreSQL: the refresh transaction)")


@kpi.command(name="publish")
def publish_command() -> None:
    """Swap a fresh serving copy in for readers (DuckDB; a no-op on PostgreSQL)."""
    from pulse.warehouse.publish import publish

    target = publish()
    click.echo(f"published {target}" if target else "nothing to publish on PostgreSQL")
