"""Sandbox Google Analytics Data API v1beta: `runReport`, `batchRunReports` and `getMetadata` over
REST, computed from the world as GA4 would have seen it at the server's clock (ga4_facts), so the
official `google-analytics-data` client reads it as it reads Google's API:

    BetaAnalyticsDataClient(credentials=google.oauth2.credentials.Credentials(token=...),
                            transport="rest", client_options=ClientOptions(api_endpoint=server.url))

Authentication is an OAuth bearer token (the demo's and tests' stand-in for the access token a
service account obtains). Errors use Google's JSON error shape with gRPC status names.

Extra control endpoint (loopback, no credentials): `POST /_sandbox/ga4` with any of
`{"quota": {<QuotaLimits fields>}, "cardinality_limit": 500, "google_signals": false, "min_users": 10}`;
`GET /_sandbox/ga4` shows them with the quota's state.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import asdict, replace
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from pulse.sandbox.servers.base import Request, Response, SandboxServer
from pulse.sandbox.servers.ga4_facts import Facts, build_facts
from pulse.sandbox.servers.ga4_quota import EXHAUSTED_MESSAGES, PropertyQuota, QuotaLimits
from pulse.sandbox.servers.ga4_reports import (
    ApiError,
    Report,
    Thresholds,
    compute_report,
    invalid,
    paging,
    report_key,
)
from pulse.sandbox.servers.ga4_schema import MAX_BATCH_REQUESTS, metadata
from pulse.sandbox.world_io import World
from pulse.sources.connections import SourceConnection

SANDBOX_PROPERTY_ID = "400000001"
# GA4 reads data of at most this many values of a high-cardinality dimension per day (the rest is "(other)")
DEFAULT_CARDINALITY_LIMIT = 500


class GA4Server(SandboxServer):
    name = "ga4"

    def __init__(self, world: World, *, host: str = "127.0.0.1", port: int = 0,
                 credentials: dict[str, str] | None = None, property_id: str = SANDBOX_PROPERTY_ID):
        super().__init__(world, host=host, port=port, credentials=credentials)
        self.property_id = property_id
        self.quota = PropertyQuota()
        self.cardinality_limit = DEFAULT_CARDINALITY_LIMIT
        self.thresholds = Thresholds()
        self._facts: dict[tuple[dt.datetime, int], Facts] = {}
        self._computed: dict[tuple, Report] = {}
        self._facts_lock = threading.Lock()

    # --- credentials -----------------------------------------------------------------------------
    def default_credentials(self) -> dict[str, str]:
        return {"login": "pulse-ga4", "password": secrets.token_urlsafe(24)}

    def authorized(self, request: Request) -> bool:
        expected = f"Bearer {self.credentials['password']}"
        return secrets.compare_digest(request.headers.get("authorization", ""), expected)

    def source_connection(self) -> SourceConnection:
        """The bearer token travels as the connection's password; production connections carry a
        service-account key in `extra.keyfile_dict` instead."""
        return SourceConnection(
            conn_id="pulse_ga4", conn_type="google_analytics_data", host=self.host, port=self.port,
            login=self.credentials["login"], password=SecretStr(self.credentials["password"]),
            extra={"property_id": self.property_id},
        )

    def unauthorized(self, request: Request) -> Response:
        error = ApiError(401, "UNAUTHENTICATED",
                         "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                         "cookie or other valid authentication credential.")
        return Response(401, error.body(), {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})

    def not_found(self, request: Request) -> Response:
        error = ApiError(404, "NOT_FOUND", f"The requested URL {request.path} was not found on this server.")
        return Response(404, error.body())

    # --- routes ----------------------------------------------------------------------------------
    def routes(self):
        prefix = r"/v1beta/properties/(?P<property>\d+)"
        return [
            ("POST", prefix + r":runReport", self._run_report),
            ("POST", prefix + r":batchRunReports", self._batch_run_reports),
            ("GET", prefix + r"/metadata", self._metadata),
        ]

    def handle(self, request: Request) -> Response:
        try:
            response = super().handle(request)
        except Exception as error:  # a sandbox bug: answer like Google's 500, with the reason
            return Response(500, ApiError(500, "INTERNAL", f"sandbox error: {error!r}").body())
        if request.path.startswith("/_sandbox/"):
            return response
        # the base's fault switches answer in a generic shape; GA4 clients expect Google's
        generic = isinstance(response.body, dict) and response.body.get("status") == "error"
        if response.status == 429 and generic:
            error = ApiError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
            return Response(429, error.body(), response.headers)
        if response.status == 500 and generic:
            self.quota.server_error()
            error = ApiError(500, "INTERNAL", "Internal error encountered.")
            return Response(500, error.body(), response.headers)
        return response

    def _answer(self, match, work, *, universal: bool = False) -> Response:
        """`work(match)` for our property; property 0 is GA4's universal metadata."""
        allowed = {self.property_id, "0"} if universal else {self.property_id}
        try:
            if match.group("property") not in allowed:
                raise ApiError(403, "PERMISSION_DENIED", "User does not have sufficient permissions for this property. "
                               "To learn more about Property ID, see https://developers.google.com/analytics/"
                               "devguides/reporting/data/v1/property-id.")
            return Response(200, work(match))
        except ApiError as error:
            return Response(error.code, error.body(), error.headers)

    def _run_report(self, request: Request, match) -> Response:
        return self._answer(match, lambda _: self._reports([self._body(request)])[0])

    def _batch_run_reports(self, request: Request, match) -> Response:
        def work(_):
            requests = self._body(request).get("requests") or []
            if not requests:
                raise invalid("batchRunReports needs at least one request.")
            if len(requests) > MAX_BATCH_REQUESTS:
                raise invalid(f"Requests are limited to {MAX_BATCH_REQUESTS} in a batch.")
            for item in requests:
                if item.get("property") and item["property"] != f"properties/{self.property_id}":
                    raise invalid("Every request of a batch must be for the batch's property.")
            return {"reports": self._reports(requests), "kind": "analyticsData#batchRunReports"}

        return self._answer(match, work)

    def _metadata_body(self, match) -> dict[str, Any]:
        return metadata(match.group("property"))

    def _metadata(self, request: Request, match) -> Response:
        return self._answer(match, self._metadata_body, universal=True)

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError as error:
            raise invalid(f"Invalid JSON payload received. {error}") from error
        if not isinstance(body, dict):
            raise invalid("Invalid JSON payload received: expected an object.")
        return body

    # --- reports ---------------------------------------------------------------------------------
    def _reports(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One or a batch of reports, admitted and charged against the quota together."""
        blocked = self.quota.admit()
        if blocked:
            raise ApiError(429, "RESOURCE_EXHAUSTED", EXHAUSTED_MESSAGES[blocked])
        try:
            reports = []
            for body in bodies:
                offset, limit = paging(body)
                report = self._compute(body)
                self.quota.charge(self.quota.tokens_for(report.rows_scanned), thresholded=report.thresholded)
                reports.append(self._apply_faults(report.page(offset, limit)))
            for body, report in zip(bodies, reports, strict=True):
                if body.get("returnPropertyQuota") in (True, "true"):
                    report["propertyQuota"] = self.quota.status()
            return reports
        finally:
            self.quota.finish()

    def _compute(self, body: dict[str, Any]) -> Report:
        """A report computed once per clock and request, whatever page is asked for."""
        facts = self.facts()
        key = (self.clock, self.cardinality_limit, self.thresholds, report_key(body))
        with self._facts_lock:
            cached = self._computed.get(key)
        if cached is None:
            today = self.clock.astimezone(ZoneInfo(facts.time_zone)).date()
            cached = compute_report(facts, body, today=today, currency=self.world.meta.currency,
                                    thresholds=self.thresholds)
            with self._facts_lock:
                if len(self._computed) >= 64:
                    self._computed.pop(next(iter(self._computed)))
                self._computed[key] = cached
        return cached

    def prepare(self) -> None:
        super().prepare()
        self.facts()

    def facts(self) -> Facts:
        """What GA4 has processed by the clock, computed once per clock."""
        key = (self.clock, self.cardinality_limit)
        with self._facts_lock:
            if key not in self._facts:
                if len(self._facts) >= 4:
                    self._facts.pop(next(iter(self._facts)))
                self._facts[key] = build_facts(self.world, self.clock, cardinality_limit=self.cardinality_limit)
            return self._facts[key]

    def _apply_faults(self, report: dict[str, Any]) -> dict[str, Any]:
        """Renamed or dropped fields act on the column headers (and the rows' values with them);
        a malformed record is a metric value that is not a number in the first row."""
        faults = self.faults
        rows = report.get("rows", [])
        for headers, values in (("dimensionHeaders", "dimensionValues"), ("metricHeaders", "metricValues")):
            positions = {header["name"]: index for index, header in enumerate(report[headers])}
            shaped = faults.shape(dict(positions))
            if shaped == positions and list(shaped) == list(positions):
                continue
            report[headers] = [{**report[headers][index], "name": name} for name, index in shaped.items()]
            for row in rows:
                row[values] = [row[values][index] for index in shaped.values()]
        if faults.malformed_record and rows and rows[0]["metricValues"]:
            rows[0]["metricValues"][0]["value"] = "12x"
        return report

    # --- control ---------------------------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        if request.path != "/_sandbox/ga4":
            return super()._control(request)
        if request.method == "POST":
            settings = request.json()
            with self._lock:
                if "quota" in settings:
                    self.quota = PropertyQuota(replace(QuotaLimits(), **settings["quota"]))
                if "cardinality_limit" in settings:
                    self.cardinality_limit = int(settings["cardinality_limit"])
                if "google_signals" in settings or "min_users" in settings:
                    self.thresholds = Thresholds(bool(settings.get("google_signals", self.thresholds.google_signals)),
                                                 int(settings.get("min_users", self.thresholds.min_users)))
        return Response(200, {"property_id": self.property_id, "quota_limits": asdict(self.quota.limits),
                              "property_quota": self.quota.status(), "cardinality_limit": self.cardinality_limit,
                              "thresholds": asdict(self.thresholds)})
