"""The KPI layer built once per engine for the whole directory: a small sandbox world, its raw
tables extracted once through the real connectors, then `refresh_kpis(full=True)` on DuckDB and on
PostgreSQL. Tests compare what the SQL wrote with the oracle, which computes from the world alone.

Budget: about 2 minutes on an idle 2-core machine (world 10 s, extraction 60 s, two full refreshes
and the oracle 40 s); the incremental and publication tests add their own refreshes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from raw_loader import extract_and_load, load_batches

from pulse.sandbox.generator import generate
from pulse.sandbox.oracle import Oracle
from pulse.sandbox.world_io import World
from pulse.settings import get_settings
from pulse.transform import RefreshResult, refresh_kpis
from pulse.warehouse.connection import Warehouse
from support.services import temporary_postgres_database

# 70 days ending on a Sunday: two quarters, three months, complete ISO weeks, the spring
# daylight-saving change (2026-03-29), Easter Monday, and every incident of the sandbox.
WORLD = {"seed": 20260412, "days": 70, "scale": 0.25, "end": dt.date(2026, 4, 12)}


@dataclass
class Built:
    engine: str
    warehouse: Warehouse
    refresh: RefreshResult

    def table(self, name: str, where: str = "") -> pd.DataFrame:
        with self.warehouse.connect() as connection:
            return connection.fetch_df(f"select * from {name} {where}")


@pytest.fixture(scope="package")
def sql_workdir(tmp_path_factory) -> Iterator[Path]:
    """Landing and drops live here for the directory's tests (the pipeline finds landing through
    settings)."""
    workdir = tmp_path_factory.mktemp("kpi_layer")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_DATA_DIR", str(workdir / "data"))
        get_settings.cache_clear()
        yield workdir
    get_settings.cache_clear()


@pytest.fixture(scope="package")
def world() -> World:
    return generate(**WORLD)


@pytest.fixture(scope="package")
def oracle(world) -> Oracle:
    return Oracle(world)


@pytest.fixture(scope="package")
def raw_batches(world, sql_workdir) -> list[tuple[str, str]]:
    """Extracted once; loaded into the DuckDB warehouse on the way."""
    return extract_and_load(world, _duckdb_warehouse(sql_workdir), sql_workdir)


def _duckdb_warehouse(workdir: Path) -> Warehouse:
    return Warehouse(f"duckdb:///{workdir}/duckdb/warehouse.duckdb")


@pytest.fixture(scope="package")
def duckdb_built(world, sql_workdir, raw_batches) -> Built:
    warehouse = _duckdb_warehouse(sql_workdir)
    return Built("duckdb", warehouse, refresh_kpis(warehouse=warehouse, full=True, through=world.meta.end))


@pytest.fixture(scope="package")
def postgres_built(world, sql_workdir, raw_batches) -> Iterator[Built]:
    with temporary_postgres_database("pulse_sql") as url:
        warehouse = Warehouse(url)
        load_batches(raw_batches, warehouse)
        yield Built("postgres", warehouse, refresh_kpis(warehouse=warehouse, full=True, through=world.meta.end))


@pytest.fixture(params=["duckdb", "postgres"], scope="package")
def built(request) -> Built:
    return request.getfixturevalue(f"{request.param}_built")
