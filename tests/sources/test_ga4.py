"""The GA4 connector against the sandbox Data API: every stream loaded and compared with figures
computed straight from the world; resume, lookback revisions, reruns, faults, quota and secrets.

Budget: about 60 s, most of it the validation step's first start (GX) and one validate+load per
stream; fault tests only extract."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
import types
from dataclasses import replace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from google.api_core.retry import retry_unary
from pydantic import SecretStr

import pulse.sandbox.servers.ga4 as ga4_server
from pulse import landing
from pulse.pipeline import steps
from pulse.sandbox.servers.ga4 import GA4Server
from pulse.sandbox.servers.ga4_quota import PropertyQuota
from pulse.settings import Settings, get_settings
from pulse.sources.connections import SourceConnection
from pulse.sources.ga4 import GA4Source
from pulse.sources.ga4_client import GA4Api, GA4Error, GA4FieldError, GA4QuotaLow, credentials_for
from pulse.sources.ga4_reports import REPORTS
from pulse.sources.streams import conform
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.hashing import table_hash
from support.ga4_world import ga4_world, ga_events, ga_sessions, ga_transactions, period_of

WORLD = ga4_world()
ZONE = ZoneInfo(WORLD.meta.property_time_zone)
START = dt.datetime.combine(WORLD.meta.start, dt.time(), ZONE).astimezone(dt.UTC)
END = WORLD.meta.now + dt.timedelta(seconds=1)
PAGE = 100  # small pages, so the full load pages through limit/offset


def make_source(server: GA4Server, data_dir, **settings) -> GA4Source:
    return GA4Source(connection=server.source_connection(), settings=Settings(data_dir=data_dir, **settings))


def run(source: GA4Source, stream: str, warehouse: Warehouse, **window) -> steps.LoadOutcome:
    outcome = steps.extract("ga4", stream, source=source, warehouse=warehouse, **window)
    steps.validate(outcome.batch_id, source=source, warehouse=warehouse)
    return steps.load(outcome.batch_id, source=source, warehouse=warehouse)


def raw(warehouse: Warehouse, stream: str) -> pd.DataFrame:
    with warehouse.connect() as connection:
        frame = connection.fetch_df(f"select * from raw.ga4__{stream}")
    for column in ("date", "period_start", "range_end"):
        if column in frame.columns:
            frame[column] = [pd.Timestamp(value).date() for value in frame[column]]
    return frame


def cents(values) -> int:
    return int(np.round(np.asarray(values, dtype="float64") * 100).sum())


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PULSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PULSE_DATA_DOCS_ENABLED", "false")  # validation's HTML pages are not tested here
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
def server():
    with GA4Server(WORLD) as running:
        yield running


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Every stream loaded once over the whole world, in pages of PAGE rows."""
    data = tmp_path_factory.mktemp("ga4") / "data"
    with pytest.MonkeyPatch.context() as patch, GA4Server(WORLD) as running:
        patch.setenv("PULSE_DATA_DIR", str(data))
        patch.setenv("PULSE_DATA_DOCS_ENABLED", "false")
        get_settings.cache_clear()
        warehouse = Warehouse(f"duckdb:///{data}/warehouse.duckdb")
        source = make_source(running, data, ga4_page_size=PAGE)
        outcomes = {stream.name: run(source, stream.name, warehouse, start=START, end=END) for stream in source.streams}
        yield types.SimpleNamespace(server=running, warehouse=warehouse, source=source, outcomes=outcomes, data=data)
    get_settings.cache_clear()


# --- full loads against the world ----------------------------------------------------------------
def test_traffic_per_property_hour_matches_the_world(loaded):
    keys = ["date_hour", "device_category", "channel_group", "new_vs_returning"]
    sessions = ga_sessions(WORLD).assign(new_vs_returning=lambda f: np.where(f["is_new_user"], "new", "returning"))
    expected = sessions.groupby(keys).agg(
        sessions=("session_id", "size"), engaged_sessions=("engaged", "sum"), screen_page_views=("page_views", "sum"),
        duration=("duration_seconds", "sum"), user_engagement_duration=("engagement_seconds", "sum"))
    orders = ga_transactions(WORLD).assign(new_vs_returning=lambda f: np.where(f["is_new_user"], "new", "returning"))
    bought = orders.groupby(keys).agg(transactions=("order_id", "size"),
                                      cents=("revenue", lambda r: cents(r)))
    attributes = sessions.set_index("session_id")[["device_category", "channel_group", "new_vs_returning"]]
    key_events = ga_events(WORLD, "key_events").join(attributes, on="session_id")
    key_events["date_hour"] = key_events["occurred_at"].dt.tz_convert(ZONE).dt.strftime("%Y%m%d%H")
    expected = expected.join(bought, how="outer").join(key_events.groupby(keys).size().rename("key_events"),
                                                       how="outer").fillna(0)

    got = raw(loaded.warehouse, "traffic").set_index(keys).sort_index()
    assert len(got) == len(expected) == loaded.outcomes["traffic"].rows_loaded["traffic"]
    got = got.loc[expected.index]
    for column in ("sessions", "engaged_sessions", "screen_page_views", "transactions", "key_events"):
        assert got[column].tolist() == expected[column].astype("int64").tolist(), column
    assert got["user_engagement_duration"].tolist() == expected["user_engagement_duration"].astype(float).tolist()
    assert np.allclose(got["average_session_duration"] * got["sessions"], expected["duration"])
    assert [round(v * 100) for v in got["purchase_revenue"]] == expected["cents"].astype("int64").tolist()
    hours = pd.to_datetime(got.index.get_level_values("date_hour"), format="%Y%m%d%H").tz_localize(ZONE)
    assert (got["hour_start"].dt.tz_convert("UTC").to_numpy() == hours.tz_convert("UTC").to_numpy()).all()
    assert (got["date"].astype(str).str.replace("-", "").to_numpy() == got.index.get_level_values(0).str[:8]).all()


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter"])
def test_users_are_distinct_per_whole_period(loaded, grain):
    sessions = ga_sessions(WORLD).assign(period=lambda f: period_of(f["day"], grain))
    expected = {}
    for device, group in [("all", sessions), *sessions.groupby("device_category")]:
        for period, users in group.groupby("period"):
            expected[(period, device)] = (
                users["user_pseudo_id"].nunique(), users.loc[users["is_new_user"], "user_pseudo_id"].nunique(),
                users.loc[users["is_new_user"] | users["engaged"], "user_pseudo_id"].nunique())
    got = raw(loaded.warehouse, "users")
    got = got[got["grain"] == grain]
    assert {(r.period_start, r.device_category): (r.total_users, r.new_users, r.active_users)
            for r in got.itertuples()} == expected
    last = WORLD.meta.end
    ends = {"day": lambda p: p, "week": lambda p: p + dt.timedelta(days=6),
            "month": lambda p: (pd.Timestamp(p) + pd.offsets.MonthEnd(0)).date(),
            "quarter": lambda p: (pd.Timestamp(p) + pd.offsets.QuarterEnd(0)).date()}[grain]
    assert all(r.range_end == min(ends(r.period_start), last) for r in got.itertuples())


def test_campaigns_carry_sessions_and_the_purchases_attributed_to_them(loaded):
    keys = ["day", "campaign", "source_medium"]
    sessions = ga_sessions(WORLD).groupby(keys).agg(sessions=("session_id", "size"), engaged=("engaged", "sum"))
    orders = ga_transactions(WORLD).groupby(keys).agg(transactions=("order_id", "size"),
                                                      cents=("revenue", lambda r: cents(r)))
    expected = sessions.join(orders, how="outer").fillna(0)
    got = raw(loaded.warehouse, "campaigns").set_index(["date", "campaign_name", "source_medium"]).sort_index()
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    assert got["sessions"].tolist() == expected["sessions"].astype(int).tolist()
    assert got["engaged_sessions"].tolist() == expected["engaged"].astype(int).tolist()
    assert got["transactions"].tolist() == expected["transactions"].astype(int).tolist()
    assert [round(v * 100) for v in got["purchase_revenue"]] == expected["cents"].astype(int).tolist()


def test_google_ads_site_search_exit_pages_and_key_events_match_the_world(loaded):
    ads = WORLD["ad_daily"]
    ads = ads[ads["platform"] == "google_ads"]
    got = raw(loaded.warehouse, "google_ads")
    assert {(r.date, r.campaign_name): (round(r.advertiser_ad_cost * 100), r.advertiser_ad_impressions,
                                        r.advertiser_ad_clicks) for r in got.itertuples()} == {
        (r.date, r.campaign): (round(r.spend * 100), r.impressions, r.clicks) for r in ads.itertuples()}

    searches = ga_events(WORLD, "site_searches").groupby(["day", "search_term"]).size()
    got = raw(loaded.warehouse, "site_search")
    assert {(r.date, r.search_term): r.event_count for r in got.itertuples()} == searches.to_dict()

    sessions = ga_sessions(WORLD)
    ended = (sessions["started_at"] + pd.to_timedelta(sessions["duration_seconds"], unit="s")).dt.tz_convert(ZONE)
    exits = sessions.assign(day=ended.dt.date).groupby(["day", "exit_page"]).size()
    got = raw(loaded.warehouse, "exit_pages")
    assert {(r.date, r.page_path): r.event_count for r in got.itertuples()} == exits.to_dict()

    key_events = ga_events(WORLD, "key_events").groupby(["day", "event_name"]).size()
    got = raw(loaded.warehouse, "key_events")
    assert {(r.date, r.event_name): r.key_events for r in got.itertuples()} == key_events.to_dict()


def test_response_metadata_is_kept_in_rows_and_manifests_and_paging_was_used(loaded):
    most_pages = 0
    for stream in loaded.source.streams:
        rows = raw(loaded.warehouse, stream.name)
        assert set(rows["property_time_zone"]) == {"Europe/Amsterdam"} and set(rows["currency_code"]) == {"EUR"}
        assert not rows[["subject_to_thresholding", "data_loss_from_other_row", "sampled"]].any(axis=None)
        batch = landing.open_batch(loaded.outcomes[stream.name].batch_id)
        meta = batch.manifest.metadata
        assert meta["time_zone"] == "Europe/Amsterdam" and meta["currency_codes"] == ["EUR"]
        assert meta["property_quota"]["tokensPerDay"]["remaining"] > 0
        pages, row_counts = {}, {}
        for landed in batch.manifest.files:
            answers = json.loads(batch.read_bytes(landed.name))["reports"]
            for described, answer in zip(landed.meta["reports"], answers, strict=True):
                key = (described["name"], described["ranges"][0]["start"])
                pages[key] = pages.get(key, 0) + 1
                row_counts[key] = answer.get("rowCount", 0)
        # every report paged with limit/offset until rowCount, and no further
        assert pages == {key: max(1, math.ceil(count / PAGE)) for key, count in row_counts.items()}
        most_pages = max(most_pages, *pages.values())
        first = batch.manifest.files[0]
        assert first.meta["method"] == "batchRunReports" and first.meta["request"][0]["limit"] == str(PAGE)
    assert most_pages > 1


def test_a_rerun_gives_identical_raw_tables(loaded):
    with loaded.warehouse.connect() as connection:
        before = {name: table_hash(connection, f"raw.ga4__{name}") for name in ("traffic",)}
    for name in before:
        run(loaded.source, name, loaded.warehouse, start=START, end=END)
    with loaded.warehouse.connect() as connection:
        assert {name: table_hash(connection, f"raw.ga4__{name}") for name in before} == before


# --- incremental runs ---------------------------------------------------------------------------
def test_a_scheduled_run_resumes_from_the_cursor_and_picks_up_the_revised_days(server, data_dir):
    warehouse = Warehouse(f"duckdb:///{data_dir}/warehouse.duckdb")
    source = make_source(server, data_dir)
    early = dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.UTC)
    server.set_clock(early)
    run(source, "traffic", warehouse, start=START, end=early)
    first = raw(warehouse, "traffic").groupby("date")["sessions"].sum()

    later = early + dt.timedelta(days=3)
    server.set_clock(later)
    second = make_source(server, data_dir)  # a new task: its state comes from the warehouse
    outcome = run(second, "traffic", warehouse, end=later)
    manifest = landing.open_batch(outcome.batch_id).manifest
    assert manifest.request["start"] == (early - dt.timedelta(days=3)).isoformat()
    assert manifest.metadata["first_day"] == "2026-03-27"  # the lookback, in property days
    revised = raw(warehouse, "traffic").groupby("date")["sessions"].sum()
    truth = ga_sessions(WORLD, later)
    truth = truth[truth["started_at"] < pd.Timestamp(later)].groupby("day").size()
    assert revised.to_dict() == truth.to_dict()
    assert revised[dt.date(2026, 3, 29)] > first[dt.date(2026, 3, 29)]  # GA4 was still processing that day
    with warehouse.connect() as connection:
        assert steps.read_state(connection, second.stream("traffic")) == {"cursor": later.isoformat()}


def test_users_rerequest_every_period_the_lookback_touches(server, data_dir):
    source = make_source(server, data_dir)
    stream = source.stream("users")
    request = source.plan(stream, {"cursor": "2026-04-01T10:00:00+00:00"}, END)  # lookback reaches Sun 29 March
    with landing.BatchWriter("ga4", "users", request.as_manifest()) as batch:
        source.extract(stream, request, batch)
    ranges = {r["name"]: [(x["start"], x["end"], x["name"]) for x in r["ranges"]]
              for f in batch.manifest.files for r in f.meta["reports"]}
    assert ranges["users.day.all"] == [("2026-03-29", "2026-04-05", "")]
    assert ranges["users.week.device"] == [("2026-03-23", "2026-04-05", "")]
    assert ranges["users.month.all"] == [("2026-03-01", "2026-04-05", "")]
    assert ranges["users.quarter.all"] == [("2026-01-01", "2026-03-31", "2026-01-01"),
                                           ("2026-04-01", "2026-04-05", "2026-04-01")]


# --- faults ---------------------------------------------------------------------------------------
@pytest.fixture
def sleeps(monkeypatch):
    """The waits google-api-core's retry loop makes, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(retry_unary, "time", types.SimpleNamespace(sleep=waited.append, monotonic=time.monotonic))
    return waited


def extract(server, data_dir, stream="site_search", **settings):
    warehouse = Warehouse(f"duckdb:///{data_dir}/warehouse.duckdb")
    return steps.extract("ga4", stream, source=make_source(server, data_dir, **settings), warehouse=warehouse,
                         start=START, end=END), warehouse


def only_batch(stream="site_search") -> landing.LandingBatch:
    [batch] = list(landing.list_batches("ga4", stream))
    return batch


def test_429_waits_as_long_as_retry_after_says(server, data_dir, sleeps, caplog):
    server.faults.rate_limited, server.faults.retry_after_seconds = 1, 7
    outcome, _ = extract(server, data_dir)
    assert sleeps == [7.0]
    assert "429 RESOURCE_EXHAUSTED" in caplog.text and "(Retry-After)" in caplog.text
    assert landing.open_batch(outcome.batch_id).manifest.complete


def test_500s_are_retried_with_back_off_then_fail_clearly(server, data_dir, sleeps):
    server.faults.server_errors = 50
    with pytest.raises(GA4Error, match=r"getMetadata: failed after 5 attempts: 500 INTERNAL"):
        extract(server, data_dir)
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert not only_batch().manifest.complete


def test_a_truncated_response_fails_the_whole_batch_and_nothing_loads(server, data_dir):
    server.faults.truncate_request = 3  # getMetadata, the first page, then the second page is cut
    with pytest.raises(GA4Error, match=r"ga4.site_search: batchRunReports #2: the response could not be read"):
        extract(server, data_dir, ga4_page_size=20)
    batch = only_batch()
    assert not batch.manifest.complete and "could not be read" in batch.manifest.error
    assert [f.name for f in batch.manifest.files] == ["batch-0001.json", "batch-0002.unreadable.json"]
    warehouse = Warehouse(f"duckdb:///{data_dir}/warehouse.duckdb")
    with pytest.raises(steps.BatchRejected, match="incomplete"):
        steps.validate(batch.batch_id, warehouse=warehouse)
    with warehouse.connect() as connection:
        assert not connection.table_exists("raw.ga4__site_search")


def test_a_renamed_field_blocks_the_batch_naming_source_stream_and_field(server, data_dir):
    server.faults.rename_field = ("eventCount", "eventCountTotal")
    outcome, warehouse = extract(server, data_dir)
    source = make_source(server, data_dir)
    steps.validate(outcome.batch_id, source=source, warehouse=warehouse)
    with pytest.raises(steps.BatchRejected, match=r"ga4\.site_search, field 'event_count'.*missing"):
        steps.load(outcome.batch_id, source=source, warehouse=warehouse)
    with warehouse.connect() as connection:
        assert not connection.table_exists("raw.ga4__site_search")


def test_a_field_missing_from_the_metadata_stops_the_run_before_any_report(server, data_dir, monkeypatch):
    full = ga4_server.metadata

    def without_cost(property_id):
        body = full(property_id)
        body["metrics"] = [m for m in body["metrics"] if m["apiName"] != "advertiserAdCost"]
        return body

    monkeypatch.setattr(ga4_server, "metadata", without_cost)
    with pytest.raises(GA4FieldError, match=r"ga4.google_ads: GA4 property \d+ has no metric 'advertiserAdCost'"):
        extract(server, data_dir, "google_ads")
    assert [r["path"].rsplit("/", 1)[-1] for r in server.requests] == ["metadata"]


def test_a_low_hourly_quota_is_logged_and_waited_out(server, data_dir, caplog):
    server.quota.limits.tokens_per_hour = 4  # the third report of each hour leaves 1 of 4 tokens
    waits = []

    def an_hour_passes(seconds):
        waits.append(seconds)
        server.quota = PropertyQuota(server.quota.limits)

    caplog.set_level(logging.INFO)
    source = make_source(server, data_dir, ga4_page_size=20, ga4_quota_reserve=0.5, ga4_quota_wait_seconds=300)
    source.api.sleep = an_hour_passes
    outcome = steps.extract("ga4", "site_search", source=source, start=START, end=END,
                            warehouse=Warehouse(f"duckdb:///{data_dir}/warehouse.duckdb"))
    assert "GA4 quota running low (tokensPerHour 1 left); waiting 300.0 s" in caplog.text
    assert waits and set(waits) == {300}
    assert landing.open_batch(outcome.batch_id).manifest.complete
    assert "property quota: tokensPerDay" in caplog.text  # the run's quota is logged


def test_a_low_daily_quota_stops_the_run_with_a_clear_error(server, data_dir):
    server.quota.limits.tokens_per_day = 4
    with pytest.raises(GA4QuotaLow, match=r"tokensPerDay left \(under the 50% reserve\); stopping"):
        extract(server, data_dir, ga4_page_size=20, ga4_quota_reserve=0.5)
    assert not only_batch().manifest.complete


def test_a_property_in_another_time_zone_is_refused(server, data_dir):
    source = make_source(server, data_dir)
    source._connection = replace(source.connection, extra={**source.connection.extra, "time_zone": "UTC"})
    with pytest.raises(GA4Error, match="reports in Europe/Amsterdam but the days were planned in UTC"):
        steps.extract("ga4", "key_events", source=source, start=START, end=END,
                      warehouse=Warehouse(f"duckdb:///{data_dir}/warehouse.duckdb"))


def test_a_malformed_value_is_a_row_problem_not_a_batch_failure(server, data_dir):
    server.faults.malformed_record = True  # the first row's first metric is "12x"
    outcome, _ = extract(server, data_dir)
    source = make_source(server, data_dir)
    stream = source.stream("site_search")
    conformed = conform(stream, source.parse(stream, landing.open_batch(outcome.batch_id)))
    assert conformed.problems[["_row", "column", "rule", "bad_value"]].values.tolist() == [
        [0, "event_count", "type:int", "12x"]]
    assert conformed.table.num_rows == landing.open_batch(outcome.batch_id).manifest.record_count


def test_folded_rows_are_flagged_in_rows_and_manifest(server, data_dir):
    server.cardinality_limit = 3
    outcome, _ = extract(server, data_dir)
    batch = landing.open_batch(outcome.batch_id)
    records = pd.DataFrame(make_source(server, data_dir).parse(make_source(server, data_dir).stream("site_search"),
                                                                batch))
    assert batch.manifest.metadata["data_loss_from_other_row"]
    other = records[records["search_term"] == "(other)"]
    assert len(other) and other["data_loss_from_other_row"].all()


def test_no_credential_reaches_logs_output_or_landing(server, data_dir, caplog, capsys, sleeps):
    caplog.set_level(logging.DEBUG)
    token = server.credentials["password"]
    server.faults.rate_limited = 1
    extract(server, data_dir)
    wrong = make_source(server, data_dir)
    wrong._connection = replace(wrong.connection, password=SecretStr("an-expired-token"))
    with pytest.raises(GA4Error, match="refused the credentials") as refused:
        steps.extract("ga4", "key_events", source=wrong, start=START, end=END,
                      warehouse=Warehouse(f"duckdb:///{data_dir}/warehouse.duckdb"))
    logging.getLogger("test").error("failure: %s", refused.value)
    captured = capsys.readouterr()
    assert token not in caplog.text and token not in captured.out and token not in captured.err
    assert token not in str(refused.value) and token not in repr(wrong.connection)
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


# --- the request budget of a daily run -------------------------------------------------------------
def test_a_daily_run_costs_one_metadata_call_and_one_batch_per_five_reports_per_stream(server, data_dir):
    server.requests.clear()
    for stream in GA4Source.streams:  # each stream is its own Airflow task, with its own client
        source = make_source(server, data_dir)
        request = source.plan(stream, {"cursor": (END - dt.timedelta(days=1)).isoformat()}, END)
        with landing.BatchWriter("ga4", stream.name, request.as_manifest()) as batch:
            source.extract(stream, request, batch)
    expected = sum(1 + math.ceil(len(REPORTS[s.name]) / 5) for s in GA4Source.streams)
    assert len(server.requests) == expected == 15


# --- credentials ------------------------------------------------------------------------------------
def test_production_credentials_are_a_read_only_service_account_and_none_is_an_error():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    keyfile = {"type": "service_account", "project_id": "pulse", "private_key_id": "1", "private_key": key,
               "client_email": "pulse@pulse.iam.gserviceaccount.com", "client_id": "1",
               "token_uri": "https://oauth2.googleapis.com/token"}
    connection = SourceConnection("pulse_ga4", extra={"property_id": "1", "keyfile_dict": json.dumps(keyfile)})
    credentials = credentials_for(connection)
    assert isinstance(credentials, service_account.Credentials)
    assert credentials.scopes == ["https://www.googleapis.com/auth/analytics.readonly"]
    assert credentials.service_account_email == keyfile["client_email"]
    with pytest.raises(GA4Error, match="pulse_ga4 has no credentials"):
        credentials_for(SourceConnection("pulse_ga4", extra={"property_id": "1"}))
    with pytest.raises(GA4Error, match="property_id must be the numeric GA4 property id"):
        GA4Api(SourceConnection("pulse_ga4", password=SecretStr("t")), Settings())
