"""The official GA4 Data API client (`google-analytics-data`, REST transport) as one extraction uses
it: credentials from the `pulse_ga4` connection, retries, raw bodies for landing, the metadata
check before a run, and the property quota watched after every response.

Why some of this is written here:
- Retries go through google-api-core's own retry loop (`retry_target`), with a sleep generator
  that honours `Retry-After` (api-core's exponential generator ignores it) and a cap on attempts
  (api-core only caps total time). The policy is Pulse's one HTTP policy (`PULSE_HTTP_*`).
- Landing keeps each response body exactly as the API sent it, taken from the transport's
  `requests` session by a response hook. Re-serialising the parsed message
  (`type(response).to_json(response)`) would not be the received payload: the client parses with
  `ignore_unknown_fields=True`, so a field Google adds or renames would vanish from landing, and a
  body cut short could not be kept as evidence.
"""

from __future__ import annotations

import datetime as dt
import difflib
import email.utils
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import requests
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import BatchRunReportsRequest, GetMetadataRequest
from google.api_core import exceptions as google_errors
from google.api_core.client_options import ClientOptions
from google.api_core.retry import retry_target
from google.auth import exceptions as auth_errors
from google.protobuf import json_format

from pulse.settings import Settings
from pulse.sources.connections import SourceConnection
from pulse.sources.ga4_reports import ReportSpec

log = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
DAILY_QUOTAS = ("tokensPerDay",)
HOURLY_QUOTAS = ("tokensPerHour", "tokensPerProjectPerHour", "serverErrorsPerProjectPerHour",
                 "potentiallyThresholdedRequestsPerHour")


class GA4Error(RuntimeError):
    """A GA4 request failed for good, or answered something the connector cannot use."""


class GA4FieldError(GA4Error):
    """A dimension or metric a stream needs is not in the property's metadata."""


class GA4QuotaLow(GA4Error):
    """A property quota ran low: the extraction stops before using it up."""


def credentials_for(connection: SourceConnection):
    """A service-account key in `extra.keyfile_dict` (JSON) or `extra.key_path` (production), else an
    OAuth access token as the connection's password (the sandbox, or a token minted elsewhere)."""
    extra = connection.extra
    if extra.get("keyfile_dict") or extra.get("key_path"):
        from google.oauth2 import service_account

        if extra.get("keyfile_dict"):
            info = extra["keyfile_dict"]
            info = json.loads(info) if isinstance(info, str) else info
            return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
        return service_account.Credentials.from_service_account_file(extra["key_path"], scopes=[SCOPE])
    token = connection.password.get_secret_value()
    if not token:
        raise GA4Error(f"connection {connection.conn_id} has no credentials: put a service-account key in "
                       f"extra.keyfile_dict (or extra.key_path), or an access token as its password")
    from google.oauth2.credentials import Credentials

    return Credentials(token=token)


class _Delays:
    """The sleep generator of one call: `retry_target` asks for the next delay right after
    `on_error`, which sets it."""

    def __init__(self) -> None:
        self.next = 0.0

    def __iter__(self) -> _Delays:
        return self

    def __next__(self) -> float:
        return self.next


def retry_after(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("Retry-After") if response is not None and hasattr(response, "headers") else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        moment = email.utils.parsedate_to_datetime(value)
        return max((moment - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)


def _retryable(error: BaseException) -> bool:
    if isinstance(error, google_errors.GoogleAPICallError):
        return error.code in RETRIED_STATUSES
    return isinstance(error, requests.ConnectionError | requests.Timeout)


class GA4Api:
    """One property through the official client, for the extractions of one Source instance."""

    def __init__(self, connection: SourceConnection, settings: Settings, *,
                 sleep: Callable[[float], None] = time.sleep):
        self.property_id = str(connection.extra.get("property_id") or "").strip()
        if not self.property_id.isdigit():
            raise GA4Error(f"connection {connection.conn_id}: extra.property_id must be the numeric GA4 property id")
        self.property = f"properties/{self.property_id}"
        self.settings, self.sleep = settings, sleep
        options = ClientOptions(api_endpoint=connection.base_url) if connection.host else None
        self.client = BetaAnalyticsDataClient(credentials=credentials_for(connection), transport="rest",
                                              client_options=options)
        self._responses: list[requests.Response] = []
        # the transport's requests session (no public accessor): every response, retries included
        self.client.transport._session.hooks["response"].append(self._keep)
        self.requests_sent: Counter[str] = Counter()
        self.quota: dict[str, dict[str, int]] = {}
        self._quota_waits = 0
        self._metadata: tuple[frozenset[str], frozenset[str]] | None = None

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self._responses.append(response)
        method = response.request.path_url.split("?")[0].rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        self.requests_sent[method] += 1
        return response

    # --- calls -----------------------------------------------------------------------------------
    def call(self, what: str, method: Callable[..., Any], request: Any) -> tuple[Any, bytes]:
        """`method(request)` with retries; returns the parsed response and the body as received.
        A body that cannot be read raises `GA4Error` with the bytes in `error.body`."""
        self._responses.clear()
        delays, attempts = _Delays(), [0]
        limit = max(self.settings.http_max_attempts, 1)

        def on_error(error: BaseException) -> None:
            attempts[0] += 1
            if attempts[0] >= limit:
                raise GA4Error(f"{what}: failed after {attempts[0]} attempts: {_describe(error)}") from error
            waited = retry_after(error)
            delay = waited if waited is not None else self.settings.http_backoff_seconds * 2 ** (attempts[0] - 1)
            delays.next = min(delay, self.settings.http_max_retry_delay_seconds)
            log.warning("%s: %s; retry %d of %d in %.1f s%s", what, _describe(error), attempts[0], limit - 1,
                        delays.next, " (Retry-After)" if waited is not None else "")

        def attempt() -> Any:
            return method(request=request, retry=None, timeout=self.settings.http_timeout_seconds)

        try:
            response = retry_target(attempt, _retryable, delays, timeout=None, on_error=on_error)
        except GA4Error:
            raise
        except google_errors.GoogleAPICallError as error:
            raise GA4Error(f"{what}: {_describe(error)}") from error
        except auth_errors.RefreshError as error:
            raise GA4Error(f"{what}: GA4 refused the credentials (401 UNAUTHENTICATED) and they cannot be "
                           f"refreshed; check the pulse_ga4 connection") from error
        except (json_format.ParseError, ValueError) as error:  # a body that is cut short or not JSON
            received = self._responses[-1].content if self._responses else b""
            failure = GA4Error(f"{what}: the response could not be read ({type(error).__name__}: {error}); "
                               f"{len(received)} bytes received")
            failure.body = received
            raise failure from error
        return response, self._responses[-1].content

    def metadata(self) -> tuple[frozenset[str], frozenset[str]]:
        """The property's dimension and metric API names (custom definitions included), once per run."""
        if self._metadata is None:
            response, _ = self.call(f"GA4 property {self.property_id}: getMetadata", self.client.get_metadata,
                                    GetMetadataRequest(name=f"{self.property}/metadata"))
            self._metadata = (frozenset(d.api_name for d in response.dimensions),
                              frozenset(m.api_name for m in response.metrics))
        return self._metadata

    def check_fields(self, stream_key: str, specs: Iterable[ReportSpec]) -> None:
        dimensions, metrics = self.metadata()
        for spec in specs:
            for kind, names, known in (("dimension", (*spec.dimensions, *(["eventName"] if spec.event_name else [])),
                                        dimensions), ("metric", spec.metrics, metrics)):
                for name in names:
                    if name not in known:
                        close = difflib.get_close_matches(name, known, n=3)
                        raise GA4FieldError(
                            f"{stream_key}: GA4 property {self.property_id} has no {kind} {name!r} (checked "
                            f"against getMetadata before the run; report {spec.name})"
                            + (f"; similar: {close}" if close else "")
                        )

    def batch_run_reports(self, what: str, requests_: list[Any]) -> tuple[Any, bytes]:
        return self.call(what, self.client.batch_run_reports,
                         BatchRunReportsRequest(property=self.property, requests=requests_))

    # --- quota -----------------------------------------------------------------------------------
    def watch_quota(self, what: str, quota: Any) -> None:
        """After each report: stop when the daily tokens run low, wait when an hourly quota does.
        `ga4_quota_reserve` is the share of each quota a run leaves for everyone else."""
        self.quota = {name: {"consumed": int(status.consumed), "remaining": int(status.remaining)}
                      for name, status in _quota_statuses(quota).items()}
        reserve = self.settings.ga4_quota_reserve
        low = {name: status for name, status in self.quota.items()
               if status["consumed"] + status["remaining"] > 0
               and status["remaining"] < reserve * (status["consumed"] + status["remaining"])}
        for name in DAILY_QUOTAS:
            if name in low:
                raise GA4QuotaLow(
                    f"{what}: GA4 property {self.property_id} has {low[name]['remaining']} of "
                    f"{low[name]['remaining'] + low[name]['consumed']} {name} left (under the {reserve:.0%} reserve); "
                    f"stopping so dashboards and other clients keep their quota. The next run resumes from the "
                    f"saved cursor.")
        hourly = [name for name in HOURLY_QUOTAS if name in low]
        if not hourly:
            self._quota_waits = 0
            return
        self._quota_waits += 1
        if self._quota_waits > max(self.settings.http_max_attempts, 1):
            raise GA4QuotaLow(f"{what}: GA4 property {self.property_id} hourly quota {hourly} still low after "
                              f"{self._quota_waits - 1} waits of {self.settings.ga4_quota_wait_seconds:.0f} s; stopping")
        log.warning("%s: GA4 quota running low (%s); waiting %.1f s before the next request", what,
                    ", ".join(f"{name} {low[name]['remaining']} left" for name in hourly),
                    self.settings.ga4_quota_wait_seconds)
        self.sleep(self.settings.ga4_quota_wait_seconds)

    def quota_summary(self) -> str:
        return ", ".join(f"{name} {status['remaining']} left ({status['consumed']} used)"
                         for name, status in self.quota.items()) or "not reported"


def _quota_statuses(quota: Any) -> dict[str, Any]:
    fields = {"tokensPerDay": "tokens_per_day", "tokensPerHour": "tokens_per_hour",
              "concurrentRequests": "concurrent_requests",
              "serverErrorsPerProjectPerHour": "server_errors_per_project_per_hour",
              "potentiallyThresholdedRequestsPerHour": "potentially_thresholded_requests_per_hour",
              "tokensPerProjectPerHour": "tokens_per_project_per_hour"}
    return {name: getattr(quota, attribute) for name, attribute in fields.items() if attribute in quota}


def _describe(error: BaseException) -> str:
    """HTTP status, Google's status name and message, without the request URL (credentials travel in
    a header that no error message includes)."""
    if isinstance(error, google_errors.GoogleAPICallError):
        message = error.message.split(": ", 1)[-1] if ": " in error.message else error.message
        return f"{error.code} {_status_name(error)} {message}".replace("  ", " ").strip()
    return f"{type(error).__name__}: {error}"


def _status_name(error: google_errors.GoogleAPICallError) -> str:
    """RESOURCE_EXHAUSTED, INVALID_ARGUMENT, ... from the error body (the REST transport raises
    HTTP exception classes, which carry no gRPC status)."""
    try:
        return str(error.response.json()["error"]["status"])
    except (AttributeError, KeyError, TypeError, ValueError):
        status = getattr(error, "grpc_status_code", None)
        return status.name if status is not None else ""
