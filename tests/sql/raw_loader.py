"""Fill a warehouse's raw tables from a sandbox world the way production does: each source's real
connector extracts from the sandbox (the shop database, the sandbox HTTP servers, the CSV drops)
into landing, and the pipeline's validate and load steps merge the batches into raw.

`load_raw(world, warehouse, workdir, clock)` brings raw up to the world as of `clock`; calling it
again with a later clock re-extracts from each stream's saved cursor (minus its lookback), as the
scheduled DAGs do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from pulse.pipeline import steps
from pulse.sandbox.world_io import World
from pulse.sources.base import Source
from pulse.warehouse.connection import Warehouse


def load_raw(world: World, warehouse: Warehouse, workdir: Path, clock: dt.datetime | None = None) -> dict[str, int]:
    """Rows loaded per stream (`source.stream`)."""
    clock = clock or world.meta.now
    loaded: dict[str, int] = {}
    for loader in LOADERS:
        loaded.update(loader(world, warehouse, Path(workdir), clock))
    return loaded


def _run_streams(source: Source, warehouse: Warehouse, clock: dt.datetime) -> dict[str, int]:
    loaded = {}
    for stream in source.extracted_streams():
        outcome = steps.extract(source.name, stream.name, end=clock, source=source, warehouse=warehouse)
        steps.validate(outcome.batch_id, source=source, warehouse=warehouse)
        result = steps.load(outcome.batch_id, source=source, warehouse=warehouse)
        for key, rows in result.rows_loaded.items():
            loaded[key] = loaded.get(key, 0) + rows
    return loaded


def _shop(world: World, warehouse: Warehouse, workdir: Path, clock: dt.datetime) -> dict[str, int]:
    """The shop/ERP database (SQLite, as in the demo) brought up to the clock, read by the shop connector."""
    from pulse.sandbox.shopdb import source_connection, write_shop_db
    from pulse.sources.shop import ShopSource

    url = f"sqlite:///{workdir / 'shop.sqlite'}"
    write_shop_db(world, url, clock)
    return _run_streams(ShopSource(connection=source_connection(url)), warehouse, clock)


LOADERS: tuple[Callable[[World, Warehouse, Path, dt.datetime], dict[str, int]], ...] = (_shop,)
