"""Zendesk Support: tickets and their metrics through the cursor-based incremental export.

The export cursor is the state: each run goes on from the `after_cursor` of the last page the
previous loaded batch received (the first run, and a backfill, start from a start time), so no
lookback is needed: every change after the cursor comes back, however late. A ticket that
changes while the export is paged comes back again further on; within a batch only its latest
version is kept. Ticket metrics ride along (`include=metric_sets`) in the same pages.

Order and customer ids are custom fields whose ids differ per Zendesk account: the connection's
extra names them (`order_id_field`, `customer_id_field`), and the batch records them, so that
parsing needs no connection.
Docs: https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/
"""

from __future__ import annotations

from typing import Any

from pulse.landing import BatchWriter, LandingBatch
from pulse.sources.base import ExtractRequest
from pulse.sources.connections import MissingConnection
from pulse.sources.http import HttpSource, latest_versions, moment, read_pages
from pulse.sources.streams import ContractError, Field, Stream

CUSTOM_FIELDS = ("order_id", "customer_id")  # contract field -> connection extra `<name>_field`
DURATIONS = ("reply_time", "first_resolution_time", "full_resolution_time", "agent_wait_time",
             "requester_wait_time", "on_hold_time")

TICKETS = Stream(
    "zendesk", "tickets", ("id",),
    (
        Field("id", "int"), Field("created_at", "timestamp"), Field("updated_at", "timestamp"),
        Field("status", "str", doc="new | open | pending | hold | solved | closed"),
        Field("type", "str"), Field("priority", "str"), Field("via_channel", "str", doc="via.channel"),
        Field("subject", "str"), Field("requester_id", "int"), Field("assignee_id", "int"), Field("group_id", "int"),
        Field("organization_id", "int"), Field("tags", "json"),
        Field("order_id", "int", doc="custom field: the shop order the ticket is about"),
        Field("customer_id", "int", doc="custom field: the shop customer"),
    ),
    cursor="updated_at",
    doc="Zendesk tickets as of their latest export; the export cursor is the stream's state.",
)
TICKET_METRICS = Stream(
    "zendesk", "ticket_metrics", ("ticket_id",),
    (
        Field("ticket_id", "int"), Field("id", "int"), Field("created_at", "timestamp"),
        Field("updated_at", "timestamp"), Field("replies", "int"), Field("reopens", "int"),
        Field("assignee_stations", "int"), Field("group_stations", "int"),
        Field("initially_assigned_at", "timestamp"), Field("assigned_at", "timestamp"),
        Field("solved_at", "timestamp"), Field("latest_comment_added_at", "timestamp"),
        *(Field(f"{duration}_{hours}_minutes", "int", doc=f"{duration}_in_minutes.{hours}")
          for duration in DURATIONS for hours in ("calendar", "business")),
    ),
    extracted_with="tickets",
    doc="Zendesk ticket metrics (side-loaded metric sets): reply and resolution times in calendar and "
        "business minutes.",
)


class ZendeskSource(HttpSource):
    name = "zendesk"
    streams = (TICKETS, TICKET_METRICS)
    page_size = 1000  # the export's maximum per page

    def auth(self):
        from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

        # API tokens authenticate as `<agent e-mail>/token` with the token as the password
        return HttpBasicAuth(f"{self.connection.login}/token", self.connection.password.get_secret_value())

    def custom_field_ids(self) -> dict[str, int]:
        extra = self.connection.extra
        missing = [f"{name}_field" for name in CUSTOM_FIELDS if not extra.get(f"{name}_field")]
        if missing:
            raise MissingConnection(
                f"zendesk: connection {self.connection.conn_id} lacks extra {missing}: the ids of the ticket "
                f"custom fields holding the shop's order and customer ids (Admin Center > Objects and rules > "
                f"Tickets > Fields)")
        return {name: int(extra[f"{name}_field"]) for name in CUSTOM_FIELDS}

    # --- extract ---------------------------------------------------------------------------------
    def extract(self, stream: Stream, request: ExtractRequest, batch: BatchWriter) -> dict[str, Any]:
        fields = self.custom_field_ids()
        client = self.client(stream, batch)
        params: dict[str, Any] = {"per_page": self.page_size, "include": "metric_sets"}
        export_cursor = request.state.get("export_cursor")
        if export_cursor and not request.backfill:
            params["cursor"] = export_cursor
        else:
            params["start_time"] = int(request.start.timestamp()) if request.start else 0
        records, latest, last_cursor = 0, moment(request.state.get("cursor")), export_cursor
        paginator = ExportPaginator()
        for page in client.pages("/api/v2/incremental/tickets/cursor.json", params=params, paginator=paginator,
                                 data_selector="tickets", label="export"):
            records += len(page.items)
            last_cursor = page.payload.get("after_cursor") or last_cursor
            for ticket in page.items:
                value = moment(ticket.get("updated_at"))
                if value and (latest is None or value > latest):
                    latest = value
        batch.manifest.record_count = records
        batch.manifest.metadata = {"custom_fields": fields, "started_from": "cursor" if "cursor" in params else
                                   f"start_time={params['start_time']}"}
        state = {"export_cursor": last_cursor}
        if latest:
            state["cursor"] = latest.isoformat()
        return state

    # --- parse -----------------------------------------------------------------------------------
    def parse(self, stream: Stream, batch: LandingBatch) -> list[dict[str, Any]]:
        pages = [payload for _, payload in read_pages(stream, batch)]
        if stream.name == "tickets":
            fields = batch.manifest.metadata.get("custom_fields") or {}
            records = [self._ticket(ticket, fields) for page in pages for ticket in page.get("tickets", [])]
            return latest_versions(records, ("id",), version=lambda r: r.get("updated_at"))
        records = [self._metrics(stream, metric) for page in pages for metric in page.get("metric_sets", [])]
        return latest_versions(records, ("ticket_id",), version=lambda r: r.get("updated_at"))

    @staticmethod
    def _ticket(ticket: dict[str, Any], fields: dict[str, int]) -> dict[str, Any]:
        record = dict(ticket)
        via = ticket.get("via")
        if via is not None:
            record["via_channel"] = via.get("channel") if isinstance(via, dict) else None
        values = {item.get("id"): item.get("value") for item in ticket.get("custom_fields") or []}
        for name, field_id in fields.items():
            if field_id in values:
                record[name] = values[field_id]
        return record

    @staticmethod
    def _metrics(stream: Stream, metric: dict[str, Any]) -> dict[str, Any]:
        record = dict(metric)
        for duration in DURATIONS:
            minutes = metric.get(f"{duration}_in_minutes")
            if minutes is None and f"{duration}_in_minutes" not in metric:
                continue  # conform names the missing field
            if minutes is not None and not isinstance(minutes, dict):
                raise ContractError(stream, f"{duration}_in_minutes is {minutes!r}, not "
                                            f"{{calendar, business}}", field_name=f"{duration}_in_minutes")
            for hours in ("calendar", "business"):
                record[f"{duration}_{hours}_minutes"] = (minutes or {}).get(hours)
        return record


class ExportPaginator:
    """Zendesk's cursor export: follow `after_cursor` until `end_of_stream`, and send the cursor
    without the first request's `start_time`. dlt's JSONResponseCursorPaginator stops on a
    `has_more` flag, not on its negation, and keeps every earlier query parameter. This class
    speaks dlt's paginator protocol without subclassing it: importing dlt takes seconds, and
    Airflow imports every source module when it parses the DAGs."""

    def __init__(self) -> None:
        self.has_next_page, self._cursor = True, None

    def init_request(self, request) -> None:
        pass

    def update_state(self, response, data=None) -> None:
        payload = response.json()
        if not payload.get("end_of_stream") and not payload.get("after_cursor"):
            raise ValueError("the page says the stream goes on but gives no after_cursor")
        self._cursor = None if payload.get("end_of_stream") else payload["after_cursor"]
        self.has_next_page = self._cursor is not None

    def update_request(self, request) -> None:
        params = {k: v for k, v in (request.params or {}).items() if k != "start_time"}
        request.params = {**params, "cursor": self._cursor}
