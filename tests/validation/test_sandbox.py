"""The generated sandbox company through every connector: clean data passes every suite, and the
GA tracking outage fails the GA-vs-shop reconciliation on its date only.

One module-wide run: a 28-day world at scale 0.6 (the outage 12 days before its end, enough web
orders on office days to judge; a monthly NPS file), every stream of every source extracted,
validated and loaded into DuckDB. Budget: ~2 minutes on a quiet machine (mostly extraction; GX
and dlt imports once), up to 7 under heavy load."""

from __future__ import annotations

import datetime as dt

import pytest

from pulse.sandbox.generator import generate
from pulse.settings import get_settings
from pulse.sources import all_streams
from pulse.validation import reconcile
from pulse.warehouse.connection import Warehouse
from validation.sandbox import run_stream, serve

END = dt.date(2026, 3, 1)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sandbox")
    patch = pytest.MonkeyPatch()
    patch.setenv("PULSE_DATA_DIR", str(directory / "data"))
    patch.setenv("PULSE_DATA_DOCS_ENABLED", "false")
    get_settings.cache_clear()
    world = generate(seed=11, days=28, scale=0.6, end=END)
    warehouse = Warehouse(f"duckdb:///{directory}/wh/pulse.duckdb")
    runs = {}
    try:
        with serve(world, directory) as sandbox:
            for name in sandbox.sources:
                source = sandbox.source(name, warehouse)
                for stream in source.extracted_streams():
                    runs[stream.key] = run_stream(source, stream.name, warehouse, start=sandbox.first_start(name))
        yield world, warehouse, runs
    finally:
        patch.undo()
        get_settings.cache_clear()


def test_clean_sandbox_data_passes_every_suite(loaded):
    _, warehouse, runs = loaded
    verdicts = {v.suite: v for run in runs.values() for v in run.verdicts}
    assert sorted(verdicts) == sorted(stream.key for stream in all_streams())
    problems = {suite: (v.batch_failures, [r for r in v.results if not r["success"]])
                for suite, v in verdicts.items() if not v.success or v.failed_rows}
    assert problems == {}
    assert [suite for suite, v in verdicts.items() if v.evaluated_rows == 0] == [], "streams without data to validate"
    assert [key for key, run in runs.items() if run.rejected] == []
    with warehouse.connect() as connection:
        assert connection.scalar("select count(*) from quarantine.rows") == 0
        assert connection.scalar("select count(*) from meta.validation_results where not success") == 0


def test_only_the_ga_tracking_outage_fails_reconciliation_on_its_date_and_not_around_it(loaded):
    world, warehouse, _ = loaded
    outage = world.meta.incident("ga_tracking_outage")
    assert outage is not None and outage.start == outage.end
    outcome = reconcile.run(end=END, days=28, warehouse=warehouse)
    assert outcome.skipped == []
    # clean sources agree everywhere else: shipments with the carriers, tickets and calls with past weeks
    assert sorted((r.check, r.day) for r in outcome.failures()) == [
        ("ga_revenue_vs_web_revenue", outage.start), ("ga_transactions_vs_web_orders", outage.start)]
    for check in ("ga_transactions_vs_web_orders", "ga_revenue_vs_web_revenue"):
        results = {r.day: r for r in outcome.results if r.check == check}
        assert results[outage.start].ratio < 0.5
        # the office days around it are judged, and pass
        around = [outage.start + dt.timedelta(days=d) for d in (-7, -6, -1, 1, 2, 7)]
        judged = [day for day in around if results[day].success is not None]
        assert len(judged) >= 4 and all(results[day].success for day in judged)
    judged = {r.check for r in outcome.results if r.success is not None}
    assert {"shipments_vs_shipped_orders", "calls_vs_previous_weeks"} <= judged
    with warehouse.connect() as connection:
        stored = connection.fetchall(
            "select check_name, day from meta.reconciliation_results where success = false order by 1")
    assert stored == [("ga_revenue_vs_web_revenue", outage.start), ("ga_transactions_vs_web_orders", outage.start)]
