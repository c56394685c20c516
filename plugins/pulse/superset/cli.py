"""`pulse superset`: generate, deploy (`sync`) and export the Superset assets.

Superset is reached at SUPERSET_URL (default http://$SUPERSET_HOST:$SUPERSET_PORT, as
scripts/superset-web.sh serves it) as SUPERSET_ADMIN_USER (default admin) with
SUPERSET_ADMIN_PASSWORD, or the password `scripts/superset-init.sh` generated into
$PULSE_DATA_DIR/secrets/superset_admin_password.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from pulse.settings import get_settings
from pulse.superset.bundle import ASSETS_DIR


def _client():
    from pulse.superset.client import SupersetClient

    url = os.environ.get("SUPERSET_URL") or (
        f"http://{os.environ.get('SUPERSET_HOST', '127.0.0.1')}:{os.environ.get('SUPERSET_PORT', '8088')}")
    username = os.environ.get("SUPERSET_ADMIN_USER", "admin")
    password = os.environ.get("SUPERSET_ADMIN_PASSWORD")
    if not password:
        secret = get_settings().data_dir / "secrets" / "superset_admin_password"
        if not secret.exists():
            raise click.ClickException(f"no SUPERSET_ADMIN_PASSWORD and no {secret}: run scripts/superset-init.sh")
        password = secret.read_text(encoding="utf-8").strip()
    return SupersetClient(url, username, password)


@click.group()
def superset() -> None:
    """Superset assets as code: superset_assets/ <-> a running Superset."""


@superset.command()
@click.option("--assets", type=click.Path(path_type=Path, file_okay=False), default=ASSETS_DIR, show_default=True)
def generate(assets: Path) -> None:
    """Regenerate the bundle (datasets, charts, dashboards) from kpis.yml."""
    from pulse.superset.assets.generate import generate_bundle
    from pulse.superset.bundle import write_bundle

    changed = write_bundle(generate_bundle(), assets)
    click.echo(f"{len(changed)} file(s) changed under {assets}")
    for name in changed:
        click.echo(f"  {name}")


@superset.command()
@click.option("--assets", type=click.Path(path_type=Path, file_okay=False), default=ASSETS_DIR, show_default=True)
@click.option("--prune", is_flag=True,
              help="Delete charts, dashboards, datasets and report schedules that are not in superset_assets/.")
def sync(assets: Path, prune: bool) -> None:
    """Deploy the bundle, roles, dashboard access, row-level security, report schedules and alerts."""
    from pulse.superset.environment import DeployEnvironment
    from pulse.superset.sync import sync as run_sync

    environment = DeployEnvironment.from_settings()
    report = run_sync(_client(), environment, assets, prune_missing=prune)
    click.echo(f"imported {report.imported} asset file(s) into Superset "
               f"(warehouse: {environment.warehouse.engine})")
    for folder, uuids in report.pruned.items():
        click.echo(f"pruned {len(uuids)} {folder}")
    click.echo(f"roles: {', '.join(report.access['roles'])}; rls rules: {len(report.access['rls'])}")
    click.echo(f"report schedules and alerts: {report.schedules.summary()}")


@superset.command()
@click.option("--assets", type=click.Path(path_type=Path, file_okay=False), default=ASSETS_DIR, show_default=True)
def export(assets: Path) -> None:
    """Write Superset's databases, datasets, charts, dashboards and report schedules back into superset_assets/."""
    from pulse.superset.environment import DeployEnvironment
    from pulse.superset.export import export as run_export

    changed = run_export(_client(), DeployEnvironment.from_settings(), assets)
    click.echo(f"{len(changed)} file(s) changed under {assets}")
    for name in changed:
        click.echo(f"  {name}")
