"""The bench's results as JSON and as the Markdown of `docs/benchmarks.md`: the targets of issue 11
with each measured figure beside its target, then the detail tables.

`docs/benchmarks.md` keeps its hand-written parts (what was profiled and fixed); only the part
between the two `bench:` markers is replaced by each run.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:begin (written by `make bench`) -->", "<!-- bench:end -->"
GIB = 2**30

# The targets (issue 11)
LOADER_VS_TO_SQL = 20.0  # Pulse's load at least this many times to_sql's rows per second
LOADER_VS_BULK = 2.0  # ... and at most this many times the engine's bulk path's time
REFRESH_RATIO = 1.5  # one-day refresh at the long history / at the short history
SUMMARY_QUERY_SECONDS = {"duckdb": 0.2, "postgres": 1.0}  # every summary chart's median
PIPELINE_SECONDS = 600.0  # the daily pipeline at scale 10
TASK_PEAK_BYTES = 2 * GIB  # no task above
ENGINES = {"duckdb": "DuckDB", "postgres": "PostgreSQL"}
LOADER_TARGET_CASES = (("merge_empty", "empty raw table"),
                       ("merge_existing", "table holding the rows, delivered again unchanged"),
                       ("merge_changed", "table holding the rows, every row changed"))
COMMANDS = {"quick": "make bench QUICK=1", "standard": "make bench", "full": "make bench BENCH_PLAN=full"}


@dataclass(frozen=True)
class Target:
    what: str
    measured: str
    target: str
    met: bool

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "measured": self.measured, "target": self.target, "met": self.met}


def targets(results: dict[str, Any]) -> list[Target]:
    rows = []
    for engine in results["loader"]:
        name = ENGINES[engine["engine"]]
        bulk = engine.get("fastest_bulk", "bulk")
        for case, label in LOADER_TARGET_CASES:
            if case not in engine["cases"]:
                continue
            speedup = engine["cases"][case]["rows_per_second"] / engine["cases"]["to_sql"]["rows_per_second"]
            rows.append(Target(f"Loader vs `to_sql`, {name}, {label}", f"{speedup:,.0f}x",
                               f">= {LOADER_VS_TO_SQL:g}x", speedup >= LOADER_VS_TO_SQL))
            slower = engine["cases"][case]["median_seconds"] / engine["cases"][bulk]["median_seconds"]
            rows.append(Target(f"Loader vs bulk path ({_bulk(engine['engine'], bulk)}), {name}, {label}",
                               f"{slower:.2f}x the time", f"<= {LOADER_VS_BULK:g}x", slower <= LOADER_VS_BULK))
    for engine, figures in results["refresh"].items():
        ratio = figures["ratio"]
        rows.append(Target(
            f"One-day KPI refresh, {figures['long']['company']} vs {figures['short']['company']}, {ENGINES[engine]}",
            f"{ratio:.2f}x ({_s(figures['long']['median_seconds'])} vs {_s(figures['short']['median_seconds'])})",
            f"<= {REFRESH_RATIO:g}x", ratio <= REFRESH_RATIO))
    for engine in ENGINES:
        summary = [c for c in results["queries"][engine]["charts"] if c["summary"]]
        slowest = max(summary, key=lambda chart: chart["median_seconds"])
        limit = SUMMARY_QUERY_SECONDS[engine]
        rows.append(Target(
            f"Slowest of {len(summary)} summary queries, {ENGINES[engine]} ({results['queries']['company']})",
            f"{_ms(slowest['median_seconds'])} (`{slowest['chart']}`)", f"< {_ms(limit)}",
            slowest["median_seconds"] < limit))
    for run in results["pipeline"]:
        if run["scale"] < 10:
            continue
        rows.append(Target(f"Daily pipeline, {run['company']}: wall time", _s(run["median_seconds"]),
                           f"< {_s(PIPELINE_SECONDS)}", run["median_seconds"] < PIPELINE_SECONDS))
        peak = run["largest_task_peak_rss_bytes"]
        rows.append(Target(f"Daily pipeline, {run['company']}: largest task", f"{_gib(peak)} (`{run['largest_task']}`)",
                           f"<= {_gib(TASK_PEAK_BYTES)}", peak <= TASK_PEAK_BYTES))
    return rows


def write(results: dict[str, Any], json_path: Path, markdown_path: Path) -> None:
    results = {**results, "targets": [target.as_dict() for target in targets(results)]}
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1, sort_keys=True, default=str) + "\n")
    section = markdown(results)
    existing = markdown_path.read_text(encoding="utf-8") if markdown_path.exists() else ""
    if BEGIN in existing and END in existing:
        head, rest = existing.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = (existing.rstrip() + "\n\n" if existing else "# Benchmarks\n\n") + section + "\n"
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(text, encoding="utf-8")


def markdown(results: dict[str, Any]) -> str:
    machine, load = results["machine"], results["load_average"]
    lines = [
        BEGIN, "",
        f"Run of {results['started_at'][:16].replace('T', ' ')} UTC ({results['mode']} mode, "
        f"{results['duration_seconds'] / 60:.0f} minutes). Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gib']} GiB; {machine['os']}; Python {machine['python']}, DuckDB {machine['duckdb']}, "
        f"PostgreSQL {machine['postgresql']}, pandas {machine['pandas']}, pyarrow {machine['pyarrow']}.",
        "",
        f"Plan `{results['mode']}` at commit `{results.get('commit', 'unknown')}`, produced by `{COMMANDS[results['mode']]}` (`pulse bench --plan "
        f"{results['mode']}`); the plans are described in `pulse.bench.run.Plan`.",
        "",
        f"**Load average during the run: {load['mean']} (min {load['min']}, max {load['max']})** on "
        f"{machine['cores']} cores: the machine was shared with other test runs, so every time below is pessimistic "
        "(longer than on an idle machine); ratios compare figures measured in the same run, their repetitions "
        "interleaved.",
        "",
        "Each figure is the median of its runs (the raw runs are in `bench/results/latest.json`).",
        "", "### Targets", "",
        "| What | Measured | Target | Met |", "|---|---|---|---|",
    ]
    lines += [f"| {t['what']} | {t['measured']} | {t['target']} | {'yes' if t['met'] else '**no**'} |"
              for t in results["targets"]]
    lines += ["", "### Loader (`shop.orders` contract)", "",
              "| Engine | Path | Rows | Median | Rows/s |", "|---|---|---:|---:|---:|"]
    for engine in results["loader"]:
        for case, label in (("merge_empty", "Pulse loader (merge by key), empty raw table"),
                            ("merge_existing", "Pulse loader, table holding the rows, delivered again unchanged"),
                            ("merge_changed", "Pulse loader, table holding the rows, every row changed"),
                            ("step_empty", "Pulse load step (Parquet in, bookkeeping), empty raw table"),
                            ("step_existing", "Pulse load step, table holding the rows (unchanged)"),
                            ("bulk", _bulk(engine["engine"], "bulk")), ("bulk_csv", _bulk(engine["engine"], "bulk_csv")),
                            ("to_sql", "`pandas.DataFrame.to_sql`")):
            if case not in engine["cases"]:
                continue
            figures = engine["cases"][case]
            rows = engine["to_sql_rows"] if case == "to_sql" else engine["rows"]
            lines.append(f"| {ENGINES[engine['engine']]} | {label} | {rows:,} | {_s(figures['median_seconds'])} | "
                         f"{figures['rows_per_second']:,.0f} |")
    lines += ["", "### One-day KPI refresh (incremental, through the new day)", "",
              "| Engine | History | Median | Runs |", "|---|---|---:|---|"]
    for engine, figures in results["refresh"].items():
        for label in ("short", "long"):
            row = figures[label]
            lines.append(f"| {ENGINES[engine]} | {row['company']} | {_s(row['median_seconds'])} | "
                         f"{', '.join(_s(s) for s in row['runs_seconds'])} |")
    lines += ["", "### Full KPI refresh (the whole history, timed when the company's cache was built)", "",
              "| History | DuckDB | PostgreSQL: load of the history | PostgreSQL: build | Measured |",
              "|---|---:|---:|---:|---|"]
    for row in results["full_refresh"]:
        lines.append(f"| {row['company']} | {_s(row['duckdb_refresh_seconds'])} | {_s(row['postgres_load_seconds'])} | "
                     f"{_s(row['postgres_refresh_seconds'])} | {row['measured_at'][:16].replace('T', ' ')} UTC |")
    lines += _query_tables(results["queries"])
    lines += ["", "### Daily pipeline (every extract DAG, then the KPI build; tasks one after another)", "",
              "| Company | Wall time | KPI refresh | Largest task (peak RSS) | Slowest task | GA4 requests |",
              "|---|---:|---:|---|---|---:|"]
    for run in results["pipeline"]:
        first = run["runs"][0]
        lines.append(
            f"| {run['company']} | {_s(run['median_seconds'])} | {_s(run['median_refresh_seconds'])} | "
            f"`{run['largest_task']}` {_gib(run['largest_task_peak_rss_bytes'])} | "
            f"`{first['slowest_task']}` {_s(first['slowest_task_seconds'])} | "
            f"{', '.join(str(n) for n in run['ga4_requests'])} |")
    startup = results["task_startup_seconds"]
    lines += ["", "A task runs in a fresh process, as under Airflow; importing what it needs takes (a fresh "
              "interpreter, same load): " + ", ".join(f"{kind} {_s(s)}" for kind, s in startup.items()) + "."]
    lines += ["", END]
    return "\n".join(lines)


def _runs(figures: dict[str, Any]) -> str:
    chart, facts = (len(figures["postgres"][kind][0]["runs_seconds"]) for kind in ("charts", "from_facts"))
    return f"charts: median of {chart} runs after a warm-up; from the facts: " + \
        ("one run" if facts == 1 else f"median of {facts} runs")


def _query_tables(figures: dict[str, Any]) -> list[str]:
    lines = ["", f"### Dashboard queries ({figures['company']})", "",
             "Summary dashboard: every chart's SQL as Superset sends it, and the same KPI computed from the facts "
             f"by its model over the whole window ({_runs(figures)}).", "",
             "| Chart | DuckDB | PostgreSQL | From facts, DuckDB | From facts, PostgreSQL |",
             "|---|---:|---:|---:|---:|"]
    by_engine = {engine: {c["chart"]: c for c in figures[engine]["charts"]} for engine in ENGINES}
    facts = {engine: {c["chart"]: c for c in figures[engine]["from_facts"]} for engine in ENGINES}
    for name, chart in by_engine["duckdb"].items():
        if not chart["summary"]:
            continue
        cells = [_ms(by_engine[engine][name]["median_seconds"]) for engine in ENGINES]
        cells += [_ms(facts[engine][name]["median_seconds"]) if name in facts[engine] else "-" for engine in ENGINES]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    differing = {engine: sum(c["differing_periods"] for c in figures[engine]["from_facts"]) for engine in ENGINES}
    lines += ["", "Values computed from the facts that differ from the stored KPI values: "
              + ", ".join(f"{ENGINES[e]} {n}" for e, n in differing.items()) + " periods."]
    lines += ["", "Detail dashboards: the slowest charts.", "",
              "| Chart | Dashboard | DuckDB | PostgreSQL |", "|---|---|---:|---:|"]
    detail = [c for c in by_engine["postgres"].values() if not c["summary"]]
    for chart in sorted(detail, key=lambda c: c["median_seconds"], reverse=True)[:5]:
        name = chart["chart"]
        lines.append(f"| `{name}` | {chart['dashboard'].removesuffix('.yaml')} | "
                     f"{_ms(by_engine['duckdb'][name]['median_seconds'])} | {_ms(chart['median_seconds'])} |")
    spread = {e: percentiles([c["median_seconds"] for c in by_engine[e].values()]) for e in ENGINES}
    lines += ["", f"All {len(by_engine['duckdb'])} charts, p50 / p95 of their medians: "
              + ", ".join(f"{ENGINES[e]} {_ms(p50)} / {_ms(p95)}" for e, (p50, p95) in spread.items()) + "."]
    return lines


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p95 (linear between the closest ranks)."""
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=20, method="inclusive")[-1]


def _bulk(engine: str, case: str) -> str:
    if engine == "duckdb":
        return "DuckDB insert from Arrow"
    return "PostgreSQL binary `COPY` (pgpq from Arrow)" if case == "bulk" else "PostgreSQL `COPY` (CSV from Arrow)"


def _s(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s" if seconds >= 10 else f"{seconds:.2f} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else _s(seconds)


def _gib(size: float) -> str:
    return f"{size / GIB:.2f} GiB"
