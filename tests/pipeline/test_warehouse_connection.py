"""The DuckDB one-writer rule is enforced by a file lock across processes; parameters are
translated per dialect."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from pulse.warehouse.connection import Warehouse, WarehouseError

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pulse.warehouse.connection import Warehouse
    with Warehouse(sys.argv[1]).connect() as connection:
        connection.execute("create table if not exists t (x int)")
        print("holding", flush=True)
        time.sleep(30)
    """
)


def test_a_second_process_waits_for_the_duckdb_writer(tmp_path):
    url = f"duckdb:///{tmp_path}/pulse.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        with pytest.raises(WarehouseError, match="stayed locked by another process"), \
                Warehouse(url).connect(lock_timeout=1):
            pass
        assert time.monotonic() - started >= 1
    finally:
        holder.kill()
        holder.wait()
    with Warehouse(url).connect(lock_timeout=5) as connection:  # released with the process
        assert connection.scalar("select count(*) from t") == 0


def test_nested_connections_in_one_process_share_the_lock(tmp_path):
    warehouse = Warehouse(f"duckdb:///{tmp_path}/pulse.duckdb")
    with warehouse.connect(lock_timeout=1) as outer, warehouse.connect(lock_timeout=1) as inner:
        outer.execute("create table t (x int)")
        inner.execute("insert into t values (1)")
        assert outer.scalar("select count(*) from t") == 1


def test_named_parameters_on_both_dialects(warehouse):
    with warehouse.connect() as connection:
        value = connection.scalar("select cast(:a as integer) + cast(:b as integer) as total -- 10:30 is not a parameter",
                                  {"a": 2, "b": 3})
        assert value == 5
        assert connection.scalar("select '%' || :x", {"x": "y"}) == "%y"
