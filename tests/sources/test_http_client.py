"""The shared HTTP client on a toy paged API: pages landed as received, retries and their limits,
Retry-After, timeouts, unreadable pages, paging that does not advance, and secrets kept out of
errors and logs. The four API connectors are run through the same faults in test_http_faults.py."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from pydantic import SecretStr

from pulse.landing import BatchWriter, open_batch
from pulse.sandbox.servers.base import Response, SandboxServer
from pulse.sandbox.world_io import World
from pulse.settings import Settings
from pulse.sources.connections import SourceConnection
from pulse.sources.http import HttpSource, SourceHttpError, latest_versions
from pulse.sources.streams import Field, Stream

ITEMS = Stream("toy", "items", ("id",), (Field("id", "int"), Field("updated_at", "timestamp")))
TOKEN = "s3cret-t0ken-for-the-http-tests"
PAGES = {None: ([1, 2], "c2"), "c2": ([3, 4], "c3"), "c3": ([5], None)}


class PagedServer(SandboxServer):
    """Items in pages of two, next page by `cursor`; `stuck` hands back the same cursor forever."""

    name = "toy"
    stuck = False

    def routes(self):
        return [("GET", r"/v1/items", self._items)]

    def default_credentials(self):
        return {"password": TOKEN}

    def authorized(self, request):
        return request.headers.get("authorization") == f"Bearer {self.credentials['password']}"

    def _items(self, request, match):
        ids, after = PAGES[None] if self.stuck else PAGES[request.arg("cursor")]
        return Response(200, {"items": [{"id": i, "updated_at": f"2026-03-0{i}T10:00:00Z"} for i in ids],
                              "next": "c2" if self.stuck else after})


class ToyHttpSource(HttpSource):
    name = "toy"
    streams = (ITEMS,)

    def auth(self):
        from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

        return BearerTokenAuth(token=self.connection.password.get_secret_value())

    def extract(self, stream, request, batch):
        from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

        pages = self.client(stream, batch).pages(
            "/v1/items", paginator=JSONResponseCursorPaginator(cursor_path="next", cursor_param="cursor"),
            data_selector="items")
        return {"items": [item["id"] for page in pages for item in page.items]}

    def parse(self, stream, batch):
        raise NotImplementedError


@pytest.fixture
def server():
    with PagedServer(World.from_tables({})) as running:
        yield running


def source(server, token=TOKEN, **settings):
    connection = SourceConnection("pulse_toy", "http", server.host, server.port, password=SecretStr(token))
    values = {"http_backoff_seconds": 0.01, "http_max_attempts": 3, "http_timeout_seconds": 5, **settings}
    return ToyHttpSource(connection=connection, settings=Settings(**values))


def extract(source_, tmp_path):
    writer = BatchWriter("toy", "items", {}, root=tmp_path)
    with writer:
        result = source_.extract(ITEMS, None, writer)
    return result, open_batch(writer.batch_id, root=tmp_path)


def landed_batch(tmp_path):
    [manifest] = list(tmp_path.glob("toy/items/*/manifest.json"))
    return open_batch(manifest.parent.name, root=tmp_path)


def test_every_page_is_landed_as_received_and_paging_follows_the_cursor(server, tmp_path):
    result, batch = extract(source(server), tmp_path)
    assert result == {"items": [1, 2, 3, 4, 5]}
    assert [f.name for f in batch.manifest.files] == ["page-00001.json", "page-00002.json", "page-00003.json"]
    assert [json.loads(batch.read_bytes(f.name))["next"] for f in batch.manifest.files] == ["c2", "c3", None]
    assert [f.meta["url"] for f in batch.manifest.files] == ["/v1/items", "/v1/items?cursor=c2", "/v1/items?cursor=c3"]
    batch.verify()


def test_a_429_waits_for_retry_after_then_goes_on(server, tmp_path):
    server.faults.rate_limited, server.faults.retry_after_seconds = 1, 1
    result, _ = extract(source(server), tmp_path)
    assert result == {"items": [1, 2, 3, 4, 5]}
    first, retried = (dt.datetime.fromisoformat(r["at"]) for r in server.requests[:2])
    assert retried - first >= dt.timedelta(seconds=1)  # the back-off alone would be 0.01 s
    assert len(server.requests) == 4


def test_500s_are_retried_up_to_the_limit_then_fail_naming_stream_and_status(server, tmp_path):
    server.faults.server_errors = 2
    assert extract(source(server), tmp_path)[0] == {"items": [1, 2, 3, 4, 5]}
    assert len(server.requests) == 5  # two 500s, then three pages
    server.requests.clear()
    server.faults.server_errors = 5
    with pytest.raises(SourceHttpError) as failure:
        extract(source(server), tmp_path / "again")
    assert "toy.items: GET /v1/items failed with HTTP 500 after 3 attempt(s)" in str(failure.value)
    assert len(server.requests) == 3
    assert landed_batch(tmp_path / "again").manifest.complete is False


def test_a_timeout_is_retried_then_fails(server, tmp_path):
    server.faults.latency_ms = 600
    with pytest.raises(SourceHttpError, match=r"toy.items: GET /v1/items failed after 2 attempt\(s\) \(page 1\): .*Timeout"):
        extract(source(server, http_timeout_seconds=0.2, http_max_attempts=2), tmp_path)
    assert len(server.requests) == 2


def test_a_page_cut_short_fails_the_batch_and_is_kept_as_received(server, tmp_path):
    server.faults.truncate_request = 2
    with pytest.raises(SourceHttpError, match=r"toy\.items: GET /v1/items: page 2 is not valid JSON"):
        extract(source(server), tmp_path)
    batch = landed_batch(tmp_path)
    assert batch.manifest.complete is False and "page 2 is not valid JSON" in batch.manifest.error
    cut = batch.read_bytes("page-00002.json")
    with pytest.raises(ValueError):
        json.loads(cut)
    assert 0 < len(cut) < len(json.dumps({"items": [{"id": 3, "updated_at": "2026-03-03T10:00:00Z"}] * 2}))


def test_paging_that_does_not_advance_stops_with_an_error(server, tmp_path):
    server.stuck = True
    with pytest.raises(SourceHttpError, match="paging did not advance after page 2"):
        extract(source(server), tmp_path)
    assert len(server.requests) == 2


def test_a_401_fails_at_once_and_no_secret_reaches_errors_or_logs(server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    server.credentials = {"password": "the-server-wants-another-token"}
    with pytest.raises(SourceHttpError) as failure:
        extract(source(server), tmp_path)
    assert "HTTP 401 after 1 attempt(s)" in str(failure.value) and len(server.requests) == 1
    server.credentials = {"password": TOKEN}
    server.faults.rate_limited, server.faults.retry_after_seconds, server.faults.server_errors = 1, 0, 1
    extract(source(server), tmp_path / "ok")
    assert "toy.items: HTTP 429 from GET /v1/items" in caplog.text and "GET /v1/items" in caplog.text
    landed = "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    for text in (str(failure.value), caplog.text, landed):
        assert TOKEN not in text


def test_latest_versions_keep_the_newest_of_each_key_and_its_position():
    records = [
        {"id": 1, "v": "2026-03-01T10:00:00Z", "x": "old"},
        {"id": 2, "v": "2026-03-01T10:00:00Z", "x": "only"},
        {"id": 1, "v": "2026-03-02T10:00:00+01:00", "x": "new"},
        {"id": 1, "v": "2026-03-01T12:00:00Z", "x": "older, received later"},
        {"id": None, "v": None, "x": "no key"},
    ]
    kept = latest_versions(records, ("id",), version=lambda r: r["v"])
    assert [(r["id"], r["x"], r["_row"]) for r in kept] == [(2, "only", 1), (1, "new", 2), (None, "no key", 4)]
