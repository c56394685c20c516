"""Running Pulse's DAGs in tests: the sandbox company served on loopback, the Airflow connections
to it in the environment, the pipeline's data dir under tmp_path, and `dag.test()`."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pulse.orchestration.connections import as_airflow_json, env_name
from pulse.sandbox.servers import SERVERS, server_class
from pulse.sandbox.servers.base import SandboxServer
from pulse.sandbox.world_io import World
from pulse.settings import get_settings
from pulse.sources.connections import conn_id_for
from pulse.warehouse.connection import Warehouse

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="pulse-airflow-home-"))
# Airflow's [api] base_url in the tests: log links in the emails point here; nothing listens
BASE_URL = "http://127.0.0.1:18080"
AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__API__BASE_URL": BASE_URL,
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(AIRFLOW_HOME / "logs"),
}


@dataclass
class Sandbox:
    world: World
    servers: dict[str, SandboxServer]
    shop_url: str
    drops_dir: Path

    def connections(self) -> dict[str, str]:
        from pulse.sandbox.shopdb import source_connection

        values = {env_name(conn_id_for(name)): as_airflow_json(server.source_connection())
                  for name, server in self.servers.items()}
        values[env_name(conn_id_for("shop"))] = as_airflow_json(source_connection(self.shop_url))
        return values

    def set_clock(self, clock: dt.datetime | None) -> None:
        for server in self.servers.values():
            server.set_clock(clock)


@contextlib.contextmanager
def serve_sandbox(world: World, directory: Path, *, only: tuple[str, ...] | None = None) -> Iterator[Sandbox]:
    """Every sandbox API server on 127.0.0.1:0, the shop database (SQLite) and the CSV drops; or
    `only` the named API servers."""
    from pulse.sandbox.drops import write_drops
    from pulse.sandbox.shopdb import write_shop_db

    directory.mkdir(parents=True, exist_ok=True)
    shop_url = f"sqlite:///{directory / 'shop.sqlite'}"
    if only is None:
        write_shop_db(world, shop_url)
        write_drops(world, directory / "drops")
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(server_class(name)(world)) for name in SERVERS
                   if only is None or name in only}
        yield Sandbox(world, servers, shop_url, directory / "drops")


def use_pipeline(monkeypatch, data_dir: Path, sandbox: Sandbox, **settings: str) -> Warehouse:
    """The pipeline's data (landing, warehouse) under `data_dir`, the sources' connections in the
    environment as the demo sets them, fast HTTP retries, no Data Docs."""
    # SMTP to a port nothing listens on, unless the test brings its sink: a failing task in a test
    # must never mail a demo's sink or a real server
    values = {"PULSE_DATA_DIR": str(data_dir), "PULSE_DROPS_DIR": str(sandbox.drops_dir),
              "PULSE_SMTP_HOST": "127.0.0.1", "PULSE_SMTP_PORT": "9",
              "PULSE_HTTP_BACKOFF_SECONDS": "0.01", "PULSE_HTTP_MAX_ATTEMPTS": "2",
              "PULSE_HTTP_TIMEOUT_SECONDS": "10", "PULSE_DATA_DOCS_ENABLED": "false",
              **sandbox.connections(), **settings}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return Warehouse.from_settings()


def no_retries(dag) -> None:
    """Retries wait minutes (exponential back-off); a test wants the final failure at once."""
    for task in dag.tasks:
        task.retries = 0


@dataclass(frozen=True)
class DagRunResult:
    run_id: str
    logical_date: dt.datetime
    states: dict[str, str]  # task_id -> final state

    @property
    def succeeded(self) -> bool:
        return set(self.states.values()) == {"success"}


def run_dag(dag, *, logical_date: dt.datetime | None = None, conf: dict | None = None) -> DagRunResult:
    """One run with `dag.test()`, as the scheduler would make it at `logical_date` (default now)."""
    from airflow.utils.session import create_session

    logical_date = logical_date or dt.datetime.now(dt.UTC)
    run = dag.test(logical_date=logical_date, run_conf=conf)
    with create_session() as session:
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances(session=session)}
    return DagRunResult(run.run_id, logical_date, states)


def table(warehouse: Warehouse, sql: str) -> pd.DataFrame:
    with warehouse.connect() as connection:
        return connection.fetch_df(sql)


def loaded_rows(warehouse: Warehouse, raw_table: str) -> int:
    with warehouse.connect() as connection:
        return connection.scalar(f"select count(*) from {raw_table}") if connection.table_exists(raw_table) else 0


def asset_events(uri: str) -> list[dict]:
    """The asset events Airflow recorded for `uri`, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri).order_by(AssetEvent.id)
        ).scalars().all()
        return [{"extra": json.loads(json.dumps(row.extra)), "source_dag_id": row.source_dag_id,
                 "source_run_id": row.source_run_id, "source_task_id": row.source_task_id} for row in rows]
