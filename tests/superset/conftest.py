"""One Superset per test session, deployed in turn against a DuckDB serving file and PostgreSQL.

`deployment` is parametrized at session scope, so pytest runs every test that uses it first on
DuckDB, then re-deploys the same Superset against PostgreSQL (a sync only changes the database
connection) and runs them again. Superset starts once: about a minute of migrations.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from pulse.superset.bundle import ASSETS_DIR, dump_yaml
from pulse.superset.client import SupersetClient
from pulse.superset.environment import DeployEnvironment
from pulse.superset.sync import SyncReport, sync
from support.kpi_warehouse import KpiFixture, build_kpi_warehouse, make_fixture
from support.services import temporary_postgres_database
from support.superset import SupersetServer, running_superset

DATA_DOCS_URL = "http://docs.pulse.test/data-docs/"


@dataclass
class Deployment:
    engine: str
    warehouse_url: str
    environment: DeployEnvironment
    assets: Path  # the bundle deployed: superset_assets/ with the test's resellers
    fixture: KpiFixture
    server: SupersetServer
    admin: SupersetClient
    report: SyncReport
    sync_seconds: float


@pytest.fixture(scope="session")
def superset(tmp_path_factory) -> Iterator[SupersetServer]:
    with running_superset(tmp_path_factory.mktemp("superset")) as server:
        print(f"\nSuperset started in {server.started_in:.0f} s (init + web)")
        yield server


@pytest.fixture(scope="session")
def kpi_fixture() -> KpiFixture:
    return make_fixture()


@pytest.fixture(scope="session")
def assets(tmp_path_factory, kpi_fixture) -> Path:
    """The committed bundle, with the fixture's resellers in rls/resellers.yml."""
    root = tmp_path_factory.mktemp("assets") / "superset_assets"
    shutil.copytree(ASSETS_DIR, root)
    resellers = root / "rls" / "resellers.yml"
    document = {**yaml.safe_load(resellers.read_text()),
                "resellers": [{"name": name} for name in kpi_fixture.resellers]}
    resellers.write_text(dump_yaml(document))
    return root


@pytest.fixture(scope="session", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployment(request, superset, kpi_fixture, assets, tmp_path_factory) -> Iterator[Deployment]:
    engine = request.param
    with _warehouse(engine, tmp_path_factory) as url:
        if engine == "postgres":
            # a password exercises the path that must keep it out of every file (the server trusts anyway)
            url = make_url(url).set(password="pulse-test-password").render_as_string(hide_password=False)
        build_kpi_warehouse(url, kpi_fixture)
        environment = DeployEnvironment.for_warehouse(url, data_docs_url=DATA_DOCS_URL)
        admin = superset.client()
        started = time.monotonic()
        report = sync(admin, environment, assets)
        seconds = time.monotonic() - started
        print(f"\nsync against {engine}: {seconds:.0f} s")
        yield Deployment(engine, url, environment, assets, kpi_fixture, superset, admin, report, seconds)


def _warehouse(engine: str, tmp_path_factory):
    if engine == "postgres":
        return temporary_postgres_database("pulse_superset")
    path = tmp_path_factory.mktemp("warehouse") / "serving" / "pulse.duckdb"
    path.parent.mkdir(parents=True)
    return nullcontext(f"duckdb:///{path}")
