"""Aircall's public API v1, as the sandbox serves it: `GET /v1/calls`.

Parameters: `from`/`to` (Unix seconds, the first and last creation moment, inclusive; a call is
created when it starts), `page` (from 1), `per_page` (at most 50), `order` (`asc`/`desc`). The
answer has `calls` and `meta` (count, total, current_page, per_page, next_page_link,
previous_page_link). A query reaches at most 10,000 calls: `meta.total` says how many match,
but no page past the 10,000th call is served (`result_cap`), so a client must narrow `from`/`to`.
Calls appear once they have ended. Times are Unix seconds. Auth: basic, `api_id:api_token`.
Docs: https://developer.aircall.io/api-references/#list-all-calls,
https://developer.aircall.io/api-references/#call,
https://support.aircall.io/en-gb/articles/34702023578397 (pagination and the 10,000 limit)
"""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from pydantic import SecretStr

from pulse.sandbox.servers.base import Request, Response, SandboxServer
from pulse.sources.connections import SourceConnection

MAX_PER_PAGE = 50
LINES = {1: ("Support", "+31 20 808 1000"), 2: ("Sales", "+31 20 808 2000")}
API = "https://api.aircall.io"


class AircallServer(SandboxServer):
    name = "aircall"
    result_cap = 10_000  # Aircall's; tests lower it to exercise window splitting

    def routes(self):
        return [("GET", r"/v1/calls", self._calls)]

    def default_credentials(self) -> dict[str, str]:
        return {"login": secrets.token_hex(16), "password": secrets.token_hex(16)}

    def source_connection(self) -> SourceConnection:
        return SourceConnection("pulse_aircall", "http", self.host, self.port, login=self.credentials["login"],
                                password=SecretStr(self.credentials["password"]))

    def authorized(self, request: Request) -> bool:
        pair = f"{self.credentials['login']}:{self.credentials['password']}"
        expected = "Basic " + base64.b64encode(pair.encode()).decode()
        return secrets.compare_digest(request.headers.get("authorization", ""), expected)

    def unauthorized(self, request: Request) -> Response:
        return Response(401, {"error": "Unauthorized", "troubleshoot": "Check your API ID and API token"})

    def _calls(self, request: Request, match: re.Match) -> Response:
        per_page, page = _int(request.arg("per_page"), 20), _int(request.arg("page"), 1)
        order = request.arg("order", "asc")
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1 or order not in {"asc", "desc"}:
            return _bad(f"per_page must be 1..{MAX_PER_PAGE}, page at least 1, order asc or desc")
        calls = self.view["calls"]
        started = (calls["started_at"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
        keep = pd.Series(True, index=calls.index)
        for name, compare in (("from", started.ge), ("to", started.le)):
            if request.arg(name) not in (None, ""):
                bound = _int(request.arg(name), None)
                if bound is None:
                    return _bad(f"{name} must be a Unix timestamp")
                keep &= compare(bound)
        matching = calls[keep.to_numpy()].assign(_started=started[keep.to_numpy()])
        matching = matching.sort_values(["_started", "call_id"], ascending=order == "asc", kind="stable")
        first = (page - 1) * per_page
        if first >= self.result_cap:
            return _bad(f"Pagination is limited to {self.result_cap} items: narrow the query with from and to")
        rows = matching.iloc[first:min(first + per_page, self.result_cap)]
        calls_out = [self._call(row) for row in rows.to_dict("records")]
        if calls_out and page == 1 and self.faults.malformed_record:  # the first record of the answer
            calls_out[0]["started_at"] = "yesterday morning"
        reachable = min(len(matching), self.result_cap)

        def link(number: int) -> str:
            query = {k: v[0] for k, v in request.query.items()} | {"page": number, "per_page": per_page}
            return f"{self.url}/v1/calls?{urlencode(query)}"

        meta = {
            "count": len(calls_out), "total": len(matching), "current_page": page, "per_page": per_page,
            "next_page_link": link(page + 1) if first + per_page < reachable else None,
            "previous_page_link": link(page - 1) if page > 1 else None,
        }
        return Response(200, {"calls": [self.faults.shape(call) for call in calls_out], "meta": meta})

    def _call(self, row: dict[str, Any]) -> dict[str, Any]:
        call_id = int(row["call_id"])
        started, answered, ended = (_epoch(row[name]) for name in ("started_at", "answered_at", "ended_at"))
        line_name, digits = LINES.get(int(row["number_id"]), ("Line", "+31 20 808 9000"))
        user = None
        if _present(row["user_id"]):
            user_id = int(row["user_id"])
            user = {"id": user_id, "direct_link": f"{API}/v1/users/{user_id}", "name": f"Agent {user_id}",
                    "email": f"agent{user_id}@example.com", "available": True, "availability_status": "available",
                    "created_at": "2019-01-07T10:00:00.000Z", "time_zone": "Europe/Amsterdam", "language": "nl-NL"}
        return {
            "id": call_id, "direct_link": f"{API}/v1/calls/{call_id}", "started_at": started,
            "answered_at": answered, "ended_at": ended, "duration": ended - started if ended is not None else None,
            "status": "done" if ended is not None else "answered", "direction": row["direction"],
            "raw_digits": "anonymous" if row["direction"] == "inbound" else "+31 6 0000 0000",
            "asset": None, "recording": None, "voicemail": None, "archived": False,
            "missed_call_reason": row["missed_call_reason"] if _present(row["missed_call_reason"]) else None,
            "cost": "0.0",
            "number": {"id": int(row["number_id"]), "direct_link": f"{API}/v1/numbers/{int(row['number_id'])}",
                       "name": line_name, "digits": digits, "country": "NL", "time_zone": "Europe/Amsterdam",
                       "open": True, "availability_status": "open", "is_ivr": False, "live_recording_activated": False,
                       "created_at": "2019-01-07T10:00:00.000Z"},
            "user": user, "contact": None, "assigned_to": None, "teams": [], "comments": [], "tags": [],
            "transferred_by": None, "transferred_to": None,
        }


def _present(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (not isinstance(value, str) and pd.isna(value))


def _epoch(value: Any) -> int | None:
    return int(pd.Timestamp(value).timestamp()) if _present(value) else None


def _int(value: Any, default: int | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return None if default is None else -1


def _bad(message: str) -> Response:
    return Response(400, {"error": "Bad Request", "troubleshoot": message})
