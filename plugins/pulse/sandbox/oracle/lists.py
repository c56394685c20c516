"""List KPIs: the tables of kpi.* that are not numbers per period (data-contracts section 5)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pulse.sandbox.oracle.facts import SECONDS_PER_DAY, Facts, cents, lookup
from pulse.sandbox.oracle.periods import period_start

TOP = 10


def _ranked(frame: pd.DataFrame, grain: str, item: str, count: str, window: pd.DatetimeIndex,
            ascending_tiebreak: str) -> pd.DataFrame:
    """Top 10 items per period by `count` descending, ties by `ascending_tiebreak` ascending."""
    frame = frame[frame["day"].notna()].assign(period_start=lambda f: period_start(f["day"], grain))
    frame = frame[frame["period_start"].isin(window)]
    counts = frame.groupby(["period_start", item]).size().rename(count).reset_index()
    counts = counts.sort_values(["period_start", count, ascending_tiebreak], ascending=[True, False, True])
    counts["rank"] = counts.groupby("period_start").cumcount() + 1
    counts = counts[counts["rank"] <= TOP]
    counts.insert(1, "grain", grain)
    return counts


def top_search_terms(facts: Facts, grain: str, window: pd.DatetimeIndex) -> pd.DataFrame:
    searches = facts.ga_events("site_searches")
    ranked = _ranked(searches, grain, "search_term", "searches", window, "search_term")
    return _finish(ranked, ["period_start", "grain", "rank", "search_term", "searches"])


def top_exit_pages(facts: Facts, grain: str, window: pd.DatetimeIndex) -> pd.DataFrame:
    exits = facts.sessions[["end_day", "exit_page"]].rename(columns={"end_day": "day", "exit_page": "page_path"})
    ranked = _ranked(exits, grain, "page_path", "exits", window, "page_path")
    return _finish(ranked, ["period_start", "grain", "rank", "page_path", "exits"])


def top_customers(facts: Facts, grain: str, window: pd.DatetimeIndex) -> pd.DataFrame:
    orders = facts.orders.assign(period_start=lambda f: period_start(f["day"], grain))
    orders = orders[orders["period_start"].isin(window)]
    revenue = orders.groupby(["period_start", "customer_id"])["revenue_cents"].sum().rename("cents").reset_index()
    revenue = revenue.sort_values(["period_start", "cents", "customer_id"], ascending=[True, False, True])
    revenue["rank"] = revenue.groupby("period_start").cumcount() + 1
    revenue = revenue[revenue["rank"] <= TOP]
    customers = facts.customers.set_index("customer_id")
    revenue["grain"] = grain
    revenue["customer_name"] = lookup(revenue["customer_id"], customers["customer_name"])
    revenue["reseller"] = lookup(revenue["customer_id"], customers["reseller"]).fillna("(direct)")
    revenue["revenue"] = revenue["cents"] / 100
    return _finish(revenue, ["period_start", "grain", "rank", "customer_id", "customer_name", "reseller", "revenue"])


def order_heatmap(facts: Facts, grain: str, window: pd.DatetimeIndex) -> pd.DataFrame:
    orders = facts.orders.assign(period_start=lambda f: period_start(f["day"], grain))
    orders = orders[orders["period_start"].isin(window)]
    local = orders["placed_at"].dt.tz_convert(facts.calendar.timezone)
    cells = pd.DataFrame({
        "period_start": orders["period_start"],
        "iso_weekday": local.dt.weekday + 1,
        "hour": local.dt.hour,
    })
    counts = cells.groupby(["period_start", "iso_weekday", "hour"]).size().rename("orders").reset_index()
    counts["grain"] = grain
    return _finish(counts, ["period_start", "grain", "iso_weekday", "hour", "orders"])


def quote_list(facts: Facts) -> pd.DataFrame:
    quotes = facts.world["quotes"]
    quotes = quotes[quotes["requested_at"] <= facts.clock]
    deals = facts.world["crm_deals"].set_index("deal_id")
    clock = facts.clock

    def reached(column: str) -> pd.Series:
        moments = lookup(quotes["deal_id"], deals[column])
        return moments.notna() & (moments <= clock)

    has_deal = quotes["deal_id"].isin(deals.index)
    status = np.select(
        [~has_deal, reached("closedwon_at"), reached("closedlost_at"), reached("contractsent_at")],
        ["(no deal)", "closedwon", "closedlost", "contractsent"],
        default="appointmentscheduled",
    )
    customers = facts.customers.set_index("customer_id")
    agents = facts.world["sales_agents"].set_index("agent_id")["name"]
    frame = pd.DataFrame({
        "quote_id": quotes["quote_id"],
        "customer_name": lookup(quotes["customer_id"], customers["customer_name"]),
        "reseller": lookup(quotes["customer_id"], customers["reseller"]).fillna("(direct)"),
        "sales_agent": lookup(quotes["sales_agent_id"], agents),
        "requested_at": quotes["requested_at"],
        "status": status,
        "list_amount": quotes["list_amount"],
        "quoted_amount": quotes["quoted_amount"],
        "discount_amount": quotes["discount_amount"],
        "ordered_at": quotes["ordered_at"].where(quotes["ordered_at"] <= clock),
    })
    return frame.sort_values(["requested_at", "quote_id"], ascending=[False, True], ignore_index=True)


def customer_facts(facts: Facts, as_of_day: dt.date) -> pd.DataFrame:
    clock = facts.clock
    customers = facts.customers[facts.customers["registered_at"].notna()
                                & (facts.customers["registered_at"] <= clock)]
    orders = facts.orders.merge(customers[["customer_id", "registered_at"]], on="customer_id")
    orders = orders[(orders["placed_at"] >= orders["registered_at"]) & (orders["placed_at"] <= clock)]
    per_customer = orders.groupby("customer_id").agg(
        orders=("order_id", "size"), revenue_cents=("revenue_cents", "sum"),
        first=("placed_at", "min"), last=("placed_at", "max"), last_day=("day", "max"),
    )
    lines = facts.lines[facts.lines["order_id"].isin(orders["order_id"])]
    units = lines.groupby("customer_id")["quantity"].sum()
    buyers = facts.world["buyers"]
    buyers = buyers[buyers["registered_at"].notna() & (buyers["registered_at"] <= clock)]
    buyer_accounts = buyers.groupby("customer_id").size()
    invoices = facts.world["invoices"]
    open_invoices = invoices[(invoices["issued_at"] <= clock)
                             & (invoices["paid_at"].isna() | (invoices["paid_at"] > clock))]
    credit_used_cents = cents(open_invoices["amount"]).groupby(open_invoices["customer_id"]).sum()

    ids = customers["customer_id"]
    count = lookup(ids, per_customer["orders"]).fillna(0).astype("int64")
    first, last = lookup(ids, per_customer["first"]), lookup(ids, per_customer["last"])
    limit = customers["credit_limit"].astype("float64")
    used = lookup(ids, credit_used_cents).fillna(0).astype("int64") / 100
    gap_days = (last - first).dt.total_seconds() / SECONDS_PER_DAY / (count - 1).where(count >= 2)
    as_of = pd.Timestamp(as_of_day)
    frame = pd.DataFrame({
        "customer_id": ids,
        "customer_name": customers["customer_name"],
        "segment": customers["segment"],
        "reseller": customers["reseller"].fillna("(direct)"),
        "registered_at": customers["registered_at"],
        "orders_since_registration": count,
        "products_since_registration": lookup(ids, units).fillna(0).astype("int64"),
        "revenue_since_registration": lookup(ids, per_customer["revenue_cents"]).fillna(0).astype("int64") / 100,
        "buyer_accounts": lookup(ids, buyer_accounts).fillna(0).astype("int64"),
        "days_since_last_order": (as_of - lookup(ids, per_customer["last_day"])).dt.days.astype("Int64"),
        "avg_days_between_orders": gap_days.astype("float64"),
        "credit_limit": limit,
        "credit_used": used,
        "credit_usage_rate": (used / limit.where(limit != 0)).astype("float64"),
    })
    return frame.sort_values("customer_id", ignore_index=True)


def _finish(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame[columns].copy()
    frame["period_start"] = frame["period_start"].dt.date
    sort = [column for column in ("period_start", "rank", "iso_weekday", "hour") if column in columns]
    return frame.sort_values(sort, ignore_index=True)
