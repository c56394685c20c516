"""The HubSpot sandbox speaks CRM v3: documented fields, Bearer auth, list and search paging, the
10,000-result search cap, and the world as of its clock.
Docs: https://developers.hubspot.com/docs/api/crm/search, https://developers.hubspot.com/docs/api/crm/contacts"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pulse.sandbox.servers.hubspot import HubSpotServer
from sandbox.fixtures.sandbox_runs import call, check_payload, small_world

SCHEMA = "hubspot_crm_v3.schema.json"
CONTACT_PROPERTIES = ["lifecyclestage", "hs_persona", "hs_analytics_source", "utm_campaign", "hubspot_owner_id",
                      "pulse_customer_id", "company", *(f"hs_lifecyclestage_{s}_date" for s in (
                          "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
                          "customer"))]
DEAL_PROPERTIES = ["dealname", "dealstage", "pipeline", "amount", "closedate", "hs_lastmodifieddate",
                   "hubspot_owner_id", "pulse_quote_id"]


@pytest.fixture(scope="module")
def server():
    with HubSpotServer(small_world()) as running:
        yield running


@pytest.fixture(autouse=True)
def reset(server):
    server.set_clock(None)
    server.faults = type(server.faults)()
    server.search_result_cap = HubSpotServer.search_result_cap


def bearer(server):
    return {"Authorization": f"Bearer {server.credentials['password']}"}


def list_all(server, kind, properties, limit=100):
    pages, after = [], None
    while True:
        params = {"limit": limit, "properties": ",".join(properties), **({"after": after} if after else {})}
        response = call(server, "GET", f"/crm/v3/objects/{kind}", headers=bearer(server), params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        after = pages[-1].get("paging", {}).get("next", {}).get("after")
        if not after:
            return pages


def search(server, kind, body):
    return call(server, "POST", f"/crm/v3/objects/{kind}/search", headers=bearer(server), json=body)


def test_list_pages_follow_the_documented_fields_and_cover_every_object(server):
    world = small_world()
    for kind, properties, table, key in (("contacts", CONTACT_PROPERTIES, "crm_contacts", "contact_id"),
                                         ("deals", DEAL_PROPERTIES, "crm_deals", "deal_id")):
        pages = list_all(server, kind, properties, limit=40)
        for page in pages:
            check_payload(SCHEMA, page)
        results = [r for page in pages for r in page["results"]]
        assert sorted(int(r["id"]) for r in results) == sorted(world[table][key].tolist())
        assert all(set(properties) <= set(r["properties"]) for r in results)  # every requested property is there


def test_contact_properties_are_the_world_values_as_strings(server):
    world = small_world()["crm_contacts"].set_index("contact_id")
    results = [r for page in list_all(server, "contacts", CONTACT_PROPERTIES) for r in page["results"]]
    for record in results:
        truth = world.loc[int(record["id"])]
        props = record["properties"]
        lead = truth["lead_at"]
        assert props["hs_lifecyclestage_lead_date"] == (
            None if pd.isna(lead) else lead.strftime("%Y-%m-%dT%H:%M:%S.") + f"{lead.microsecond // 1000:03d}Z")
        reached = [s for s, column in (("lead", "lead_at"), ("marketingqualifiedlead", "mql_at"),
                                       ("salesqualifiedlead", "sql_at"), ("opportunity", "opportunity_at"),
                                       ("customer", "customer_at")) if pd.notna(truth[column])]
        assert props["lifecyclestage"] == (reached[-1] if reached else "subscriber")
        assert props["pulse_customer_id"] == (None if pd.isna(truth["customer_id"]) else str(truth["customer_id"]))


def test_search_filters_sorts_and_reports_the_total(server):
    world = small_world()["crm_contacts"]
    low, high = world["updated_at"].quantile(0.3), world["updated_at"].quantile(0.8)
    expected = world[(world["updated_at"] >= low.floor("ms")) & (world["updated_at"] < high.floor("ms"))]
    body = {"filterGroups": [{"filters": [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(int(low.timestamp() * 1000))},
        {"propertyName": "lastmodifieddate", "operator": "LT", "value": str(int(high.timestamp() * 1000))}]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], "limit": 200,
        "properties": ["lastmodifieddate"]}
    response = search(server, "contacts", body)
    assert response.status_code == 200, response.text
    page = response.json()
    check_payload(SCHEMA, page)
    assert page["total"] == len(expected) and len(page["results"]) == len(expected)
    modified = [r["properties"]["lastmodifieddate"] for r in page["results"]]
    assert modified == sorted(modified)
    assert {int(r["id"]) for r in page["results"]} == set(expected["contact_id"])


def test_a_search_cannot_page_past_its_cap_however_many_match(server):
    server.search_result_cap = 10
    first = search(server, "contacts", {"limit": 5, "after": "5"})
    assert first.status_code == 200 and first.json()["total"] == len(small_world()["crm_contacts"]) > 10
    assert first.json()["paging"]["next"]["after"] == "10"
    refused = search(server, "contacts", {"limit": 5, "after": "10"})
    assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR"
    assert search(server, "contacts", {"limit": 201}).status_code == 400  # HubSpot's page maximum is 200


def test_credentials_are_checked_like_hubspot(server):
    assert call(server, "GET", "/crm/v3/objects/contacts").status_code == 401
    wrong = call(server, "GET", "/crm/v3/objects/contacts", headers={"Authorization": "Bearer pat-eu1-wrong"})
    assert wrong.status_code == 401 and wrong.json()["category"] == "INVALID_AUTHENTICATION"


def test_an_earlier_clock_shows_the_contact_as_it_was(server):
    world = small_world()["crm_contacts"]
    qualified = world.dropna(subset=["mql_at"]).sort_values("mql_at").iloc[-1]
    server.set_clock(qualified["mql_at"].to_pydatetime() - dt.timedelta(seconds=1))
    props = {int(r["id"]): r["properties"] for page in list_all(server, "contacts", CONTACT_PROPERTIES)
             for r in page["results"]}[int(qualified["contact_id"])]
    assert props["hs_lifecyclestage_marketingqualifiedlead_date"] is None and props["hubspot_owner_id"] is None
    assert props["lifecyclestage"] in {"subscriber", "lead"}
    assert pd.Timestamp(props["lastmodifieddate"]) < qualified["mql_at"]


def test_fault_switches_shape_the_records(server):
    server.faults.malformed_record = True
    server.faults.rename_field = ("hs_persona", "hs_persona_v2")
    results = list_all(server, "contacts", CONTACT_PROPERTIES)[0]["results"]
    assert results[0]["properties"]["createdate"] == "31-02-2026 25:61"
    assert all("hs_persona" not in r["properties"] and "hs_persona_v2" in r["properties"] for r in results)
