"""The GA4 reports behind each `ga4.*` stream, and the date ranges a window asks for.

One report per KPI need, named after its stream. A count of distinct users is not additive, so
users are requested per grain: days and the ISO weeks and months through GA4's time dimensions,
quarters (GA4 has none) as one named date range per quarter. A window re-requests every period it
touches from the period's first day, so a week, month or quarter is always counted whole (up to
the window's last day while it is still running).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from google.analytics.data_v1beta.types import (
    DateRange,
    Dimension,
    Filter,
    FilterExpression,
    Metric,
    RunReportRequest,
)

from pulse.periods import period_end, period_start

MAX_DATE_RANGES = 4  # GA4 accepts at most 4 date ranges per report

USER_METRICS = ("totalUsers", "newUsers", "activeUsers")


@dataclass(frozen=True)
class ReportSpec:
    """A report a stream needs. `grain` widens the window to whole periods; `range_per_period`
    asks one named date range per period instead of a time dimension."""

    name: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    event_name: str | None = None  # only events of this name (stringFilter EXACT on eventName)
    grain: str = "day"
    range_per_period: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        """Every dimension and metric the report names, filters included (checked against getMetadata)."""
        return (*self.dimensions, *self.metrics, *(("eventName",) if self.event_name else ()))


def _users(grain: str, time_dimension: str | None) -> tuple[ReportSpec, ReportSpec]:
    base = (time_dimension,) if time_dimension else ()
    return (
        ReportSpec(f"users.{grain}.all", base, USER_METRICS, grain=grain, range_per_period=not time_dimension),
        ReportSpec(f"users.{grain}.device", (*base, "deviceCategory"), USER_METRICS, grain=grain,
                   range_per_period=not time_dimension),
    )


REPORTS: dict[str, tuple[ReportSpec, ...]] = {
    "traffic": (ReportSpec(
        "traffic", ("dateHour", "deviceCategory", "sessionDefaultChannelGroup", "newVsReturning"),
        ("sessions", "engagedSessions", "screenPageViews", "averageSessionDuration", "userEngagementDuration",
         "bounceRate", "transactions", "purchaseRevenue", "keyEvents"),
    ),),
    "users": (*_users("day", "date"), *_users("week", "isoYearIsoWeek"), *_users("month", "yearMonth"),
              *_users("quarter", None)),
    "campaigns": (ReportSpec(
        "campaigns", ("date", "sessionCampaignName", "sessionSourceMedium"),
        ("sessions", "engagedSessions", "transactions", "purchaseRevenue"),
    ),),
    "google_ads": (ReportSpec(
        "google_ads", ("date", "sessionGoogleAdsCampaignName"),
        ("advertiserAdCost", "advertiserAdImpressions", "advertiserAdClicks"),
    ),),
    "site_search": (ReportSpec("site_search", ("date", "searchTerm"), ("eventCount",),
                               event_name="view_search_results"),),
    # GA4 has no exits metric: the site tag sends page_exit on pagehide with the page's path
    "exit_pages": (ReportSpec("exit_pages", ("date", "pagePath"), ("eventCount",), event_name="page_exit"),),
    # rows whose keyEvents is 0 (events not marked as key events) are left out by GA4 itself
    "key_events": (ReportSpec("key_events", ("date", "eventName"), ("keyEvents",)),),
}

# GA4 API name -> contract field name
FIELD_NAMES = {
    "date": "date", "dateHour": "date_hour", "isoYearIsoWeek": "iso_year_iso_week", "yearMonth": "year_month",
    "deviceCategory": "device_category", "sessionDefaultChannelGroup": "channel_group",
    "newVsReturning": "new_vs_returning", "sessionCampaignName": "campaign_name",
    "sessionSourceMedium": "source_medium", "sessionGoogleAdsCampaignName": "campaign_name",
    "searchTerm": "search_term", "pagePath": "page_path", "eventName": "event_name", "dateRange": "date_range",
    "sessions": "sessions", "engagedSessions": "engaged_sessions", "screenPageViews": "screen_page_views",
    "averageSessionDuration": "average_session_duration", "userEngagementDuration": "user_engagement_duration",
    "bounceRate": "bounce_rate", "transactions": "transactions", "purchaseRevenue": "purchase_revenue",
    "keyEvents": "key_events", "eventCount": "event_count", "totalUsers": "total_users", "newUsers": "new_users",
    "activeUsers": "active_users", "advertiserAdCost": "advertiser_ad_cost",
    "advertiserAdImpressions": "advertiser_ad_impressions", "advertiserAdClicks": "advertiser_ad_clicks",
}


@dataclass(frozen=True)
class PlannedRange:
    start: dt.date
    end: dt.date
    name: str  # the period's first day (ISO) for range-per-period reports; "" otherwise

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "name": self.name}


@dataclass(frozen=True)
class PlannedReport:
    """One report of one extraction: a spec with its date ranges (at most 4)."""

    spec: ReportSpec
    ranges: tuple[PlannedRange, ...]

    def request(self, offset: int, limit: int) -> RunReportRequest:
        spec = self.spec
        dimension_filter = None
        if spec.event_name:
            dimension_filter = FilterExpression(filter=Filter(
                field_name="eventName",
                string_filter=Filter.StringFilter(match_type=Filter.StringFilter.MatchType.EXACT,
                                                  value=spec.event_name, case_sensitive=True),
            ))
        return RunReportRequest(
            dimensions=[Dimension(name=name) for name in spec.dimensions],
            metrics=[Metric(name=name) for name in spec.metrics],
            date_ranges=[DateRange(start_date=r.start.isoformat(), end_date=r.end.isoformat(),
                                   **({"name": r.name} if r.name else {})) for r in self.ranges],
            dimension_filter=dimension_filter,
            offset=offset,
            limit=limit,
            return_property_quota=True,
        )

    def describe(self, offset: int, limit: int) -> dict[str, Any]:
        return {"name": self.spec.name, "grain": self.spec.grain, "offset": offset, "limit": limit,
                "ranges": [r.as_json() for r in self.ranges]}


def plan(specs: tuple[ReportSpec, ...], first_day: dt.date, last_day: dt.date) -> list[PlannedReport]:
    """The reports of one extraction of the days `first_day`..`last_day` (property-local, inclusive)."""
    planned = []
    for spec in specs:
        start = period_start(first_day, spec.grain)
        if not spec.range_per_period:
            planned.append(PlannedReport(spec, (PlannedRange(start, last_day, ""),)))
            continue
        ranges = []
        while start <= last_day:
            ranges.append(PlannedRange(start, min(period_end(start, spec.grain), last_day), start.isoformat()))
            start = period_end(start, spec.grain) + dt.timedelta(days=1)
        for chunk in range(0, len(ranges), MAX_DATE_RANGES):
            planned.append(PlannedReport(spec, tuple(ranges[chunk: chunk + MAX_DATE_RANGES])))
    return planned
