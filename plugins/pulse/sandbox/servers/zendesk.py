"""Zendesk Support's cursor-based incremental ticket export, as the sandbox serves it.

`GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>|cursor=<c>&per_page=&include=metric_sets`
returns the tickets changed since the start time or cursor, oldest change first, `per_page` (at
most 1000) at a time, with `after_cursor`/`after_url` to go on and `end_of_stream` once it has
caught up. A ticket that changes again later is exported again, further on in the stream. Like
Zendesk, changes of the last minute are held back until they are a minute old. With
`include=metric_sets` each page side-loads the ticket metrics of its tickets; durations come in
calendar and business minutes (the business schedule: the company's office hours and holidays).

Order and customer ids are ticket custom fields (`ORDER_ID_FIELD`, `CUSTOMER_ID_FIELD`); the
connection's extra names them, as an admin would look them up in Zendesk.
Auth: basic, `<agent e-mail>/token:<API token>`.
Docs: https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/,
https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/,
https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_metrics/
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
from typing import Any

import numpy as np
import pandas as pd
from pydantic import SecretStr

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.servers.base import Request, Response, SandboxServer
from pulse.sources.connections import SourceConnection

ORDER_ID_FIELD = 360001234501
CUSTOMER_ID_FIELD = 360001234502
GROUP_ID = 360000012345
AGENT_BASE = 361000000000
REQUESTER_BASE = 362000000000
HELD_BACK = pd.Timedelta(minutes=1)
MAX_PER_PAGE = 1000
EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"


class ZendeskServer(SandboxServer):
    name = "zendesk"

    def routes(self):
        return [("GET", re.escape(EXPORT_PATH), self._export)]

    def default_credentials(self) -> dict[str, str]:
        return {"login": "pulse-agent@example.com", "password": secrets.token_urlsafe(30)}

    def source_connection(self) -> SourceConnection:
        return SourceConnection("pulse_zendesk", "http", self.host, self.port, login=self.credentials["login"],
                                password=SecretStr(self.credentials["password"]),
                                extra={"order_id_field": ORDER_ID_FIELD, "customer_id_field": CUSTOMER_ID_FIELD})

    def authorized(self, request: Request) -> bool:
        token = f"{self.credentials['login']}/token:{self.credentials['password']}"
        expected = "Basic " + base64.b64encode(token.encode()).decode()
        return secrets.compare_digest(request.headers.get("authorization", ""), expected)

    def unauthorized(self, request: Request) -> Response:
        return Response(401, {"error": "Couldn't authenticate you"})

    # --- the export ------------------------------------------------------------------------------
    def _export(self, request: Request, match: re.Match) -> Response:
        per_page = _int(request.arg("per_page"), MAX_PER_PAGE)
        if not 1 <= per_page <= MAX_PER_PAGE:
            return _invalid(f"per_page must be between 1 and {MAX_PER_PAGE}")
        tickets = self._tickets()
        visible = tickets[tickets["updated_at"] <= pd.Timestamp(self.clock) - HELD_BACK]
        if request.arg("cursor"):
            try:
                after = _decode(request.arg("cursor"))
            except ValueError:
                return _invalid("cursor is not a cursor this endpoint issued")
            newer = (visible["_position"].map(lambda p: p > after))
        elif request.arg("start_time") is not None:
            start = _int(request.arg("start_time"), -1)
            if start < 0:
                return _invalid("start_time must be a Unix epoch time in seconds")
            after = (start - 1, 2**62)  # every change at or after start_time
            newer = visible["_epoch"] >= start
        else:
            return _invalid("start_time or cursor is required")
        remaining = visible[newer.to_numpy(dtype=bool)]
        page = remaining.iloc[:per_page]
        position = page["_position"].iloc[-1] if len(page) else after
        cursor = _encode(position)
        include = [part for value in request.query.get("include", []) for part in value.split(",")]
        records = [self._ticket(row) for row in page.to_dict("records")]
        if records and not request.arg("cursor") and self.faults.malformed_record:  # the export's first record
            records[0]["created_at"] = "2026-02-30T25:00:00Z"
        query = f"cursor={cursor}" + (f"&include={','.join(include)}" if include else "")
        body: dict[str, Any] = {
            "tickets": [self.faults.shape(record) for record in records],
            "after_url": f"{self.url}{EXPORT_PATH}?{query}", "after_cursor": cursor,
            "before_url": None, "before_cursor": None,
            "end_of_stream": len(remaining) <= per_page,
        }
        if "metric_sets" in include:
            body["metric_sets"] = [self._metric_set(row) for row in page.to_dict("records")]
        return Response(200, body)

    def _tickets(self) -> pd.DataFrame:
        """The view's tickets in export order, with their metrics (cached until the clock moves)."""
        view = self.view
        cache = getattr(self, "_ticket_cache", None)
        if cache is None or cache[0] is not view:
            frame = view["tickets"].copy()
            frame["_epoch"] = (frame["updated_at"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
            frame = frame.sort_values(["_epoch", "ticket_id"], kind="stable").reset_index(drop=True)
            frame["_position"] = list(zip(frame["_epoch"].astype(int), frame["ticket_id"].astype(int), strict=True))
            calendar = _calendar(self.world.meta.business_timezone, self.world.meta.office_hours)
            for name, end in (("reply", "first_reply_at"), ("resolution", "solved_at")):
                frame[f"_{name}_calendar"] = _minutes((frame[end] - frame["created_at"]).dt.total_seconds())
                frame[f"_{name}_business"] = _minutes(calendar.business_seconds_between(frame["created_at"], frame[end]))
            cache = (view, frame)
            self._ticket_cache = cache
        return cache[1]

    def _ticket(self, row: dict[str, Any]) -> dict[str, Any]:
        ticket_id = int(row["ticket_id"])
        tags = str(row["tags"]).split() if _present(row["tags"]) else []
        replied = _present(row["first_reply_at"])
        fields = [{"id": ORDER_ID_FIELD, "value": _id_text(row["order_id"])},
                  {"id": CUSTOMER_ID_FIELD, "value": _id_text(row["customer_id"])}]
        subject = (tags[0].replace("_", " ").capitalize() if tags else "Question") + f" (ticket {ticket_id})"
        return {
            "url": f"{self.url}/api/v2/tickets/{ticket_id}.json", "id": ticket_id, "external_id": None,
            "via": {"channel": row["channel"], "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": _time(row["created_at"]), "updated_at": _time(row["updated_at"]),
            "generated_timestamp": int(row["_epoch"]), "type": row["type"], "subject": subject, "raw_subject": subject,
            "description": subject, "priority": row["priority"], "status": row["status"], "recipient": None,
            "requester_id": REQUESTER_BASE + int(row["customer_id"]) if _present(row["customer_id"]) else None,
            "submitter_id": REQUESTER_BASE + int(row["customer_id"]) if _present(row["customer_id"]) else None,
            "assignee_id": AGENT_BASE + ticket_id % 7 if replied else None, "organization_id": None,
            "group_id": GROUP_ID, "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [],
            "forum_topic_id": None, "problem_id": None, "has_incidents": False, "is_public": True, "due_at": None,
            "tags": tags, "custom_fields": fields, "fields": fields, "satisfaction_rating": None,
            "sharing_agreement_ids": [], "custom_status_id": None, "followup_ids": [], "ticket_form_id": None,
            "brand_id": None, "allow_channelback": False, "allow_attachments": True, "from_messaging_channel": False,
        }

    def _metric_set(self, row: dict[str, Any]) -> dict[str, Any]:
        ticket_id = int(row["ticket_id"])
        replied, solved = row["first_reply_at"], row["solved_at"]
        assigned = _time(replied) if _present(replied) else None
        resolution = {"calendar": row["_resolution_calendar"], "business": row["_resolution_business"]}
        resolution = {key: (int(value) if _present(value) else None) for key, value in resolution.items()}
        reply = {key: (int(row[f"_reply_{key}"]) if _present(row[f"_reply_{key}"]) else None)
                 for key in ("calendar", "business")}
        return {
            "url": f"{self.url}/api/v2/ticket_metrics/{900_000_000 + ticket_id}.json", "id": 900_000_000 + ticket_id,
            "ticket_id": ticket_id, "created_at": _time(row["created_at"]), "updated_at": _time(row["updated_at"]),
            "group_stations": 1, "assignee_stations": 1 if assigned else 0,
            "reopens": int(row["reopens"]), "replies": int(row["replies"]),
            "assignee_updated_at": assigned, "requester_updated_at": _time(row["created_at"]),
            "status_updated_at": _time(row["updated_at"]), "initially_assigned_at": assigned, "assigned_at": assigned,
            "solved_at": _time(solved) if _present(solved) else None,
            "latest_comment_added_at": _time(max(v for v in (row["created_at"], replied, solved) if _present(v))),
            "reply_time_in_minutes": reply,
            "first_resolution_time_in_minutes": resolution, "full_resolution_time_in_minutes": resolution,
            "agent_wait_time_in_minutes": {"calendar": None, "business": None},
            "requester_wait_time_in_minutes": resolution,
            "on_hold_time_in_minutes": {"calendar": 0, "business": 0},
            "custom_status_updated_at": _time(row["updated_at"]),
        }


def _calendar(timezone: str, office_hours: str) -> BusinessCalendar:
    """Zendesk's business schedule: the company's office hours, on the configured office days and holidays."""
    opening, closing = (dt.time.fromisoformat(part) for part in office_hours.split("-"))
    base = BusinessCalendar.from_settings()
    return BusinessCalendar(timezone, opening, closing, base.weekdays, base.holiday_country, base.extra_holidays)


def _minutes(seconds: pd.Series) -> pd.Series:
    """Whole minutes elapsed, as Zendesk reports them."""
    return np.floor(seconds.astype("float64") / 60)


def _encode(position: tuple[int, int]) -> str:
    """Zendesk's cursors are opaque base64 text; this one holds (updated epoch, ticket id)."""
    return base64.urlsafe_b64encode(f"{position[0]}.0||{position[1]}|".encode()).decode()


def _decode(cursor: str) -> tuple[int, int]:
    try:
        epoch, _, rest = base64.urlsafe_b64decode(cursor.encode()).decode().partition(".0||")
        return int(epoch), int(rest.rstrip("|"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(cursor) from error


def _invalid(message: str) -> Response:
    return Response(400, {"error": "InvalidPaginationParameter", "description": message})


def _present(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (not isinstance(value, str) and pd.isna(value))


def _id_text(value: Any) -> str | None:
    return str(int(value)) if _present(value) else None


def _time(value: Any) -> str:
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return -1
