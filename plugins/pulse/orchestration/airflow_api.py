"""A small client of Airflow's REST API (v2), as `pulse demo` drives a running Airflow: log in,
trigger DAG runs with a chosen run id and conf, follow them, clear a failed one."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx

FINISHED = {"success", "failed"}


class AirflowApiError(RuntimeError):
    pass


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str, *, timeout: float = 300.0):
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout)
        # SimpleAuthManager (and the FAB one) hand out a JWT for a user name and password
        response = self._client.post("/auth/token", json={"username": username, "password": password})
        if response.status_code not in (200, 201):
            raise AirflowApiError(f"Airflow login as {username!r} failed: HTTP {response.status_code} {response.text[:200]}")
        self._client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, *, attempts: int = 4, **kwargs: Any) -> Any:
        for attempt in range(1, attempts + 1):
            # a busy SQLite metadata database answers slowly, or 500 "database is locked", now and then
            try:
                response = self._client.request(method, f"/api/v2{path}", **kwargs)
            except httpx.TimeoutException:
                if attempt == attempts:
                    raise
                continue
            if response.status_code < 500 or attempt == attempts:
                break
            time.sleep(5 * attempt)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise AirflowApiError(f"{method} {path}: HTTP {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        return self._call("GET", f"/dags/{dag_id}")

    def wait_for_dag(self, dag_id: str, timeout: float = 600.0) -> dict[str, Any]:
        """The DAG once the DAG processor has parsed it."""
        deadline = time.monotonic() + timeout
        while (found := self.dag(dag_id)) is None:
            if time.monotonic() > deadline:
                raise AirflowApiError(f"DAG {dag_id} did not appear within {timeout:.0f}s: see the DAG processor's log")
            time.sleep(3)
        return found

    def unpause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def run(self, dag_id: str, run_id: str) -> dict[str, Any] | None:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", f"/dags/{dag_id}/dagRuns", json={
            "dag_run_id": run_id, "logical_date": dt.datetime.now(dt.UTC).isoformat(), "conf": conf or {}})

    def clear(self, dag_id: str, run_id: str) -> None:
        """Run a finished run again (its failed and downstream tasks)."""
        self._call("POST", f"/dags/{dag_id}/dagRuns/{run_id}/clear", json={"dry_run": False, "only_failed": True})

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        found = self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 500})
        return {ti["task_id"]: ti["state"] for ti in (found or {}).get("task_instances", [])}
