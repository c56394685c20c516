"""Aircall: calls, incremental on their start time.

Each run asks for the calls started from the saved cursor minus a day of lookback (a call is
listed once it has ended, so a long call that started before the cursor shows up late) up to
the run's end. A query reaches at most 10,000 calls, so a window whose `meta.total` is over that
is split in halves until every part fits, before it is paged past its first page. A first
load starts at the Unix epoch: the empty decades cost one request each while splitting.
Docs: https://developer.aircall.io/api-references/#list-all-calls,
https://support.aircall.io/en-gb/articles/34702023578397 (the 10,000-item limit)
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

from pulse.landing import BatchWriter, LandingBatch
from pulse.sources.base import ExtractRequest
from pulse.sources.http import ApiClient, HttpSource, SourceHttpError, latest_versions, moment, read_pages
from pulse.sources.streams import Field, Stream

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

CALLS = Stream(
    "aircall", "calls", ("id",),
    (
        Field("id", "int"), Field("direction", "str", doc="inbound | outbound"),
        Field("status", "str", doc="initial | answered | done"),
        Field("started_at", "timestamp"), Field("answered_at", "timestamp", doc="null when not answered"),
        Field("ended_at", "timestamp"), Field("duration", "int", doc="seconds from start to end"),
        Field("missed_call_reason", "str", doc="out_of_opening_hours | short_abandoned | abandoned_in_ivr | "
              "abandoned_in_classic | no_available_agent | agents_did_not_answer; null when answered"),
        Field("number_id", "int", doc="the Aircall line called"), Field("number_name", "str"),
        Field("user_id", "int", doc="the agent who took the call"), Field("archived", "bool"),
    ),
    cursor="started_at", lookback=dt.timedelta(days=1),
    doc="Aircall calls (Unix-second times converted to UTC).",
)


class AircallSource(HttpSource):
    name = "aircall"
    streams = (CALLS,)
    result_cap = 10_000  # a query reaches at most this many calls
    page_size = 50  # the maximum per page

    def auth(self):
        from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

        return HttpBasicAuth(self.connection.login, self.connection.password.get_secret_value())

    def extract(self, stream: Stream, request: ExtractRequest, batch: BatchWriter) -> dict[str, Any]:
        client = self.client(stream, batch)
        windows, records, latest = self._windows(client, stream, request.start or EPOCH, request.end)
        batch.manifest.record_count = records
        batch.manifest.metadata = {"windows": [{"from": low, "to": high, "total": total} for low, high, total in windows]}
        return {"cursor": latest.isoformat()} if latest else dict(request.state)

    def _windows(self, client: ApiClient, stream: Stream, start: dt.datetime, end: dt.datetime
                 ) -> tuple[list[tuple[int, int, int]], int, dt.datetime | None]:
        """Page every window of [start, end) in whole seconds (`from`/`to` are inclusive), splitting
        any whose total is over the cap first."""
        from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

        done, records, latest = [], 0, None
        pending = [(math.ceil(start.timestamp()), math.ceil(end.timestamp()) - 1)]
        while pending:
            low, high = pending.pop(0)
            if high < low:
                continue
            pages = client.pages(
                "/v1/calls", params={"from": low, "to": high, "per_page": self.page_size, "order": "asc"},
                paginator=JSONLinkPaginator(next_url_path="meta.next_page_link"), data_selector="calls", label="calls",
            )
            first = next(pages)
            total = int((first.payload.get("meta") or {}).get("total") or 0)
            if total > self.result_cap:
                pages.close()
                if high == low:
                    raise SourceHttpError(f"{stream.key}: {total} calls started in the second {low}: more than "
                                          f"one query reaches ({self.result_cap})")
                middle = (low + high) // 2
                pending[:0] = [(low, middle), (middle + 1, high)]
                continue
            for page in itertools.chain([first], pages):
                records += len(page.items)
                for call in page.items:
                    value = moment(call.get("started_at"))
                    if value and (latest is None or value > latest):
                        latest = value
            done.append((low, high, total))
        return done, records, latest

    def parse(self, stream: Stream, batch: LandingBatch) -> list[dict[str, Any]]:
        records = []
        for _, payload in read_pages(stream, batch):
            for call in payload.get("calls", []):
                record = dict(call)
                if isinstance(call.get("number"), dict):
                    record["number_id"], record["number_name"] = call["number"].get("id"), call["number"].get("name")
                if "user" in call:
                    record["user_id"] = (call["user"] or {}).get("id")
                records.append(record)
        # windows do not overlap, but a call listed on two pages while it was being paged would
        return latest_versions(records, stream.primary_key, version=lambda r: r.get("ended_at"))
