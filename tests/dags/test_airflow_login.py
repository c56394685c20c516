"""The Airflow UI's API server as `scripts/airflow-api-server.sh` starts it (the demo's settings):
bound to 127.0.0.1 only, and nothing of the REST API answers without logging in.

Budget: one API server start (about 30 seconds)."""

from __future__ import annotations

import json
import os
import socket

import httpx
import psutil
import pytest

from dags.airflow_harness import AIRFLOW_ENV, REPO
from pulse.services import ServiceManager

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def api_server(airflow_db, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("airflow-api")
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW__API__")}
    env |= {**AIRFLOW_ENV, "PULSE_DATA_DIR": str(data_dir), "AIRFLOW__API__PORT": str(port)}
    env.pop("AIRFLOW__API__BASE_URL", None)
    manager = ServiceManager(data_dir)
    manager.start("airflow-api", [str(REPO / "scripts" / "airflow-api-server.sh")], env=env, cwd=REPO,
                  health=f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=300)
    try:
        password = json.loads((data_dir / "secrets" / "airflow_passwords.json").read_text())["admin"]
        yield f"http://127.0.0.1:{port}", password, manager.running("airflow-api").pid
    finally:
        manager.stop("airflow-api")


def test_the_rest_api_answers_nobody_without_a_login(api_server):
    url, _, _ = api_server
    for path in ("/api/v2/dags", "/api/v2/dags/extract_shop/dagRuns", "/api/v2/connections", "/api/v2/variables"):
        assert httpx.get(url + path).status_code == 401, path
    assert httpx.post(f"{url}/api/v2/dags/extract_shop/dagRuns", json={"logical_date": None}).status_code == 401
    forged = httpx.get(f"{url}/api/v2/dags", headers={"Authorization": "Bearer forged.token.value"})
    assert forged.status_code in {401, 403}


def test_a_wrong_password_gets_no_token_and_the_right_one_does(api_server):
    url, password, _ = api_server
    assert httpx.post(f"{url}/auth/token", json={"username": "admin", "password": password + "x"}).status_code == 401
    token = httpx.post(f"{url}/auth/token", json={"username": "admin", "password": password}).json()["access_token"]
    assert httpx.get(f"{url}/api/v2/dags", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_it_listens_on_loopback_only(api_server):
    url, _, pid = api_server
    port = int(url.rsplit(":", 1)[1])
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    addresses = {c.laddr.ip for p in processes for c in p.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
    assert addresses == {"127.0.0.1"}
