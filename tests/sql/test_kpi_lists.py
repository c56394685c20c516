"""The list tables of kpi.* equal the oracle's lists: per period (top search terms, exit pages,
customers, the order heatmap) and as of now (quotes with status, customer facts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

PERIODIC_LISTS = {
    "top_search_terms": ["period_start", "rank"],
    "top_exit_pages": ["period_start", "rank"],
    "top_customers": ["period_start", "rank"],
    "order_heatmap": ["period_start", "iso_weekday", "hour"],
}


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter"])
@pytest.mark.parametrize("table", sorted(PERIODIC_LISTS))
def test_periodic_list_equals_the_oracle(table, grain, built, oracle):
    expected = oracle.table(table, grain)
    actual = built.table(f"kpi.{table}", f"where grain = '{grain}'")
    actual["period_start"] = pd.to_datetime(actual["period_start"]).dt.date
    actual = actual[actual["period_start"].isin(set(oracle.periods(grain)))]
    key = PERIODIC_LISTS[table]
    assert list(actual.columns) == list(expected.columns), f"{built.engine}: kpi.{table} columns"
    _assert_same(expected, actual, key, f"{built.engine}: kpi.{table} at {grain}")


def test_customer_facts_equal_the_oracle(built, oracle):
    expected = oracle.table("customer_facts")
    actual = built.table("kpi.customer_facts")
    assert list(actual.columns) == list(expected.columns)
    _assert_same(expected, actual, ["customer_id"], f"{built.engine}: kpi.customer_facts")


def test_quote_list_equals_the_oracle(built, oracle):
    expected = oracle.table("quote_list").drop(columns=["status"])
    actual = built.table("kpi.quote_list")
    assert list(actual.columns) == list(oracle.table("quote_list").columns)
    _assert_same(expected, actual.drop(columns=["status"]), ["quote_id"], f"{built.engine}: kpi.quote_list")


def test_quote_status_is_the_deal_stage(built, oracle):
    expected = oracle.table("quote_list")[["quote_id", "status"]]
    actual = built.table("kpi.quote_list")[["quote_id", "status"]]
    _assert_same(expected, actual, ["quote_id"], f"{built.engine}: kpi.quote_list status")


def _assert_same(expected: pd.DataFrame, actual: pd.DataFrame, key: list[str], what: str) -> None:
    expected = expected.sort_values(key, ignore_index=True)
    actual = actual[list(expected.columns)].sort_values(key, ignore_index=True)
    assert len(actual) == len(expected), f"{what}: {len(actual)} rows, the oracle has {len(expected)}"
    for column in expected.columns:
        want, got = expected[column], actual[column]
        if column.endswith("_at"):
            want, got = pd.to_datetime(want, utc=True), pd.to_datetime(got, utc=True)
            same = (want.isna() & got.isna()) | (want == got)
        elif pd.api.types.is_numeric_dtype(want) or column in {"revenue", "credit_limit", "credit_used"} or \
                column.endswith(("_amount", "_registration")):
            want, got = want.astype("float64"), pd.to_numeric(got).astype("float64")
            same = (want.isna() & got.isna()) | np.isclose(want, got, rtol=1e-9, atol=0.0)
        else:
            same = (want.isna() & got.isna()) | (want.astype(str) == got.astype(str))
        assert same.all(), (f"{what}: {column} differs in {int((~same).sum())} rows, e.g. "
                            f"{list(zip(want[~same].head(3), got[~same].head(3), strict=True))}")
