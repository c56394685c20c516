"""CSV drops of the sandbox company: the files its partners would have delivered up to a clock, in
their own formats, under `<directory>/<feed>/`.

| feed | file | delivered | format |
|---|---|---|---|
| carrier_files | `PostNL_TrackTrace_YYYYMMDD.csv`, one per day | 05:00 next day | Windows-1252, `;`, CRLF, Dutch local time without offset |
| carrier_files | `DPD_scans_YYYY-MM-DD.csv`, one per day | 05:00 next day | UTF-8, `,`, ISO 8601 with offset |
| ad_spend | `linkedin_campaign_performance_YYYY-MM-DD.csv` | 06:00 next day | UTF-8, `,`, report header lines, US dates, UTC days |
| ad_spend | `CampaignPerformance_YYYYMMDD.csv` (Microsoft Advertising) | 06:00 next day | UTF-8 with BOM, all quoted, report header and copyright footer |
| nps | `nps_responses_YYYY-MM.csv`, one per month | 07:00 on the 1st | UTF-8 with BOM, `;`, CRLF, timestamps with offset |
| site_speed | `rum_page_loads_YYYY-MM-DD.csv.gz`, one per day | 02:00 next day | gzip, UTF-8, `,`, ISO 8601 UTC |

Times are business-local. A carrier sends a file every day, header only when it scanned nothing.
Only carriers whose `feed` is `csv` send files (the others report through EasyPost). The same
world and clock give the same bytes; writing again at a later clock adds the newly delivered files.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from pulse.sandbox.world_io import World

FEEDS = ("carrier_files", "ad_spend", "nps", "site_speed")

# carrier status codes in each carrier's feed spec
POSTNL_CODES = {"pre_transit": "A01", "in_transit": "B01", "out_for_delivery": "J05", "delivered": "I01",
                "failure": "H01", "return_to_sender": "G01"}
DPD_CODES = {"pre_transit": "03", "in_transit": "10", "out_for_delivery": "17", "delivered": "13",
             "failure": "14", "return_to_sender": "23"}
ACCOUNT = "Pulse Wholesale"
MICROSOFT_TIME_ZONE = "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"


def write_drops(world: World, directory: Path, clock: dt.datetime | None = None) -> list[Path]:
    """Write every file delivered by `clock` (default: the world's now); returns their paths."""
    clock = clock or world.meta.now
    view = world.as_of(clock)
    tz = ZoneInfo(world.meta.business_timezone)
    root = Path(directory)
    written = []
    for feed, name, content in _files(view, clock, tz):
        path = root / feed / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != content:
            temporary = path.with_name(f".{name}.part")
            temporary.write_bytes(content)
            temporary.replace(path)
        written.append(path)
    return written


def _files(view: World, clock: dt.datetime, tz: ZoneInfo) -> Iterator[tuple[str, str, bytes]]:
    start, end = view.meta.start, view.meta.end
    days = _delivered_days(start, end, clock, tz)
    yield from _carrier_files(view, tz, days)
    yield from _ad_spend(view, days(dt.time(6)))
    yield from _nps(view, tz, _delivered_months(start, end, clock, tz))
    yield from _site_speed(view, tz, days(dt.time(2)))


def _delivered_days(start: dt.date, end: dt.date, clock: dt.datetime, tz: ZoneInfo
                    ) -> Callable[[dt.time], list[dt.date]]:
    """The days of the world whose file, sent at `at` local time the next day, has arrived by `clock`."""
    def days(at: dt.time) -> list[dt.date]:
        result, day = [], start
        while day <= end and dt.datetime.combine(day + dt.timedelta(days=1), at, tz) <= clock:
            result.append(day)
            day += dt.timedelta(days=1)
        return result
    return days


def _delivered_months(start: dt.date, end: dt.date, clock: dt.datetime, tz: ZoneInfo) -> list[dt.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        if dt.datetime.combine(following, dt.time(7), tz) > clock:
            return months
        months.append(month)
        month = following
    return months


def _local_day(moments: pd.Series, tz: ZoneInfo) -> pd.Series:
    return moments.dt.tz_convert(tz).dt.date


def _csv(header: list[str], rows: list[list[object]], delimiter: str = ",", line_end: str = "\n",
         quoting: int = csv.QUOTE_MINIMAL) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


# --- carrier scans ----------------------------------------------------------------------------
def _carrier_files(view: World, tz: ZoneInfo, days: Callable[[dt.time], list[dt.date]]):
    shipments = view["shipments"]
    carriers = sorted(shipments.loc[shipments["feed"] == "csv", "carrier"].unique())
    scans = view["shipment_events"].merge(shipments[["tracking_code", "carrier"]], on="tracking_code")
    scans = scans.assign(day=_local_day(scans["occurred_at"], tz)).sort_values(["occurred_at", "event_id"])
    by_day = dict(tuple(scans.groupby(["carrier", "day"])))
    for carrier in carriers:
        if carrier not in CARRIER_WRITERS:
            raise ValueError(f"no CSV file layout for carrier {carrier!r}; known: {sorted(CARRIER_WRITERS)}")
        name, write = CARRIER_WRITERS[carrier]
        for day in days(dt.time(5)):
            day_scans = by_day.get((carrier, day), scans.iloc[0:0])
            yield "carrier_files", name(day), write(day_scans, tz)


def _postnl(scans: pd.DataFrame, tz: ZoneInfo) -> bytes:
    local = scans["occurred_at"].dt.tz_convert(tz)
    rows = [[code, at.strftime("%d-%m-%Y"), at.strftime("%H:%M:%S"), POSTNL_CODES[status], message,
             est.strftime("%d-%m-%Y") if pd.notna(est) else ""]
            for code, at, status, message, est in zip(scans["tracking_code"], local, scans["status"],
                                                      scans["message"], scans["est_delivery_date"], strict=True)]
    header = ["Barcode", "Datum", "Tijd", "Statuscode", "Status", "Verwachte bezorgdatum"]
    return _csv(header, rows, delimiter=";", line_end="\r\n").encode("cp1252", errors="replace")


def _dpd(scans: pd.DataFrame, tz: ZoneInfo) -> bytes:
    local = scans["occurred_at"].dt.tz_convert(tz)
    rows = [[code, at.isoformat(timespec="seconds"), DPD_CODES[status], message, _text(est)]
            for code, at, status, message, est in zip(scans["tracking_code"], local, scans["status"],
                                                      scans["message"], scans["est_delivery_date"], strict=True)]
    header = ["parcelno", "scan_datetime", "scan_code", "scan_text", "predicted_delivery"]
    return _csv(header, rows).encode("utf-8")


CARRIER_WRITERS = {
    "PostNL": (lambda day: f"PostNL_TrackTrace_{day:%Y%m%d}.csv", _postnl),
    "DPD": (lambda day: f"DPD_scans_{day:%Y-%m-%d}.csv", _dpd),
}


# --- ad spend -----------------------------------------------------------------------------------
def _campaign_id(platform: str, campaign: str) -> int:
    return 500_000_000 + zlib.crc32(f"{platform}:{campaign}".encode()) % 100_000_000


def _ad_spend(view: World, days: list[dt.date]):
    ads = view["ad_daily"]
    ads = ads.assign(day=pd.to_datetime(ads["date"]).dt.date).sort_values(["day", "platform", "campaign"])
    by_day = dict(tuple(ads.groupby(["platform", "day"])))
    for day in days:
        yield "ad_spend", f"linkedin_campaign_performance_{day:%Y-%m-%d}.csv", _linkedin(
            by_day.get(("linkedin", day), ads.iloc[0:0]), day)
        yield "ad_spend", f"CampaignPerformance_{day:%Y%m%d}.csv", _microsoft(
            by_day.get(("microsoft_ads", day), ads.iloc[0:0]), day)


def _us_date(day: dt.date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _linkedin(rows: pd.DataFrame, day: dt.date) -> bytes:
    generated = day + dt.timedelta(days=1)
    preamble = (f"Campaign Performance Report (in UTC)\nReport Start: {_us_date(day)}, 12:00 AM\n"
                f"Report End: {_us_date(day)}, 11:59 PM\nDate Generated: {_us_date(generated)}, 5:00 AM\n"
                f"Account: {ACCOUNT}\n")
    header = ["Start Date (in UTC)", "Account Name", "Campaign Name", "Campaign ID", "Campaign Group Name",
              "Currency", "Total Spent", "Impressions", "Clicks"]
    body = [[_us_date(r.day), ACCOUNT, r.campaign, _campaign_id("linkedin", r.campaign), "Always on", "EUR",
             f"{r.spend:.2f}", r.impressions, r.clicks] for r in rows.itertuples()]
    return (preamble + _csv(header, body)).encode("utf-8")


def _microsoft(rows: pd.DataFrame, day: dt.date) -> bytes:
    generated = day + dt.timedelta(days=1)
    quoted = csv.QUOTE_ALL
    preamble = "".join(f'"{line}"\r\n' for line in (
        "Report Name: Campaign Performance", f"Report Time: {_us_date(generated)}", f"Time Zone: {MICROSOFT_TIME_ZONE}",
        f"Last Completed Available Day: {_us_date(generated)} 5:00:00 AM (GMT) Coordinated Universal Time",
        "Potential Incomplete Data: false", f"Rows: {len(rows)}")) + "\r\n"
    header = ["TimePeriod", "AccountName", "CampaignName", "CampaignId", "Impressions", "Clicks", "Spend",
              "CurrencyCode"]
    body = [[f"{r.day:%Y-%m-%d}", ACCOUNT, r.campaign, _campaign_id("microsoft_ads", r.campaign), r.impressions,
             r.clicks, f"{r.spend:.2f}", "EUR"] for r in rows.itertuples()]
    footer = f'\r\n"©{generated.year} Microsoft Corporation. All rights reserved. "\r\n'
    return ("\ufeff" + preamble + _csv(header, body, line_end="\r\n", quoting=quoted) + footer).encode("utf-8")


# --- NPS survey ---------------------------------------------------------------------------------
def _nps(view: World, tz: ZoneInfo, months: list[dt.date]):
    answers = view["nps_responses"].sort_values(["submitted_at", "response_id"])
    local = answers["submitted_at"].dt.tz_convert(tz)
    month_of = local.dt.strftime("%Y-%m")
    for month in months:
        rows = answers[(month_of == f"{month:%Y-%m}").to_numpy()]
        at = rows["submitted_at"].dt.tz_convert(tz)
        body = [[r.response_id, moment.isoformat(sep=" ", timespec="seconds"), r.customer_id, r.score, _text(r.comment)]
                for r, moment in zip(rows.itertuples(), at, strict=True)]
        header = ["Response ID", "Submitted at", "Customer number", "Score", "Comment"]
        yield "nps", f"nps_responses_{month:%Y-%m}.csv", ("\ufeff" + _csv(header, body, ";", "\r\n")).encode("utf-8")


# --- real-user page-speed samples ---------------------------------------------------------------
def _site_speed(view: World, tz: ZoneInfo, days: list[dt.date]):
    samples = view["speed_samples"].sort_values(["measured_at", "sample_id"])
    day_of = _local_day(samples["measured_at"], tz)
    for day in days:
        rows = samples[(day_of == day).to_numpy()]
        body = [[r.sample_id, r.measured_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{r.measured_at.microsecond // 1000:03d}Z",
                 r.url, r.page_type, r.device, r.load_time_ms] for r in rows.itertuples()]
        header = ["beacon_id", "timestamp", "page_url", "page_group", "device_type", "page_load_time_ms"]
        # mtime 0: the same content gives the same bytes
        content = gzip.compress(_csv(header, body).encode("utf-8"), mtime=0)
        yield "site_speed", f"rum_page_loads_{day:%Y-%m-%d}.csv.gz", content
