"""HubSpot CRM v3: contacts (with their lifecycle-stage dates) and deals.

The first load pages the object list (`GET /crm/v3/objects/<object>`), which has no result cap.
Later runs search on the last-modified property from the saved cursor minus a day of lookback
(HubSpot's search index trails its writes, and offset paging skips a record that moves while it
is paged). A search pages through at most 10,000 results, so a window whose `total` exceeds
that is split in halves until every part fits, before it is paged past its first page.

Only the properties the KPIs need are requested; HubSpot adds the object's default properties
(for contacts: e-mail and names), which stay in landing and are dropped from the raw table.
Docs: https://developers.hubspot.com/docs/api/crm/search (limits),
https://developers.hubspot.com/docs/api/crm/understanding-the-crm (properties as strings).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pulse.landing import BatchWriter, LandingBatch
from pulse.sources.base import ExtractRequest
from pulse.sources.http import ApiClient, HttpSource, SourceHttpError, latest_versions, moment, read_pages
from pulse.sources.streams import Field, Stream

LIFECYCLE_STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")
LOOKBACK = dt.timedelta(days=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

CONTACTS = Stream(
    "hubspot", "contacts", ("id",),
    (
        Field("id", "int"), Field("archived", "bool"), Field("company", "str"),
        Field("lifecyclestage", "str", doc="the latest stage reached"),
        Field("createdate", "timestamp"), Field("lastmodifieddate", "timestamp"),
        *(Field(f"hs_lifecyclestage_{stage}_date", "timestamp", doc=f"when the contact became {stage}")
          for stage in LIFECYCLE_STAGES),
        Field("hs_persona", "str"), Field("hs_analytics_source", "str", doc="original source (ORGANIC_SEARCH, ...)"),
        Field("utm_campaign", "str"), Field("hubspot_owner_id", "int"),
        Field("pulse_customer_id", "int", doc="custom property: the shop customer the contact became"),
    ),
    cursor="lastmodifieddate", lookback=LOOKBACK,
    doc="HubSpot contacts; lifecycle-stage dates are null until the stage is reached.",
)
DEALS = Stream(
    "hubspot", "deals", ("id",),
    (
        Field("id", "int"), Field("archived", "bool"), Field("dealname", "str"), Field("pipeline", "str"),
        Field("dealstage", "str"), Field("amount", "money"), Field("closedate", "timestamp"),
        Field("createdate", "timestamp"), Field("hs_lastmodifieddate", "timestamp"),
        Field("hubspot_owner_id", "int", doc="the sales agent"),
        Field("pulse_quote_id", "int", doc="custom property: the shop quote the deal follows"),
    ),
    cursor="hs_lastmodifieddate", lookback=LOOKBACK,
    doc="HubSpot deals, one per quote.",
)
PAGE_PROPERTIES = ("id", "archived")  # on the object itself, not among its properties


class HubSpotSource(HttpSource):
    name = "hubspot"
    streams = (CONTACTS, DEALS)
    search_result_cap = 10_000  # a search can page through at most this many results, then HTTP 400
    search_page_size = 200  # the search maximum
    list_page_size = 100  # the list maximum

    def auth(self):
        from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

        return BearerTokenAuth(token=self.connection.password.get_secret_value())

    # --- extract ---------------------------------------------------------------------------------
    def extract(self, stream: Stream, request: ExtractRequest, batch: BatchWriter) -> dict[str, Any]:
        client = self.client(stream, batch)
        properties = [f.name for f in stream.fields if f.name not in PAGE_PROPERTIES]
        tally = _Tally(stream.cursor)
        if request.start is None:
            self._list_all(client, stream, properties, tally)
            windows = []
        else:
            windows = self._search(client, stream, properties, request.start, request.end, tally)
        batch.manifest.record_count = tally.records
        batch.manifest.metadata = {
            "method": "list" if request.start is None else "search",
            "windows": [{"start": low.isoformat(), "end": high.isoformat(), "total": total}
                        for low, high, total in windows],
        }
        return {"cursor": tally.latest.isoformat()} if tally.latest else dict(request.state)

    def _list_all(self, client: ApiClient, stream: Stream, properties: list[str], tally: _Tally) -> None:
        from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

        for page in client.pages(
            f"/crm/v3/objects/{stream.name}", params={"limit": self.list_page_size, "properties": ",".join(properties)},
            paginator=JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_param="after"),
            data_selector="results", label="list",
        ):
            tally.add(page.items)

    def _search(self, client: ApiClient, stream: Stream, properties: list[str], start: dt.datetime,
                end: dt.datetime, tally: _Tally) -> list[tuple[dt.datetime, dt.datetime, int]]:
        """Page every window of [start, end), splitting any whose total is over the cap first."""
        from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

        done: list[tuple[dt.datetime, dt.datetime, int]] = []
        pending = [(start, end)]
        while pending:
            low, high = pending.pop(0)
            body = {
                "filterGroups": [{"filters": [
                    {"propertyName": stream.cursor, "operator": "GTE", "value": str(_millis(low))},
                    {"propertyName": stream.cursor, "operator": "LT", "value": str(_millis(high))},
                ]}],
                "sorts": [{"propertyName": stream.cursor, "direction": "ASCENDING"}],
                "properties": properties, "limit": self.search_page_size,
            }
            pages = client.pages(
                f"/crm/v3/objects/{stream.name}/search", method="POST", json_body=body,
                paginator=JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_body_path="after"),
                data_selector="results", label="search",
            )
            first = next(pages)
            total = int(first.payload.get("total", 0))
            if total > self.search_result_cap:
                pages.close()
                middle = _millisecond(low + (high - low) / 2)
                if not low < middle < high:
                    raise SourceHttpError(
                        f"{stream.key}: {total} records have {stream.cursor} in [{low.isoformat()}, "
                        f"{high.isoformat()}), a window too short to split, and a search pages through at most "
                        f"{self.search_result_cap}")
                pending[:0] = [(low, middle), (middle, high)]
                continue
            tally.add(first.items)
            for page in pages:
                tally.add(page.items)
            done.append((low, high, total))
        return done

    # --- parse -----------------------------------------------------------------------------------
    def parse(self, stream: Stream, batch: LandingBatch) -> list[dict[str, Any]]:
        records = [
            {**(item.get("properties") or {}), "id": item.get("id"), "archived": item.get("archived")}
            for _, payload in read_pages(stream, batch) for item in payload.get("results", [])
        ]
        # a window read again after a split returns records twice: keep the latest version
        return latest_versions(records, stream.primary_key, version=lambda r: r.get(stream.cursor))


class _Tally:
    """Records seen during an extraction and the latest cursor value among them."""

    def __init__(self, cursor: str):
        self.cursor, self.records, self.latest = cursor, 0, None

    def add(self, items: list[dict[str, Any]]) -> None:
        self.records += len(items)
        for item in items:
            value = moment((item.get("properties") or {}).get(self.cursor))
            if value and (self.latest is None or value > self.latest):
                self.latest = value


def _millis(value: dt.datetime) -> int:
    """HubSpot filters datetimes in epoch milliseconds."""
    return (value - EPOCH) // dt.timedelta(milliseconds=1)


def _millisecond(value: dt.datetime) -> dt.datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)
