"""`run_bench()`: every benchmark of `make bench` in one run, written as JSON and Markdown.

Order: the companies' caches (not measured), the loader, the daily pipeline of each company (its
first run also leaves the warehouse with the new day loaded, the starting point of the refresh
benchmark), the one-day KPI refresh at a short and a long history on both engines, and the
dashboard queries over the long history on both engines.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulse.bench import PLANS, companies, databases, queries, tasks
from pulse.bench.companies import Company, PipelineOn
from pulse.bench.sandbox import SandboxProcess
from pulse.bench.timing import LoadSampler, Timing, machine
from pulse.warehouse.connection import Warehouse


@dataclass(frozen=True)
class Plan:
    """How much to measure (`pulse bench --plan NAME`, `make bench BENCH_PLAN=NAME`):

    - `full`: the targets' own sizes, scale 10 over three years: about two hours and a quarter from
      scratch on 2 cores (its world takes 2 min and 7 GB, extracting three years of it through the
      sandbox APIs 15 min; computing the summary KPIs from the facts on PostgreSQL about an hour;
      docs/benchmarks.md), best on an idle machine.
    - `standard` (`make bench`): the same measurements at scale 1 over three years (the loader still
      at a million rows), in about half an hour on a 2-core machine. No scale-10 company, so the daily
      pipeline's scale-10 targets are not checked; `to_sql` on DuckDB (one insert per row, its rate
      independent of the count) loads 10,000 rows. Full computes the summary KPIs from the facts
      once each (at scale 10 one run of them all takes many minutes on PostgreSQL), standard three times.
    - `quick` (`make bench QUICK=1`): checks the harness in minutes; its figures mean little.
    """

    mode: str
    loader_rows: int
    to_sql_rows: dict[str, int]  # per engine (to_sql on DuckDB inserts row by row: see pulse.bench.loader)
    loader_runs: int
    short: tuple[float, int]  # (scale, days) of the short-history company
    long: tuple[float, int]
    pipeline: tuple[tuple[float, int], ...]  # companies whose daily pipeline is reported
    refresh_runs: int
    query_runs: int
    pipeline_runs: int
    facts_runs: int  # the summary KPIs computed from the facts: minutes each at scale 10 on PostgreSQL
    # quick mode checks the harness, not the figures: tasks start with their imports done, skip the
    # Data Docs, and only a few sources run (GA4 for its request count, a file drop, an HTTP API)
    preload: bool = False
    sources: tuple[str, ...] | None = None

    @classmethod
    def full(cls) -> Plan:
        return cls("full", 1_000_000, {"duckdb": 50_000, "postgres": 1_000_000}, 3, (10, 30), (10, 1095),
                   ((1, 1095), (10, 1095)), 3, 5, 3, 1)

    @classmethod
    def standard(cls) -> Plan:
        return cls("standard", 1_000_000, {"duckdb": 10_000, "postgres": 1_000_000}, 3, (1, 30), (1, 1095),
                   ((1, 1095),), 3, 5, 3, 3)

    @classmethod
    def quick(cls) -> Plan:
        return cls("quick", 3_000, {"duckdb": 300, "postgres": 3_000}, 1, (0.05, 7), (0.05, 14),
                   ((0.05, 14),), 1, 1, 1, 1, preload=True, sources=("ga4", "nps", "aircall"))

    @classmethod
    def named(cls, name: str) -> Plan:
        if name not in PLANS:
            raise ValueError(f"unknown bench plan {name!r}; one of {', '.join(PLANS)}")
        return getattr(cls, name)()

    def company(self, scale_days: tuple[float, int], base: Path) -> Company:
        return Company(scale_days[0], scale_days[1], base, self.sources)


@dataclass
class DailyRuns:
    company: Company
    runs: list[tasks.PipelineRun] = field(default_factory=list)
    ga4_requests: list[int] = field(default_factory=list)
    run_dir: Path | None = None  # the first run's directory: its data dir holds the day's batches
    day_loaded: Path | None = None  # its warehouse after the extract DAGs, before the KPI build

    def as_dict(self) -> dict[str, Any]:
        largest = max((run.largest for run in self.runs), key=lambda task: task.peak_rss_bytes)
        return {
            "company": self.company.describe(), "scale": self.company.scale, "days": self.company.days,
            "median_seconds": statistics.median(run.seconds for run in self.runs),
            "runs_seconds": [run.seconds for run in self.runs],
            "largest_task": largest.task, "largest_task_peak_rss_bytes": largest.peak_rss_bytes,
            "median_refresh_seconds": statistics.median(_task(run, "kpi_build.refresh").seconds for run in self.runs),
            "ga4_requests": self.ga4_requests, "runs": [run.as_dict() for run in self.runs],
        }


def run_bench(plan: Plan, base: Path, progress: Callable[[str], None] = print, *,
              rebuild: bool = False) -> dict[str, Any]:
    """Measure everything; `base` holds the cached companies (rebuilt from scratch when `rebuild`)
    and the runs' scratch files."""
    began = time.perf_counter()
    scratch = base / "runs"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    short, long = plan.company(plan.short, base), plan.company(plan.long, base)
    reported = [plan.company(scale_days, base) for scale_days in plan.pipeline]
    startup = tasks.startup()  # before this process imports what the tasks import
    prepared = {}
    for company in dict.fromkeys([short, long, *reported]):
        prepared[company.key] = tasks.in_child(f"prepare {company.key}", _prepare, company, rebuild).result

    with LoadSampler() as load:
        results: dict[str, Any] = {"mode": plan.mode, "started_at": dt.datetime.now(dt.UTC).isoformat(),
                                   "machine": machine(), "commit": _commit(), "cache_rebuilt": prepared, "task_startup_seconds": startup,
                                   "tasks_preloaded": plan.preload}
        progress("loader")
        results["loader"] = tasks.in_child("loader", _loader, plan.loader_rows, plan.to_sql_rows, plan.loader_runs,
                                           str(scratch / "loader")).result
        if plan.preload:
            tasks.preload()

        daily = {}
        for company in dict.fromkeys([*reported, short, long]):
            runs = plan.pipeline_runs if company in reported else 1
            progress(f"daily pipeline: {company.describe()}, {runs} run(s)")
            daily[company.key] = _daily_runs(company, runs, scratch, progress,
                                             companies.NO_DATA_DOCS if plan.preload else {})
        results["pipeline"] = [daily[company.key].as_dict() for company in reported]
        results["full_refresh"] = [{"company": company.describe(), **companies.full_refresh(company)}
                                   for company in dict.fromkeys([short, long])]

        with ExitStack() as stack:
            progress("one-day KPI refresh")
            results["refresh"], postgres_long = _refresh(plan, daily[short.key], daily[long.key], scratch, stack)
            progress("dashboard queries")
            results["queries"] = _queries(plan, daily[long.key], postgres_long)
    results["load_average"] = load.summary()
    results["duration_seconds"] = time.perf_counter() - began
    return results


def _commit() -> str:
    """The code measured: `git describe --always --dirty` of the checkout, or "unknown"."""
    from pulse.settings import REPO_ROOT

    try:
        return subprocess.run(["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _prepare(company: Company, rebuild: bool) -> dict[str, Any]:
    """A company's cache, built in a child that imports everything once for its own tasks."""
    tasks.preload()
    return companies.prepare(company, rebuild=rebuild)


def _loader(rows: int, to_sql_rows: dict[str, int], runs: int, workdir: str) -> list[dict[str, Any]]:
    from pulse.bench import loader

    Path(workdir).mkdir(parents=True, exist_ok=True)
    return [result.as_dict() for result in loader.measure(rows, to_sql_rows, runs, Path(workdir))]


# --- the daily pipeline ---------------------------------------------------------------------------
def _daily_runs(company: Company, runs: int, scratch: Path, progress: Callable[[str], None],
                settings: dict[str, str]) -> DailyRuns:
    daily = DailyRuns(company)
    with SandboxProcess(company.world_dir, scratch / f"{company.key}-sandbox") as sandbox:
        for number in range(runs):
            run_dir = scratch / f"{company.key}-daily-{number}"
            run_dir.mkdir(parents=True)
            warehouse = run_dir / "warehouse.duckdb"
            shutil.copyfile(company.before_duckdb, warehouse)
            sandbox.set_clock(company.now)
            run = tasks.PipelineRun()
            with PipelineOn(f"duckdb:///{warehouse}", str(run_dir / "data"),
                            tuple({**sandbox.environment(), **settings}.items())).active():
                tasks.extract_all(company.now, run, progress, company.sources)
                if number == 0:
                    daily.run_dir, daily.day_loaded = run_dir, run_dir / "day_loaded.duckdb"
                    shutil.copyfile(warehouse, daily.day_loaded)
                tasks.kpi_build(company.now, company.end, run)
            daily.runs.append(run)
            daily.ga4_requests.append(sandbox.requests("ga4"))
            progress(f"  run {number + 1}: {run.seconds:.0f}s, largest task {run.largest.task} "
                     f"{run.largest.peak_rss_bytes / 2**20:.0f} MiB, GA4 requests {daily.ga4_requests[-1]}")
    return daily


def _task(run: tasks.PipelineRun, name: str) -> tasks.TaskRun:
    return next(task for task in run.tasks if task.task == name)


# --- the one-day refresh --------------------------------------------------------------------------
def _refresh(plan: Plan, short: DailyRuns, long: DailyRuns, scratch: Path,
             stack: ExitStack) -> tuple[dict[str, Any], str]:
    """Refresh through the new day, each run starting from a copy of the warehouse with the day
    loaded (PostgreSQL: the cached database plus the daily run's batches); short and long
    alternate. Returns the figures and the PostgreSQL database of the last long-history run, kept
    open in `stack` for the query benchmark."""
    pairs = (("short", short), ("long", long))
    day_loaded = {label: _postgres_day_loaded(daily, stack) for label, daily in pairs}
    timings = {engine: {"short": Timing(), "long": Timing()} for engine in ("duckdb", "postgres")}
    kept = ""
    for number in range(plan.refresh_runs):
        for label, daily in pairs:
            data_dir = str(daily.run_dir / "data")
            copy = scratch / f"refresh-{label}.duckdb"
            shutil.copyfile(daily.day_loaded, copy)
            _refresh_once(timings["duckdb"][label], f"duckdb:///{copy}", data_dir, daily.company.end)
            copy.unlink()
            database = databases.temporary_database(f"{daily.company.key}_refresh", template=day_loaded[label])
            if number == plan.refresh_runs - 1 and label == "long":
                kept = stack.enter_context(database)
                _refresh_once(timings["postgres"][label], kept, data_dir, daily.company.end)
            else:
                with database as url:
                    _refresh_once(timings["postgres"][label], url, data_dir, daily.company.end)
    results = {
        engine: {"short": {"company": short.company.describe(), **pair["short"].as_dict()},
                 "long": {"company": long.company.describe(), **pair["long"].as_dict()},
                 "ratio": pair["long"].median / pair["short"].median}
        for engine, pair in timings.items()
    }
    return results, kept


def _postgres_day_loaded(daily: DailyRuns, stack: ExitStack) -> str:
    """The company's cached PostgreSQL warehouse with the daily run's batches loaded."""
    url = stack.enter_context(databases.temporary_database(
        f"{daily.company.key}_day", template=databases.kept_url(daily.company.before_postgres)))
    with PipelineOn(url, str(daily.run_dir / "data")).active():
        tasks.in_child("load the day (PostgreSQL)", companies.load_batches, daily.runs[0].batches())
    return url


def _refresh_once(timing: Timing, warehouse_url: str, data_dir: str, through: dt.date) -> None:
    load = os.getloadavg()[0]
    with PipelineOn(warehouse_url, data_dir).active():
        run = tasks.in_child("kpi_build.refresh", tasks.refresh, through.isoformat(), False)
    if run.result["mode"] != "incremental":
        raise AssertionError(f"the one-day refresh ran as {run.result['mode']!r}, not incremental")
    timing.seconds.append(run.result["seconds"])
    timing.load.append((load + os.getloadavg()[0]) / 2)


# --- dashboard queries ----------------------------------------------------------------------------
def _queries(plan: Plan, long: DailyRuns, postgres_url: str) -> dict[str, Any]:
    results: dict[str, Any] = {"company": long.company.describe()}
    serving = long.run_dir / "data" / "serving" / "pulse.duckdb"
    with queries.serving_reader(serving) as run_statement:
        results["duckdb"] = {"charts": [q.as_dict() for q in queries.measure_charts(run_statement, plan.query_runs)]}
    with Warehouse(postgres_url).connect() as connection:
        results["postgres"] = {"charts": [q.as_dict() for q in queries.measure_charts(
            lambda sql: len(connection.fetchall(sql)), plan.query_runs)]}
    for engine, url in (("duckdb", f"duckdb:///{long.run_dir / 'warehouse.duckdb'}"), ("postgres", postgres_url)):
        with Warehouse(url).connect() as connection:
            results[engine]["from_facts"] = queries.measure_from_facts(connection, long.company.end, plan.facts_runs)
    return results
