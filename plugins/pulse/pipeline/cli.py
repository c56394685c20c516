"""`pulse replay`, `pulse ingest` and `pulse batches`: the pipeline steps from the command line,
for the data team's debugging and recovery (the DAGs call the same functions)."""

from __future__ import annotations

import datetime as dt

import click

from pulse import landing
from pulse.pipeline import steps
from pulse.sources import source_class


def _moment(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@click.command("replay")
@click.argument("batch_ids", nargs=-1, required=True)
def replay(batch_ids: tuple[str, ...]) -> None:
    """Rebuild raw from landed batches (validate + load), without calling any source."""
    for batch_id in batch_ids:
        outcome = steps.replay(batch_id)
        click.echo(f"{batch_id}: loaded {outcome.rows_loaded}, quarantined {outcome.rows_quarantined}")


@click.command("ingest")
@click.argument("source")
@click.argument("streams", nargs=-1)
@click.option("--start", help="backfill from this moment (ISO 8601; UTC if no offset)")
@click.option("--end", help="up to this moment (default: now)")
def ingest(source: str, streams: tuple[str, ...], start: str | None, end: str | None) -> None:
    """Extract, validate and load STREAMS of SOURCE (default: all its streams) right now."""
    cls = source_class(source)
    for stream in streams or [s.name for s in cls.extracted_streams()]:
        outcome = steps.extract(source, stream, start=_moment(start), end=_moment(end))
        steps.validate(outcome.batch_id)
        loaded = steps.load(outcome.batch_id)
        click.echo(f"{source}.{stream}: batch {outcome.batch_id} loaded {loaded.rows_loaded}, "
                   f"quarantined {loaded.rows_quarantined}")


@click.command("batches")
@click.option("--source")
@click.option("--stream")
def batches(source: str | None, stream: str | None) -> None:
    """List landed batches (oldest first)."""
    for batch in landing.list_batches(source, stream):
        m = batch.manifest
        state = "complete" if m.complete else f"INCOMPLETE ({m.error})"
        click.echo(f"{m.batch_id}  records={m.record_count}  files={len(m.files)}  {state}")
