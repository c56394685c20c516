"""`make up` end to end: the production-mode stack on this machine's PostgreSQL and Redis.

scripts/up.sh (what `make up PROFILES=demo` runs) starts Airflow with the CeleryExecutor,
Superset with its Celery worker and beat, the sandbox sources and the mail sink, all in production
mode (PULSE_ENV=production, every secret from an env file written by scripts/production-env.sh).
Then, through the public APIs only:
- Airflow's API (which its UI calls) refuses requests without a login;
- DAG runs (two sources' extract DAGs and the KPI build) succeed, each task executed by the
  Celery worker (its result is in the Celery result backend, which only a worker writes);
- the KPIs they built in the PostgreSQL warehouse equal the sandbox oracle's;
- a Superset chart answers from the PostgreSQL warehouse;
- a report schedule created through Superset's API is mailed by Superset's Celery worker.
scripts/down.sh then stops every process of every service, children included.

Budget: a 7-day company at scale 0.2 and two sources (the phone system, one stream; the shop,
whose orders open the KPI window), about 45 tasks: about 5 minutes on the shared 2-core machine
(stack up 1-2 min, pipeline 2-3 min, report and stop 1 min); the timeouts below allow for a busy
one. Everything gets its own databases and roles, Redis databases, ports and data dir, dropped or
emptied afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import numpy as np
import psutil
import psycopg
import pytest
import redis

from pulse.mailsink import read_messages
from pulse.orchestration.airflow_api import AirflowApi
from pulse.sandbox.oracle import Oracle
from pulse.sandbox.world_io import load_world
from pulse.settings import REPO_ROOT
from pulse.superset.client import SupersetClient
from support.services import POSTGRES_ADMIN_URL, REDIS_URL, require_postgres, require_redis
from support.superset import free_port, require_superset

# the first test also starts the stack and the second runs the pipeline (pytest-timeout counts setup)
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.superset,
              pytest.mark.airflow, pytest.mark.timeout(3600)]

SCRIPTS = REPO_ROOT / "scripts"
# The phone system (one stream) and the shop (whose orders open the KPI window: the build gives
# periods from the first order on, docs/data-contracts.md §5).
SOURCES = ("aircall", "shop")
KPIS = ("inbound_calls", "call_wait_time", "revenue", "web_transactions")
TILE = "tile_call_wait_time"  # the summary tile of call_wait_time (superset_assets/charts/)
# what scripts/up.sh starts with the demo profile, each under `pulse services` (data/run/<name>.pid)
SERVICES = {"mailsink", "sandbox", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "superset-web", "superset-worker", "superset-beat"}
START_TIMEOUT = 1800.0
RUN_TIMEOUT = 1800.0
MAIL_TIMEOUT = 600.0
STOP_TIMEOUT = 300.0


@dataclass
class Stack:
    env_file: Path
    data_dir: Path
    settings: dict[str, str]
    airflow_url: str
    superset_url: str
    databases: dict[str, str]  # role -> database name

    def warehouse(self) -> psycopg.Connection:
        return psycopg.connect(_database_url(self.databases["warehouse"]), autocommit=True)

    def airflow_database(self) -> psycopg.Connection:
        return psycopg.connect(_database_url(self.databases["airflow"]), autocommit=True)

    def airflow(self) -> AirflowApi:
        return AirflowApi(self.airflow_url, "admin", self.settings["AIRFLOW_ADMIN_PASSWORD"])

    def superset(self) -> SupersetClient:
        return SupersetClient(self.superset_url, "admin", self.settings["SUPERSET_ADMIN_PASSWORD"])


def _database_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + f"/{name}"


def _claim_redis_databases(count: int, owner: str) -> list[int]:
    """Empty Redis databases above the ones the demo and other tests use by default (0 and 1),
    each claimed with a key so that a concurrent run does not take it too."""
    found = []
    for number in range(15, 1, -1):
        database = _redis(number)
        if database.dbsize() == 0 and database.set(CLAIM_KEY, owner, nx=True):
            found.append(number)
        if len(found) == count:
            return found
    for number in found:
        _redis(number).flushdb()
    pytest.fail("no empty Redis databases left for the production stack")


CLAIM_KEY = "pulse_e2e_claim"


def _redis(number: int) -> redis.Redis:
    # the database of the URL's path wins over from_url's `db` argument: replace the path
    return redis.Redis.from_url(urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{number}")))


def _free_port_range(width: int) -> int:
    """A base port with `width` free ports from it (the sandbox servers take consecutive ports)."""
    for _ in range(50):
        base = free_port()
        if base + width < 65535 and all(_port_free(base + offset) for offset in range(width)):
            return base
    pytest.fail(f"no {width} consecutive free ports")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _generated_secrets() -> dict[str, str]:
    text = subprocess.run([str(SCRIPTS / "production-env.sh")], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def _postgres_settings() -> dict[str, str]:
    """The server `make up` creates its databases on: the one the tests administer."""
    url = urlsplit(POSTGRES_ADMIN_URL)
    return {"PULSE_POSTGRES_HOST": url.hostname or "127.0.0.1", "PULSE_POSTGRES_PORT": str(url.port or 5432),
            "PULSE_POSTGRES_ADMIN_USER": unquote(url.username or "postgres"),
            "PULSE_POSTGRES_ADMIN_PASSWORD": unquote(url.password or "")}


def _redis_settings() -> dict[str, str]:
    url = urlsplit(REDIS_URL)
    return {"PULSE_REDIS_HOST": url.hostname or "127.0.0.1", "PULSE_REDIS_PORT": str(url.port or 6379)}


def _run_script(name: str, env_file: Path, log: Path, timeout: float) -> int:
    """Run scripts/NAME in its own process group; on a timeout (or an interrupted test) the group
    is killed, so no half-done init job outlives the test (services live in their own groups and
    are stopped by scripts/down.sh)."""
    with log.open("a") as out:
        process = subprocess.Popen([str(SCRIPTS / name)], env=_environment(env_file), stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO_ROOT,
                                   start_new_session=True)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"scripts/{name} still running after {timeout:.0f} s:\n{log.read_text()[-6000:]}")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _environment(stack_env_file: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PULSE_", "AIRFLOW", "SUPERSET_", "SMTP_", "POSTGRES_"))}
    env.update(PULSE_ENV_FILE=str(stack_env_file), PULSE_PROFILES="demo")
    return env


def _drop(stack_databases: dict[str, str], roles: list[str]) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as admin:
        for name in stack_databases.values():
            admin.execute(f'drop database if exists "{name}" with (force)')
        for role in roles:
            admin.execute(f'drop role if exists "{role}"')


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    require_postgres()
    require_redis()
    require_superset()
    root = tmp_path_factory.mktemp("production")
    prefix = f"pulse_e2e_{uuid.uuid4().hex[:8]}"
    databases = {"warehouse": f"{prefix}_warehouse", "airflow": f"{prefix}_airflow", "superset": f"{prefix}_superset"}
    roles = [f"{prefix}_pulse", f"{prefix}_airflow", f"{prefix}_superset"]
    airflow_redis, superset_redis = _claim_redis_databases(2, prefix)
    ports = {name: free_port() for name in ("airflow", "superset", "worker_logs", "trigger_logs", "scheduler",
                                            "mail")}
    settings = _generated_secrets() | _postgres_settings() | _redis_settings() | {
        "PULSE_DATA_DIR": str(root / "data"),
        "PULSE_WAREHOUSE_DB": databases["warehouse"], "PULSE_WAREHOUSE_DB_USER": roles[0],
        "AIRFLOW_DB": databases["airflow"], "AIRFLOW_DB_USER": roles[1],
        "SUPERSET_DB": databases["superset"], "SUPERSET_DB_USER": roles[2],
        "AIRFLOW_REDIS_DB": str(airflow_redis), "SUPERSET_REDIS_DB": str(superset_redis),
        "AIRFLOW__API__PORT": str(ports["airflow"]), "SUPERSET_PORT": str(ports["superset"]),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["worker_logs"]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["trigger_logs"]),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports["scheduler"]),
        "PULSE_SANDBOX_BASE_PORT": str(_free_port_range(8)), "PULSE_MAILSINK_PORT": str(ports["mail"]),
        # a small company, and a small footprint on a shared machine
        "PULSE_SANDBOX_DAYS": "7", "PULSE_SANDBOX_SCALE": "0.2",
        "AIRFLOW__API__WORKERS": "1", "SUPERSET_WEB_WORKERS": "1", "AIRFLOW_WORKER_CONCURRENCY": "4",
        "SUPERSET_WORKER_CONCURRENCY": "1", "PULSE_DATA_DOCS_ENABLED": "false",
        # nothing runs but what the test triggers
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }
    env_file = root / "production.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    env_file.chmod(0o600)
    stack = Stack(env_file, root / "data", settings, f"http://127.0.0.1:{ports['airflow']}",
                  f"http://127.0.0.1:{ports['superset']}", databases)
    log = root / "up.log"
    try:
        started = time.monotonic()
        assert _run_script("up.sh", env_file, log, START_TIMEOUT) == 0, \
            f"scripts/up.sh failed:\n{log.read_text()[-6000:]}"
        print(f"\nproduction stack up in {time.monotonic() - started:.0f} s")
        yield stack
    finally:
        try:
            _run_script("down.sh", env_file, root / "down.log", STOP_TIMEOUT)
        finally:
            _drop(databases, roles)
            for number in (airflow_redis, superset_redis):
                _redis(number).flushdb()


@pytest.fixture(scope="module")
def pipeline(stack) -> dict[str, str]:
    """The sources' history (the whole sandbox window), then the KPI build, as DAG runs."""
    meta = load_world(stack.data_dir / "sandbox").meta
    extracts = {f"extract_{source}": (f"e2e_backfill_{meta.start}", {"start": str(meta.start), "end": str(meta.end)})
                for source in SOURCES}
    build = {"kpi_build": (f"e2e_kpi_build_{meta.end}", {"through": str(meta.end)})}
    api = stack.airflow()
    started = time.monotonic()
    try:
        for runs in (extracts, build):  # the build reads what the extracts loaded
            for dag_id, (run_id, conf) in runs.items():
                api.wait_for_dag(dag_id)
                api.unpause(dag_id)
                api.trigger(dag_id, run_id, conf)
            for dag_id, (run_id, _) in runs.items():
                deadline = time.monotonic() + RUN_TIMEOUT
                while (state := (api.run(dag_id, run_id) or {}).get("state")) not in {"success", "failed"}:
                    assert time.monotonic() < deadline, f"{dag_id} still {state} after {RUN_TIMEOUT:.0f} s"
                    time.sleep(5)
                assert state == "success", f"{dag_id}: {api.task_states(dag_id, run_id)}"
    finally:
        api.close()
    print(f"\npipeline runs done in {time.monotonic() - started:.0f} s")
    return {dag_id: run_id for dag_id, (run_id, _) in (extracts | build).items()}


def test_airflow_ui_and_api_require_a_login(stack):
    with httpx.Client(base_url=stack.airflow_url, timeout=60) as client:
        assert client.get("/api/v2/version").status_code == 200  # the health and version probes are public
        assert client.get("/api/v2/dags").status_code == 401
        assert client.get("/api/v2/dags", headers={"Authorization": "Bearer forged"}).status_code in (401, 403)
        wrong = client.post("/auth/token", json={"username": "admin", "password": secrets.token_urlsafe(16)})
        assert wrong.status_code in (401, 403)
        token = client.post("/auth/token", json={"username": "admin",
                                                 "password": stack.settings["AIRFLOW_ADMIN_PASSWORD"]})
        assert token.status_code in (200, 201)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert client.get("/api/v2/dags", headers=headers).status_code == 200


def test_every_task_ran_on_the_celery_worker(stack, pipeline):
    api = stack.airflow()
    try:
        states = {(dag_id, task): state for dag_id, run_id in pipeline.items()
                  for task, state in api.task_states(dag_id, run_id).items()}
    finally:
        api.close()
    ran = [key for key, state in states.items() if state == "success"]
    assert ran, states
    # Celery workers record each finished task in the result backend (the Airflow database here);
    # nothing else writes that table, and the scheduler alone would leave it empty.
    with stack.airflow_database() as database:
        results = database.execute("select status, count(*) from celery_taskmeta group by status").fetchall()
    assert dict(results).get("SUCCESS", 0) >= len(ran), (results, len(ran))


def test_kpis_in_the_postgresql_warehouse_equal_the_oracle(stack, pipeline):
    oracle = Oracle(load_world(stack.data_dir / "sandbox"))
    with stack.warehouse() as warehouse:
        rows = warehouse.execute(
            "select kpi_id, period_start, value from kpi.kpi_values "
            "where grain = 'day' and slice_name = 'all' and kpi_id = any(%s)", [list(KPIS)]).fetchall()
    built = {(kpi_id, period): value for kpi_id, period, value in rows}
    compared = 0
    for kpi_id in KPIS:
        for period in oracle.periods("day"):
            expected = oracle.value(kpi_id, "day", period)
            actual = built.get((kpi_id, period))
            if expected is None or (isinstance(expected, float) and np.isnan(expected)):
                assert actual is None or np.isnan(actual), (kpi_id, period, actual)
                continue
            assert actual is not None, f"{kpi_id} {period}: missing in kpi.kpi_values"
            assert actual == pytest.approx(expected, rel=1e-9), (kpi_id, period)
            compared += 1
    assert compared >= len(KPIS) * 3, "the world holds too few call days to compare"


def test_a_superset_chart_answers_from_the_postgresql_warehouse(stack, pipeline):
    """The call wait time tile (one value per day) shows the oracle's daily values."""
    client = stack.superset()
    databases = {row["database_name"]: row for row in client.list("database", columns=["database_name", "backend"])}
    assert databases["Pulse warehouse"]["backend"] == "postgresql"
    tile = next(row for row in client.list("chart", columns=["id", "uuid"]) if _bundle_key(row["uuid"]) == TILE)
    result = client.chart_data(tile["id"])["result"][0]
    assert result["rowcount"] > 0, result
    oracle = Oracle(load_world(stack.data_dir / "sandbox"))
    shown = 0
    for row in result["data"]:
        day = dt.datetime.fromtimestamp(row["period_start"] / 1000, dt.UTC).date()
        expected = oracle.value("call_wait_time", "day", day)
        if expected is None:  # no answered call that day (a weekend): nothing to average
            assert row["kpi_ratio"] is None, day
            continue
        assert row["kpi_ratio"] == pytest.approx(expected, rel=1e-9), day
        shown += 1
    assert shown >= 3, result["data"]


def test_a_report_is_mailed_by_the_superset_celery_worker(stack, pipeline):
    client = stack.superset()
    chart = next(row for row in client.list("chart", columns=["id", "uuid"]) if _bundle_key(row["uuid"]) == TILE)
    name = f"e2e report {uuid.uuid4().hex[:8]}"
    recipient = "e2e-reports@example.com"
    report = client.post("/api/v1/report/", {
        "type": "Report", "name": name, "chart": chart["id"], "report_format": "TEXT",
        "crontab": "* * * * *", "timezone": "UTC", "active": True, "working_timeout": 300,
        "recipients": [{"type": "Email", "recipient_config_json": {"target": recipient}}],
    })
    log_path = f"/api/v1/report/{report['id']}/log/"
    mail_dir = stack.data_dir / "mail"
    deadline = time.monotonic() + MAIL_TIMEOUT
    while not (mails := [m for m in read_messages(mail_dir) if name in str(m["Subject"])]):
        assert time.monotonic() < deadline, \
            f"no mail for {name!r} within {MAIL_TIMEOUT:.0f} s; report log: {client.get(log_path).get('result')}"
        time.sleep(5)
    mail = mails[0]
    assert recipient in mail["X-Envelope-To"]
    assert str(mail["Subject"]).startswith("[Pulse] ")
    log = client.get(log_path)["result"]
    assert any(entry["state"] == "Success" for entry in log), log
    client.delete(f"/api/v1/report/{report['id']}")
    # the beat only schedules; the executions ran in the worker process
    worker_log = (stack.data_dir / "logs" / "superset-worker.log").read_text(errors="replace")
    assert "reports.execute" in worker_log


def test_make_down_stops_every_process(stack, pipeline):
    run_dir = stack.data_dir / "run"
    services = {path.stem: json.loads(path.read_text())["pid"] for path in run_dir.glob("*.pid")}
    assert set(services) == SERVICES
    # every process of every service, children included (gunicorn, Celery and task processes)
    processes = [process for pid in services.values() for process in _tree(pid)]
    assert len(processes) > len(services)
    log = stack.data_dir.parent / "down.log"
    assert _run_script("down.sh", stack.env_file, log, STOP_TIMEOUT) == 0, log.read_text()
    assert not list(run_dir.glob("*.pid"))
    alive = [process for process in processes if _alive(process)]
    assert not alive, alive


def _tree(pid: int) -> list[psutil.Process]:
    process = psutil.Process(pid)
    return [process, *process.children(recursive=True)]


def _alive(process: psutil.Process) -> bool:
    """`is_running` compares the start time too: a PID reused since is not the same process."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _bundle_key(chart_uuid: str) -> str | None:
    """The bundle file name (without .yaml) of a chart uuid in superset_assets/charts/."""
    from pulse.superset.bundle import ASSETS_DIR, read_bundle

    global _CHART_KEYS
    if _CHART_KEYS is None:
        _CHART_KEYS = {doc["uuid"]: name.removeprefix("charts/").removesuffix(".yaml")
                       for name, doc in read_bundle(ASSETS_DIR).items() if name.startswith("charts/")}
    return _CHART_KEYS.get(chart_uuid)


_CHART_KEYS: dict[str, str] | None = None
