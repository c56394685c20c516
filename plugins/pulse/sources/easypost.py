"""EasyPost: parcel trackers, their scans, and every delivery estimate the carrier gave.

The tracker list filters on creation time only, so each run re-reads the trackers created in
the 30 days before the saved cursor (a parcel's scans and estimate keep changing for days after
its label is made) up to the run's end, newest first, paging with `before_id` while `has_more`.

Keeping the first estimate: a tracker shows only the carrier's latest estimated delivery date,
which moves when a parcel is delayed, while the delivery-promise KPIs need the first one. Every
extraction therefore records the estimate it saw together with the tracker's `updated_at` in
`easypost.tracker_estimates`, keyed by (tracker_id, updated_at): a tracker's versions
accumulate, a rerun of the same versions changes nothing, and the first estimate is the one of
the earliest version (`row_number() over (partition by tracker_id order by updated_at) = 1`).
The extraction time is not a key: it would make every rerun add rows. An estimate that came and
went between two runs is never seen; runs every few hours keep that rare.
Docs: https://docs.easypost.com/docs/trackers
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pulse.landing import BatchWriter, LandingBatch
from pulse.sources.base import ExtractRequest
from pulse.sources.http import HttpSource, latest_versions, moment, read_pages
from pulse.sources.streams import Field, Stream

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

TRACKERS = Stream(
    "easypost", "trackers", ("id",),
    (
        Field("id", "str", doc="trk_..."), Field("tracking_code", "str"), Field("carrier", "str"), Field("mode", "str"),
        Field("status", "str", doc="pre_transit | in_transit | out_for_delivery | delivered | available_for_pickup"
              " | return_to_sender | failure | cancelled | error | unknown"),
        Field("status_detail", "str"),
        Field("est_delivery_date", "timestamp", doc="the carrier's latest estimate (midnight UTC of the day)"),
        Field("signed_by", "str"), Field("shipment_id", "str"),
        Field("created_at", "timestamp"), Field("updated_at", "timestamp"),
    ),
    cursor="created_at", lookback=dt.timedelta(days=30),
    doc="EasyPost trackers as last extracted; the first estimate is in easypost.tracker_estimates.",
)
TRACKING_DETAILS = Stream(
    "easypost", "tracking_details", ("tracker_id", "seq"),
    (
        Field("tracker_id", "str"), Field("seq", "int", doc="position in the tracker's tracking_details, from 0"),
        Field("status", "str"), Field("status_detail", "str"), Field("message", "str"),
        Field("datetime", "timestamp", doc="when the carrier scanned the parcel"), Field("source", "str"),
        Field("city", "str", doc="tracking_location.city"), Field("country", "str", doc="tracking_location.country"),
    ),
    extracted_with="trackers", doc="Carrier scans of each tracker.",
)
TRACKER_ESTIMATES = Stream(
    "easypost", "tracker_estimates", ("tracker_id", "updated_at"),
    (
        Field("tracker_id", "str"), Field("updated_at", "timestamp", doc="the tracker version that showed it"),
        Field("est_delivery_date", "timestamp"),
    ),
    extracted_with="trackers",
    doc="Every estimated delivery date seen, per tracker version: the earliest version's is the first estimate.",
)


class EasyPostSource(HttpSource):
    name = "easypost"
    streams = (TRACKERS, TRACKING_DETAILS, TRACKER_ESTIMATES)
    page_size = 100  # the list's maximum

    def auth(self):
        from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

        return HttpBasicAuth(self.connection.password.get_secret_value(), "")  # the API key is the user name

    def extract(self, stream: Stream, request: ExtractRequest, batch: BatchWriter) -> dict[str, Any]:
        client = self.client(stream, batch)
        # both bounds always: with one missing, EasyPost lists one month only
        params = {"start_datetime": _iso(request.start or EPOCH), "end_datetime": _iso(request.end),
                  "page_size": self.page_size}
        records, latest = 0, None
        for page in client.pages("/v2/trackers", params=params, paginator=BeforeIdPaginator(),
                                 data_selector="trackers", label="trackers"):
            records += len(page.items)
            for tracker in page.items:
                value = moment(tracker.get("created_at"))
                if value and (latest is None or value > latest):
                    latest = value
        batch.manifest.record_count = records
        return {"cursor": latest.isoformat()} if latest else dict(request.state)

    def parse(self, stream: Stream, batch: LandingBatch) -> list[dict[str, Any]]:
        trackers = latest_versions(
            [tracker for _, payload in read_pages(stream, batch) for tracker in payload.get("trackers", [])],
            ("id",), version=lambda r: r.get("updated_at"))
        if stream.name == "trackers":
            return trackers
        if stream.name == "tracker_estimates":
            # a tracker without an estimate has nothing to record; one without the field fails the contract
            return [{"tracker_id": t.get("id"), "_row": t["_row"],
                     **{name: t[name] for name in ("updated_at", "est_delivery_date") if name in t}}
                    for t in trackers if t.get("est_delivery_date", "missing") is not None]
        details = []
        for tracker in trackers:
            for seq, detail in enumerate(tracker.get("tracking_details") or []):
                location = detail.get("tracking_location") or {}
                details.append({**detail, "tracker_id": tracker.get("id"), "seq": seq,
                                "city": location.get("city"), "country": location.get("country")})
        return details


class BeforeIdPaginator:
    """EasyPost's lists: the next page is `before_id=<last id of this page>` while `has_more`.
    dlt has no paginator that takes its cursor from the last item; this one speaks dlt's
    paginator protocol without subclassing it, so importing this module does not import dlt
    (seconds, at every Airflow DAG parse)."""

    def __init__(self) -> None:
        self.has_next_page, self._before = True, None

    def init_request(self, request) -> None:
        pass

    def update_state(self, response, data=None) -> None:
        has_more = response.json().get("has_more")
        if not isinstance(has_more, bool):
            raise ValueError(f"has_more is {has_more!r}, not true or false")
        self._before = data[-1].get("id") if has_more and data else None
        self.has_next_page = self._before is not None

    def update_request(self, request) -> None:
        request.params = {**(request.params or {}), "before_id": self._before}


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
