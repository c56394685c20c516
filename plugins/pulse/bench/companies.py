"""The sandbox companies the bench measures, built once and cached under `data/bench/<company>/`.

A company is a generated world (`pulse.sandbox.generator`) of `days` days at `scale`, ending on
the day of the measured daily run (`end`). What is cached, each stage rebuilt when what it is
made from changes (the generator's code; the stream contracts; the SQL and the KPI registry), or
on `pulse bench --rebuild`:

1. `world/`: the generated world (seed, scale, days, end).
2. `history/`: its history loaded through the real pipeline as of the evening before the daily
   run (every stream extracted from the sandbox servers, the shop database and the CSV drops,
   validated by its suite and loaded; `history/data` keeps the landing and validated batches).
3. `before.duckdb` and the PostgreSQL database `pulse_bench_<company>_before`: that raw data with
   the KPI layer fully built through the day before the daily run. PostgreSQL gets the same
   batches through the same load step. The full builds' times are kept in `before.json` (the
   bench's full-refresh figures).

Backfilling three years through the sandbox takes a while; GA4's reports over all of it are
computed by the sandbox in minutes, so the history load allows long HTTP reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulse.bench import databases, tasks
from pulse.bench.sandbox import SandboxProcess
from pulse.settings import REPO_ROOT, get_settings

# The daily run measured is on Tuesday 13 October 2026: an ordinary office day after an ordinary
# Monday, its world ending that evening.
END = dt.date(2026, 10, 13)
SEED = 20261013
HISTORY_HTTP_TIMEOUT_SECONDS = 3600
HISTORY_GA4_QUOTA = {"tokens_per_day": 10**9, "tokens_per_hour": 10**9, "tokens_per_project_per_hour": 10**9,
                     "potentially_thresholded_requests_per_hour": 10**6}
# Cache builds skip rebuilding the GX Data Docs after each validation (seconds per batch that
# measure nothing); the measured daily runs keep the default.
NO_DATA_DOCS = {"PULSE_DATA_DOCS_ENABLED": "false"}

# What each cached stage depends on (besides the company's own parameters)
_WORLD_CODE = ("plugins/pulse/sandbox/generator", "plugins/pulse/sandbox/world.py", "plugins/pulse/sandbox/as_of.py",
               "plugins/pulse/sandbox/incidents.py", "plugins/pulse/business_calendar.py")
_KPI_CODE = ("sql", "kpis.yml", "plugins/pulse/transform", "plugins/pulse/kpi")


@dataclass(frozen=True)
class Company:
    scale: float
    days: int
    base: Path  # the bench's cache directory (`data/bench`)
    sources: tuple[str, ...] | None = None  # None: every source of pulse.sources.SOURCES
    end: dt.date = END
    seed: int = SEED

    @property
    def key(self) -> str:
        only = f"_{'_'.join(self.sources)}" if self.sources else ""
        return f"scale{self.scale:g}_days{self.days}{only}".replace(".", "_")

    @property
    def root(self) -> Path:
        return self.base / self.key

    @property
    def world_dir(self) -> Path:
        return self.root / "world"

    @property
    def now(self) -> dt.datetime:
        """The daily run's clock: the end of the run's day (the world's `now`)."""
        from zoneinfo import ZoneInfo

        local = dt.datetime.combine(self.end, dt.time(23, 59, 59), ZoneInfo(get_settings().business_timezone))
        return local.astimezone(dt.UTC)

    @property
    def history_clock(self) -> dt.datetime:
        """The clock of the history load: one day earlier."""
        return self.now - dt.timedelta(days=1)

    @property
    def before_duckdb(self) -> Path:
        return self.root / "before.duckdb"

    @property
    def before_postgres(self) -> str:
        return f"{self.key}_before"

    def describe(self) -> str:
        only = f" ({', '.join(self.sources)} only)" if self.sources else ""
        return f"scale {self.scale:g}, {self.days} days to {self.end}{only}"


def fingerprint(paths: tuple[str, ...], *extra: Any) -> str:
    digest = hashlib.sha256(json.dumps(extra, default=str).encode())
    for name in paths:
        root = REPO_ROOT / name
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Settings for the task processes forked inside the block (they read the environment)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def prepare(company: Company, progress: Callable[[str], None] = print, rebuild: bool = False) -> dict[str, Any]:
    """Build whatever stage of the company's cache is missing or stale (every stage when
    `rebuild`); returns what was done."""
    if rebuild:
        (company.root / "stages.json").unlink(missing_ok=True)
    company.root.mkdir(parents=True, exist_ok=True)
    done: dict[str, Any] = {}
    world_key = fingerprint(_WORLD_CODE, company.scale, company.days, company.end, company.seed)
    if _stage(company, "world") != world_key:
        progress(f"{company.describe()}: generating the world")
        done["world_seconds"] = _generate(company)
        _mark(company, "world", world_key)
    history_key = fingerprint((), world_key, company.sources, _contracts())
    if _stage(company, "history") != history_key:
        progress(f"{company.describe()}: loading the history through the pipeline")
        done["history"] = _history(company, progress)
        _mark(company, "history", history_key)
    before_key = fingerprint(_KPI_CODE, history_key)
    if _stage(company, "before") != before_key or not (company.root / "before.json").exists():
        progress(f"{company.describe()}: building the KPI layer through {company.end - dt.timedelta(days=1)}")
        done["before"] = _before(company)
        measured = {**done["before"], "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        (company.root / "before.json").write_text(json.dumps(measured) + "\n")
        _mark(company, "before", before_key)
    return done


def full_refresh(company: Company) -> dict[str, Any]:
    """The full KPI build over the company's whole history, as timed when its cache was built
    (`before.json`: seconds on DuckDB, PostgreSQL's load of the history, then its build)."""
    return json.loads((company.root / "before.json").read_text())


def _contracts() -> list[tuple]:
    """What the history's raw tables are made of: every stream's key, fields and primary key.
    (Connector code changes without a contract change keep the cache: rebuild it with
    `pulse bench --rebuild` when they matter.)"""
    from pulse.sources import all_streams

    return [(s.key, s.primary_key, [(f.name, f.type) for f in s.fields]) for s in all_streams()]


def _stage(company: Company, name: str) -> str | None:
    path = company.root / "stages.json"
    return json.loads(path.read_text()).get(name) if path.exists() else None


def _mark(company: Company, name: str, key: str) -> None:
    path = company.root / "stages.json"
    stages = json.loads(path.read_text()) if path.exists() else {}
    stages[name] = key
    for later in ("history", "before")[("world", "history", "before").index(name):]:
        if later != name:
            stages.pop(later, None)
    path.write_text(json.dumps(stages, indent=2) + "\n")


def _generate(company: Company) -> float:
    began = time.perf_counter()
    shutil.rmtree(company.world_dir, ignore_errors=True)
    # in a child process: generating scale 10 peaks at gigabytes this process should not keep
    tasks.in_child("generate", _generate_into, company.seed, company.days, company.scale,
                   company.end.isoformat(), str(company.root))
    return time.perf_counter() - began


def _generate_into(seed: int, days: int, scale: float, end: str, root: str) -> None:
    from pulse.sandbox.generator import generate

    generate(seed, days, scale, dt.date.fromisoformat(end)).save(Path(root))


def history_environment(company: Company, sandbox: SandboxProcess) -> dict[str, str]:
    return {**sandbox.environment(), "PULSE_DATA_DIR": str(company.root / "history" / "data"),
            "PULSE_WAREHOUSE_URL": f"duckdb:///{company.root / 'history' / 'warehouse.duckdb'}",
            "PULSE_HTTP_TIMEOUT_SECONDS": str(HISTORY_HTTP_TIMEOUT_SECONDS), **NO_DATA_DOCS}


def _history(company: Company, progress: Callable[[str], None]) -> dict[str, Any]:
    history = company.root / "history"
    shutil.rmtree(history, ignore_errors=True)
    run = tasks.PipelineRun()
    with SandboxProcess(company.world_dir, history / "sandbox") as sandbox:
        sandbox.set_clock(company.history_clock)
        # Years of GA4 history read more than a standard property's hourly tokens; a real backfill
        # would run for hours (or come from the BigQuery export), this one lifts the sandbox's quotas.
        sandbox.set_ga4_quota(**HISTORY_GA4_QUOTA)
        with environment(history_environment(company, sandbox)):
            tasks.extract_all(company.history_clock, run, progress, company.sources)
    (history / "batches.json").write_text(json.dumps(run.batches()) + "\n")
    return {"seconds": run.seconds, "largest_task": run.largest.task,
            "largest_task_peak_rss_bytes": run.largest.peak_rss_bytes}


def history_batches(company: Company) -> list[tuple[str, str]]:
    return [tuple(pair) for pair in json.loads((company.root / "history" / "batches.json").read_text())]


def _before(company: Company) -> dict[str, Any]:
    through = company.end - dt.timedelta(days=1)
    shutil.copyfile(company.root / "history" / "warehouse.duckdb", company.before_duckdb)
    history_data = str(company.root / "history" / "data")
    duck = PipelineOn(f"duckdb:///{company.before_duckdb}", history_data)
    with duck.active():
        built_duckdb = tasks.in_child("kpi_build.refresh (full)", tasks.refresh, through.isoformat(), True)
    url = databases.kept_database(company.before_postgres, fresh=True)
    postgres = PipelineOn(url, history_data)
    with postgres.active():
        loaded = tasks.in_child("load history (PostgreSQL)", load_batches, history_batches(company))
        built_postgres = tasks.in_child("kpi_build.refresh (full)", tasks.refresh, through.isoformat(), True)
    return {"duckdb_refresh_seconds": built_duckdb.seconds, "postgres_load_seconds": loaded.seconds,
            "postgres_refresh_seconds": built_postgres.seconds}


def load_batches(batches: list[tuple[str, str]]) -> dict[str, int]:
    """Load batches already validated (their verdicts are in the data dir) into this warehouse."""
    from pulse.pipeline import steps

    rows: dict[str, int] = {}
    for _, batch_id in batches:
        for stream, count in steps.load(batch_id).rows_loaded.items():
            rows[stream] = rows.get(stream, 0) + count
    return rows


@dataclass(frozen=True)
class PipelineOn:
    """The settings of task processes working on one warehouse with one data dir."""

    warehouse_url: str
    data_dir: str
    extra: tuple[tuple[str, str], ...] = ()

    def active(self):
        return environment({"PULSE_WAREHOUSE_URL": self.warehouse_url, "PULSE_DATA_DIR": self.data_dir,
                            **dict(self.extra)})
