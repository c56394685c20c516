"""Running a file-drop feed through extract -> validate -> load in tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pulse import landing
from pulse.pipeline import steps
from pulse.settings import get_settings
from pulse.sources import source_class
from pulse.sources.files import FileDropSource
from pulse.warehouse.connection import Warehouse

# a clock after every file of the tiny world (2026-03-02 .. 03-11) has been delivered, March's NPS export included
AFTER_EVERYTHING = dt.datetime(2026, 4, 1, 8, tzinfo=dt.UTC)


def use_data_dir(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """Landing and validation files of the test under `directory` (settings re-read)."""
    monkeypatch.setenv("PULSE_DATA_DIR", str(directory))
    get_settings.cache_clear()


def feed(name: str, drops: Path, warehouse: Warehouse) -> FileDropSource:
    return source_class(name)(directory=drops / name, warehouse=warehouse)


def extract(source: FileDropSource, warehouse: Warehouse) -> landing.LandingBatch:
    outcome = steps.extract(source.name, source.streams[0].name, source=source, warehouse=warehouse)
    return landing.open_batch(outcome.batch_id)


def load(source: FileDropSource, warehouse: Warehouse, batch: landing.LandingBatch) -> steps.LoadOutcome:
    steps.validate(batch.batch_id, source=source, warehouse=warehouse)
    return steps.load(batch.batch_id, source=source, warehouse=warehouse)


def run(source: FileDropSource, warehouse: Warehouse) -> tuple[landing.LandingBatch, steps.LoadOutcome]:
    batch = extract(source, warehouse)
    return batch, load(source, warehouse, batch)
