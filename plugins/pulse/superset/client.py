"""A small client for Superset's REST API (`/api/v1/...`), used by `pulse superset` and the tests.

It runs in the Airflow runtime and talks HTTP only: nothing here imports Superset. Login is the
API's own: a JWT from `/api/v1/security/login`, then a CSRF token from
`/api/v1/security/csrf_token/` for every request that changes something (the token is bound to
the session cookie, which `requests.Session` keeps).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

# Superset caps page_size at 100 on most list endpoints (API_MAX_PAGE_SIZE).
PAGE_SIZE = 100
# Pages need a stable order: without one, PostgreSQL may return a row on two pages and another on
# none. Given an order column, Flask-AppBuilder adds the primary key as tie-breaker; each endpoint
# accepts only the columns of its own `order_columns`.
ORDER_COLUMNS = {
    "chart": "slice_name", "dashboard": "dashboard_title", "dataset": "table_name",
    "database": "database_name", "report": "name", "rowlevelsecurity": "name",
    "security/permissions-resources": "id", "security/roles": "id", "security/users": "id",
}


class SupersetError(RuntimeError):
    """A Superset API call failed; the message names the method, path, status and Superset's answer."""

    def __init__(self, method: str, path: str, status: int, body: str):
        self.status = status
        self.body = body
        super().__init__(f"Superset {method} {path} answered {status}: {body[:2000]}")


def rison(value: Any) -> str:
    """Encode `value` as Rison, the notation of Superset's `q` query parameter.

    Hand-written because the Rison packages (prison) live only in the Superset runtime; this
    covers what list queries need: dicts, lists, strings, numbers, booleans and None.
    """
    if value is None:
        return "!n"
    if value is True:
        return "!t"
    if value is False:
        return "!f"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        if value and all(ch.isalnum() or ch in "-_./~" for ch in value) and not value[0].isdigit() \
                and value[0] not in "-":
            return value
        return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    if isinstance(value, dict):
        return "(" + ",".join(f"{rison(str(k))}:{rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(rison(v) for v in value) + ")"
    raise TypeError(f"rison: cannot encode {type(value).__name__}")


class SupersetClient:
    """A logged-in session against one Superset (`base_url` like `http://127.0.0.1:8088`)."""

    def __init__(self, base_url: str, username: str, password: str, *, timeout: float = 120):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout
        self.session = requests.Session()
        # Retries only where repeating is harmless: connection failures and gateway errors on reads.
        retry = Retry(total=3, backoff_factor=0.5, status_forcelist=(502, 503, 504),
                      allowed_methods=frozenset({"GET"}))
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self._csrf: str | None = None
        self.login()

    # --- session --------------------------------------------------------------------------
    def login(self) -> None:
        response = self.session.post(
            f"{self.base_url}/api/v1/security/login",
            json={"username": self.username, "password": self._password, "provider": "db",
                  "refresh": False},
            timeout=self.timeout,
        )
        if response.status_code != 200:
            raise SupersetError("POST", "/api/v1/security/login", response.status_code,
                                f"login as {self.username!r} refused: {response.text}")
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        self._csrf = None

    def _csrf_token(self) -> str:
        if self._csrf is None:
            self._csrf = self.get("/api/v1/security/csrf_token/")["result"]
        return self._csrf

    # --- requests -------------------------------------------------------------------------
    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200, 201),
                **kwargs: Any) -> requests.Response:
        """Send one request; re-login once when the JWT has expired (401)."""
        kwargs.setdefault("timeout", self.timeout)
        for attempt in (1, 2):
            headers = dict(kwargs.pop("headers", None) or {})
            if method != "GET":
                headers["X-CSRFToken"] = self._csrf_token()
                headers["Referer"] = self.base_url + "/"
            response = self.session.request(method, self.base_url + path, headers=headers, **kwargs)
            if response.status_code == 401 and attempt == 1 and "/security/login" not in path:
                self.login()
                continue
            break
        if response.status_code not in expect:
            raise SupersetError(method, path, response.status_code, response.text)
        return response

    def get(self, path: str, **params: Any) -> Any:
        query = {key: rison(value) if key == "q" else value for key, value in params.items()}
        return self.request("GET", path, params=query).json()

    def post(self, path: str, payload: Any = None, **kwargs: Any) -> Any:
        if payload is not None:
            kwargs["json"] = payload
        return self.request("POST", path, **kwargs).json()

    def put(self, path: str, payload: Any) -> Any:
        return self.request("PUT", path, json=payload).json()

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def list(self, resource: str, filters: list[dict[str, Any]] | None = None,
             columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a list endpoint (`/api/v1/<resource>/`), page by page (ORDER_COLUMNS)."""
        if resource not in ORDER_COLUMNS:
            raise ValueError(f"no order column known for Superset's {resource!r} list: add one to ORDER_COLUMNS")
        page = 0
        while True:
            query: dict[str, Any] = {"page": page, "page_size": PAGE_SIZE,
                                     "order_column": ORDER_COLUMNS[resource], "order_direction": "asc"}
            if filters:
                query["filters"] = filters
            if columns:
                query["columns"] = columns
            body = self.get(f"/api/v1/{resource}/", q=query)
            rows = body.get("result", [])
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            page += 1

    # --- what the commands and tests use ----------------------------------------------------
    def chart_data(self, chart_id: int) -> dict[str, Any]:
        """The data of a saved chart, computed from its saved query context."""
        return self.get(f"/api/v1/chart/{chart_id}/data/", format="json", type="full")

    def query_chart_data(self, query_context: dict[str, Any]) -> dict[str, Any]:
        return self.post("/api/v1/chart/data", query_context)
