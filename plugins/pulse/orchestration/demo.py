"""`pulse demo start` / `pulse demo stop`: the whole of Pulse on one machine, on the sandbox company.

`start` (what `make demo` runs once the runtimes exist) generates the company (PULSE_SANDBOX_SEED,
_SCALE, _DAYS, ending yesterday), writes its shop database and CSV drops, starts the sandbox APIs,
the mail sink and Airflow (standalone, 127.0.0.1), loads the sample history through real DAG runs
(each extract DAG triggered with the backfill params `start`/`end`, then the KPI build), starts
Superset and deploys the dashboards. Every step reuses what exists: a second `start` regenerates
nothing and triggers no run twice (runs have fixed ids; a failed one is cleared and rerun).

`stop` stops exactly the services `start` started (PID files in data/run, whole process groups).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from pulse.settings import Settings, get_settings

SANDBOX, MAILSINK, DATADOCS, AIRFLOW, SUPERSET = "sandbox", "mailsink", "datadocs", "airflow", "superset"
SUPERSET_WORKER, SUPERSET_BEAT = "superset_worker", "superset_beat"
SERVICES = (SANDBOX, MAILSINK, DATADOCS, AIRFLOW, SUPERSET, SUPERSET_WORKER, SUPERSET_BEAT)

# The demo's Airflow keeps its metadata in SQLite, where every component writes: wait up to a
# minute for the file lock instead of pysqlite's 5 seconds, which a busy small machine exceeds.
SQLITE_CONNECT_ARGS = {"timeout": 60}


class Progress:
    def __init__(self, steps: int):
        self.steps, self.step, self.began = steps, 0, time.monotonic()
        self.timings: dict[str, float] = {}

    def run(self, title: str, work: Callable[[], str | None]) -> None:
        self.step += 1
        click.secho(f"==> [{self.step}/{self.steps}] {title}", bold=True)
        started = time.monotonic()
        note = work()
        self.timings[title] = time.monotonic() - started
        click.echo(f"    {note + '; ' if note else ''}{self.timings[title]:.0f}s")

    @staticmethod
    def say(line: str) -> None:
        click.echo(f"    {line}")


def _pulse() -> str:
    return str(Path(sys.executable).with_name("pulse"))


def _script(settings: Settings, name: str, log: str) -> None:
    script = settings.home / "scripts" / name
    with (settings.data_dir / "logs" / log).open("ab") as out:
        done = subprocess.run(["bash", str(script)], stdout=out, stderr=subprocess.STDOUT, cwd=settings.home)
    if done.returncode:
        raise click.ClickException(f"{script} failed (exit {done.returncode}); see {settings.data_dir / 'logs' / log}")


# --- the sample company --------------------------------------------------------------------------------
def sandbox_dir(settings: Settings) -> Path:
    return settings.data_dir / "sandbox"


def _prepared(settings: Settings) -> dict:
    path = sandbox_dir(settings) / "prepared.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _mark_prepared(settings: Settings, **done) -> None:
    path = sandbox_dir(settings) / "prepared.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**_prepared(settings), **done}, indent=2, sort_keys=True, default=str))


def generate_company(settings: Settings) -> str:
    from pulse.sandbox.world_io import WorldMeta

    meta_file = sandbox_dir(settings) / "world" / "world.json"
    if meta_file.exists():
        meta = WorldMeta.from_json(meta_file.read_text())
        return f"reusing the company of {meta.start} .. {meta.end} ({meta_file.parent})"
    from pulse.sandbox.generator import generate

    end = dt.datetime.now(settings.tz).date() - dt.timedelta(days=1)
    Progress.say(f"generating {settings.sandbox_days} days at scale {settings.sandbox_scale:g} "
                 f"(seed {settings.sandbox_seed}) ending {end} ...")
    world = generate(seed=settings.sandbox_seed, days=settings.sandbox_days, scale=settings.sandbox_scale, end=end)
    world.save(sandbox_dir(settings))
    rows = sum(len(frame) for frame in world.tables.values())
    return f"{rows:,} rows in {len(world.tables)} tables, {world.meta.start} .. {world.meta.end}"


def shop_database(settings: Settings) -> Path:
    return sandbox_dir(settings) / "shop.sqlite"


def write_company_systems(settings: Settings) -> str:
    """The shop/ERP database and the partners' CSV drops, as of the company's now."""
    done = _prepared(settings)
    if done.get("shop_database") and done.get("drops"):
        return f"reusing {shop_database(settings)} and the drops in {settings.drops_dir}"
    from pulse.sandbox.drops import write_drops
    from pulse.sandbox.shopdb import write_shop_db
    from pulse.sandbox.world_io import load_world

    world = load_world(sandbox_dir(settings))
    if not done.get("shop_database"):
        target = shop_database(settings)
        partial = target.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        counts = write_shop_db(world, f"sqlite:///{partial}")
        partial.replace(target)
        _mark_prepared(settings, shop_database=str(target))
        Progress.say(f"shop database: {sum(counts.values()):,} rows in {len(counts)} tables")
    # as of the real now: the partners deliver the last day's files the next morning
    files = write_drops(world, settings.drops_dir, clock=dt.datetime.now(dt.UTC))
    _mark_prepared(settings, drops=str(settings.drops_dir))
    return f"{len(files)} CSV files under {settings.drops_dir}"


# --- services -------------------------------------------------------------------------------------------
def _manager():
    from pulse.services import ServiceManager

    return ServiceManager()


def start_sandbox(settings: Settings) -> str:
    from pulse.sandbox.servers import SERVERS

    manager = _manager()
    endpoints = sandbox_dir(settings) / "endpoints.json"
    if manager.running(SANDBOX) is None:
        endpoints.unlink(missing_ok=True)
    last_port = settings.sandbox_base_port + len(SERVERS) - 1
    manager.start(SANDBOX, [str(settings.home / "scripts" / "sandbox-serve.sh")],
                  health=f"http://127.0.0.1:{last_port}/_sandbox/health", timeout=300, cwd=settings.home)
    deadline = time.monotonic() + 30
    while not endpoints.exists():  # written once every server listens
        if time.monotonic() > deadline:
            raise click.ClickException(f"the sandbox did not write {endpoints}; see {manager.log_file(SANDBOX)}")
        time.sleep(0.5)
    return ", ".join(f"{name} {url}" for name, url in json.loads(endpoints.read_text()).items())


def start_mailsink(settings: Settings) -> str:
    _manager().start(MAILSINK, [str(settings.home / "scripts" / "mailsink.sh")],
                     health=f"tcp://127.0.0.1:{settings.smtp_port}", cwd=settings.home)
    return f"SMTP on 127.0.0.1:{settings.smtp_port}, messages in {settings.data_dir / 'mail'}"


def start_datadocs(settings: Settings) -> str:
    from urllib.parse import urlsplit

    url = urlsplit(settings.data_docs_url)
    _manager().start(DATADOCS, [_pulse(), "datadocs", "serve", "--host", "127.0.0.1"],
                     health=f"tcp://127.0.0.1:{url.port or 8090}", cwd=settings.home)
    return f"GX Data Docs at {settings.data_docs_url}"


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The demo Airflow's extra environment: every source's connection to the sandbox, and a worker
    count that suits a small machine."""
    from pulse.orchestration.connections import sandbox_connections

    endpoints = json.loads((sandbox_dir(settings) / "endpoints.json").read_text())
    values = sandbox_connections(settings.data_dir, endpoints, shop_database(settings))
    values.setdefault("AIRFLOW__CORE__PARALLELISM", os.environ.get("AIRFLOW__CORE__PARALLELISM", "3"))
    for key in ("SQL_ALCHEMY_CONNECT_ARGS", "SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
        values.setdefault(f"AIRFLOW__DATABASE__{key}", os.environ.get(f"AIRFLOW__DATABASE__{key}")
                          or f"{__name__}.SQLITE_CONNECT_ARGS")
    # The DAG files import every connector: parse them every 5 minutes, not every 30 seconds, and
    # give a busy small machine minutes, not 30 seconds, before a slow import counts as broken
    # (a DAG whose file timed out disappears from the UI and the API).
    # Workers talk to the API server, which waits for SQLite: give them as long as SQLite waits.
    for key, value in {"DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300", "CORE__DAGBAG_IMPORT_TIMEOUT": "600",
                       "DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "900",
                       "WORKERS__EXECUTION_API_TIMEOUT": "120"}.items():
        values.setdefault(f"AIRFLOW__{key}", os.environ.get(f"AIRFLOW__{key}", value))
    return values


def airflow_url() -> str:
    return os.environ.get("AIRFLOW__API__BASE_URL") or (
        f"http://{os.environ.get('AIRFLOW__API__HOST', '127.0.0.1')}:{os.environ.get('AIRFLOW__API__PORT', '8080')}")


def airflow_password(settings: Settings) -> str:
    path = Path(os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
                or settings.data_dir / "secrets" / "airflow_passwords.json")
    return json.loads(path.read_text())["admin"]


def start_airflow(settings: Settings) -> str:
    manager = _manager()
    if manager.running(AIRFLOW) is None:
        # Airflow gets the connections as environment; the same values in a private file let an
        # operator run `airflow` commands against the demo (docs/operations.md)
        env = airflow_environment(settings)
        secrets = settings.data_dir / "secrets" / "demo_airflow.env"
        secrets.parent.mkdir(parents=True, exist_ok=True)
        secrets.write_text("".join(f"{name}='{value}'\n" for name, value in sorted(env.items())))
        secrets.chmod(0o600)
        Progress.say("migrating Airflow's metadata database and creating the `warehouse` pool ...")
        _script(settings, "airflow-init.sh", "airflow-init.log")
        Progress.say("starting Airflow standalone (scheduler, DAG processor, triggerer, API server) ...")
        manager.start(AIRFLOW, [str(settings.home / "scripts" / "airflow-standalone.sh")],
                      health=f"{airflow_url()}/api/v2/monitor/health", timeout=600, env=env, cwd=settings.home)
    return f"UI {airflow_url()}, log {manager.log_file(AIRFLOW)}"


def start_superset(settings: Settings) -> str:
    manager = _manager()
    url = superset_url()
    if manager.running(SUPERSET) is None:
        Progress.say("preparing Superset's metadata database, roles and accounts ...")
        _script(settings, "superset-init.sh", "superset-init.log")
        manager.start(SUPERSET, [str(settings.home / "scripts" / "superset-web.sh")], health=f"{url}/health",
                      timeout=600, cwd=settings.home)
    Progress.say("deploying the dashboards (pulse superset sync) ...")
    done = subprocess.run([_pulse(), "superset", "sync"], capture_output=True, text=True, cwd=settings.home)
    if done.returncode:
        raise click.ClickException(f"pulse superset sync failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else f"UI {url}"


def start_superset_reports(settings: Settings) -> str:
    """Superset's Celery worker and beat, which send the scheduled reports and alerts into the mail
    sink. They need Redis (Celery's broker) and Chromium (screenshots); without them the demo runs
    on, and says what the reports would need."""
    import shutil
    import socket
    from urllib.parse import urlsplit

    broker = urlsplit(os.environ.get("SUPERSET_CELERY_BROKER_URL") or os.environ.get("SUPERSET_REDIS_URL")
                      or "redis://127.0.0.1:6379/1")
    try:
        socket.create_connection((broker.hostname or "127.0.0.1", broker.port or 6379), timeout=3).close()
    except OSError:
        return (f"skipped: no Redis at {broker.hostname}:{broker.port or 6379}, so no scheduled reports or "
                "alerts (start Redis, then `make demo` again)")
    manager = _manager()
    for name, script in ((SUPERSET_WORKER, "superset-worker.sh"), (SUPERSET_BEAT, "superset-beat.sh")):
        manager.start(name, [str(settings.home / "scripts" / script)], cwd=settings.home)
    browser = "" if shutil.which("chromium") and shutil.which("chromedriver") else (
        "; no chromium/chromedriver here, so reports cannot take screenshots (scripts/ensure-system-deps.sh)")
    return (f"Celery worker and beat: the daily summary is mailed at 07:00 {settings.business_timezone} "
            f"into {settings.data_dir / 'mail'}{browser}")


def superset_url() -> str:
    return f"http://{os.environ.get('SUPERSET_HOST', '127.0.0.1')}:{os.environ.get('SUPERSET_PORT', '8088')}"


# --- the pipeline through Airflow -----------------------------------------------------------------------
def backfill_window(settings: Settings) -> tuple[dt.date, dt.date]:
    from pulse.sandbox.world_io import WorldMeta

    meta = WorldMeta.from_json((sandbox_dir(settings) / "world" / "world.json").read_text())
    return meta.start, meta.end


def run_pipeline(settings: Settings) -> str:
    from pulse.orchestration.airflow_api import AirflowApi
    from pulse.sources import SOURCES

    start, end = backfill_window(settings)
    api = AirflowApi(airflow_url(), "admin", airflow_password(settings))
    try:
        runs = {f"extract_{source}": (f"demo_backfill_{start}_{end}", {"start": str(start), "end": str(end)})
                for source in SOURCES}
        Progress.say(f"backfilling {start} .. {end}: {len(runs)} extract DAGs")
        _run_all(api, runs)
        Progress.say("building the KPI layer ...")
        _run_all(api, {"kpi_build": (f"demo_kpi_build_{end}", {"through": str(end)})})
    finally:
        api.close()
    return f"{len(runs)} extract runs and the KPI build succeeded"


def _run_all(api, runs: dict[str, tuple[str, dict]], timeout: float = 7200.0) -> None:
    """Trigger each run unless it exists (a failed one is cleared once), then follow them all."""
    cleared = set()
    for dag_id, (run_id, conf) in runs.items():
        if api.wait_for_dag(dag_id)["is_paused"]:
            api.unpause(dag_id)
        existing = api.run(dag_id, run_id)
        if existing is None:
            api.trigger(dag_id, run_id, conf)
        elif existing["state"] == "failed":
            api.clear(dag_id, run_id)
            cleared.add(dag_id)
    deadline, shown = time.monotonic() + timeout, {}
    pending = dict(runs)
    while pending:
        for dag_id, (run_id, _) in list(pending.items()):
            state = (api.run(dag_id, run_id) or {}).get("state")
            tasks = api.task_states(dag_id, run_id)
            done = sum(1 for value in tasks.values() if value in {"success", "failed", "upstream_failed", "skipped"})
            line = f"{dag_id}: {state}, {done}/{len(tasks)} tasks done"
            if shown.get(dag_id) != line:
                Progress.say(line)
                shown[dag_id] = line
            if state == "success":
                del pending[dag_id]
            elif state == "failed":
                failed = sorted(task for task, value in tasks.items() if value == "failed")
                raise click.ClickException(
                    f"{dag_id} run {run_id} failed (tasks {', '.join(failed)}); read the logs at "
                    f"{airflow_url()}/dags/{dag_id}/runs/{run_id} and docs/operations.md, then run `make demo` again "
                    f"(it reruns the failed tasks{'; it already did once' if dag_id in cleared else ''})")
        if pending and time.monotonic() > deadline:
            raise click.ClickException(f"runs still going after {timeout:.0f}s: {sorted(pending)}")
        if pending:
            time.sleep(10)


# --- commands ------------------------------------------------------------------------------------------
@click.group()
def demo() -> None:
    """Run Pulse on the sandbox company on this machine (127.0.0.1 only)."""


@demo.command()
def start() -> None:
    """Company, sources, Airflow, the pipeline through DAG runs, Superset. Idempotent."""
    settings = get_settings()
    progress = Progress(10)
    progress.run("sample company", lambda: generate_company(settings))
    progress.run("shop database and CSV drops", lambda: write_company_systems(settings))
    progress.run("sandbox source APIs", lambda: start_sandbox(settings))
    progress.run("mail sink", lambda: start_mailsink(settings))
    progress.run("GX Data Docs server", lambda: start_datadocs(settings))
    progress.run("Airflow", lambda: start_airflow(settings))
    progress.run("pipeline: backfill through Airflow DAG runs, then the KPI build", lambda: run_pipeline(settings))
    progress.run("Superset", lambda: start_superset(settings))
    progress.run("Superset reports and alerts", lambda: start_superset_reports(settings))
    progress.run("summary", lambda: None)
    _summary(settings, time.monotonic() - progress.began)


def _summary(settings: Settings, seconds: float) -> None:
    secrets = settings.data_dir / "secrets"
    superset_password = (secrets / "superset_admin_password").read_text().strip()
    click.echo(f"""
Pulse is running ({seconds / 60:.1f} min).

  Superset (dashboards)  {superset_url()}   login admin / {superset_password}
  Airflow  (pipeline)    {airflow_url()}   login admin / {airflow_password(settings)}
  DEMO ONLY: these passwords were generated for this machine ({secrets}), and both UIs listen
  on 127.0.0.1 only. Never reuse them; production logins come from your identity provider.

  data docs (GX)          {settings.data_docs_url}
  mail (alerts, reports)  {settings.data_dir / 'mail'}   (local SMTP sink, 127.0.0.1:{settings.smtp_port})
  logs                    {settings.data_dir / 'logs'}   (Airflow task logs: {settings.data_dir / 'airflow' / 'logs'})
  data                    warehouse {settings.warehouse_url_resolved}
                          serving copy {settings.data_dir / 'serving' / 'pulse.duckdb'}, landing {settings.data_dir / 'landing'}
  sample company          {sandbox_dir(settings)} (sources: pulse sandbox serve; CSV drops: {settings.drops_dir})

  `make stop` stops everything this started; `make demo` again reuses it all. Runbook: docs/operations.md
""")


@demo.command()
def stop() -> None:
    """Stop the services `pulse demo start` started (and only those)."""
    manager = _manager()
    for name in reversed(SERVICES):
        if manager.running(name) is not None:
            manager.stop(name)
            click.echo(f"{name}: stopped")
        else:
            click.echo(f"{name}: was not running")
