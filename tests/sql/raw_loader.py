"""Fill a warehouse's raw tables from a sandbox world through the real connectors: each source's
connector extracts from its sandbox (the shop database, the sandbox HTTP servers, the CSV drops)
into landing, and its own parser reads the landed batch back; the records are conformed to the
stream's contract and merged into raw by primary key, as the load step does.

The Great Expectations suites are left out on purpose: they cost seconds per stream, are tested
with the pipeline, and quarantine nothing in a sandbox without faults (a type problem here fails
loudly instead). `extract_and_load` returns the landed batches; `load_batches` loads the same
batches into another warehouse, so each engine gets identical raw tables from one extraction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pulse import landing
from pulse.pipeline import steps
from pulse.sandbox.world_io import World
from pulse.sources import SOURCES, source_class
from pulse.sources.base import Source
from pulse.sources.streams import conform
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.loader import merge
from pulse.warehouse.meta import ensure_meta


def extract_and_load(world: World, warehouse: Warehouse, workdir: Path,
                     clock: dt.datetime | None = None) -> list[tuple[str, str]]:
    """(source, batch_id) of every batch landed and loaded, in load order."""
    clock = clock or world.meta.now
    batches: list[tuple[str, str]] = []
    _current_warehouse[0] = warehouse  # file feeds skip files whose checksum this warehouse has loaded
    with ExitStack() as stack:
        for name in SOURCES:
            if name not in SANDBOXES:
                continue
            source = stack.enter_context(SANDBOXES[name](world, Path(workdir), clock))
            for stream in source.extracted_streams():
                outcome = steps.extract(name, stream.name, end=clock, source=source, warehouse=warehouse)
                batches.append((name, outcome.batch_id))
    load_batches(batches, warehouse)
    return batches


def load_batches(batches: list[tuple[str, str]], warehouse: Warehouse) -> dict[str, int]:
    """Rows merged per raw table."""
    loaded: dict[str, int] = {}
    with warehouse.connect() as connection:
        ensure_meta(connection)
        with connection.transaction():
            for name, batch_id in batches:
                batch = landing.open_batch(batch_id)
                source = source_class(name)()
                for stream in source.fed_by(source.stream(batch.manifest.stream)):
                    conformed = conform(stream, source.parse(stream, batch))
                    if len(conformed.problems):
                        raise AssertionError(f"{stream.key}, batch {batch_id}: values that do not fit the contract:\n"
                                             f"{conformed.problems.head(10)}")
                    rows = merge(connection, stream, conformed.table, batch_id)
                    loaded[stream.raw_table] = loaded.get(stream.raw_table, 0) + rows
    return loaded


def sources_without_sandbox() -> list[str]:
    return sorted(set(SOURCES) - set(SANDBOXES))


# --- one sandbox per source: yields the connector pointed at the world as of the clock -----------
@contextmanager
def _shop(world: World, workdir: Path, clock: dt.datetime) -> Iterator[Source]:
    """The shop/ERP database (SQLite, as in the demo), brought up to the clock."""
    from pulse.sandbox.shopdb import source_connection, write_shop_db

    url = f"sqlite:///{workdir / 'shop.sqlite'}"
    write_shop_db(world, url, clock)
    yield source_class("shop")(connection=source_connection(url))


def _http(name: str) -> Callable[[World, Path, dt.datetime], object]:
    @contextmanager
    def sandbox(world: World, workdir: Path, clock: dt.datetime) -> Iterator[Source]:
        from pulse.sandbox.servers import server_class

        with server_class(name)(world) as server:
            server.set_clock(clock)
            yield source_class(name)(connection=server.source_connection())

    return sandbox


# A file is delivered after the period it covers (the next morning; NPS on the 1st of the next
# month): the drops are written as delivered this long after the clock, so that raw holds every
# record of the world as of the clock.
DELIVERY_WAIT = dt.timedelta(days=32)


def _files(name: str) -> Callable[[World, Path, dt.datetime], object]:
    @contextmanager
    def sandbox(world: World, workdir: Path, clock: dt.datetime) -> Iterator[Source]:
        from pulse.sandbox.drops import write_drops

        drops = workdir / "drops"
        if _drops_written.get(drops) != clock:  # one writing serves every feed
            write_drops(world.as_of(clock), drops, clock + DELIVERY_WAIT)
            _drops_written[drops] = clock
        yield source_class(name)(directory=drops / name, warehouse=_current_warehouse[0])

    return sandbox


_current_warehouse: list[Warehouse | None] = [None]
_drops_written: dict[Path, dt.datetime] = {}

SANDBOXES: dict[str, Callable] = {
    "shop": _shop,
    "hubspot": _http("hubspot"),
    "ga4": _http("ga4"),
    "zendesk": _http("zendesk"),
    "aircall": _http("aircall"),
    "easypost": _http("easypost"),
    "carrier_files": _files("carrier_files"),
    "ad_spend": _files("ad_spend"),
    "nps": _files("nps"),
    "site_speed": _files("site_speed"),
}
