"""Idempotency through Airflow: every DAG of the `dags/` folder (one extract DAG per source, the KPI
build, the freshness check) run with `dag.test()` twice for the same interval leaves every warehouse
table identical (`warehouse_state`: content hashes, run logs and run-time columns aside). The second
round really reruns: each stream lands and loads a new batch (the lookback window or the whole file
set again), merged over what the first round loaded.

The same runs feed two more checks: landing and raw reconcile row for row after both rounds, and no
sandbox credential appears in anything a run leaves behind: the task output (everything written to
stdout/stderr while the DAGs ran), landing and the validated rows, the warehouse, Airflow's metadata
database and logs, and the alert emails.

Budget: two rounds of 12 DAGs (about 90 tasks each) on a 7-day company at scale 0.1: about 3 minutes
on an idle 2-core machine.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from warehouse_state import base_tables, differences, reconcile, warehouse_state

from dags.airflow_harness import (
    AIRFLOW_HOME,
    REPO,
    DagRunResult,
    no_retries,
    run_dag,
    serve_sandbox,
    use_pipeline,
)
from pulse.mailsink import MailSink
from pulse.orchestration.connections import env_name
from pulse.sandbox.generator import generate
from pulse.sandbox.world_io import World
from pulse.sources import SOURCES
from pulse.sources.connections import conn_id_for
from pulse.warehouse.connection import Warehouse

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

WORLD = {"seed": 1212, "days": 7, "scale": 0.1, "end": dt.date(2026, 3, 20)}
# a scheduler tick the morning after the company's last day: both rounds run for this interval
TICK = dt.datetime(2026, 3, 21, 6, tzinfo=dt.UTC)


@dataclass
class Rounds:
    world: World
    warehouse: Warehouse
    data_dir: Path
    mail_dir: Path
    output: Path  # everything the runs wrote to stdout and stderr
    runs: list[dict[str, DagRunResult]]
    states: list[dict]
    credentials: dict[str, dict[str, str]]  # sandbox server -> its credentials


@contextlib.contextmanager
def captured_output(path: Path) -> Iterator[None]:
    """stdout and stderr, of Python and of the file descriptors, appended to `path`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with path.open("a") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sink.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)


def every_dag() -> dict:
    """The DAG folder as Airflow's DAG processor loads it, extract DAGs first (in SOURCES order)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors, bag.import_errors
    order = [f"extract_{source}" for source in SOURCES] + ["kpi_build", "source_freshness"]
    assert set(bag.dag_ids) == set(order), f"DAGs this test does not know how to run: {set(bag.dag_ids) ^ set(order)}"
    dags = {dag_id: bag.get_dag(dag_id) for dag_id in order}
    for dag in dags.values():
        no_retries(dag)
    return dags


@pytest.fixture(scope="module")
def rounds(airflow_db, tmp_path_factory) -> Iterator[Rounds]:
    world = generate(**WORLD)
    root = tmp_path_factory.mktemp("idempotency")
    patch = pytest.MonkeyPatch()
    try:
        with serve_sandbox(world, root / "sandbox") as sandbox, MailSink(root / "mail") as sink:
            ga4_name = env_name(conn_id_for("ga4"))
            ga4 = json.loads(sandbox.connections()[ga4_name])
            # the first GA4 load starts with the company instead of asking 14 empty months
            ga4["extra"] = {**ga4.get("extra", {}), "start_date": world.meta.start.isoformat()}
            warehouse = use_pipeline(patch, root / "data", sandbox, PULSE_SMTP_PORT=str(sink.port),
                                     PULSE_DATA_TEAM_EMAILS='["data-team@pulse.test"]',
                                     **{ga4_name: json.dumps(ga4)})
            dags = every_dag()
            runs, states = [], []
            with captured_output(root / "task-output.log"):
                for _ in range(2):
                    conf = {"kpi_build": {"through": world.meta.end.isoformat()}}
                    runs.append({dag_id: run_dag(dag, logical_date=TICK, conf=conf.get(dag_id))
                                 for dag_id, dag in dags.items()})
                    states.append(warehouse_state(warehouse))
            credentials = {name: dict(server.credentials) for name, server in sandbox.servers.items()}
            yield Rounds(world, warehouse, root / "data", root / "mail", root / "task-output.log", runs, states,
                         credentials)
    finally:
        patch.undo()


def test_every_dag_run_succeeds_both_times(rounds):
    failed = {f"round {number + 1}: {dag_id}": {task: state for task, state in run.states.items() if state != "success"}
              for number, runs in enumerate(rounds.runs) for dag_id, run in runs.items() if not run.succeeded}
    assert not failed, f"failed runs (see {rounds.output}): {failed}"


def test_the_second_round_loads_every_stream_again(rounds):
    from pulse.sources import source_class

    streams = sum(len(source_class(source).extracted_streams()) for source in SOURCES)
    with rounds.warehouse.connect() as connection:
        per_stream = connection.fetchall(
            "select source, stream, count(*), sum(rows_loaded) from meta.landing_batches where status = 'loaded' "
            "group by source, stream order by 1, 2")
        refreshes = connection.scalar("select count(*) from meta.kpi_refreshes where status = 'success'")
    assert len(per_stream) == streams and all(batches == 2 for _, _, batches, _ in per_stream), per_stream
    assert sum(rows for *_, rows in per_stream) > 0
    assert refreshes == 2


def test_every_warehouse_table_is_identical_after_the_second_round(rounds):
    first, second = rounds.states
    compared = [table for table, value in first.items() if value != "run log"]
    assert any(t.startswith("raw.") for t in compared) and any(t.startswith("kpi.") for t in compared)
    changed = differences(first, second)
    assert not changed, f"tables that differ after running every DAG again for the same interval: {changed}"
    with rounds.warehouse.connect() as connection:
        assert set(first) == set(base_tables(connection)), "a table is missing from the comparison"
    print(f"\nidempotency: {len(compared)} tables compared, {len(first) - len(compared)} run logs, "
          f"{len(changed)} differ")


def test_landing_and_raw_reconcile_row_for_row(rounds):
    assert reconcile(rounds.warehouse) == []


# --- credentials ------------------------------------------------------------------------------------
def secret_forms(credentials: dict[str, dict[str, str]]) -> dict[str, str]:
    """Every way a sandbox secret could leak: as is, and inside the Basic-auth headers the
    connectors build (`login:password`, the API key as user, Zendesk's `email/token:token`)."""
    forms = {}
    for server, values in credentials.items():
        login, password = values.get("login", ""), values["password"]
        forms[f"{server} password"] = password
        for label, pair in (("login:password", f"{login}:{password}"), ("key as user", f"{password}:"),
                            ("email/token", f"{login}/token:{password}")):
            forms[f"{server} basic auth ({label})"] = base64.b64encode(pair.encode()).decode()
    return forms


def _files(root: Path) -> Iterator[Path]:
    return (path for path in root.rglob("*") if path.is_file())


def test_no_sandbox_credential_in_task_output_landing_warehouse_airflow_or_mail(rounds):
    forms = secret_forms(rounds.credentials)
    assert len(rounds.credentials) == 5 and all(len(value) >= 16 for value in forms.values())
    places = {"task output": [rounds.output], "data dir (landing, validated rows, warehouse, serving copy)":
              list(_files(rounds.data_dir)), "Airflow home (metadata DB, logs)": list(_files(AIRFLOW_HOME)),
              "alert emails": list(_files(rounds.mail_dir))}
    output = rounds.output.read_text(errors="replace")
    assert "Returned value was" in output, "the task output was not captured"
    leaks = [f"{what} in {path}" for place, paths in places.items() for path in paths
             for what, secret in forms.items() if secret.encode() in path.read_bytes()]
    # DuckDB compresses what it stores: the warehouse is also read back as text
    with rounds.warehouse.connect() as connection:
        for table in base_tables(connection):
            text = connection.fetch_df(f"select * from {table}").to_csv()
            leaks += [f"{what} in {table}" for what, secret in forms.items() if secret in text]
    assert not leaks, leaks
    scanned = sum(len(paths) for paths in places.values())
    print(f"\ncredential scan: {len(forms)} secret forms, {scanned} files and every warehouse table, 0 leaks")
