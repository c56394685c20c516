"""Crash safety: the load step and the KPI publication killed with SIGKILL at random moments leave the
warehouse as before or as after, never in between; the rerun completes; landing and raw reconcile.

Each trial restores the warehouse as it was before the step (a copy of a DuckDB file, or a
PostgreSQL database made from a template), runs the step in a child process (`crash_runner.py`) and
kills it: half the trials after a random delay (uniform over 1.2 times an uncut run, so some kills
come after the end), half at a random instrumented point (before any statement, around the commit,
around the swap of the serving copy). The trace the child leaves says where the kill landed:

- before the commit: the warehouse must be exactly as before (runs recorded included);
- after the commit: exactly as after an uncut run; between the start and the end of the commit: one
  of the two;
- DuckDB's serving copy likewise: the old copy until `os.replace` starts, the new one once it ended,
  and never the new copy over an uncommitted refresh.

Then the step runs again in this process and must leave the warehouse (and serving copy) as after
an uncut run, with landing and raw reconciled row for row (`warehouse_state.reconcile`).

The load: a Zendesk batch (tickets and their metric sets: two raw tables, one quarantined record,
rows that replace those of an earlier batch, the cursor). The publication: `refresh_kpis` then
`publish` over a 7-day company that gained two days of raw data. Counts are printed per step and
engine. Budget: about 2 minutes on an idle 2-core machine (the publication trials rerun a refresh
each).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
import pytest
from warehouse_state import connection_state, differences, reconcile, warehouse_state

from pulse.pipeline import steps
from pulse.sandbox.servers import server_class
from pulse.sources import source_class
from pulse.transform import refresh_kpis
from pulse.warehouse.connection import Connection, Warehouse
from pulse.warehouse.publish import publish
from support.services import POSTGRES_ADMIN_URL, require_postgres

pytestmark = pytest.mark.slow

SEED = 20261125
LOAD_TRIALS = 12  # per engine
PUBLISH_TRIALS = 10  # per engine
RUNNER = Path(__file__).with_name("crash_runner.py")


# --- the child process --------------------------------------------------------------------------
class CrashRunner:
    """`crash_runner.py` in its own process; `run(command)` forks one trial and returns its outcome."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen([sys.executable, str(RUNNER)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def run(self, command: dict) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Trace:
    """Where a child got to: the instrumented points it passed (`crash_runner.py`)."""

    points: list[str]
    error: str | None

    @classmethod
    def read(cls, path: Path) -> Trace:
        points = [line.split(" ", 1)[1] for line in path.read_text().splitlines()] if path.exists() else []
        error = Path(f"{path}.error")
        return cls(points, error.read_text() if error.exists() else None)

    def phase(self, start: str, end: str) -> str:
        if end in self.points:
            return "after"
        return "during" if start in self.points else "before"


# --- warehouses copied per trial ------------------------------------------------------------------
class DuckDBCopies:
    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def new(self, name: str) -> Warehouse:
        return Warehouse(f"duckdb:///{self.directory / name}.duckdb")

    def snapshot(self, warehouse: Warehouse, name: str) -> str:
        assert not Path(f"{warehouse.path}.wal").exists()
        shutil.copyfile(warehouse.path, self.directory / f"{name}.duckdb")
        return name

    def restore(self, snapshot: str, name: str) -> Warehouse:
        copy = self.new(name)
        self.drop(copy)
        shutil.copyfile(self.directory / f"{snapshot}.duckdb", copy.path)
        return copy

    def drop(self, warehouse: Warehouse) -> None:
        for suffix in ("", ".wal", ".lock"):
            Path(f"{warehouse.path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        pass


class PostgresCopies:
    """Databases named `pulse_crash_<run>_<name>`; a snapshot is a database used as a template.

    Databases are dropped together at the end: `drop database` waits for every backend of the
    server to acknowledge it, so a client stuck elsewhere on the shared server would stall each
    trial instead of the test's end once."""

    def __init__(self):
        require_postgres()
        self.admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        self.prefix = f"pulse_crash_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def _execute(self, sql: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(sql)

    def new(self, name: str, template: str | None = None) -> Warehouse:
        database = f"{self.prefix}_{name}".replace("-", "_")
        self._execute(f'create database "{database}"' + (f' template "{template}"' if template else ""))
        self.created.append(database)
        base = self.admin.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg://")
        return Warehouse(f"{base}/{database}")

    def snapshot(self, warehouse: Warehouse, name: str) -> str:
        return self.new(name, template=warehouse.url.rpartition("/")[2]).url.rpartition("/")[2]

    def restore(self, snapshot: str, name: str) -> Warehouse:
        return self.new(name, template=snapshot)

    def drop(self, warehouse: Warehouse) -> None:
        pass  # at close()

    def close(self) -> None:
        for database in reversed(self.created):
            self._execute(f'drop database if exists "{database}" with (force)')
        self.created.clear()


# --- trials ---------------------------------------------------------------------------------------
@dataclass
class Tally:
    step: str
    engine: str
    trials: int = 0
    phases: Counter = field(default_factory=Counter)  # where the kill landed relative to the commit
    completed: int = 0  # the delay outlasted the step
    failures: list[str] = field(default_factory=list)
    uncut_seconds: float = 0.0

    def line(self) -> str:
        return (f"crash trials {self.step} on {self.engine} (uncut run {self.uncut_seconds:.1f} s): "
                f"{self.trials} trials, kills before commit "
                f"{self.phases['before']}, during commit {self.phases['during']}, after commit "
                f"{self.phases['after']} ({self.completed} of them let the step finish), "
                f"failures {len(self.failures)}")


def kill_plan(rng: random.Random, trial: int, points: list[str], seconds: float) -> dict:
    """Even trials: a random delay. Odd ones take turns: a random statement, then each marked
    moment of an uncut run in turn (just before and just after the commit, and the swap)."""
    if trial % 2 == 0:
        return {"kill_after": rng.uniform(0.0, seconds * 1.2)}
    marked = [number for number, name in enumerate(points, start=1) if name != "sql"]
    turn = [None, *marked][(trial // 2) % (len(marked) + 1)]
    return {"kill_at": turn or rng.randint(1, len(points))}


def child_env(data_dir: Path) -> dict[str, str]:
    return {"PULSE_DATA_DIR": str(data_dir), "PULSE_DATA_DOCS_ENABLED": "false"}


@pytest.fixture(scope="module")
def world(kpi_company):
    return kpi_company.world


@pytest.fixture(scope="module")
def data_dir(company_data_dir) -> Path:
    return company_data_dir


@pytest.fixture(scope="module")
def runner(data_dir) -> Iterator[CrashRunner]:
    crash_runner = CrashRunner({**os.environ, **child_env(data_dir)})
    yield crash_runner
    crash_runner.close()


@pytest.fixture(params=["duckdb", "postgres"])
def copies(request, tmp_path):
    made = DuckDBCopies(tmp_path / "warehouses") if request.param == "duckdb" else PostgresCopies()
    yield made
    made.close()


def engine_of(copies) -> str:
    return "duckdb" if isinstance(copies, DuckDBCopies) else "postgres"


# --- the load -------------------------------------------------------------------------------------
def zendesk_batch_to_load(world, copies) -> tuple[str, str]:
    """A warehouse holding a first Zendesk batch (snapshot name) and a second batch, validated, whose
    load the trials kill: a re-extraction of the last five days (changed tickets that replace loaded
    rows, new ones, one malformed record) that moves the cursor."""
    zendesk = source_class("zendesk")
    warehouse = copies.new("load")
    with server_class("zendesk")(world) as server:
        source = zendesk(connection=server.source_connection())
        server.set_clock(world.meta.now - dt.timedelta(days=3))
        first = steps.extract("zendesk", "tickets", source=source, warehouse=warehouse)
        steps.validate(first.batch_id, source=source, warehouse=warehouse)
        steps.load(first.batch_id, source=source, warehouse=warehouse)
        server.set_clock(None)
        server.faults.malformed_record = True  # on the first record of an export started by time
        second = steps.extract("zendesk", "tickets", source=source, warehouse=warehouse,
                               start=world.meta.now - dt.timedelta(days=5))
        steps.validate(second.batch_id, source=source, warehouse=warehouse)
    before = copies.snapshot(warehouse, "load-before")
    copies.drop(warehouse)
    return before, second.batch_id


def test_a_killed_load_leaves_the_batch_loaded_whole_or_not_at_all(world, data_dir, runner, copies, tmp_path):
    engine = engine_of(copies)
    before, batch_id = zendesk_batch_to_load(world, copies)
    command = {"step": "load", "batch_id": batch_id, "env": child_env(data_dir)}

    reference = copies.restore(before, "load-reference")
    before_state = warehouse_state(reference, runs=True)
    trace_path = tmp_path / "reference.trace"
    uncut = runner.run({**command, "warehouse": reference.url, "trace": str(trace_path)})
    uncut_trace = Trace.read(trace_path)
    assert uncut["exit"] == 0, uncut_trace.error
    after_state = warehouse_state(reference, runs=True)
    changed = differences(before_state, after_state)
    assert {"raw.zendesk__tickets", "raw.zendesk__ticket_metrics", "quarantine.rows",
            "meta.extract_state", "meta.landing_batches"} <= set(changed), changed
    assert reconcile(reference) == []
    copies.drop(reference)

    tally = Tally("load", engine, uncut_seconds=uncut["seconds"])
    rng = random.Random(f"{SEED}-load-{engine}")
    for trial in range(LOAD_TRIALS):
        warehouse = copies.restore(before, f"load-{trial}")
        trace_path = tmp_path / f"load-{trial}.trace"
        outcome = runner.run({**command, "warehouse": warehouse.url, "trace": str(trace_path),
                              **kill_plan(rng, trial, uncut_trace.points, uncut["seconds"])})
        trace = Trace.read(trace_path)
        tally.trials += 1
        phase = trace.phase("commit-start", "commit-end")
        tally.phases[phase] += 1
        tally.completed += outcome["exit"] == 0
        if outcome["signal"] is None and outcome["exit"] != 0:
            tally.failures.append(f"trial {trial}: the step failed on its own: {trace.error}")
        observed = warehouse_state(warehouse, runs=True)
        allowed = {"before": [before_state], "during": [before_state, after_state], "after": [after_state]}[phase]
        if observed not in allowed:
            against = after_state if phase == "after" else before_state
            tally.failures.append(f"trial {trial}: killed {phase} the commit, tables between states: "
                                  f"{differences(against, observed)}")
        steps.load(batch_id, warehouse=warehouse)
        if warehouse_state(warehouse, runs=True) != after_state:
            tally.failures.append(f"trial {trial}: the rerun left {differences(after_state, warehouse_state(warehouse))}")
        tally.failures += [f"trial {trial}: {problem}" for problem in reconcile(warehouse)]
        copies.drop(warehouse)
    print(f"\n{tally.line()}")
    assert tally.phases["before"] and tally.phases["after"], tally.line()
    assert not tally.failures, tally.failures


# --- the KPI publication ------------------------------------------------------------------------
def serving_state(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as native:
        return connection_state(Connection("duckdb", native), runs=True)


def latest_through(path: Path) -> dt.date | None:
    with duckdb.connect(str(path), read_only=True) as native:
        return native.execute("select max(through) from meta.kpi_refreshes where status = 'success'").fetchone()[0]


# what a refresh and its publication write (raw, which they only read, is left out: hashing it in
# every trial would double the test's time)
KPI_SCHEMAS = ("intermediate", "marts", "kpi", "meta")


def without_refresh_logs(state: dict) -> dict:
    """A refresh run again after one that committed records itself once more (`kpi_refreshes`,
    `kpi_refresh_tables`) and its own, smaller scope (`kpi_refresh_days`, ...); nothing else may change."""
    return {table: value for table, value in state.items() if not table.startswith("meta.kpi_refresh")}


def test_a_killed_kpi_publication_leaves_readers_the_old_or_the_new_refresh(world, data_dir, runner, copies,
                                                                          kpi_company, tmp_path):
    from sql.raw_loader import load_batches

    engine = engine_of(copies)
    end = world.meta.end
    warehouse = copies.new("publish")
    load_batches(kpi_company.early, warehouse)
    refresh_kpis(warehouse=warehouse, full=True, through=end - dt.timedelta(days=2))
    old_serving = tmp_path / "serving-old.duckdb"
    serves = engine == "duckdb"
    if serves:
        publish(warehouse=warehouse, target=old_serving)
    load_batches(kpi_company.late, warehouse)
    before = copies.snapshot(warehouse, "publish-before")
    copies.drop(warehouse)
    command = {"step": "publish", "through": end.isoformat(), "env": child_env(data_dir)}

    def serving_copy(name: str) -> Path | None:
        if not serves:
            return None
        path = tmp_path / name / "pulse.duckdb"
        path.parent.mkdir()
        shutil.copyfile(old_serving, path)
        return path

    reference = copies.restore(before, "publish-reference")
    before_state = warehouse_state(reference, runs=True, schemas=KPI_SCHEMAS)
    reference_serving = serving_copy("reference")
    old_served = serving_state(reference_serving) if serves else None
    trace_path = tmp_path / "reference.trace"
    uncut = runner.run({**command, "warehouse": reference.url, "trace": str(trace_path),
                        "serving": str(reference_serving) if serves else None})
    uncut_trace = Trace.read(trace_path)
    assert uncut["exit"] == 0, uncut_trace.error
    after_state = warehouse_state(reference, runs=True, schemas=KPI_SCHEMAS)
    assert any(table.startswith("kpi.") for table in differences(before_state, after_state))
    new_served = serving_state(reference_serving) if serves else None
    if serves:
        assert latest_through(old_serving) < latest_through(reference_serving) == end
    final = without_refresh_logs(after_state)
    copies.drop(reference)

    tally = Tally("KPI publication", engine, uncut_seconds=uncut["seconds"])
    rng = random.Random(f"{SEED}-publish-{engine}")
    killed_staging = 0
    for trial in range(PUBLISH_TRIALS):
        warehouse = copies.restore(before, f"publish-{trial}")
        serving = serving_copy(f"trial-{trial}")
        trace_path = tmp_path / f"publish-{trial}.trace"
        outcome = runner.run({**command, "warehouse": warehouse.url, "trace": str(trace_path),
                              "serving": str(serving) if serves else None,
                              **kill_plan(rng, trial, uncut_trace.points, uncut["seconds"])})
        trace = Trace.read(trace_path)
        tally.trials += 1
        phase = trace.phase("commit-start", "commit-end")
        tally.phases[phase] += 1
        tally.completed += outcome["exit"] == 0
        if outcome["signal"] is None and outcome["exit"] != 0:
            tally.failures.append(f"trial {trial}: the step failed on its own: {trace.error}")
        observed = warehouse_state(warehouse, runs=True, schemas=KPI_SCHEMAS)
        allowed = {"before": [before_state], "during": [before_state, after_state], "after": [after_state]}[phase]
        if observed not in allowed:
            against = after_state if phase == "after" else before_state
            tally.failures.append(f"trial {trial}: killed {phase} the refresh's commit, tables between states: "
                                  f"{differences(against, observed)}")
        if serves:
            swap = trace.phase("replace-start", "replace-end")
            served = serving_state(serving)
            allowed_served = {"before": [old_served], "during": [old_served, new_served], "after": [new_served]}[swap]
            if served not in allowed_served:
                tally.failures.append(f"trial {trial}: serving copy between states ({swap} the swap): "
                                      f"{differences(old_served, served)}")
            if served == new_served and observed != after_state:
                tally.failures.append(f"trial {trial}: the new serving copy was published over an uncommitted refresh")
            killed_staging += len([p for p in serving.parent.iterdir() if p.name != serving.name])

        refresh_kpis(warehouse=warehouse, through=end)
        rerun = without_refresh_logs(warehouse_state(warehouse, runs=True, schemas=KPI_SCHEMAS))
        if rerun != final:
            tally.failures.append(f"trial {trial}: the rerun left {differences(final, rerun)}")
        if serves:
            publish(warehouse=warehouse, target=serving)
            served = serving_state(serving)
            if without_refresh_logs(served) != without_refresh_logs(new_served) or latest_through(serving) != end:
                tally.failures.append(f"trial {trial}: the republished serving copy differs: "
                                      f"{differences(new_served, served)}")
            left = sorted(p.name for p in serving.parent.iterdir() if p.name != serving.name)
            if left:
                tally.failures.append(f"trial {trial}: the republish left files beside the serving copy: {left}")
        copies.drop(warehouse)
    print(f"\n{tally.line()}" + (f"; staging files killed publications left (removed by the republish): {killed_staging}"
                                  if serves else ""))
    assert tally.phases["before"] and tally.phases["after"], tally.line()
    assert not tally.failures, tally.failures
