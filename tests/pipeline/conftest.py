"""A toy source for the pipeline framework's tests: records come from a list the test controls."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import pulse.sources as sources
from pulse.settings import get_settings
from pulse.sources.base import Source
from pulse.sources.streams import Field, Stream
from pulse.warehouse.connection import Warehouse
from support.services import temporary_postgres_database

ORDERS = Stream(
    "toy", "orders", ("order_id",),
    (Field("order_id", "int"), Field("customer", "str"), Field("amount", "money"),
     Field("placed_at", "timestamp"), Field("paid", "bool"), Field("day", "date")),
    cursor="placed_at", lookback=dt.timedelta(days=1),
)
LINES = Stream("toy", "lines", ("order_id", "line"), (Field("order_id", "int"), Field("line", "int"),
               Field("qty", "int")), extracted_with="orders")


class ToySource(Source):
    name = "toy"
    streams = (ORDERS, LINES)
    records: list[dict] = []
    fail_after_pages: int | None = None

    def extract(self, stream, request, batch):
        pages = [self.records[i:i + 2] for i in range(0, len(self.records), 2)] or [[]]
        for number, page in enumerate(pages):
            if self.fail_after_pages is not None and number >= self.fail_after_pages:
                raise ConnectionError("page 2 truncated")
            batch.add_bytes(f"page-{number:04d}.json", json.dumps(page).encode())
        batch.manifest.record_count = len(self.records)
        cursors = [r["placed_at"] for r in self.records if r.get("placed_at")]
        return {"cursor": max(cursors)} if cursors else dict(request.state)

    def parse(self, stream, batch):
        records = [r for f in batch.manifest.files for r in json.loads(batch.read_bytes(f.name))]
        if stream.name == "orders":
            return [{k: v for k, v in r.items() if k != "lines"} for r in records]
        return [{"order_id": r["order_id"], "line": n, "qty": q} for r in records for n, q in enumerate(r.get("lines", []))]


@pytest.fixture
def toy(monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    monkeypatch.setitem(sources.SOURCES, "toy", "tests_toy:ToySource")
    sources.source_class.cache_clear()
    monkeypatch.setattr(sources, "source_class", lambda name: ToySource if name == "toy" else None)
    import pulse.pipeline.steps as steps
    monkeypatch.setattr(steps, "source_class", lambda name: ToySource)
    ToySource.records, ToySource.fail_after_pages = [], None
    yield ToySource
    get_settings.cache_clear()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    if request.param == "duckdb":
        yield Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")
    else:
        with temporary_postgres_database() as url:
            yield Warehouse(url)
