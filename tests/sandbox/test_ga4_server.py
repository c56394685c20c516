"""The sandbox GA4 Data API, read by the official `google-analytics-data` client (REST transport),
checked against figures computed straight from the world. Budget: about 10 s."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from decimal import Decimal

import pandas as pd
import pytest
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import (
    BatchRunReportsRequest,
    DateRange,
    Dimension,
    Filter,
    FilterExpression,
    GetMetadataRequest,
    Metric,
    OrderBy,
    RunReportRequest,
)
from google.api_core import exceptions as google_errors
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_errors
from google.oauth2.credentials import Credentials

from pulse.sandbox.servers.ga4 import GA4Server
from support.ga4_world import ga4_world, ga_events, ga_sessions, ga_transactions

WORLD = ga4_world()


@pytest.fixture(scope="module")
def server():
    with GA4Server(WORLD) as running:
        yield running


@pytest.fixture
def fresh_server():
    with GA4Server(WORLD) as running:
        yield running


def client_for(server, token=None):
    return BetaAnalyticsDataClient(
        credentials=Credentials(token=token or server.credentials["password"]), transport="rest",
        client_options=ClientOptions(api_endpoint=server.url),
    )


def report(server, dimensions, metrics, start, end, **kwargs):
    request = RunReportRequest(
        property=f"properties/{server.property_id}", dimensions=[Dimension(name=d) for d in dimensions],
        metrics=[Metric(name=m) for m in metrics], date_ranges=[DateRange(start_date=start, end_date=end)], **kwargs)
    return client_for(server).run_report(request)


def rows(response):
    return [([v.value for v in row.dimension_values], [v.value for v in row.metric_values]) for row in response.rows]


def test_the_client_reads_metadata_and_every_listed_field_is_usable(server):
    metadata = client_for(server).get_metadata(GetMetadataRequest(name=f"properties/{server.property_id}/metadata"))
    dimensions = {d.api_name for d in metadata.dimensions}
    metrics = {m.api_name: m.type_.name for m in metadata.metrics}
    assert {"date", "dateHour", "isoYearIsoWeek", "yearMonth", "deviceCategory", "sessionDefaultChannelGroup",
            "newVsReturning", "sessionCampaignName", "sessionSourceMedium", "sessionGoogleAdsCampaignName",
            "searchTerm", "pagePath", "eventName"} <= dimensions
    assert metrics["purchaseRevenue"] == "TYPE_CURRENCY" and metrics["averageSessionDuration"] == "TYPE_SECONDS"
    for metric in metrics:  # each metric answers over the whole world with a date dimension
        assert report(server, ["date"], [metric], "2026-03-16", "2026-04-05").metadata.time_zone == "Europe/Amsterdam"


def test_sessions_per_hour_are_the_tracked_processed_sessions_in_property_time(server):
    response = report(server, ["dateHour", "deviceCategory"], ["sessions", "engagedSessions", "bounceRate"],
                      "2026-03-28", "2026-03-30", limit=100_000)
    got = {(d[0], d[1]): (int(m[0]), int(m[1]), float(m[2])) for d, m in rows(response)}
    seen = ga_sessions(WORLD)
    seen = seen[(seen["day"] >= dt.date(2026, 3, 28)) & (seen["day"] <= dt.date(2026, 3, 30))]
    expected = seen.groupby(["date_hour", "device_category"]).agg(s=("session_id", "size"), e=("engaged", "sum"))
    assert set(got) == {(str(h), str(d)) for h, d in expected.index}
    for (hour, device), row in expected.iterrows():
        sessions, engaged, bounce = got[(hour, device)]
        assert (sessions, engaged) == (row["s"], row["e"])
        assert bounce == pytest.approx((row["s"] - row["e"]) / row["s"])
    assert not any(hour.startswith("2026032902") for hour, _ in got)  # 02:00 does not exist that night
    assert response.row_count == len(expected)


def test_total_users_over_a_range_is_a_distinct_count_not_a_sum_of_days(server):
    response = report(server, ["isoYearIsoWeek"], ["totalUsers", "newUsers"], "2026-03-16", "2026-04-05")
    got = {d[0]: (int(m[0]), int(m[1])) for d, m in rows(response)}
    seen = ga_sessions(WORLD)
    iso = pd.to_datetime(seen["day"]).dt.isocalendar()
    seen["week"] = (iso["year"] * 100 + iso["week"]).astype(str)
    expected = {week: (group["user_pseudo_id"].nunique(), group.loc[group["is_new_user"], "user_pseudo_id"].nunique())
                for week, group in seen.groupby("week")}
    assert got == expected
    per_day = report(server, ["date"], ["totalUsers"], "2026-03-23", "2026-03-29")
    assert sum(int(m[0]) for _, m in rows(per_day)) > got["202613"][0]  # users return on several days


def test_transactions_and_revenue_follow_the_session_campaign(server):
    response = report(server, ["sessionCampaignName"], ["sessions", "transactions", "purchaseRevenue"],
                      "2026-03-16", "2026-04-05")
    got = {d[0]: (int(m[0]), int(m[1]), Decimal(m[2])) for d, m in rows(response)}
    sessions = ga_sessions(WORLD).groupby("campaign").size()
    orders = ga_transactions(WORLD)
    for campaign, count in sessions.items():
        bought = orders[orders["campaign"] == campaign]
        revenue = sum((Decimal(str(r)) for r in bought["revenue"]), Decimal(0))
        assert got[campaign] == (count, len(bought), revenue)
    assert (WORLD["orders"]["ga_session_id"].notna() & ~WORLD["orders"]["ga_tracked"]).any()  # some are lost


def test_google_ads_cost_comes_from_the_google_ads_rows_only(server):
    response = report(server, ["date", "sessionGoogleAdsCampaignName"],
                      ["advertiserAdCost", "advertiserAdImpressions", "advertiserAdClicks"], "2026-03-20", "2026-03-21")
    ads = WORLD["ad_daily"]
    ads = ads[(ads["platform"] == "google_ads") & ads["date"].isin([dt.date(2026, 3, 20), dt.date(2026, 3, 21)])]
    expected = {(row.date.strftime("%Y%m%d"), row.campaign): (Decimal(str(row.spend)), row.impressions, row.clicks)
                for row in ads.itertuples()}
    assert {tuple(d): (Decimal(m[0]), int(m[1]), int(m[2])) for d, m in rows(response)} == expected


def test_event_filters_several_date_ranges_ordering_and_paging(server):
    events = FilterExpression(filter=Filter(field_name="eventName", in_list_filter=Filter.InListFilter(
        values=["view_search_results", "whitepaper_download"])))
    request = dict(dimension_filter=events, order_bys=[OrderBy(metric=OrderBy.MetricOrderBy(metric_name="eventCount"),
                                                               desc=True)])
    ranges = [DateRange(start_date="2026-03-16", end_date="2026-03-22", name="first"),
              DateRange(start_date="2026-03-23", end_date="2026-03-29", name="second")]
    full = client_for(server).run_report(RunReportRequest(
        property=f"properties/{server.property_id}", dimensions=[Dimension(name="eventName")],
        metrics=[Metric(name="eventCount")], date_ranges=ranges, **request))
    assert [h.name for h in full.dimension_headers] == ["eventName", "dateRange"]
    searches = ga_events(WORLD, "site_searches")
    papers = ga_events(WORLD, "key_events")
    papers = papers[papers["event_name"] == "whitepaper_download"]
    expected = {}
    for name, (start, end) in {"first": ("2026-03-16", "2026-03-22"), "second": ("2026-03-23", "2026-03-29")}.items():
        for event, frame in (("view_search_results", searches), ("whitepaper_download", papers)):
            count = int(((frame["day"] >= dt.date.fromisoformat(start)) & (frame["day"] <= dt.date.fromisoformat(end))).sum())
            expected[(event, name)] = count
    got = {tuple(d): int(m[0]) for d, m in rows(full)}
    assert got == expected
    assert [int(m[0]) for _, m in rows(full)] == sorted(got.values(), reverse=True)
    paged = []
    for offset in range(0, 4, 3):
        page = client_for(server).run_report(RunReportRequest(
            property=f"properties/{server.property_id}", dimensions=[Dimension(name="eventName")],
            metrics=[Metric(name="eventCount")], date_ranges=ranges, offset=offset, limit=3, **request))
        assert page.row_count == 4
        paged += rows(page)
    assert paged == rows(full)

    exact = FilterExpression(filter=Filter(field_name="eventName", string_filter=Filter.StringFilter(
        match_type=Filter.StringFilter.MatchType.EXACT, value="page_exit")))
    exits = report(server, ["pagePath"], ["eventCount"], "2026-03-16", "2026-04-05", dimension_filter=exact)
    seen = ga_sessions(WORLD)
    ended = (seen["started_at"] + pd.to_timedelta(seen["duration_seconds"], unit="s")).dt.tz_convert("Europe/Amsterdam")
    seen = seen[(ended.dt.date >= dt.date(2026, 3, 16)) & (ended.dt.date <= dt.date(2026, 4, 5))]
    assert {d[0]: int(m[0]) for d, m in rows(exits)} == seen.groupby("exit_page").size().to_dict()


def test_batch_run_reports_answers_each_report_with_the_property_quota(server):
    client = client_for(server)
    batch = client.batch_run_reports(BatchRunReportsRequest(property=f"properties/{server.property_id}", requests=[
        RunReportRequest(dimensions=[Dimension(name="date")], metrics=[Metric(name="sessions")],
                         date_ranges=[DateRange(start_date="2026-03-16", end_date="2026-03-16")],
                         return_property_quota=True),
        RunReportRequest(metrics=[Metric(name="keyEvents")], date_ranges=[DateRange(start_date="yesterday",
                                                                                    end_date="today")]),
    ]))
    assert len(batch.reports) == 2
    seen = ga_sessions(WORLD)
    assert rows(batch.reports[0]) == [(["20260316"], [str(int((seen["day"] == dt.date(2026, 3, 16)).sum()))])]
    quota = batch.reports[0].property_quota
    assert quota.tokens_per_day.consumed > 0 and quota.tokens_per_day.remaining < 200_000
    assert "tokens_per_day" not in batch.reports[1].property_quota  # only when asked for
    key_events = ga_events(WORLD, "key_events")
    assert rows(batch.reports[1]) == [([], [str(int(key_events["day"].isin([dt.date(2026, 4, 4),
                                                                            dt.date(2026, 4, 5)]).sum()))])]


def test_errors_have_google_shapes_and_the_client_names_the_field(server):
    with pytest.raises(google_errors.BadRequest, match="Field sessionz is not a valid metric"):
        report(server, ["date"], ["sessionz"], "today", "today")
    with pytest.raises(google_errors.BadRequest, match="Please remove pagePath to make the request compatible"):
        report(server, ["pagePath"], ["sessions"], "today", "today")
    with pytest.raises(auth_errors.RefreshError):  # a token-only credential cannot refresh after a 401
        client_for(server, token="wrong").get_metadata(name=f"properties/{server.property_id}/metadata")
    with pytest.raises(google_errors.Forbidden, match="sufficient permissions"):
        client_for(server).get_metadata(name="properties/123/metadata")
    request = urllib.request.Request(f"{server.url}/v1beta/properties/{server.property_id}/metadata",
                                     headers={"Authorization": "Bearer wrong"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    body = json.loads(refused.value.read())
    assert refused.value.code == 401 and body["error"]["status"] == "UNAUTHENTICATED" and body["error"]["code"] == 401


def test_recent_days_grow_as_ga4_processes_them(fresh_server):
    early = dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.UTC)
    fresh_server.set_clock(early)
    first = {d[0]: int(m[0]) for d, m in rows(report(fresh_server, ["date"], ["sessions"], "2026-03-26", "today"))}
    fresh_server.set_clock(early + dt.timedelta(days=3))
    later = {d[0]: int(m[0]) for d, m in rows(report(fresh_server, ["date"], ["sessions"], "2026-03-26", "2026-03-30"))}
    for clock, got in ((early, first), (early + dt.timedelta(days=3), later)):
        seen = ga_sessions(WORLD, clock)
        seen = seen[(seen["day"] >= dt.date(2026, 3, 26)) & (seen["day"] <= dt.date(2026, 3, 30))]
        assert got == {day.strftime("%Y%m%d"): n for day, n in seen.groupby("day").size().items()}
    assert later["20260329"] > first["20260329"]  # the day before the early clock was still being processed


def test_quota_runs_out_with_resource_exhausted_and_comes_back_with_its_window(fresh_server):
    fresh_server.quota.limits.tokens_per_hour = 2
    fresh_server.quota.limits.hour_seconds = 3600
    for _ in range(2):
        report(fresh_server, ["date"], ["sessions"], "2026-03-16", "2026-03-17")
    with pytest.raises(google_errors.TooManyRequests, match="tokens per hour"):
        report(fresh_server, ["date"], ["sessions"], "2026-03-16", "2026-03-17")
    fresh_server.quota.limits.hour_seconds = 0  # the hour has passed
    response = report(fresh_server, ["date"], ["sessions"], "2026-03-16", "2026-03-17", return_property_quota=True)
    assert response.property_quota.tokens_per_hour.consumed == 1


def test_rare_values_fold_into_other_and_thresholding_is_reported(fresh_server):
    fresh_server.cardinality_limit = 3
    exact = FilterExpression(filter=Filter(field_name="eventName", string_filter=Filter.StringFilter(
        value="view_search_results")))
    response = report(fresh_server, ["date", "searchTerm"], ["eventCount"], "2026-03-20", "2026-03-20",
                      dimension_filter=exact)
    terms = [d[1] for d, _ in rows(response)]
    # the limit counts every value of the day (other events have searchTerm "(not set)")
    assert "(other)" in terms and len(terms) <= 3 and response.metadata.data_loss_from_other_row
    searches = ga_events(WORLD, "site_searches")
    assert sum(int(m[0]) for _, m in rows(response)) == int((searches["day"] == dt.date(2026, 3, 20)).sum())

    fresh_server.thresholds = type(fresh_server.thresholds)(google_signals=True, min_users=5)
    users = report(fresh_server, ["date", "deviceCategory"], ["totalUsers"], "2026-03-16", "2026-03-22")
    assert users.metadata.subject_to_thresholding
    assert rows(users) and all(int(m[0]) >= 5 for _, m in rows(users))
