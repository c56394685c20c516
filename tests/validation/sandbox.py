"""The sandbox company served the way the pipeline meets it in the demo: every API server on
loopback, the shop database, the CSV drops; and a helper that runs one stream through the real
extract -> validate -> load steps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from pulse.pipeline import steps
from pulse.sandbox.drops import FEEDS, write_drops
from pulse.sandbox.servers import SERVERS, server_class
from pulse.sandbox.shopdb import source_connection, write_shop_db
from pulse.sandbox.world_io import World
from pulse.sources import source_class
from pulse.sources.base import Source
from pulse.sources.connections import SourceConnection
from pulse.validation.verdict import Verdict
from pulse.warehouse.connection import Warehouse


@dataclass
class Sandbox:
    world: World
    drops: Path
    connections: dict[str, SourceConnection] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        return [*self.connections, *FEEDS]

    def source(self, name: str, warehouse: Warehouse) -> Source:
        cls = source_class(name)
        if name in FEEDS:
            return cls(directory=self.drops / name, warehouse=warehouse)
        return cls(connection=self.connections[name])

    def first_start(self, source: str) -> dt.datetime | None:
        """Where a first extraction starts: the whole history, except for GA4, whose first load
        would otherwise ask for 14 months of empty days before the world begins."""
        if source != "ga4":
            return None
        zone = ZoneInfo(self.world.meta.property_time_zone)
        return dt.datetime.combine(self.world.meta.start, dt.time(), zone).astimezone(dt.UTC)


@contextmanager
def serve(world: World, directory: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(world, directory / "drops")
    with ExitStack() as stack:
        for name in SERVERS:
            server = stack.enter_context(server_class(name)(world).start())
            sandbox.connections[name] = server.source_connection()
        url = f"sqlite:///{directory}/shop.db"
        write_shop_db(world, url)
        sandbox.connections["shop"] = source_connection(url)
        write_drops(world, sandbox.drops)
        yield sandbox


@dataclass
class Run:
    batch_id: str
    verdicts: list[Verdict]
    loaded: steps.LoadOutcome | None
    rejected: steps.BatchRejected | None


def run_stream(source: Source, stream: str, warehouse: Warehouse, start: dt.datetime | None = None) -> Run:
    extracted = steps.extract(source.name, stream, source=source, warehouse=warehouse, start=start)
    verdicts = steps.validate(extracted.batch_id, source=source, warehouse=warehouse)
    try:
        return Run(extracted.batch_id, verdicts, steps.load(extracted.batch_id, source=source, warehouse=warehouse),
                   None)
    except steps.BatchRejected as rejected:
        return Run(extracted.batch_id, verdicts, None, rejected)
