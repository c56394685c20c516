"""EasyPost's trackers, as the sandbox serves them: `GET /v2/trackers`.

One tracker per shipment of a carrier that reports through EasyPost (`feed = easypost` in the
world), created when the parcel ships. The list is newest first; parameters: `start_datetime`
and `end_datetime` (creation time: from, inclusive, to, exclusive; when one is missing the
window is the month before `end_datetime` or after `start_datetime`, when both are, the last
month), `page_size` (at most 100), `before_id` (the page after that tracker). The answer is
`{"trackers": [...], "has_more": bool}`. A tracker's `est_delivery_date` is the carrier's latest
estimate (midnight UTC of the estimated day) and moves when a parcel is delayed;
`tracking_details` are its scans so far. Auth: basic, the API key as user, no password.
Docs: https://docs.easypost.com/docs/trackers (the Tracker object, retrieve a list of Trackers)
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any

import pandas as pd
from pydantic import SecretStr

from pulse.sandbox.servers.base import Request, Response, SandboxServer
from pulse.sources.connections import SourceConnection

MAX_PAGE_SIZE = 100
MONTH = pd.DateOffset(months=1)
STATUS_DETAIL = {"pre_transit": "label_created", "in_transit": "arrived_at_facility",
                 "out_for_delivery": "out_for_delivery", "delivered": "arrived_at_destination",
                 "failure": "delivery_exception", "return_to_sender": "return"}
CITIES = ("Amsterdam", "Utrecht", "Rotterdam", "Eindhoven", "Zwolle")


def tracker_id(tracking_code: str) -> str:
    return "trk_" + hashlib.sha1(tracking_code.encode()).hexdigest()[:32]


class EasyPostServer(SandboxServer):
    name = "easypost"

    def routes(self):
        return [("GET", r"/v2/trackers", self._trackers)]

    def default_credentials(self) -> dict[str, str]:
        return {"login": "", "password": f"EZAK{secrets.token_hex(24)}"}

    def source_connection(self) -> SourceConnection:
        return SourceConnection("pulse_easypost", "http", self.host, self.port,
                                password=SecretStr(self.credentials["password"]))

    def authorized(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.credentials['password']}:".encode()).decode()
        return secrets.compare_digest(request.headers.get("authorization", ""), expected)

    def unauthorized(self, request: Request) -> Response:
        return Response(401, {"error": {"code": "APIKEY.REQUIRED", "message": "An API key is required for this "
                                        "request: send it as the HTTP basic auth user name.", "errors": []}})

    def _trackers(self, request: Request, match: re.Match) -> Response:
        page_size = _int(request.arg("page_size"), 20)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            return _invalid(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        try:
            start, end = (_moment(request.arg(name)) for name in ("start_datetime", "end_datetime"))
        except ValueError as error:
            return _invalid(f"start_datetime/end_datetime: {error}")
        clock = pd.Timestamp(self.clock)
        if start is None and end is None:
            end = clock.tz_convert("UTC").normalize() + pd.Timedelta(days=1)  # the end of the current day
        if start is None:
            start = end - MONTH
        elif end is None:
            end = start + MONTH
        trackers = self._all()
        chosen = trackers[((trackers["created_at"] >= start) & (trackers["created_at"] < end)).to_numpy()]
        if request.arg("before_id"):
            position = chosen.index[chosen["id"] == request.arg("before_id")]
            if not len(position):
                return _invalid(f"before_id {request.arg('before_id')} is not a tracker of this list")
            chosen = chosen.loc[position[0]:].iloc[1:]
        page = chosen.iloc[:page_size]
        records = [self._tracker(row, self._scans(row["tracking_code"])) for row in page.to_dict("records")]
        if records and not request.arg("before_id") and self.faults.malformed_record:  # the list's first record
            records[0]["created_at"] = "last tuesday"
        return Response(200, {"trackers": [self.faults.shape(record) for record in records],
                              "has_more": len(chosen) > page_size})

    def prepare(self) -> None:
        self._cached()

    def _all(self) -> pd.DataFrame:
        """The view's trackers, newest first (cached until the clock moves)."""
        return self._cached()[1]

    def _scans(self, tracking_code: str) -> list[dict[str, Any]]:
        """A tracker's scans in time order; only a page's trackers are turned into records (at
        scale 10 doing it for every tracker up front took longer than a client waits)."""
        _, _, events, positions = self._cached()
        found = positions.get(tracking_code)
        return [] if found is None else events.iloc[found].to_dict("records")

    def _cached(self) -> tuple[Any, pd.DataFrame, pd.DataFrame, dict[str, Any]]:  # (view, trackers, events, positions)
        view = self.view
        cache = getattr(self, "_tracker_cache", None)
        if cache is None or cache[0] is not view:
            shipments = view["shipments"]
            frame = shipments[(shipments["feed"] == "easypost").to_numpy()].copy()
            frame["id"] = frame["tracking_code"].map(tracker_id)
            frame["created_at"] = frame["shipped_at"]
            frame = frame.sort_values(["created_at", "id"], ascending=False, kind="stable").reset_index(drop=True)
            events = view["shipment_events"].sort_values(["occurred_at", "event_id"], kind="stable") \
                .reset_index(drop=True)
            cache = (view, frame, events, events.groupby("tracking_code", sort=False).indices)
            self._tracker_cache = cache
        return cache

    def _tracker(self, row: dict[str, Any], scans: list[dict[str, Any]]) -> dict[str, Any]:
        details = [{
            "object": "TrackingDetail", "message": scan["message"], "description": "", "status": scan["status"],
            "status_detail": STATUS_DETAIL.get(scan["status"], "unknown"), "datetime": _time(scan["occurred_at"]),
            "source": row["carrier"], "carrier_code": "",
            "tracking_location": {"object": "TrackingLocation", "city": CITIES[int(scan["event_id"]) % len(CITIES)],
                                  "state": None, "country": "NL", "zip": None},
        } for scan in scans]
        status = scans[-1]["status"] if scans else "pre_transit"
        delivered = _present(row["delivered_at"])
        estimate = row["est_delivery_date"]
        shipment = "shp_" + row["id"][4:]
        return {
            "id": row["id"], "object": "Tracker", "mode": "production", "tracking_code": row["tracking_code"],
            "status": status, "status_detail": STATUS_DETAIL.get(status, "unknown"),
            "signed_by": "Receptie" if delivered else None, "weight": None,
            "est_delivery_date": f"{pd.Timestamp(estimate).date().isoformat()}T00:00:00Z" if _present(estimate) else None,
            "shipment_id": shipment, "carrier": row["carrier"], "tracking_details": details,
            "carrier_detail": {"object": "CarrierDetail", "service": "Standard", "container_type": None,
                               "est_delivery_date_local": None, "est_delivery_time_local": None,
                               "origin_location": "ZWOLLE NL", "destination_location": None,
                               "guaranteed_delivery_date": None, "alternate_identifier": None,
                               "initial_delivery_attempt": _time(row["delivered_at"]) if delivered else None},
            "finalized": status in {"delivered", "return_to_sender"}, "is_return": status == "return_to_sender",
            "public_url": f"https://track.easypost.com/{row['id']}", "fees": [],
            "created_at": _time(row["created_at"]), "updated_at": _time(row["updated_at"]),
        }


def _moment(value: str | None) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    moment = pd.Timestamp(value)
    if moment.tzinfo is None:  # EasyPost reads a time without an offset as UTC
        moment = moment.tz_localize("UTC")
    return moment.tz_convert("UTC")


def _present(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (not isinstance(value, str) and pd.isna(value))


def _time(value: Any) -> str:
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return -1


def _invalid(message: str) -> Response:
    return Response(422, {"error": {"code": "PARAMETER.INVALID", "message": message, "errors": []}})
