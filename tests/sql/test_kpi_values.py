"""kpi.kpi_values equals the oracle for every registry KPI, every grain and every slice, on DuckDB
and on PostgreSQL: the same rows (periods of the world's window, slice values), counts and sums
exactly (money to the cent), ratios, averages and order statistics within 1e-9 relative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pulse.kpi.registry import load_registry

REGISTRY = load_registry()
PERIODIC = [kpi.id for kpi in REGISTRY.periodic()]
EXACT_KINDS = {"sum", "count", "distinct"}
KEY = ["grain", "period_start", "slice_name", "slice_value"]


@pytest.fixture(scope="package")
def sql_values(built) -> pd.DataFrame:
    values = built.table("kpi.kpi_values")
    values["period_start"] = pd.to_datetime(values["period_start"]).dt.date
    return values


@pytest.fixture(scope="package")
def oracle_values(oracle) -> pd.DataFrame:
    return oracle.all_values()


@pytest.mark.parametrize("kpi_id", PERIODIC)
def test_kpi_equals_the_oracle(kpi_id, built, sql_values, oracle_values, oracle):
    kpi = REGISTRY.get(kpi_id)
    expected = oracle_values[oracle_values["kpi_id"] == kpi_id]
    actual = sql_values[sql_values["kpi_id"] == kpi_id]
    window = {(grain, period) for grain in kpi.grains for period in oracle.periods(grain)}
    actual = actual[[(g, p) in window for g, p in zip(actual["grain"], actual["period_start"], strict=True)]]
    assert sorted(set(actual["grain"])) == sorted(kpi.grains), f"{built.engine}: grains of {kpi_id}"

    rows = expected.merge(actual, on=KEY, how="outer", suffixes=("_oracle", "_sql"), indicator=True)
    only = rows[rows["_merge"] != "both"]
    assert only.empty, (
        f"{built.engine}: {kpi_id}: {len(only)} rows on one side only, e.g.\n"
        f"{only[[*KEY, 'value_oracle', 'value_sql', '_merge']].head(8).to_string()}"
    )
    for column in ("numerator", "denominator", "value"):
        wrong = ~_equal(rows[f"{column}_oracle"], rows[f"{column}_sql"], kpi.kind, kpi.unit, column)
        assert not wrong.any(), (
            f"{built.engine}: {kpi_id}: {column} differs in {int(wrong.sum())} of {len(rows)} rows, e.g.\n"
            f"{rows.loc[wrong, [*KEY, f'{column}_oracle', f'{column}_sql']].head(8).to_string()}"
        )


def _equal(expected: pd.Series, actual: pd.Series, kind: str, unit: str, column: str) -> pd.Series:
    expected, actual = expected.astype("float64"), actual.astype("float64")
    both_null = expected.isna() & actual.isna()
    if kind in EXACT_KINDS and column != "denominator":
        if unit == "eur":  # money sums are exact to the cent
            return both_null | (np.round(expected * 100) == np.round(actual * 100))
        return both_null | (expected == actual)
    close = np.isclose(expected.fillna(0), actual.fillna(0), rtol=1e-9, atol=0.0)
    return both_null | (close & expected.notna() & actual.notna())


def test_a_ratio_over_a_month_is_summed_parts_not_a_mean_of_days(built, sql_values):
    """The month's conversion rate is sum(orders) / sum(sessions) of its days."""
    rates = sql_values[(sql_values["kpi_id"] == "conversion_rate") & (sql_values["slice_name"] == "all")]
    months = rates[rates["grain"] == "month"]
    days = rates[rates["grain"] == "day"].assign(
        month=lambda frame: pd.to_datetime(frame["period_start"]).dt.to_period("M").dt.start_time.dt.date)
    for _, month in months.iterrows():
        of_month = days[days["month"] == month["period_start"]]
        if month["period_start"] not in set(of_month["period_start"]):
            continue  # the month began before the window: its first days have no day rows
        assert month["numerator"] == of_month["numerator"].sum()
        assert month["denominator"] == of_month["denominator"].sum()
        assert month["value"] == pytest.approx(of_month["numerator"].sum() / of_month["denominator"].sum(), rel=1e-12)
