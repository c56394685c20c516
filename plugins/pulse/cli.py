"""`pulse`: the command line. Each command group lives beside the code it drives and is loaded
only when called, so `pulse --help` stays fast."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "sandbox": "pulse.sandbox.cli:sandbox",
    "services": "pulse.services:services",
    "mailsink": "pulse.mailsink:mailsink",
    "replay": "pulse.pipeline.cli:replay",
    "ingest": "pulse.pipeline.cli:ingest",
    "batches": "pulse.pipeline.cli:batches",
    "superset": "pulse.superset.cli:superset",
    "kpi": "pulse.transform.cli:kpi",
    "validation": "pulse.validation.cli:validation",
    "datadocs": "pulse.validation.cli:datadocs",
    "demo": "pulse.orchestration.demo:demo",
    "bench": "pulse.bench.cli:bench",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[name].partition(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup)
def main() -> None:
    """Pulse: the B2B e-commerce KPI warehouse."""


if __name__ == "__main__":
    main()
