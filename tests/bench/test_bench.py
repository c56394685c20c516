"""`pulse bench --quick` end to end, so the benchmark harness cannot rot: two tiny sandbox companies
built from scratch (GA4, NPS drops and Aircall only), their history and daily run through the
real pipeline tasks, the loader paths, the one-day refresh and every dashboard chart's query on
DuckDB and PostgreSQL. No timing is asserted; what the harness reports is checked against what it
must be.

The plans' sizes and `make bench`'s choice of plan are checked without running them.

Budget: about 3 minutes on an idle 2-core machine (most of it the two companies' pipeline tasks).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import duckdb
import pytest
import yaml

from pulse.bench import report
from pulse.bench.charts import charts
from pulse.bench.run import Plan, run_bench
from pulse.business_calendar import BusinessCalendar
from pulse.settings import REPO_ROOT, get_settings
from pulse.sources import source_class
from pulse.sources.ga4 import GA4Source
from pulse.sources.ga4_reports import REPORTS
from support.services import POSTGRES_ADMIN_URL, require_postgres

PLAN = Plan.quick()
HAND_WRITTEN = "# Benchmarks\n\nWhat was profiled and fixed (hand-written, kept).\n"
AFTER = "\n## Notes\n\nKept too.\n"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    require_postgres()
    root = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_DATA_DIR", str(root / "data"))
        patch.setenv("PULSE_BENCH_POSTGRES_URL", POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"))
        get_settings.cache_clear()
        results = run_bench(PLAN, root / "data" / "bench", progress=lambda line: None)
        markdown = root / "benchmarks.md"
        markdown.write_text(report.BEGIN.join([HAND_WRITTEN, "\nan old table\n" + report.END + AFTER]))
        report.write(results, root / "latest.json", markdown)
        report.write(results, root / "latest.json", markdown)  # a second run replaces, never appends
    get_settings.cache_clear()
    return results, root


def test_the_daily_run_costs_the_ga4_connectors_request_budget(bench):
    results, _ = bench
    budget = sum(1 + math.ceil(len(REPORTS[stream.name]) / 5) for stream in GA4Source.streams)
    for run in results["pipeline"]:
        assert run["ga4_requests"] == [budget] * PLAN.pipeline_runs


def test_the_daily_run_runs_every_task_of_the_dags_once(bench):
    results, _ = bench
    expected = [f"extract_{source}.{stream.name}.{step}" for source in PLAN.sources
                for stream in source_class(source).extracted_streams() for step in ("extract", "validate", "load")]
    expected += ["kpi_build.mark_freshness", "kpi_build.refresh", "kpi_build.reconcile", "kpi_build.publish"]
    for run in results["pipeline"]:
        for one in run["runs"]:
            assert [task["task"] for task in one["tasks"]] == expected
            assert all(task["peak_rss_bytes"] > 50 * 2**20 for task in one["tasks"])


def test_every_chart_on_every_dashboard_is_measured_on_both_engines(bench):
    results, _ = bench
    placed = []
    for path in sorted((REPO_ROOT / "superset_assets" / "dashboards").glob("*.yaml")):
        position = yaml.safe_load(path.read_text())["position"]
        placed += [node["meta"]["uuid"] for node in position.values()
                   if isinstance(node, dict) and node.get("type") == "CHART"]
    for engine in ("duckdb", "postgres"):
        charts = results["queries"][engine]["charts"]
        assert len(charts) == len(placed)
        assert sum(chart["summary"] for chart in charts) == 21  # the board and its 20 tiles


def test_kpis_computed_from_the_facts_equal_the_incrementally_refreshed_ones(bench):
    results, _ = bench
    for engine in ("duckdb", "postgres"):
        from_facts = results["queries"][engine]["from_facts"]
        assert len(from_facts) == 20
        assert all(row["periods"] > 0 for row in from_facts)
        assert [row["chart"] for row in from_facts if row["differing_periods"]] == []


def test_a_tile_query_returns_the_kpi_values_it_shows(bench):
    """The chart SQL built from the bundle, run on the serving copy, against the KPI table read
    directly: the revenue tile shows the last 30 office days (the business calendar's) up to the
    summary's day."""
    _, root = bench
    base = root / "data" / "bench"
    serving = base / "runs" / f"{PLAN.company(PLAN.long, base).key}-daily-0" / "data" / "serving" / "pulse.duckdb"
    tile = next(chart for chart in charts() if chart.name == "tile_revenue")
    with duckdb.connect(str(serving), read_only=True) as connection:
        shown = {row[0].date() if isinstance(row[0], dt.datetime) else row[0]: row[1]
                 for row in connection.execute(tile.sql).fetchall()}
        summary_day = connection.execute(
            "select period_start from kpi.kpi_summary where kpi_id = 'revenue' and grain = 'day'").fetchone()[0]
        stored = connection.execute(
            "select period_start, value from kpi.kpi_values where kpi_id = 'revenue' and grain = 'day' "
            "and slice_name = 'all' and period_start <= ? order by period_start desc",
            [summary_day]).fetchall()
    calendar = BusinessCalendar.from_settings()
    office_days = dict([(day, value) for day, value in stored if calendar.is_office_day(day)][:30])
    assert len(office_days) < len(stored)  # the history holds a weekend
    assert shown == pytest.approx(office_days)


def test_the_report_states_every_target_beside_its_measure_and_keeps_the_hand_written_text(bench):
    _, root = bench
    written = json.loads((root / "latest.json").read_text())
    targets = written["targets"]
    # 2 engines x 3 loader cases (empty, delivered again, every row changed) x 2 comparisons, 2
    # refresh ratios, 2 summary-query limits (the quick plan has no scale-10 pipeline)
    assert len(targets) == 12 + 2 + 2
    text = (root / "benchmarks.md").read_text()
    assert text.startswith(HAND_WRITTEN) and text.endswith(AFTER) and "an old table" not in text
    assert text.count(report.BEGIN) == 1
    for target in targets:
        assert f"| {target['what']} | {target['measured']} | {target['target']} |" in text
    assert f"Load average during the run: {written['load_average']['mean']}" in text
    assert "produced by `make bench QUICK=1` (`pulse bench --plan quick`)" in text
    assert "shared with other test runs" in text and "p50 / p95 of their medians" in text
    for row in written["full_refresh"]:  # each company's full build, timed when its cache was built
        assert f"| {row['company']} | {report._s(row['duckdb_refresh_seconds'])} |" in text
    assert [row["company"] for row in written["full_refresh"]] == \
        [PLAN.company(PLAN.short, Path()).describe(), PLAN.company(PLAN.long, Path()).describe()]
    for engine in written["loader"]:
        assert engine["rows"] == PLAN.loader_rows
        assert engine["to_sql_rows"] == PLAN.to_sql_rows[engine["engine"]]
        # the bulk path a loader target is judged against is the engine's fastest
        assert engine["fastest_bulk"] == min(("bulk", "bulk_csv") if engine["engine"] == "postgres" else ("bulk",),
                                             key=lambda case: engine["cases"][case]["median_seconds"])


def test_the_plans_grow_from_quick_to_standard_to_full():
    quick, standard, full = (Plan.named(name) for name in ("quick", "standard", "full"))
    assert quick.loader_rows < full.loader_rows and quick.long[1] < full.long[1]
    assert full.long == (10, 1095) and full.loader_rows == 1_000_000 and full.sources is None
    # standard measures what full measures, over the same three years at a tenth of the scale
    assert standard.long == (1, 1095) and standard.short == (1, 30) and standard.pipeline == ((1, 1095),)
    assert standard.loader_rows == full.loader_rows and standard.sources is None and not standard.preload
    assert (standard.refresh_runs, standard.query_runs, standard.pipeline_runs) == \
        (full.refresh_runs, full.query_runs, full.pipeline_runs)
    assert full.facts_runs == 1 < standard.facts_runs
    with pytest.raises(ValueError, match="unknown bench plan"):
        Plan.named("huge")
    makefile = Path(REPO_ROOT / "Makefile").read_text()
    assert "BENCH_PLAN ?= standard" in makefile
    assert makefile.count("pulse bench --plan $(if $(QUICK),quick,$(BENCH_PLAN))") == 1
