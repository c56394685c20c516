"""The one HTTP client of Pulse's API connectors (HubSpot, Zendesk, Aircall, EasyPost): auth,
retries with exponential back-off that honour `Retry-After`, timeouts, paging, and landing every
page's body exactly as received.

It is dlt's REST client (`dlt.sources.helpers.rest_client.RESTClient` and its paginators) on
dlt's retrying session (`dlt.sources.helpers.requests.Client`: tenacity, exponential back-off,
`Retry-After`). What is added here, and why dlt does not do it:
- every successful response body goes to the landing batch before it is parsed, so a page that
  arrives cut short is kept as evidence and fails the batch (dlt would only raise);
- errors name the source, stream, request and status, and never carry a credential: every
  message passes through `redact()` (dlt's own errors show the URL and, optionally, the body);
- paging that does not advance (the API hands back the same cursor) stops with an error instead of
  looping forever.

The parse side of paged JSON APIs is here too: `read_pages()` reads the landed pages back and
`latest_versions()` collapses records that an API returned more than once in one batch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from requests import HTTPError, JSONDecodeError, PreparedRequest, RequestException, Response
from requests.auth import AuthBase
from requests.exceptions import ChunkedEncodingError, ConnectionError, Timeout

from pulse.landing import BatchWriter, LandingBatch
from pulse.settings import Settings
from pulse.sources.base import Source
from pulse.sources.streams import ROW_NUMBER, ContractError, Stream

log = logging.getLogger(__name__)

# what dlt's retrying session retries (dlt.sources.helpers.requests.retry.DEFAULT_RETRY_*)
RETRIED_STATUSES = (429, *range(500, 600))
RETRIED_ERRORS = (ConnectionError, Timeout, ChunkedEncodingError)
REDACTED = "***"


class SourceHttpError(RuntimeError):
    """A source API request failed for good (after its retries) or answered something unreadable."""


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


@dataclass(frozen=True)
class Page:
    """One page as received: `number` counts pages of the batch from 1, `file` is its landing name."""

    number: int
    file: str
    payload: Any
    items: list[Any]


class ApiClient:
    """An API client for one extraction (one stream, one landing batch)."""

    def __init__(self, stream: Stream, batch: BatchWriter, base_url: str, auth: AuthBase, *,
                 settings: Settings, secrets: Iterable[str] = (), headers: Mapping[str, str] | None = None):
        from dlt.common.configuration.specs import RuntimeConfiguration
        from dlt.sources.helpers.requests import Client
        from dlt.sources.helpers.rest_client import RESTClient

        self.stream, self.batch, self.settings = stream, batch, settings
        self.secrets = tuple(s for s in secrets if s)
        retrying = Client(
            request_timeout=settings.http_timeout_seconds,
            raise_for_status=False,  # the response hooks below raise, so the retry sees the status
            request_max_attempts=settings.http_max_attempts,
            request_backoff_factor=settings.http_backoff_seconds,
            request_max_retry_delay=settings.http_max_retry_delay_seconds,
            respect_retry_after_header=True,
        )
        self.rest = RESTClient(base_url=base_url, headers=dict(headers or {}), auth=auth,
                               session=retrying.session, config=RuntimeConfiguration())
        self.pages_landed = 0

    def pages(self, path: str, *, paginator: Any, data_selector: str, method: str = "GET",
              params: dict[str, Any] | None = None, json_body: dict[str, Any] | None = None,
              label: str = "page") -> Iterator[Page]:
        """Every page of one paged request, each landed before it is yielded. Stop iterating to
        stop paging (e.g. to split a window)."""
        received: list[tuple[int, str, Response]] = []
        hooks = {"response": [self._raise_for_status, lambda response, *a, **k: received.append(
            self._land(response, label, method))]}
        seen_requests: set[str] = set()
        iterator = self.rest.paginate(path, method=method, params=dict(params or {}), json=json_body,
                                      paginator=paginator, data_selector=data_selector, hooks=hooks)
        while True:
            try:
                data = next(iterator)
            except StopIteration:
                return
            except (JSONDecodeError, json.JSONDecodeError) as error:  # cut short, or not the API's JSON
                number, file, response = received[-1] if received else (0, "-", None)
                size = len(response.content) if response is not None else 0
                raise SourceHttpError(redact(
                    f"{self.stream.key}: {method} {path}: page {number} is not valid JSON ({size} bytes, landed "
                    f"as {file}); the response was cut short or is not the API's: {error}", self.secrets)) from None
            except RequestException as error:
                raise self._failure(method, path, error, len(received) + 1) from None
            except ValueError as error:  # a paginator could not read its position from the page
                raise SourceHttpError(redact(f"{self.stream.key}: {method} {path}: cannot page on after page "
                                             f"{len(received)}: {error}", self.secrets)) from None
            number, file, response = received[-1]
            yield Page(number, file, json.loads(response.content), list(data))
            if data.paginator.has_next_page:
                fingerprint = _fingerprint(data.request)
                if fingerprint in seen_requests:
                    raise SourceHttpError(f"{self.stream.key}: {method} {path}: paging did not advance after "
                                          f"page {number} (the API returned the same position again)")
                seen_requests.add(fingerprint)

    # --- hooks -----------------------------------------------------------------------------------
    def _raise_for_status(self, response: Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code < 400:
            return
        retry_after = response.headers.get("Retry-After")
        log.warning("%s: HTTP %s from %s %s%s", self.stream.key, response.status_code, response.request.method,
                    _path(response), f" (Retry-After: {retry_after} s)" if retry_after else "")
        raise HTTPError(f"HTTP {response.status_code}", response=response)

    def _land(self, response: Response, label: str, method: str) -> tuple[int, str, Response]:
        self.pages_landed += 1
        name = f"{label}-{self.pages_landed:05d}.json"
        request = response.request
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        self.batch.add_bytes(
            name, response.content, response.headers.get("Content-Type", "application/json").split(";")[0],
            method=method, url=redact(_path(response, with_query=True), self.secrets),
            request_body=redact(body, self.secrets) if body else None, status=response.status_code,
        )
        return self.pages_landed, name, response

    def _failure(self, method: str, path: str, error: RequestException, page: int) -> SourceHttpError:
        response = getattr(error, "response", None)
        if response is None:
            attempts = self.settings.http_max_attempts if isinstance(error, RETRIED_ERRORS) else 1
            message = (f"{self.stream.key}: {method} {path} failed after {attempts} attempt(s) (page {page}): "
                       f"{type(error).__name__}: {error}")
        else:
            attempts = self.settings.http_max_attempts if response.status_code in RETRIED_STATUSES else 1
            message = (f"{self.stream.key}: {method} {path} failed with HTTP {response.status_code} after "
                       f"{attempts} attempt(s) (page {page}): {response.text[:300]}")
        return SourceHttpError(redact(message, self.secrets))


def _path(response: Response, with_query: bool = False) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(response.request.url or response.url)
    return parts.path + (f"?{parts.query}" if with_query and parts.query else "")


def _fingerprint(request: Any) -> str:
    return json.dumps([request.url, request.params, request.json], sort_keys=True, default=str)


class HttpSource(Source):
    """A source read over HTTP. Subclasses say how they authenticate; the connection
    (`pulse_<source>`) gives the base URL and the credentials."""

    @abstractmethod
    def auth(self) -> AuthBase:
        """The request authenticator built from `self.connection`."""

    def secrets(self) -> list[str]:
        """Strings that must never reach a log or an error: the password and the header it makes."""
        secret = self.connection.password.get_secret_value()
        probe = PreparedRequest()
        probe.prepare(method="GET", url="http://localhost/", headers={})
        header = self.auth()(probe).headers.get("Authorization", "")
        return [s for s in (secret, header, header.partition(" ")[2]) if s]

    def client(self, stream: Stream, batch: BatchWriter, headers: Mapping[str, str] | None = None) -> ApiClient:
        return ApiClient(stream, batch, self.connection.base_url, self.auth(), settings=self.settings,
                         secrets=self.secrets(), headers=headers)


# --- the parse side --------------------------------------------------------------------------------
def read_pages(stream: Stream, batch: LandingBatch) -> Iterator[tuple[str, Any]]:
    """The landed JSON pages of `batch`, in the order they were received."""
    for landed in batch.manifest.files:
        if not landed.name.endswith(".json"):
            continue
        try:
            yield landed.name, json.loads(batch.read_bytes(landed.name))
        except ValueError as error:
            raise ContractError(stream, f"landed page {landed.name} of batch {batch.batch_id} is not JSON: {error}")\
                from None


def latest_versions(records: Iterable[dict[str, Any]], key: tuple[str, ...],
                    version: Callable[[dict[str, Any]], Any] | None = None) -> list[dict[str, Any]]:
    """One record per key: the latest version (highest `version`, ties and unreadable versions go to
    the one received last). APIs return a record again when it changes while they are being paged
    (Zendesk's export, a HubSpot window read again after a split). Each record keeps its position
    in the batch as `_row`; records without a key are all kept (validation quarantines them)."""
    kept: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = {}
    keyless: list[dict[str, Any]] = []
    for row, record in enumerate(records):
        record = {**record, ROW_NUMBER: row}
        identity = tuple(record.get(name) for name in key)
        if any(value is None for value in identity):
            keyless.append(record)
            continue
        rank = moment(version(record)) if version else None
        previous = kept.get(identity)
        if previous is None or previous[0] is None or rank is None or rank >= previous[0]:
            kept[identity] = (rank, record)
    return sorted([record for _, record in kept.values()] + keyless, key=lambda r: r[ROW_NUMBER])


def moment(value: Any) -> dt.datetime | None:
    """A source timestamp (ISO 8601 with an offset, or Unix seconds) as UTC; None if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, dt.UTC)
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else None
