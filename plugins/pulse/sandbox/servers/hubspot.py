"""HubSpot CRM v3, as the sandbox serves it: contacts and deals of the world as of the clock.

- `GET /crm/v3/objects/{contacts,deals}?limit=&after=&properties=&archived=` pages the whole
  object with an `after` cursor (limit at most 100);
- `POST /crm/v3/objects/{contacts,deals}/search` filters (`filterGroups`: groups OR-ed, filters
  in a group AND-ed; EQ, NEQ, GT, GTE, LT, LTE, BETWEEN, HAS_PROPERTY, NOT_HAS_PROPERTY), sorts,
  pages with `after` (limit at most 200) and reports `total`. A search reaches at most 10,000
  results: asking for a page past them is a 400, however many match (`search_result_cap`).

Every property value is a string (numbers and datetimes too), datetimes in UTC with
milliseconds; only the requested properties come back, plus the object's defaults. Private-app
tokens authenticate as `Authorization: Bearer <token>`.
Docs: https://developers.hubspot.com/docs/api/crm/search,
https://developers.hubspot.com/docs/api/crm/contacts, https://developers.hubspot.com/docs/api/crm/deals
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

import pandas as pd
from pydantic import SecretStr

from pulse.sandbox.servers.base import Request, Response, SandboxServer
from pulse.sources.connections import SourceConnection

LIFECYCLE_STAGES = {  # HubSpot's internal stage name -> the world's column
    "subscriber": "subscriber_at", "lead": "lead_at", "marketingqualifiedlead": "mql_at",
    "salesqualifiedlead": "sql_at", "opportunity": "opportunity_at", "customer": "customer_at",
}
DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
              "hs_object_id", "pipeline"),
}
DATETIME_PROPERTIES = {
    "createdate", "lastmodifieddate", "hs_lastmodifieddate", "closedate",
    *(f"hs_lifecyclestage_{stage}_date" for stage in LIFECYCLE_STAGES),
}
NUMBER_PROPERTIES = {"amount", "hs_object_id", "hubspot_owner_id", "pulse_customer_id", "pulse_quote_id"}
LIST_LIMIT, SEARCH_LIMIT = 100, 200
EPOCH = pd.Timestamp(0, tz="UTC")


class HubSpotServer(SandboxServer):
    name = "hubspot"
    search_result_cap = 10_000  # HubSpot's; tests lower it to exercise window splitting

    def routes(self):
        return [
            ("GET", r"/crm/v3/objects/(?P<object>contacts|deals)", self._list),
            ("POST", r"/crm/v3/objects/(?P<object>contacts|deals)/search", self._search),
        ]

    def default_credentials(self) -> dict[str, str]:
        return {"login": "pulse-hubspot", "password": f"pat-eu1-{secrets.token_hex(16)}"}

    def source_connection(self) -> SourceConnection:
        return SourceConnection("pulse_hubspot", "http", self.host, self.port,
                                password=SecretStr(self.credentials["password"]))

    def authorized(self, request: Request) -> bool:
        return secrets.compare_digest(request.headers.get("authorization", ""), f"Bearer {self.credentials['password']}")

    def unauthorized(self, request: Request) -> Response:
        return _error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports "
                      "OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/")

    # --- endpoints -------------------------------------------------------------------------------
    def _list(self, request: Request, match: re.Match) -> Response:
        kind = match["object"]
        limit = _int(request.arg("limit"), 10)
        if not 1 <= limit <= LIST_LIMIT:
            return _error(400, "VALIDATION_ERROR", f"limit must be between 1 and {LIST_LIMIT}")
        wanted = {p for value in request.query.get("properties", []) for p in value.split(",") if p}
        frame = self._objects(kind)
        if request.arg("archived", "false").lower() == "true":
            frame = frame.iloc[0:0]  # the sandbox never archives
        offset = _int(request.arg("after"), 0)
        if offset < 0:
            return _error(400, "VALIDATION_ERROR", "after must be a paging cursor from a previous page")
        page = frame.iloc[offset:offset + limit]
        body: dict[str, Any] = {"results": self._render(kind, page, wanted, first_page=offset == 0)}
        if offset + limit < len(frame):
            after = str(offset + limit)
            body["paging"] = {"next": {"after": after, "link": f"{self.url}{request.path}?after={after}"}}
        return Response(200, body)

    def _search(self, request: Request, match: re.Match) -> Response:
        kind = match["object"]
        try:
            query = request.json()
        except ValueError:
            return _error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        limit = _int(query.get("limit"), 10)
        if not 1 <= limit <= SEARCH_LIMIT:
            return _error(400, "VALIDATION_ERROR", f"limit must be between 1 and {SEARCH_LIMIT}")
        offset = _int(query.get("after"), 0)
        if offset < 0:
            return _error(400, "VALIDATION_ERROR", "after must be a paging cursor from a previous page")
        if offset >= self.search_result_cap:
            return _error(400, "VALIDATION_ERROR", f"There was a problem with the request: the search can only "
                          f"page through {self.search_result_cap} results (after={offset})")
        frame = self._objects(kind)
        try:
            frame = frame[_filter_mask(frame, query.get("filterGroups") or [])]
            frame = _sorted(frame, query.get("sorts") or [])
        except ValueError as error:
            return _error(400, "VALIDATION_ERROR", str(error))
        page = frame.iloc[offset:min(offset + limit, self.search_result_cap)]
        results = self._render(kind, page, set(query.get("properties") or []), first_page=offset == 0)
        body: dict[str, Any] = {"total": len(frame), "results": results}
        if offset + limit < len(frame):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return Response(200, body)

    # --- the world as HubSpot objects ------------------------------------------------------------
    def _objects(self, kind: str) -> pd.DataFrame:
        """One row per object, sorted by id, with every property as a Python value."""
        view = self.view
        cache = getattr(self, "_object_cache", None)
        if cache is None or cache[0] is not view:
            cache = (view, {"contacts": _contacts(view["crm_contacts"]), "deals": _deals(view["crm_deals"])})
            self._object_cache = cache
        return cache[1][kind]

    def _render(self, kind: str, page: pd.DataFrame, wanted: set[str], first_page: bool) -> list[dict[str, Any]]:
        names = sorted(set(DEFAULT_PROPERTIES[kind]) | (wanted & set(page.columns)))
        results = []
        for row in page.to_dict("records"):
            created, modified = row["createdate"], row["lastmodifieddate" if kind == "contacts" else "hs_lastmodifieddate"]
            results.append({
                "id": str(row["hs_object_id"]),
                "properties": {name: _text(name, row.get(name)) for name in names},
                "createdAt": _time(created), "updatedAt": _time(modified), "archived": False,
            })
        if results and first_page and self.faults.malformed_record:  # the first record of the answer
            results[0]["properties"]["createdate"] = "31-02-2026 25:61"
        return [self.faults.shape(record, ("properties",)) for record in results]


def _contacts(world: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({
        "hs_object_id": world["contact_id"], "email": world["email"], "firstname": world["firstname"],
        "lastname": world["lastname"], "company": world["company"], "createdate": world["created_at"],
        "lastmodifieddate": world["updated_at"], "hs_persona": world["persona"],
        "hs_analytics_source": world["analytics_source"], "utm_campaign": world["utm_campaign"],
        "hubspot_owner_id": world["owner_id"], "pulse_customer_id": world["customer_id"],
    })
    stage = pd.Series(pd.NA, index=world.index, dtype="object")
    for name, column in LIFECYCLE_STAGES.items():
        frame[f"hs_lifecyclestage_{name}_date"] = world[column]
        stage = stage.where(world[column].isna(), name)  # stages are reached in this order
    frame["lifecyclestage"] = stage
    return frame.sort_values("hs_object_id").reset_index(drop=True)


def _deals(world: pd.DataFrame) -> pd.DataFrame:
    stage = pd.Series("appointmentscheduled", index=world.index, dtype="object")  # a quote was requested
    stage = stage.where(world["contractsent_at"].isna(), "contractsent")  # the quote was issued
    stage = stage.where(world["closedlost_at"].isna(), "closedlost")
    stage = stage.where(world["closedwon_at"].isna(), "closedwon")
    frame = pd.DataFrame({
        "hs_object_id": world["deal_id"], "dealname": world["dealname"], "pipeline": "default", "dealstage": stage,
        "amount": world["amount"], "closedate": world["closedwon_at"].fillna(world["closedlost_at"]),
        "createdate": world["created_at"], "hs_lastmodifieddate": world["updated_at"],
        "hubspot_owner_id": world["owner_id"], "pulse_quote_id": world["quote_id"],
    })
    return frame.sort_values("hs_object_id").reset_index(drop=True)


# --- search --------------------------------------------------------------------------------------
def _filter_mask(frame: pd.DataFrame, groups: list[dict[str, Any]]) -> pd.Series:
    if not groups:
        return pd.Series(True, index=frame.index)
    mask = pd.Series(False, index=frame.index)
    for group in groups:
        within = pd.Series(True, index=frame.index)
        for condition in group.get("filters", []):
            within &= _condition(frame, condition)
        mask |= within
    return mask


def _condition(frame: pd.DataFrame, condition: dict[str, Any]) -> pd.Series:
    name, operator = condition.get("propertyName"), condition.get("operator")
    if name not in frame.columns:
        return pd.Series(operator == "NOT_HAS_PROPERTY", index=frame.index)
    values = _comparable(name, frame[name])
    present = values.notna()
    if operator == "HAS_PROPERTY":
        return present
    if operator == "NOT_HAS_PROPERTY":
        return ~present
    if operator == "BETWEEN":
        low, high = _operand(name, condition.get("value")), _operand(name, condition.get("highValue"))
        return present & (values >= low) & (values <= high)
    operand = _operand(name, condition.get("value"))
    compare = {"EQ": values.eq, "NEQ": values.ne, "GT": values.gt, "GTE": values.ge, "LT": values.lt, "LTE": values.le}
    if operator not in compare:
        raise ValueError(f"unsupported filter operator {operator!r} on {name}")
    return present & compare[operator](operand).fillna(False).astype(bool)


def _comparable(name: str, values: pd.Series) -> pd.Series:
    if name in DATETIME_PROPERTIES:
        moments = pd.to_datetime(values, utc=True)
        return ((moments - EPOCH) // pd.Timedelta(milliseconds=1)).astype("Int64")
    if name in NUMBER_PROPERTIES:
        return pd.to_numeric(values, errors="coerce")
    return values.astype("object")


def _operand(name: str, value: Any) -> Any:
    """Datetime filters take epoch milliseconds (or an ISO date-time); numbers take numbers."""
    if value is None:
        raise ValueError(f"filter on {name} needs a value")
    if name in DATETIME_PROPERTIES:
        text = str(value)
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        moment = pd.Timestamp(text)
        if moment.tzinfo is None:
            moment = moment.tz_localize("UTC")
        return int(moment.timestamp() * 1000)
    if name in NUMBER_PROPERTIES:
        return float(value)
    return str(value)


def _sorted(frame: pd.DataFrame, sorts: list[Any]) -> pd.DataFrame:
    keys, ascending = [], []
    for sort in sorts:
        if isinstance(sort, str):  # the short form: "createdate" or "-createdate"
            name, up = sort.lstrip("-"), not sort.startswith("-")
        else:
            name, up = sort.get("propertyName"), sort.get("direction", "ASCENDING") != "DESCENDING"
        if name not in frame.columns:
            raise ValueError(f"cannot sort on unknown property {name!r}")
        keys.append(name)
        ascending.append(up)
    # ties keep the id order, as HubSpot's do
    return frame.sort_values([*keys, "hs_object_id"], ascending=[*ascending, True], kind="stable")


# --- values --------------------------------------------------------------------------------------
def _text(name: str, value: Any) -> str | None:
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return None
    if name in DATETIME_PROPERTIES:
        return _time(value)
    if name == "amount":
        return f"{float(value):.2f}".rstrip("0").rstrip(".")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _time(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    moment = pd.Timestamp(value).tz_convert("UTC")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return -1


def _error(status: int, category: str, message: str) -> Response:
    return Response(status, {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                             "category": category})

