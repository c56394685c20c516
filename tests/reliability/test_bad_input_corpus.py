"""The bad-input corpus: defects of every kind, in every source's own format, each caught by the
rule meant for it; quarantined or blocked as designed; nothing of a batch loaded silently or lost
(landing keeps every batch byte for byte); the other sources keep loading.

How: a small generated company is served by the sandbox (APIs, shop database, CSV drops). One
clean batch per API/database stream is extracted as a template; each case lands a copy whose
payload carries one defect (a JSON page, a Parquet part, a dropped file), then runs the real
validate and load steps. File cases go through the feeds' real extraction from a drops folder.

The test prints its counts (cases, sources, caught as designed, failures). Budget: ~3 minutes on
a loaded 2-core machine (GX and dlt imports, 13 template extractions, ~40 batches)."""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import decimal
import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from validation.sandbox import Run, Sandbox, run_stream, serve

from pulse import landing
from pulse.pipeline import steps
from pulse.sandbox.generator import generate
from pulse.settings import get_settings
from pulse.sources import find_stream, source_class
from pulse.sources.base import Source
from pulse.validation import verdict as verdict_store
from pulse.warehouse.connection import Warehouse

QUARANTINE, BLOCK, LOAD, SKIP = "quarantined", "blocked", "loaded verbatim", "skipped as already loaded"
SQL_TEXT = "Robert'); drop table raw.shop__orders; --"
ODD_UNICODE = ("Zo\u00eb \u200b\u202e\ufe8f\ufe8e\ufe98\ufecb\u202c \U0001f477\u200d\u2640\ufe0f A\u030a "
               "\U0001d518\U0001d52b")  # zero-width space, RTL override, emoji ZWJ sequence, combining ring, Fraktur


@dataclass(frozen=True)
class Case:
    name: str
    stream: str  # the extracted stream whose batch carries the defect
    expect: str
    rule: str  # the rule that must catch it (quarantine rule, or the prefix of the blocking failure)
    change: Callable[..., Any] | None = None  # edits the template's payload (JSON pages / Parquet frame)
    files: Callable[[Path], dict[str, bytes]] | None = None  # a feed's dropped files, from the sandbox's drops
    rows: int = 1  # records the defect touches (quarantine)
    checked: str | None = None  # the stream whose verdict carries it, when fed by another's batch
    column: str | None = None
    history: int = 0  # clean batches loaded first (the volume guard compares with them)
    verbatim: tuple[str, Any] | None = None  # (raw table column, value) that must load as sent

    @property
    def source(self) -> str:
        return self.stream.split(".")[0]


# --- payload edits -------------------------------------------------------------------------------
def records(pages: list[dict], key: str) -> list[dict]:
    return [record for page in pages for record in page.get(key, [])]


def hubspot(field: str, value: Any, count: int = 1) -> Callable[[list[dict]], None]:
    def change(pages):
        for item in records(pages, "results")[:count]:
            if field == "id":
                item["id"] = value
            else:
                item["properties"][field] = value
    return change


def drop_property(field: str) -> Callable[[list[dict]], None]:
    def change(pages):
        for item in records(pages, "results"):
            item["properties"].pop(field, None)
    return change


def api(key: str, field: str, value: Any, count: int = 1) -> Callable[[list[dict]], None]:
    def change(pages):
        for item in records(pages, key)[:count]:
            item[field] = value
    return change


def ga4(name: str, value: str, count: int = 1) -> Callable[[list[dict]], None]:
    """Set a dimension or metric (API name) in the first rows of the first report."""
    def change(pages):
        report = pages[0]["reports"][0]
        dimensions = [h["name"] for h in report["dimensionHeaders"]]
        metrics = [h["name"] for h in report["metricHeaders"]]
        for row in report["rows"][:count]:
            if name in dimensions:
                row["dimensionValues"][dimensions.index(name)]["value"] = value
            else:
                row["metricValues"][metrics.index(name)]["value"] = value
    return change


def ga4_rename(old: str, new: str) -> Callable[[list[dict]], None]:
    def change(pages):
        for page in pages:
            for report in page["reports"]:
                for header in report["dimensionHeaders"]:
                    if header["name"] == old:
                        header["name"] = new
    return change


def frame(column: str, value: Any, rows: int = 1) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Set `column` in the first rows of a Parquet part. A text value turns the column into text
    (as an ERP column whose type changed would arrive); a number in a decimal column stays one."""
    def change(table):
        table = table.copy()
        values = table[column].dropna()
        if isinstance(value, str) and not values.map(lambda v: isinstance(v, str)).all():
            table[column] = table[column].map(lambda v: None if pd.isna(v) else str(v)).astype(object)
        elif len(values) and isinstance(values.iloc[0], decimal.Decimal) and value is not None:
            table[column] = table[column].astype(object)
            table.loc[table.index[:rows], column] = decimal.Decimal(str(value))
            return table
        table.loc[table.index[:rows], column] = value
        return table
    return change


# --- dropped files (the sandbox's own drops, edited) ---------------------------------------------
def first_file(drops: Path, feed: str, pattern: str, *, with_rows: bool = True) -> tuple[str, bytes]:
    for path in sorted((drops / feed).glob(pattern)):
        data = path.read_bytes()
        text = gzip.decompress(data) if path.name.endswith(".gz") else data
        if not with_rows or len(text.strip().splitlines()) > 3:
            return path.name, data
    raise AssertionError(f"the sandbox dropped no {pattern} with rows")


def nps_file(drops: Path) -> tuple[str, str]:
    name, data = first_file(drops, "nps", "nps_responses_*.csv")
    return name, data.decode("utf-8-sig")


def edit_line(text: str, line: int, column: int, value: str, delimiter: str) -> str:
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    cells = lines[line].split(delimiter)
    cells[column] = value
    lines[line] = delimiter.join(cells)
    return ("\r\n" if "\r\n" in text else "\n").join(lines)


def nps_edit(line: int, column: int, value: str) -> Callable[[Path], dict[str, bytes]]:
    def files(drops):
        name, text = nps_file(drops)
        return {name: codecs.BOM_UTF8 + edit_line(text, line, column, value, ";").encode()}
    return files


def nps_duplicate(drops: Path) -> dict[str, bytes]:
    name, text = nps_file(drops)
    lines = text.splitlines()
    return {name: codecs.BOM_UTF8 + "\r\n".join([*lines, lines[1]]).encode() + b"\r\n"}


def dpd_naive(drops: Path) -> dict[str, bytes]:
    name, data = first_file(drops, "carrier_files", "DPD_scans_*.csv")
    text = data.decode()
    moment = text.splitlines()[1].split(",")[1]
    return {name: text.replace(moment, moment[:19], 1).encode()}  # 2026-02-10T10:36:26+01:00 -> no offset


def speed_huge(drops: Path) -> dict[str, bytes]:
    name, data = first_file(drops, "site_speed", "rum_page_loads_*.csv.gz")
    text = gzip.decompress(data).decode()
    return {name: gzip.compress(edit_line(text, 1, 5, "1e30", ",").encode())}


def feed_file(feed: str, pattern: str, transform: Callable[[bytes], bytes], *,
              rename: Callable[[str], str] = lambda n: n) -> Callable[[Path], dict[str, bytes]]:
    def files(drops):
        name, data = first_file(drops, feed, pattern)
        return {rename(name): transform(data)}
    return files


CASES = (
    # HubSpot CRM (JSON pages)
    Case("hubspot contact without id", "hubspot.contacts", QUARANTINE, "primary_key_not_null",
         hubspot("id", None), column="id"),
    Case("hubspot unknown lifecycle stage", "hubspot.contacts", QUARANTINE, "allowed_values",
         hubspot("lifecyclestage", "zombie"), column="lifecyclestage"),
    Case("hubspot modified in 2199", "hubspot.contacts", QUARANTINE, "not_in_future",
         hubspot("lastmodifieddate", "2199-01-01T00:00:00.000Z"), column="lastmodifieddate"),
    Case("hubspot dropped property", "hubspot.contacts", BLOCK, "schema", drop_property("lifecyclestage")),
    Case("hubspot negative deal amount", "hubspot.deals", QUARANTINE, "range", hubspot("amount", "-1500.00"),
         column="amount"),
    Case("hubspot amount no longer a number", "hubspot.deals", BLOCK, "type_change",
         hubspot("amount", "n/a", count=10_000)),
    # Zendesk (incremental export)
    Case("zendesk unknown status", "zendesk.tickets", QUARANTINE, "allowed_values",
         api("tickets", "status", "escalated"), column="status"),
    Case("zendesk time-zone-naive timestamp", "zendesk.tickets", QUARANTINE, "type:timestamp",
         api("tickets", "created_at", "2026-02-20T10:00:00"), column="created_at"),
    Case("zendesk negative reply time", "zendesk.tickets", QUARANTINE, "range",
         api("metric_sets", "reply_time_in_minutes", {"calendar": -5, "business": -5}),
         checked="zendesk.ticket_metrics", column="reply_time_calendar_minutes"),
    # Aircall (Unix-second times)
    Case("aircall call starting in 2100", "aircall.calls", QUARANTINE, "not_in_future",
         api("calls", "started_at", 4_102_444_800), column="started_at"),
    Case("aircall answered before it rang", "aircall.calls", QUARANTINE, "order",
         api("calls", "answered_at", 1_000_000_000), column="answered_at,started_at"),
    Case("aircall unknown direction", "aircall.calls", QUARANTINE, "allowed_values",
         api("calls", "direction", "sideways"), column="direction"),
    Case("aircall huge duration", "aircall.calls", QUARANTINE, "type:int",
         api("calls", "duration", 10**20), column="duration"),
    # EasyPost (trackers with their scans)
    Case("easypost id without its prefix", "easypost.trackers", QUARANTINE, "format",
         api("trackers", "id", "12345"), column="id"),
    Case("easypost unknown tracker status", "easypost.trackers", QUARANTINE, "allowed_values",
         api("trackers", "status", "teleported"), column="status"),
    Case("easypost unknown scan status", "easypost.trackers", QUARANTINE, "allowed_values",
         lambda pages: records(pages, "trackers")[0]["tracking_details"][0].update(status="beamed"),
         checked="easypost.tracking_details", column="status"),
    # GA4 Data API (batchRunReports bodies)
    Case("ga4 unknown device category", "ga4.traffic", QUARANTINE, "allowed_values",
         ga4("deviceCategory", "toaster"), column="device_category"),
    Case("ga4 negative sessions", "ga4.traffic", QUARANTINE, "range", ga4("sessions", "-5"), column="sessions"),
    Case("ga4 renamed dimension", "ga4.traffic", BLOCK, "schema", ga4_rename("newVsReturning", "newVsReturning2")),
    Case("ga4 more clicks than impressions", "ga4.google_ads", QUARANTINE, "consistency",
         ga4("advertiserAdClicks", "999999"), column="advertiser_ad_impressions,advertiser_ad_clicks"),
    # shop database (Parquet parts)
    Case("shop negative revenue", "shop.orders", QUARANTINE, "range", frame("revenue", -12.5), column="revenue"),
    Case("shop unknown payment method", "shop.orders", QUARANTINE, "allowed_values",
         frame("payment_method", "bitcoin"), column="payment_method"),
    Case("shop duplicate order ids", "shop.orders", BLOCK, "primary_key_unique",
         lambda table: pd.concat([table, table.iloc[:2]], ignore_index=True)),
    Case("shop order placed in 1066", "shop.orders", QUARANTINE, "type:timestamp",
         frame("placed_at", pd.Timestamp("1066-10-14")), column="placed_at"),  # the ERP's columns are naive UTC
    Case("shop revenue of 10^20", "shop.orders", QUARANTINE, "type:money", frame("revenue", "1e20"),
         column="revenue"),
    Case("shop revenue as text", "shop.orders", BLOCK, "type_change", frame("revenue", "EUR 12,50", rows=10_000)),
    Case("shop customer without id", "shop.customers", QUARANTINE, "primary_key_not_null", frame("id", None),
         column="id"),
    Case("shop name that looks like SQL", "shop.products", LOAD, "", frame("name", SQL_TEXT),
         verbatim=("name", SQL_TEXT)),
    Case("shop name in unusual Unicode", "shop.products", LOAD, "", frame("name", ODD_UNICODE),
         verbatim=("name", ODD_UNICODE)),
    Case("shop invoice due in 9999", "shop.invoices", QUARANTINE, "type:date", frame("due_date", "9999-12-31"),
         column="due_date"),
    Case("shop line of quantity 0", "shop.order_lines", QUARANTINE, "range", frame("quantity", 0),
         column="quantity"),
    Case("shop volume collapse", "shop.order_lines", BLOCK, "volume_collapse", lambda table: table.iloc[:3],
         history=3),
    Case("shop empty batch", "shop.order_lines", BLOCK, "empty_batch", lambda table: table.iloc[:0]),
    # CSV drops (the feeds' real extraction from a drops folder)
    Case("carrier empty file", "carrier_files.events", BLOCK, "empty_file",
         files=feed_file("carrier_files", "PostNL_TrackTrace_*.csv", lambda data: b"")),
    Case("carrier truncated gzip", "carrier_files.events", BLOCK, "gzip",
         files=feed_file("carrier_files", "DPD_scans_*.csv", lambda data: gzip.compress(data)[:-20],
                   rename=lambda name: name + ".gz")),
    Case("carrier time-zone-naive scan", "carrier_files.events", QUARANTINE, "type:timestamp", files=dpd_naive,
         column="event_at"),
    Case("nps wrong encoding (UTF-16)", "nps.responses", BLOCK, "encoding",
         files=feed_file("nps", "nps_responses_*.csv", lambda data: data.decode("utf-8-sig").encode("utf-16"))),
    Case("nps score 11", "nps.responses", QUARANTINE, "range", files=nps_edit(1, 3, "11"), column="score"),
    Case("nps duplicate response", "nps.responses", BLOCK, "primary_key_unique", files=nps_duplicate),
    Case("nps byte-order mark", "nps.responses", LOAD, "", files=nps_edit(1, 4, "Très bien, merci"),
         verbatim=("comment", "Très bien, merci")),
    Case("nps same file twice", "nps.responses", SKIP, "checksum", files=nps_edit(1, 4, "Encore une fois")),
    Case("ad spend wrong encoding (UTF-16)", "ad_spend.daily", BLOCK, "encoding",
         files=feed_file("ad_spend", "CampaignPerformance_*.csv", lambda data: data.decode("utf-8-sig").encode("utf-16"))),
    Case("site speed wrong delimiter (tab)", "site_speed.samples", BLOCK, "delimiter",
         files=feed_file("site_speed", "rum_page_loads_*.csv.gz",
                   lambda data: gzip.compress(gzip.decompress(data).replace(b",", b"\t")))),
    Case("site speed huge number", "site_speed.samples", QUARANTINE, "type:int", files=speed_huge,
         column="load_time_ms"),
)
FEEDS = {"carrier_files", "nps", "ad_spend", "site_speed"}


# --- running a case ------------------------------------------------------------------------------
def replaying(sandbox: Sandbox, template: landing.LandingBatch, change: Callable[..., Any] | None) -> Source:
    """The stream's own connector, except that extraction lands the template's payload, edited."""
    base = source_class(template.manifest.source)

    class Replaying(base):
        def extract(self, stream, request, batch):
            pages = [json.loads(template.read_bytes(f.name)) for f in template.manifest.files
                     if f.name.endswith(".json")]
            if change is not None and pages:
                change(pages)
            parts = [f for f in template.manifest.files if f.name.endswith(".parquet")]
            for landed in template.manifest.files:
                if landed.name.endswith(".json"):
                    data = json.dumps(pages.pop(0)).encode()
                elif change is not None and landed is parts[0]:
                    table = change(pq.read_table(template.file_path(landed.name)).to_pandas())
                    if table.empty:
                        continue  # an extraction that found no rows lands no part
                    sink = io.BytesIO()
                    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink)
                    data = sink.getvalue()
                else:
                    data = template.read_bytes(landed.name)
                batch.add_bytes(landed.name, data, landed.media_type, **landed.meta)
            batch.manifest.record_count = template.manifest.record_count
            batch.manifest.metadata.update(copy.deepcopy(template.manifest.metadata))
            return template.manifest.state_after

    return Replaying(connection=sandbox.connections[template.manifest.source])


def run_case(case: Case, sandbox: Sandbox, templates: dict[str, landing.LandingBatch], warehouse: Warehouse,
             folder: Path) -> Run:
    if case.source in FEEDS:
        drops = folder / case.name.replace(" ", "_")
        drops.mkdir()
        for name, data in case.files(sandbox.drops).items():
            (drops / name).write_bytes(data)
        source = source_class(case.source)(directory=drops, warehouse=warehouse)
        first = run_stream(source, case.stream.split(".")[1], warehouse)
        return run_stream(source, case.stream.split(".")[1], warehouse) if case.expect == SKIP else first
    template = templates[case.stream]
    for _ in range(case.history):
        run_stream(replaying(sandbox, template, None), case.stream.split(".")[1], warehouse)
    return run_stream(replaying(sandbox, template, case.change), case.stream.split(".")[1], warehouse)


def judge(case: Case, run: Run, warehouse: Warehouse) -> list[str]:
    """What went otherwise than designed (empty: caught as designed)."""
    problems = []
    batch = landing.open_batch(run.batch_id)
    batch.verify()  # landing still holds the batch, byte for byte
    checked = case.checked or case.stream
    source, stream = checked.split(".")
    verdict = next(v for v in run.verdicts if v.suite == checked)
    table = f"raw.{source}__{stream}"
    stored_verdict = verdict_store.load(run.batch_id, stream)
    valid = stored_verdict[1] if stored_verdict else None
    with warehouse.connect() as connection:
        status = connection.scalar("select status from meta.landing_batches where batch_id = :b", {"b": run.batch_id})
        written = (connection.scalar(f"select count(*) from {table} where _batch_id = :b", {"b": run.batch_id})
                   if connection.table_exists(table) else 0)
        # the batch's valid rows held in raw: written by it, or delivered before unchanged (their
        # lineage stays with the batch that brought those values)
        in_raw = _held(connection, table, find_stream(checked), valid) if written or valid is not None else 0
        quarantined = connection.fetchall(
            "select row_number, rule, column_name, bad_value, record from quarantine.rows "
            "where batch_id = :b and stream = :s order by row_number", {"b": run.batch_id, "s": stream})
        stored = connection.scalar(
            "select count(*) from meta.validation_results where batch_id = :b and stream = :s",
            {"b": run.batch_id, "s": stream})
    if stored != 1:
        problems.append(f"{stored} validation results stored, not 1")
    if case.expect == BLOCK:
        message = str(run.rejected or "")
        if run.rejected is None:
            problems.append(f"not blocked (status {status}, {in_raw} rows loaded)")
        elif f"{case.rule}: {checked} batch {run.batch_id}" not in message:
            problems.append(f"blocked, but not by {case.rule} naming stream and batch: {message[:300]}")
        if status != "blocked" or written:
            problems.append(f"status {status}, {written} rows of the batch in raw")
    elif case.expect == QUARANTINE:
        rows = {r[0] for r in quarantined}
        caught = [r for r in quarantined if r[1] == case.rule and (case.column is None or r[2] == case.column)]
        if run.loaded is None:
            problems.append(f"blocked instead of quarantined: {run.rejected}")
        if len({r[0] for r in caught}) != case.rows or len(rows) != case.rows:
            problems.append(f"quarantined {sorted(r[1:3] for r in quarantined)[:5]}, wanted {case.rows} row(s) "
                            f"by {case.rule} on {case.column}")
        if in_raw + len(rows) != verdict.evaluated_rows:
            problems.append(f"{in_raw} loaded + {len(rows)} quarantined != {verdict.evaluated_rows} received")
        if caught and not caught[0][4]:
            problems.append("the quarantined record as received was not kept")
    elif case.expect == LOAD:
        column, value = case.verbatim
        with warehouse.connect() as connection:
            found = connection.scalar(f"select count(*) from {table} where {column} = :v", {"v": value})
        if run.loaded is None or quarantined or found != 1 or in_raw != verdict.evaluated_rows:
            problems.append(f"not loaded verbatim: {run.rejected or ''} quarantined={len(quarantined)} found={found}")
    elif case.expect == SKIP:
        skipped = batch.manifest.metadata.get("skipped_as_loaded")
        if batch.manifest.files or not skipped or written or verdict.evaluated_rows:
            problems.append(f"a re-sent file was landed or loaded again (files {batch.manifest.files}, "
                            f"skipped {skipped}, {written} rows)")
        if run.rejected is not None:  # nothing new arrived: not an error (lateness is freshness's business)
            problems.append(f"a run that found no new file was blocked: {run.rejected}")
    return problems


def _held(connection, table: str, stream, valid: pa.Table | None) -> int:
    """How many of the batch's valid rows raw holds, by primary key and values."""
    if valid is None or not valid.num_rows or not connection.table_exists(table):
        return 0
    columns = list(stream.field_names)
    raw = connection.fetch_arrow(f"select {', '.join(columns)} from {table}").cast(stream.arrow_schema())
    held = set(zip(*(raw[name].to_pylist() for name in columns), strict=True))
    return sum(1 for row in zip(*(valid[name].to_pylist() for name in columns), strict=True) if row in held)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    patch = pytest.MonkeyPatch()
    patch.setenv("PULSE_DATA_DIR", str(folder / "data"))
    patch.setenv("PULSE_DATA_DOCS_ENABLED", "false")
    get_settings.cache_clear()
    world = generate(seed=5, days=30, scale=0.25, end=dt.date(2026, 3, 2))  # with a monthly NPS file
    try:
        with serve(world, folder) as sandbox:
            yield sandbox, folder
    finally:
        patch.undo()
        get_settings.cache_clear()


def test_every_bad_input_is_caught_by_its_rule_and_nothing_is_lost(corpus):
    sandbox, folder = corpus
    sources = {case.source for case in CASES}
    assert len(CASES) >= 30 and sources == set(sandbox.sources), "the corpus covers every source"

    templates_warehouse = Warehouse(f"duckdb:///{folder}/templates.duckdb")
    templates = {}
    for key in sorted({case.stream for case in CASES if case.source not in FEEDS}):
        name, stream = key.split(".")
        run = run_stream(sandbox.source(name, templates_warehouse), stream, templates_warehouse,
                         start=sandbox.first_start(name))
        assert run.loaded is not None and not any(run.loaded.rows_quarantined.values()), f"{key} is not clean"
        templates[key] = landing.open_batch(run.batch_id)

    warehouse = Warehouse(f"duckdb:///{folder}/corpus.duckdb")
    failures = {}
    for case in CASES:
        try:
            problems = judge(case, run_case(case, sandbox, templates, warehouse, folder), warehouse)
        except Exception as error:  # a case that crashes the pipeline is a failure of the corpus, not of the test
            problems = [f"{type(error).__name__}: {error}"]
        print(f"{'ok  ' if not problems else 'FAIL'} {case.stream:24} {case.name:36} {case.expect} by {case.rule}"
              + "".join(f"\n     {problem}" for problem in problems))
        if problems:
            failures[case.name] = problems

    # other sources keep running: every template batch still loads in the warehouse the corpus used
    for key, template in templates.items():
        outcome = steps.replay(template.batch_id, warehouse=warehouse)
        if sum(outcome.rows_quarantined.values()) or not sum(outcome.rows_loaded.values()):
            failures[f"replay {key}"] = [f"{outcome}"]

    print(f"\nbad-input corpus: {len(CASES)} cases over {len(sources)} sources, "
          f"{len(CASES) - len([c for c in CASES if c.name in failures])} caught as designed, "
          f"{len(failures)} failures")
    assert failures == {}
