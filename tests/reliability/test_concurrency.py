"""Concurrency: dashboards keep answering while the KPI layer is refreshed and published, and never
show half a refresh. Superset (started from its runtime, the assets synced against the warehouse)
answers chart queries in a loop from two reader threads, while this process loads two more days of
raw data and runs two refresh + publish cycles: on DuckDB the serving copy swapped in by
`os.replace`, on PostgreSQL the refresh's own transaction.

- one reader asks a virtual dataset whose single statement checks, in one snapshot, that every KPI
  table holds the row count the latest refresh recorded and that the summary is that refresh's
  (its day and its values, against kpi_values): any mix of two refreshes breaks one of these;
- the other reader asks every saved chart of the bundle for its data in turn (cache bypassed).

No answer may be an error, no look may see a mix, and the readers must see the new refreshes land
(a Superset that kept reading an old copy would fail here). Budget: one Superset start (about a
minute with the cached metadata template), two syncs and four refreshes: about 3 minutes.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from pulse.superset.client import SupersetClient, SupersetError
from pulse.superset.environment import DeployEnvironment
from pulse.superset.sync import sync
from pulse.transform import refresh_kpis
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.publish import publish
from sql.raw_loader import load_batches
from sql.serving_reader import statement
from support.services import temporary_postgres_database
from support.superset import running_superset

pytestmark = [pytest.mark.superset, pytest.mark.slow]

CYCLES = 2
DATASET = "pulse_reliability_refresh_consistency"


@dataclass
class Reader:
    """A thread asking Superset in a loop until stopped."""

    client: SupersetClient
    ask: Callable[[SupersetClient], dict]  # one look; raises on an error
    looks: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.looks.append(self.ask(self.client))
            except Exception as error:  # every error is a finding
                self.errors.append(f"{type(error).__name__}: {str(error)[:300]}")


@pytest.fixture(scope="module")
def superset(tmp_path_factory):
    with running_superset(tmp_path_factory.mktemp("superset")) as server:
        print(f"\nSuperset started in {server.started_in:.0f} s")
        yield server


@contextmanager
def warehouses(engine: str, tmp_path) -> Iterator[tuple[Warehouse, str]]:
    """(the pipeline's warehouse, the URL Superset reads: DuckDB's serving copy, or PostgreSQL itself)."""
    if engine == "duckdb":
        yield Warehouse(f"duckdb:///{tmp_path}/warehouse.duckdb"), f"duckdb:///{tmp_path}/serving/pulse.duckdb"
        return
    with temporary_postgres_database("pulse_readers") as url:
        yield Warehouse(url), url


def refresh_and_publish(warehouse: Warehouse, read_url: str, through: dt.date) -> str:
    result = refresh_kpis(warehouse=warehouse, through=through)
    if warehouse.dialect == "duckdb":
        publish(warehouse=warehouse, target=read_url.removeprefix("duckdb:///"))
    return result.refresh_id


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_superset_answers_every_query_during_refreshes_and_never_shows_half_of_one(
        engine, superset, kpi_company, company_data_dir, tmp_path):
    world = kpi_company.world
    end = world.meta.end
    with warehouses(engine, tmp_path) as (warehouse, read_url):
        load_batches(kpi_company.early, warehouse)
        first = refresh_kpis(warehouse=warehouse, full=True, through=end - dt.timedelta(days=CYCLES))
        if engine == "duckdb":
            publish(warehouse=warehouse, target=read_url.removeprefix("duckdb:///"))
        with warehouse.connect() as connection:
            tables = [f"kpi.{name}" for (name,) in connection.fetchall(
                "select table_name from information_schema.tables where table_schema = 'kpi' "
                "and table_type = 'BASE TABLE' order by table_name")]

        admin = superset.client()
        sync(admin, DeployEnvironment.for_warehouse(read_url, data_docs_url="http://docs.pulse.test/"))
        database = next(row["id"] for row in admin.list("database", columns=["id", "database_name"])
                        if row["database_name"] == "Pulse warehouse")
        for row in admin.list("dataset", columns=["id", "table_name"]):
            if row["table_name"] == DATASET:
                admin.delete(f"/api/v1/dataset/{row['id']}")
        dataset = admin.post("/api/v1/dataset/", {"database": database, "schema": "kpi", "table_name": DATASET,
                                                  "sql": statement(tables)})["id"]
        charts = [row["id"] for row in admin.list("chart", columns=["id"])]
        assert charts

        def consistency(client: SupersetClient) -> dict:
            body = {"datasource": {"id": dataset, "type": "table"}, "force": True, "result_format": "json",
                    "result_type": "full", "queries": [{"columns": ["refresh_id", "wrong_tables", "wrong_summary_rows",
                                                                    "summary_of_latest_refresh"], "row_limit": 10}]}
            rows = client.query_chart_data(body)["result"][0]["data"]
            assert len(rows) == 1, rows
            return rows[0]

        def chart(client: SupersetClient) -> dict:
            chart_id = charts[len(readers[1].looks) % len(charts)]
            result = client.get(f"/api/v1/chart/{chart_id}/data/", format="json", type="full", force="true")
            failed = [part.get("error") for part in result["result"] if part.get("error") or part.get("status") == "failed"]
            if failed:
                raise SupersetError("GET", f"chart {chart_id}", 200, str(failed))
            return {"chart": chart_id}

        readers = [Reader(superset.client(), consistency), Reader(superset.client(), chart)]
        threads = [threading.Thread(target=reader.run, daemon=True) for reader in readers]
        for thread in threads:
            thread.start()
        refresh_ids = [first.refresh_id]
        try:
            time.sleep(1.0)
            load_batches(kpi_company.late, warehouse)
            for cycle in range(CYCLES):
                through = end - dt.timedelta(days=CYCLES - 1 - cycle)
                refresh_ids.append(refresh_and_publish(warehouse, read_url, through))
                time.sleep(1.0)
        finally:
            for reader in readers:
                reader.stop.set()
            for thread in threads:
                thread.join(timeout=120)

    looks, chart_reader = readers[0].looks, readers[1]
    errors = readers[0].errors + chart_reader.errors
    print(f"\nconcurrency on {engine}: {len(looks)} consistency looks, {len(chart_reader.looks)} chart queries "
          f"({len(charts)} charts), errors {len(errors)}, refreshes seen "
          f"{len({look['refresh_id'] for look in looks} & set(refresh_ids))} of {len(refresh_ids)}")
    assert not errors, errors[:5]
    mixed = [look for look in looks if look["wrong_tables"] or look["wrong_summary_rows"]
             or not look["summary_of_latest_refresh"]]
    assert not mixed, f"{len(mixed)} of {len(looks)} looks saw a mix of refreshes, e.g. {mixed[:3]}"
    seen = {look["refresh_id"] for look in looks}
    assert refresh_ids[-1] in seen and len(seen & set(refresh_ids)) >= 2, "Superset did not show the refreshes land"
    assert chart_reader.looks, "the chart reader asked nothing"
