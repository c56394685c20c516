"""Roles and row-level security, checked through the API as each kind of user (issue 8, issue 12).

Resellers see their own rows only and nothing confidential; nobody but the data team gets SQL
Lab; hostile values in a reseller's name (the fixture has one) and in filter values stay inside
their SQL literal. Every "cannot" is paired with a "can" for someone else, so a check that could
not fail would show.
"""

from __future__ import annotations

import secrets

import pytest

from pulse.kpi.registry import load_registry
from pulse.superset.access import RESELLER_ROLE_PREFIX, sql_literal
from pulse.superset.assets.dashboards import DETAIL_DASHBOARDS
from pulse.superset.assets.datasets import reseller_kpi_list
from pulse.superset.client import SupersetClient, SupersetError
from pulse.warehouse.connection import Warehouse

pytestmark = [pytest.mark.superset, pytest.mark.slow]

REGISTRY = load_registry()
RESELLER_KPIS = {kpi.id for kpi in reseller_kpi_list(REGISTRY)}
CONFIDENTIAL = {kpi.id for kpi in REGISTRY if kpi.confidential}


def ensure_user(admin: SupersetClient, username: str, roles: list[str]) -> SupersetClient:
    """The user with exactly `roles` and a fresh password, logged in."""
    role_ids = {row["name"]: row["id"] for row in admin.list("security/roles")}
    password = secrets.token_urlsafe(12)
    existing = [row for row in admin.list("security/users", columns=["id", "username"]) if row["username"] == username]
    payload = {"first_name": username, "last_name": "Test", "email": f"{username}@pulse.invalid", "active": True,
               "password": password, "roles": [role_ids[name] for name in roles]}
    if existing:
        admin.put(f"/api/v1/security/users/{existing[0]['id']}", payload)
    else:
        admin.post("/api/v1/security/users/", {**payload, "username": username})
    return SupersetClient(admin.base_url, username, password)


@pytest.fixture(scope="module")
def users(deployment) -> dict[str, SupersetClient]:
    north, hostile = deployment.fixture.resellers
    admin = deployment.admin
    return {
        "executive": ensure_user(admin, "exec", ["Pulse executive"]),
        "team": ensure_user(admin, "team", ["Pulse team"]),
        "data team": ensure_user(admin, "analyst", ["Pulse data team"]),
        "north": ensure_user(admin, "north", ["Pulse reseller", RESELLER_ROLE_PREFIX + north]),
        "hostile": ensure_user(admin, "hostile", ["Pulse reseller", RESELLER_ROLE_PREFIX + hostile]),
        "no reseller": ensure_user(admin, "nobody", ["Pulse reseller"]),
    }


@pytest.fixture(scope="module")
def dataset_ids(deployment) -> dict[str, int]:
    return {row["table_name"]: row["id"] for row in deployment.admin.list("dataset", columns=["id", "table_name"])}


def rows(client: SupersetClient, dataset_id: int, columns: list[str], filters: list[dict] | None = None,
         where: str = "") -> list[dict]:
    """Raw rows of a dataset through /api/v1/chart/data, as `client` may see them."""
    query = {"columns": columns, "filters": filters or [], "row_limit": 100000, "orderby": [],
             "extras": {"where": where, "having": ""}}
    body = {"datasource": {"id": dataset_id, "type": "table"}, "queries": [query], "result_format": "json",
            "result_type": "full"}
    return client.query_chart_data(body)["result"][0]["data"]


def refused(call) -> bool:
    try:
        call()
    except SupersetError as error:
        return error.status in (401, 403, 404)
    return False


def dashboards_of(client: SupersetClient) -> set[str]:
    return {row["slug"] for row in client.list("dashboard", columns=["id", "slug"])}


# --- dashboards -------------------------------------------------------------------------------------
def test_each_role_sees_its_dashboards(users):
    every = set(DETAIL_DASHBOARDS) | {"summary", "data_health", "reseller_summary"}
    assert dashboards_of(users["executive"]) == every
    assert dashboards_of(users["data team"]) == every
    assert dashboards_of(users["team"]) == set(DETAIL_DASHBOARDS)
    assert dashboards_of(users["north"]) == {"reseller_summary"}
    assert refused(lambda: users["north"].get("/api/v1/dashboard/summary"))
    assert refused(lambda: users["team"].get("/api/v1/dashboard/summary"))
    assert users["executive"].get("/api/v1/dashboard/summary")["result"]["slug"] == "summary"


# --- resellers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["north", "hostile"])
def test_a_reseller_sees_its_own_rows_and_no_other(users, who, deployment, dataset_ids):
    reseller = deployment.fixture.resellers[0 if who == "north" else 1]
    client = users[who]
    kpi_rows = rows(client, dataset_ids["reseller_kpis"], ["reseller", "kpi_id", "grain", "period_start", "value"])
    expected = [row for row in deployment.fixture.rows
                if row["slice_name"] == "reseller" and row["slice_value"] == reseller and row["kpi_id"] in RESELLER_KPIS]
    assert {row["reseller"] for row in kpi_rows} == {reseller}
    assert len(kpi_rows) == len(expected) > 0
    for table in ("top_customers", "customer_facts"):
        listed = rows(client, dataset_ids[table], ["reseller", "customer_name"])
        every = rows(deployment.admin, dataset_ids[table], ["reseller", "customer_name"])
        assert listed and {row["reseller"] for row in listed} == {reseller}, table
        assert len(listed) == sum(row["reseller"] == reseller for row in every) < len(every), table


def test_a_reseller_account_without_its_reseller_role_sees_no_row(users, dataset_ids):
    assert rows(users["no reseller"], dataset_ids["reseller_kpis"], ["reseller", "value"]) == []
    assert rows(users["north"], dataset_ids["reseller_kpis"], ["reseller", "value"]) != []


def test_a_reseller_sees_no_margin_or_other_confidential_kpi(users, deployment, dataset_ids):
    north = users["north"]
    confidential = [{"col": "kpi_id", "op": "IN", "val": sorted(CONFIDENTIAL)}]
    assert CONFIDENTIAL and rows(north, dataset_ids["reseller_kpis"], ["kpi_id", "value"], confidential) == []
    for name in ("kpi_values_by_slice", "kpi_summary", "summary_board", "summary_history"):
        assert refused(lambda name=name: rows(north, dataset_ids[name], ["kpi_id", "value"], confidential)), name
    # the executive does see margin, in the same way of asking
    assert rows(users["executive"], dataset_ids["kpi_values_by_slice"], ["kpi_id", "value"], confidential)
    margin_chart = [row["id"] for row in deployment.admin.list("chart", columns=["id", "slice_name"])
                    if row["slice_name"] == REGISTRY.get("profit_margin").title]
    assert margin_chart and all(refused(lambda cid=cid: north.chart_data(cid)) for cid in margin_chart)
    assert users["executive"].chart_data(margin_chart[0])["result"][0]["rowcount"] > 0


def test_rls_clauses_quote_the_reseller_name(deployment):
    rules = {row["name"]: row for row in deployment.admin.list("rowlevelsecurity", columns=["id", "name", "clause"])}
    hostile = deployment.fixture.resellers[1]
    clause = rules[f"pulse: reseller {hostile}"]["clause"]
    assert clause == f"reseller = {sql_literal(hostile)}" == "reseller = 'O''Hara & Sons''); drop table kpi.kpi_values; --'"
    with Warehouse(deployment.warehouse_url).connect() as connection:
        assert connection.scalar("select count(*) from kpi.kpi_values") == len(deployment.fixture.rows)


# --- hostile filter values --------------------------------------------------------------------------
HOSTILE_VALUES = ["x' or '1'='1", "North Supplies BV' or reseller <> '", "') or 1=1 --", "all' or 'a'='a"]


def test_hostile_filter_values_stay_inside_their_literal(users, deployment, dataset_ids):
    north = users["north"]
    reseller = deployment.fixture.resellers[0]
    for value in HOSTILE_VALUES:
        for op, val in (("IN", [value]), ("==", value)):
            filters = [{"col": "reseller", "op": op, "val": val}]
            assert rows(north, dataset_ids["reseller_kpis"], ["reseller", "value"], filters) == [], value
            assert rows(users["executive"], dataset_ids["kpi_values_by_slice"], ["kpi_id"],
                        [{"col": "segment", "op": op, "val": val}]) == [], value
    # a free-text WHERE cannot widen the row-level rule either: refused, or still the reseller's rows only
    for where in ("1=1) or (1=1", "reseller <> 'x' or 1=1", "1=1 --"):
        try:
            seen = rows(north, dataset_ids["reseller_kpis"], ["reseller"], where=where)
        except SupersetError as error:
            assert error.status in (400, 403, 422), error
        else:
            assert {row["reseller"] for row in seen} <= {reseller}, where
    # the same filter shape with an honest value does select rows
    assert rows(users["executive"], dataset_ids["kpi_values_by_slice"], ["kpi_id"],
                [{"col": "segment", "op": "IN", "val": ["all"]}])


# --- SQL Lab -------------------------------------------------------------------------------------------
def _execute(client: SupersetClient, database_id: int) -> dict:
    return client.post("/api/v1/sqllab/execute/", {"database_id": database_id, "sql": "select 1 as one",
                                                   "runAsync": False, "schema": "kpi"})


def test_only_the_data_team_gets_sql_lab(users, deployment):
    database_id = next(row["id"] for row in deployment.admin.list("database", columns=["id", "database_name"])
                       if row["database_name"] == "Pulse warehouse")
    for who in ("executive", "team", "north"):
        assert refused(lambda who=who: _execute(users[who], database_id)), who
    assert _execute(users["data team"], database_id)["data"] == [{"one": 1}]
    assert refused(lambda: users["north"].get("/api/v1/rowlevelsecurity/"))
    try:
        databases = list(users["north"].list("database", columns=["id"]))
    except SupersetError as error:
        assert error.status in (401, 403)
        databases = []
    assert databases == []
