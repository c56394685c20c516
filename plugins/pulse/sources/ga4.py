"""Google Analytics 4 through the official Data API client: traffic, users per grain, campaigns,
Google Ads cost, site search, exit pages and key events (reports in `ga4_reports`).

Each run first checks every dimension and metric against the property's `getMetadata`, then asks
for the window's reports with `batchRunReports` (up to 5 reports a request), paging each report
with limit/offset until `rowCount`. Every response body is landed as received, with the request
that produced it. GA4 keeps revising about three days of data, so a scheduled run starts
`PULSE_GA4_LOOKBACK_DAYS` before the saved cursor; users are re-requested for whole periods.

Dates are the property's reporting days. The connector plans them in the property time zone
(`extra.time_zone` of the `pulse_ga4` connection, else the business time zone) and checks every
response's `metadata.timeZone` against it. Every row carries the response's metadata: time zone,
currency, thresholding, data loss to an "(other)" row and sampling.

Connection `pulse_ga4`: `extra.property_id` (required), a service-account key in
`extra.keyfile_dict` or `extra.key_path` (production) or an access token as password (sandbox),
host/port only to reach another endpoint than Google's, `extra.start_date` (first day of a full
load; default DEFAULT_HISTORY_DAYS back) and `extra.time_zone`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from pulse.landing import BatchWriter, LandingBatch
from pulse.periods import period_end
from pulse.sources.base import ExtractRequest, Source
from pulse.sources.ga4_client import GA4Api, GA4Error
from pulse.sources.ga4_reports import FIELD_NAMES, REPORTS, PlannedReport, ReportSpec, plan
from pulse.sources.streams import ContractError, Field, Stream

log = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(days=3)  # the default of PULSE_GA4_LOOKBACK_DAYS, which plan() uses
DEFAULT_HISTORY_DAYS = 425  # a first load without extra.start_date: about 14 months
MAX_BATCH = 5  # batchRunReports takes at most 5 reports

# the response metadata every row carries
METADATA_FIELDS = (
    Field("property_time_zone", "str", doc="the property's reporting time zone (metadata.timeZone)"),
    Field("currency_code", "str", doc="metadata.currencyCode of money metrics"),
    Field("subject_to_thresholding", "bool", doc="GA4 may have withheld rows with few users"),
    Field("data_loss_from_other_row", "bool", doc="some rows of the report were folded into an '(other)' row"),
    Field("sampled", "bool", doc="GA4 sampled the data (metadata.samplingMetadatas)"),
)


def _stream(name: str, primary_key: tuple[str, ...], fields: tuple[Field, ...], doc: str,
            cursor: str = "date") -> Stream:
    return Stream("ga4", name, primary_key, (*fields, *METADATA_FIELDS), cursor=cursor, lookback=LOOKBACK, doc=doc)


TRAFFIC = _stream(
    "traffic", ("date_hour", "device_category", "channel_group", "new_vs_returning"),
    (Field("date", "date", doc="property-local day"), Field("date_hour", "str", doc="YYYYMMDDHH, property time"),
     Field("hour_start", "timestamp", doc="start of that hour in UTC (the first one when clocks fall back)"),
     Field("device_category", "str"), Field("channel_group", "str"), Field("new_vs_returning", "str"),
     Field("sessions", "int"), Field("engaged_sessions", "int"), Field("screen_page_views", "int"),
     Field("average_session_duration", "float", doc="seconds; times sessions gives the total"),
     Field("user_engagement_duration", "float", doc="seconds"),
     Field("bounce_rate", "float", doc="GA4: not-engaged sessions / sessions"),
     Field("transactions", "int", doc="purchases dated by the purchase, attributed to its session"),
     Field("purchase_revenue", "money"), Field("key_events", "int", doc="dated by the event")),
    "Sessions and their engagement per property hour, device, channel group and new/returning.",
)
USERS = _stream(
    "users", ("grain", "period_start", "device_category"),
    (Field("grain", "str", doc="day | week (ISO) | month | quarter"), Field("period_start", "date"),
     Field("range_end", "date", doc="last day counted: the period's end, or the window's end while it runs"),
     Field("device_category", "str", doc="'all' for the total over devices"),
     Field("total_users", "int"), Field("new_users", "int"), Field("active_users", "int")),
    "Distinct users per period: not additive, so requested per grain.", cursor="period_start",
)
CAMPAIGNS = _stream(
    "campaigns", ("date", "campaign_name", "source_medium"),
    (Field("date", "date"), Field("campaign_name", "str"), Field("source_medium", "str"),
     Field("sessions", "int"), Field("engaged_sessions", "int"), Field("transactions", "int"),
     Field("purchase_revenue", "money")),
    "Sessions, purchases and revenue per day and session campaign (sessionCampaignName).",
)
GOOGLE_ADS = _stream(
    "google_ads", ("date", "campaign_name"),
    (Field("date", "date"), Field("campaign_name", "str"), Field("advertiser_ad_cost", "money"),
     Field("advertiser_ad_impressions", "int"), Field("advertiser_ad_clicks", "int")),
    "Google Ads cost, impressions and clicks per day and campaign (the GA4 Google Ads link).",
)
SITE_SEARCH = _stream(
    "site_search", ("date", "search_term"),
    (Field("date", "date"), Field("search_term", "str"), Field("event_count", "int", doc="view_search_results")),
    "Site searches per day and term.",
)
EXIT_PAGES = _stream(
    "exit_pages", ("date", "page_path"),
    (Field("date", "date"), Field("page_path", "str"), Field("event_count", "int", doc="page_exit events")),
    "Exits per day and page: page_exit events (GA4 has no exits metric).",
)
KEY_EVENTS = _stream(
    "key_events", ("date", "event_name"),
    (Field("date", "date"), Field("event_name", "str"), Field("key_events", "int")),
    "Key events (soft conversions) per day and event name.",
)


class GA4Source(Source):
    name = "ga4"
    streams = (TRAFFIC, USERS, CAMPAIGNS, GOOGLE_ADS, SITE_SEARCH, EXIT_PAGES, KEY_EVENTS)

    _api: GA4Api | None = None

    @property
    def api(self) -> GA4Api:
        if self._api is None:
            self._api = GA4Api(self.connection, self.settings)
        return self._api

    def plan(self, stream: Stream, state: dict[str, Any], end: dt.datetime,
             start: dt.datetime | None = None) -> ExtractRequest:
        """The saved cursor minus `PULSE_GA4_LOOKBACK_DAYS` (a setting, so not the stream's constant)."""
        if start is not None or not state.get("cursor"):
            return super().plan(stream, state, end, start)
        since = dt.datetime.fromisoformat(state["cursor"]) - dt.timedelta(days=self.settings.ga4_lookback_days)
        return ExtractRequest(start=since, end=end, state=state)

    # --- extract ---------------------------------------------------------------------------------
    def extract(self, stream: Stream, request: ExtractRequest, batch: BatchWriter) -> dict[str, Any]:
        api, specs = self.api, REPORTS[stream.name]
        sent_before = Counter(api.requests_sent)
        api.check_fields(stream.key, specs)
        zone = self.time_zone
        first_day, last_day = self.window_days(request, zone)
        pending = [(report, 0) for report in plan(specs, first_day, last_day)]
        size = self.settings.ga4_page_size
        row_counts: dict[PlannedReport, int] = {}  # rowCount of each report's first page
        rows, metadata, call = 0, _Metadata(), 0
        while pending:
            chunk, pending = pending[:MAX_BATCH], pending[MAX_BATCH:]
            call += 1
            what = f"{stream.key}: batchRunReports #{call}"
            requests_ = [report.request(offset, size) for report, offset in chunk]
            described = [report.describe(offset, size) for report, offset in chunk]
            try:
                response, body = api.batch_run_reports(what, requests_)
            except GA4Error as error:
                if getattr(error, "body", None):
                    batch.add_bytes(f"batch-{call:04d}.unreadable.json", error.body, reports=described)
                raise
            batch.add_bytes(f"batch-{call:04d}.json", body, "application/json", method="batchRunReports",
                            reports=described, request=[json.loads(type(r).to_json(r)) for r in requests_])
            if len(response.reports) != len(chunk):
                raise GA4Error(f"{what}: asked for {len(chunk)} reports, got {len(response.reports)}")
            for (report, offset), answer in zip(chunk, response.reports, strict=True):
                where = f"{what}, report {report.spec.name}"
                if answer.metadata.time_zone and answer.metadata.time_zone != zone:
                    raise GA4Error(
                        f"{where}: the property reports in {answer.metadata.time_zone} but the days were planned "
                        f"in {zone}; set extra.time_zone of the pulse_ga4 connection to the property's time zone")
                metadata.add(answer.metadata)
                api.watch_quota(where, answer.property_quota)
                total = row_counts.setdefault(report, answer.row_count)
                if answer.row_count != total:
                    raise GA4Error(f"{where}: rowCount changed from {total} to {answer.row_count} while paging "
                                   f"(GA4 revised the data mid-run); run again")
                rows += len(answer.rows)
                if offset + len(answer.rows) < total:
                    if not answer.rows:
                        raise GA4Error(f"{where}: page at offset {offset} is empty but rowCount is {total}")
                    pending.append((report, offset + len(answer.rows)))
        sent = api.requests_sent - sent_before
        batch.manifest.record_count = rows
        batch.manifest.metadata = {
            "property_id": api.property_id, "time_zone": zone, "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(), **metadata.as_json(), "requests": dict(sent),
            "property_quota": api.quota,
        }
        log.info("%s: %d rows for %s..%s in %d GA4 requests (%s); property quota: %s", stream.key, rows, first_day,
                 last_day, sum(sent.values()), dict(sent), api.quota_summary())
        return {"cursor": request.end.isoformat()}

    @property
    def time_zone(self) -> str:
        return self.connection.extra.get("time_zone") or self.settings.business_timezone

    def window_days(self, request: ExtractRequest, zone: str) -> tuple[dt.date, dt.date]:
        """The property-local days of the request window: its start's day through the day of its
        (exclusive) end."""
        tz = ZoneInfo(zone)
        last_day = (request.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
        if request.start is not None:
            first_day = request.start.astimezone(tz).date()
        elif self.connection.extra.get("start_date"):
            first_day = dt.date.fromisoformat(self.connection.extra["start_date"])
        else:
            first_day = last_day - dt.timedelta(days=DEFAULT_HISTORY_DAYS)
        return min(first_day, last_day), last_day

    # --- parse -----------------------------------------------------------------------------------
    def parse(self, stream: Stream, batch: LandingBatch) -> pd.DataFrame | list[dict[str, Any]]:
        specs = {spec.name: spec for spec in REPORTS[stream.name]}
        records: list[dict[str, Any]] = []
        for landed in batch.manifest.files:
            payload = json.loads(batch.read_bytes(landed.name))
            for described, report in zip(landed.meta["reports"], payload.get("reports", []), strict=True):
                records.extend(_records(stream, specs[described["name"]], described, report))
        return records


class _Metadata:
    """What the responses of one extraction said about their data."""

    def __init__(self) -> None:
        self.currencies: set[str] = set()
        self.thresholded = self.other_row = False
        self.sampling: list[dict[str, int]] = []

    def add(self, metadata: Any) -> None:
        if metadata.currency_code:
            self.currencies.add(metadata.currency_code)
        self.thresholded |= bool(metadata.subject_to_thresholding)
        self.other_row |= bool(metadata.data_loss_from_other_row)
        self.sampling += [{"samples_read_count": int(s.samples_read_count),
                           "sampling_space_size": int(s.sampling_space_size)} for s in metadata.sampling_metadatas]

    def as_json(self) -> dict[str, Any]:
        return {"currency_codes": sorted(self.currencies), "subject_to_thresholding": self.thresholded,
                "data_loss_from_other_row": self.other_row, "sampling": self.sampling}


def _records(stream: Stream, spec: ReportSpec, described: dict[str, Any], report: dict[str, Any]) -> list[dict]:
    """Rows of one report as contract records. A column the API renamed keeps its new name, so the
    contract check names the field that went missing."""
    names = [FIELD_NAMES.get(h.get("name", ""), h.get("name", "")) for h in report.get("dimensionHeaders", [])]
    metric_names = [FIELD_NAMES.get(h.get("name", ""), h.get("name", "")) for h in report.get("metricHeaders", [])]
    meta = report.get("metadata", {})
    common = {
        "property_time_zone": meta.get("timeZone"), "currency_code": meta.get("currencyCode"),
        "subject_to_thresholding": bool(meta.get("subjectToThresholding", False)),
        "data_loss_from_other_row": bool(meta.get("dataLossFromOtherRow", False)),
        "sampled": bool(meta.get("samplingMetadatas")),
    }
    records = []
    for row in report.get("rows", []):
        dimensions = [value.get("value") for value in row.get("dimensionValues", [])]
        metrics = [value.get("value") for value in row.get("metricValues", [])]
        if len(dimensions) != len(names) or len(metrics) != len(metric_names):
            raise ContractError(stream, f"report {spec.name}: a row has {len(dimensions)} dimension and "
                                        f"{len(metrics)} metric values for {len(names)} and {len(metric_names)} headers")
        record = {**dict(zip(names, dimensions, strict=True)), **dict(zip(metric_names, metrics, strict=True)),
                  **common}
        records.append(_complete(stream, spec, described, record))
    return records


def _complete(stream: Stream, spec: ReportSpec, described: dict[str, Any], record: dict[str, Any]) -> dict:
    """Fields derived from the report's dimensions: days, hours in UTC, periods."""
    if stream.name == "traffic":
        date_hour = _needed(stream, record, "date_hour")
        record["date"] = date_hour[:8]
        record["hour_start"] = _hour_start(date_hour, record.get("property_time_zone"))
    elif stream.name == "users":
        record.update(_period(stream, spec, described, record))
    return record


def _needed(stream: Stream, record: dict[str, Any], name: str) -> str:
    if record.get(name) is None:
        raise ContractError(stream, f"field {name!r} missing from the report (renamed or dropped upstream?); "
                                    f"fields received: {sorted(record)}", field_name=name)
    return str(record[name])


def _hour_start(date_hour: str, zone: str | None) -> str | None:
    """YYYYMMDDHH in the property's time zone as a UTC moment. When clocks fall back GA4 reports
    the repeated hour as one row: it is dated by its first occurrence."""
    try:
        local = dt.datetime.strptime(date_hour, "%Y%m%d%H").replace(tzinfo=ZoneInfo(zone or "UTC"))
    except ValueError:
        return date_hour  # not a GA4 hour: the contract check quarantines the row with this value
    return local.astimezone(dt.UTC).isoformat()


def _period(stream: Stream, spec: ReportSpec, described: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    ranges = described["ranges"]
    if spec.range_per_period:
        name = record.pop("date_range", None) if len(ranges) > 1 else ranges[0]["name"]
        chosen = next((r for r in ranges if r["name"] == name), None)
        if chosen is None:
            raise ContractError(stream, f"report {spec.name}: date range {name!r} was not requested",
                                field_name="date_range")
        start, covered = dt.date.fromisoformat(chosen["name"]), dt.date.fromisoformat(chosen["end"])
    else:
        dimension = {"day": "date", "week": "iso_year_iso_week", "month": "year_month"}[spec.grain]
        value = _needed(stream, record, dimension)
        record.pop(dimension)
        try:
            if spec.grain == "day":
                start = dt.datetime.strptime(value, "%Y%m%d").date()
            elif spec.grain == "week":
                start = dt.date.fromisocalendar(int(value[:4]), int(value[4:]), 1)
            else:
                start = dt.date(int(value[:4]), int(value[4:]), 1)
        except ValueError:  # not a GA4 period: the contract check quarantines the row with this value
            return {"grain": spec.grain, "period_start": value, "range_end": None,
                    "device_category": record.get("device_category", "all")}
        covered = dt.date.fromisoformat(ranges[0]["end"])
    return {"grain": spec.grain, "period_start": start.isoformat(),
            "range_end": min(period_end(start, spec.grain), covered).isoformat(),
            "device_category": record.get("device_category", "all")}

