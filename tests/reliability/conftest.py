"""Reliability tests run Pulse's real DAGs with `dag.test()` on the metadata database of
tests/conftest.py (`airflow_db`).

`kpi_company` is the small company the KPI-layer tests of this directory share (crash trials of the
publication, readers during a refresh): extracted once per session through every connector, as of
two days before its now and as of now, so each test loads it into its own warehouses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulse.sandbox.world_io import World
from pulse.settings import get_settings

COMPANY = {"seed": 4242, "days": 7, "scale": 0.1, "end": dt.date(2026, 3, 20)}


@dataclass(frozen=True)
class KpiCompany:
    world: World
    data_dir: Path  # landing of its batches: PULSE_DATA_DIR while they are loaded
    early: list[tuple[str, str]]  # (source, batch id) as of two days before the company's now
    late: list[tuple[str, str]]  # as of its now

    def environment(self) -> dict[str, str]:
        return {"PULSE_DATA_DIR": str(self.data_dir), "PULSE_DATA_DOCS_ENABLED": "false"}


@pytest.fixture(scope="session")
def kpi_company(tmp_path_factory) -> KpiCompany:
    from pulse.sandbox.generator import generate
    from pulse.warehouse.connection import Warehouse
    from sql.raw_loader import extract_and_load

    world = generate(**COMPANY)
    root = tmp_path_factory.mktemp("kpi_company")
    company = KpiCompany(world, root / "data", [], [])
    with pytest.MonkeyPatch.context() as patch:
        for name, value in company.environment().items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        extraction = Warehouse(f"duckdb:///{root}/extraction.duckdb")
        company.early.extend(extract_and_load(world, extraction, root / "sources",
                                              clock=world.meta.now - dt.timedelta(days=2)))
        company.late.extend(extract_and_load(world, extraction, root / "sources", clock=world.meta.now))
    get_settings.cache_clear()
    return company


@pytest.fixture(scope="module")
def company_data_dir(kpi_company) -> Iterator[Path]:
    """PULSE_DATA_DIR is the company's for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in kpi_company.environment().items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        yield kpi_company.data_dir
    get_settings.cache_clear()
