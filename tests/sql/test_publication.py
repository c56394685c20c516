"""Readers only ever see a complete refresh. A reader in another process queries the KPI layer in
a loop (DuckDB: the serving copy, opened anew for every look; PostgreSQL: the warehouse) while
refreshes with different last days run and publish: it never gets an error and never sees two
refreshes mixed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from raw_loader import load_batches

from pulse.transform import refresh_kpis
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.publish import publish
from support.services import temporary_postgres_database

READER = Path(__file__).with_name("serving_reader.py")
CYCLES = 2


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request):
    return request.param


def test_readers_see_one_complete_refresh_at_a_time(engine, tmp_path, raw_batches, world):
    if engine == "duckdb":
        warehouse = Warehouse(f"duckdb:///{tmp_path}/warehouse.duckdb")
        _run(warehouse, tmp_path, raw_batches, world, target=tmp_path / "serving" / "pulse.duckdb")
    else:
        with temporary_postgres_database("pulse_sql_readers") as url:
            _run(Warehouse(url), tmp_path, raw_batches, world, target=None)


def _run(warehouse: Warehouse, tmp_path: Path, raw_batches, world, target: Path | None) -> None:
    load_batches(raw_batches, warehouse)
    end = world.meta.end
    refresh_kpis(warehouse=warehouse, full=True, through=end - dt.timedelta(days=CYCLES))
    served = publish(warehouse=warehouse, target=target)
    assert (served is None) == (warehouse.dialect == "postgres")
    with warehouse.connect() as connection:
        tables = [f"kpi.{name}" for (name,) in connection.fetchall(
            "select table_name from information_schema.tables where table_schema = 'kpi' "
            "and table_type = 'BASE TABLE' order by table_name")]

    stop, results = tmp_path / "stop", tmp_path / "looks.json"
    reader = subprocess.Popen([sys.executable, str(READER), str(served or warehouse.url), str(stop), str(results),
                               *tables])
    try:
        refresh_ids = []
        for cycle in range(CYCLES):
            time.sleep(0.3)
            through = end - dt.timedelta(days=CYCLES - 1 - cycle)
            refresh_ids.append(refresh_kpis(warehouse=warehouse, through=through).refresh_id)
            publish(warehouse=warehouse, target=target)
        time.sleep(0.5)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    seen = json.loads(results.read_text())
    assert not seen["errors"], f"the reader got errors: {seen['errors'][:5]}"
    looks = seen["looks"]
    assert len(looks) > CYCLES, "the reader hardly looked"
    broken = [look for look in looks
              if look["wrong_counts"] or look["wrong_summary"] or not look["summary_of_latest_refresh"]]
    assert not broken, f"{len(broken)} of {len(looks)} looks saw a mix of refreshes, e.g. {broken[:3]}"
    assert len({look["refresh_id"] for look in looks} & set(refresh_ids)) >= 2, "the reader saw no refresh land"
