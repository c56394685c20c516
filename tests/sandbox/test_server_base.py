"""The sandbox server base: credentials, fault switches, truncation and the request log."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from pulse.sandbox.servers.base import Response, SandboxServer
from pulse.sandbox.world_io import World


class EchoServer(SandboxServer):
    name = "echo"

    def routes(self):
        return [("GET", r"/v1/items", lambda request, match: Response(200, {"items": [{"id": 1, "name": "a" * 50}]}))]

    def default_credentials(self):
        return {"token": "t0ken-for-tests"}

    def authorized(self, request):
        return request.headers.get("authorization") == f"Bearer {self.credentials['token']}"


def get(url, token="t0ken-for-tests"):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.headers, response.read()


def post(url, payload):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def server():
    with EchoServer(World.from_tables({})) as running:
        yield running


def test_wrong_credentials_get_401(server):
    with pytest.raises(urllib.error.HTTPError) as error:
        get(f"{server.url}/v1/items", token="wrong")
    assert error.value.code == 401
    assert get(f"{server.url}/v1/items")[0] == 200


def test_fault_switches_count_down(server):
    post(f"{server.url}/_sandbox/faults", {"rate_limited": 1, "retry_after_seconds": 7, "server_errors": 1})
    with pytest.raises(urllib.error.HTTPError) as first:
        get(f"{server.url}/v1/items")
    assert first.value.code == 429 and first.value.headers["Retry-After"] == "7"
    with pytest.raises(urllib.error.HTTPError) as second:
        get(f"{server.url}/v1/items")
    assert second.value.code == 500
    assert get(f"{server.url}/v1/items")[0] == 200
    assert len(server.requests) == 3


def test_a_truncated_body_is_not_json(server):
    server.faults.truncate_request = 2
    json.loads(get(f"{server.url}/v1/items")[2])
    with pytest.raises(json.JSONDecodeError):
        json.loads(get(f"{server.url}/v1/items")[2])
    json.loads(get(f"{server.url}/v1/items")[2])
