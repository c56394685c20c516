"""`pulse sandbox ...`: generate the simulated company and list its incidents."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import click

from pulse.settings import get_settings


def _yesterday() -> dt.date:
    return dt.datetime.now(get_settings().tz).date() - dt.timedelta(days=1)


@click.group()
def sandbox() -> None:
    """The simulated B2B company behind the demo and the tests."""


@sandbox.command()
@click.option("--seed", type=int, default=lambda: get_settings().sandbox_seed,
              show_default="PULSE_SANDBOX_SEED")
@click.option("--days", type=click.IntRange(min=1), default=lambda: get_settings().sandbox_days,
              show_default="PULSE_SANDBOX_DAYS")
@click.option("--scale", type=click.FloatRange(min=0, max=100, min_open=True),
              default=lambda: get_settings().sandbox_scale, show_default="PULSE_SANDBOX_SCALE")
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last simulated day (default: yesterday in the business time zone).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory; the world is written to OUT/world/.")
def generate(seed: int, days: int, scale: float, end: dt.datetime | None, out: Path) -> None:
    """Write the simulated company as Parquet tables plus world.json."""
    from pulse.sandbox.generator import generate as generate_world

    last_day = end.date() if end else _yesterday()
    began = time.monotonic()
    world = generate_world(seed=seed, days=days, scale=scale, end=last_day)
    target = world.save(out)
    rows = sum(len(frame) for frame in world.tables.values())
    click.echo(f"world {world.meta.start} .. {world.meta.end} (seed {seed}, scale {scale:g}): "
               f"{rows:,} rows in {len(world.tables)} tables -> {target} ({time.monotonic() - began:.1f} s)")
    for incident in world.meta.incidents:
        click.echo(f"  incident {incident.name}: {incident.start} .. {incident.end}")


@sandbox.command()
@click.option("--out", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="Directory holding a generated world (OUT/world/world.json).")
def incidents(out: Path) -> None:
    """List the incidents of a generated world with their dates."""
    from pulse.sandbox.world_io import WorldMeta

    path = out / "world" / "world.json" if (out / "world").is_dir() else out / "world.json"
    if not path.exists():
        raise click.ClickException(
            f"no world at {out}: {path} is missing; run `pulse sandbox generate` first")
    meta = WorldMeta.from_json(path.read_text())
    click.echo(f"world {meta.start} .. {meta.end}")
    if not meta.incidents:
        click.echo("no incidents inside the window")
    for incident in meta.incidents:
        click.echo(f"{incident.name:20} {incident.start} .. {incident.end}  {incident.description}")


def _register_serve() -> None:
    from pulse.sandbox.servers.serve import serve

    sandbox.add_command(serve)  # `pulse sandbox serve`: lives beside the servers


_register_serve()
