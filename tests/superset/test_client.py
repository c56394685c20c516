"""SupersetClient.list against a running Superset: every resource it knows pages in an order the
endpoint accepts, and the pages hold every row once.

Uses the session's Superset (conftest.py); with it already up, a few seconds. The overlap the order
prevents shows on a PostgreSQL metadata database (tests/deploy/test_native_stack.py runs one).
"""

from __future__ import annotations

import pytest

from pulse.superset.client import ORDER_COLUMNS, PAGE_SIZE

pytestmark = [pytest.mark.superset, pytest.mark.slow]


@pytest.mark.parametrize("resource", sorted(ORDER_COLUMNS))
def test_list_pages_hold_every_row_once(superset, resource):
    client = superset.client()
    ids = [row["id"] for row in client.list(resource)]
    assert len(ids) == len(set(ids)), resource
    assert len(ids) == client.get(f"/api/v1/{resource}/", q={"page_size": 1})["count"]


def test_permissions_span_several_pages(superset):
    """The list that needs the order: Superset's permissions take more than one page."""
    client = superset.client()
    assert client.get("/api/v1/security/permissions-resources/", q={"page_size": 1})["count"] > PAGE_SIZE


def test_a_resource_without_a_known_order_is_refused(superset):
    with pytest.raises(ValueError, match="ORDER_COLUMNS"):
        next(superset.client().list("log"))
