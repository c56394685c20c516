"""A toy shop source whose records the test controls, with hand-written rules like a real stream's,
run through the real extract -> validate -> load steps."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import pulse.pipeline.steps as steps
import pulse.sources as sources
from pulse.settings import get_settings
from pulse.sources.base import Source
from pulse.sources.streams import Field, Stream
from pulse.validation import stream_rules
from pulse.validation.suites import StreamRules, between, not_before, one_of
from pulse.warehouse.connection import Warehouse
from support.services import temporary_postgres_database

ORDERS = Stream(
    "toyshop", "orders", ("order_id",),
    (Field("order_id", "int"), Field("status", "str"), Field("amount", "money"), Field("placed_at", "timestamp"),
     Field("shipped_at", "timestamp"), Field("promised_date", "date"), Field("note", "str")),
    cursor="placed_at",
)
LINES = Stream("toyshop", "lines", ("order_id", "line"),
               (Field("order_id", "int"), Field("line", "int"), Field("quantity", "int")), extracted_with="orders")
RULES = {
    "toyshop.orders": StreamRules(
        rules=(one_of("status", ["placed", "shipped", "cancelled"]), between("amount", 0, 100_000),
               not_before("shipped_at", "placed_at")),
        future_timestamps=("shipped_at",),
    ),
    "toyshop.lines": StreamRules(rules=(between("quantity", 1, 10_000),)),
}


class ToyShop(Source):
    name = "toyshop"
    streams = (ORDERS, LINES)
    records: list[dict] = []

    def extract(self, stream, request, batch):
        batch.add_bytes("page-0000.json", json.dumps(self.records).encode())
        batch.manifest.record_count = len(self.records)
        return {"cursor": dt.datetime.now(dt.UTC).isoformat()}

    def parse(self, stream, batch):
        records = json.loads(batch.read_bytes("page-0000.json"))
        if stream.name == "orders":
            return [{k: v for k, v in r.items() if k != "lines"} for r in records]
        return [{"order_id": r.get("order_id"), "line": n, "quantity": q}
                for r in records for n, q in enumerate(r.get("lines", []))]


def order(number: int, **changes) -> dict:
    """A clean order `number`, placed on 2026-03-02 at 09:00 UTC plus `number` minutes."""
    placed = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC) + dt.timedelta(minutes=number)
    record = {"order_id": number, "status": "shipped", "amount": f"{number % 97 + 10}.25",
              "placed_at": placed.isoformat(), "shipped_at": (placed + dt.timedelta(days=1)).isoformat(),
              "promised_date": "2026-03-05", "note": "ok", "lines": [1, 2]}
    record.update(changes)
    return record


@pytest.fixture
def toyshop(monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PULSE_DATA_DOCS_ENABLED", "false")
    get_settings.cache_clear()
    monkeypatch.setitem(sources.SOURCES, "toyshop", "validation_toyshop:ToyShop")
    monkeypatch.setattr(steps, "source_class", lambda name: ToyShop)
    monkeypatch.setattr(stream_rules, "RULES", {**stream_rules.RULES, **RULES})
    ToyShop.records = []
    yield ToyShop
    get_settings.cache_clear()


@pytest.fixture
def duckdb_warehouse(tmp_path):
    return Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    if request.param == "duckdb":
        yield Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")
    else:
        with temporary_postgres_database() as url:
            yield Warehouse(url)


def run_batch(warehouse, records):
    """Extract, validate and load one batch; returns (batch_id, LoadOutcome or the BatchRejected)."""
    ToyShop.records = records
    outcome = steps.extract("toyshop", "orders", warehouse=warehouse)
    steps.validate(outcome.batch_id, warehouse=warehouse)
    try:
        return outcome.batch_id, steps.load(outcome.batch_id, warehouse=warehouse)
    except steps.BatchRejected as rejected:
        return outcome.batch_id, rejected
