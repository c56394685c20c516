"""Shop/ERP KPIs: transactions, catalogues, quotes, customers (KPIs 22-37, C1-C4, Q1-Q5, S1-S4,
G3-G6)."""

from __future__ import annotations

import pandas as pd

from pulse.sandbox.oracle.facts import Facts, lookup
from pulse.sandbox.oracle.kpis.common import Rules, collector, dated, total
from pulse.sandbox.oracle.measures import Measure, Part
from pulse.sandbox.oracle.periods import period_start

MEASURES, kpi = collector()


def _revenue(facts: Facts) -> Part:
    return Part(facts.orders, "cents", "revenue_cents")


def _orders(facts: Facts) -> Part:
    return Part(facts.orders)


def _active_customers(facts: Facts) -> Part:
    return Part(facts.orders, "distinct", "customer_id")


@kpi("revenue", "revenue_by_acquisition_channel", "catalog_revenue")
def revenue(facts: Facts, rules: Rules) -> Measure:
    return Measure(_revenue(facts))


@kpi("revenue_by_category")
def revenue_by_category(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.lines, "cents", "revenue_cents"))


@kpi("profit_margin")
def profit_margin(facts: Facts, rules: Rules) -> Measure:
    by_line = Measure(Part(facts.lines, "cents", "margin_cents"))
    return Measure(Part(facts.orders, "cents", "margin_cents"), by_slice={"category": by_line})


@kpi("profit_margin_rate")
def profit_margin_rate(facts: Facts, rules: Rules) -> Measure:
    by_line = Measure(Part(facts.lines, "cents", "margin_cents"), Part(facts.lines, "cents", "revenue_cents"))
    return Measure(Part(facts.orders, "cents", "margin_cents"), _revenue(facts), by_slice={"category": by_line})


@kpi("web_transactions")
def web_transactions(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.web_orders))


@kpi("conversion_rate")
def conversion_rate(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.web_orders), Part(facts.sessions))


@kpi("cart_abandonment_rate")
def cart_abandonment_rate(facts: Facts, rules: Rules) -> Measure:
    carts = facts.carts
    decided = carts[carts["status"].isin(["abandoned", "ordered"])]
    return Measure(Part(decided[decided["status"] == "abandoned"]), Part(decided))


@kpi("average_order_value")
def average_order_value(facts: Facts, rules: Rules) -> Measure:
    return Measure(_revenue(facts), _orders(facts))


def _order_values(facts: Facts) -> pd.DataFrame:
    return facts.orders.assign(revenue=facts.orders["revenue_cents"] / 100)


@kpi("order_value_median")
def order_value_median(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(_order_values(facts), "median", "revenue"))


@kpi("order_value_min")
def order_value_min(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(_order_values(facts), "min", "revenue"))


@kpi("order_value_max")
def order_value_max(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(_order_values(facts), "max", "revenue"))


@kpi("active_customers")
def active_customers(facts: Facts, rules: Rules) -> Measure:
    return Measure(_active_customers(facts))


@kpi("orders_per_active_customer")
def orders_per_active_customer(facts: Facts, rules: Rules) -> Measure:
    return Measure(_orders(facts), _active_customers(facts))


@kpi("revenue_per_customer")
def revenue_per_customer(facts: Facts, rules: Rules) -> Measure:
    return Measure(_revenue(facts), _active_customers(facts))


@kpi("payment_method_share")
def payment_method_share(facts: Facts, rules: Rules) -> Measure:
    return Measure(_orders(facts), total(_orders(facts)))


@kpi("off_hours_order_share")
def off_hours_order_share(facts: Facts, rules: Rules) -> Measure:
    web = facts.web_orders
    return Measure(Part(web[~facts.office_time(web["placed_at"])]), Part(web))


@kpi("customer_retention_rate")
def customer_retention_rate(facts: Facts, rules: Rules) -> Measure:
    web = facts.web_orders
    first_web_day = lookup(web["customer_id"], web.groupby("customer_id")["day"].min())

    def returning(grain: str) -> pd.DataFrame:
        # ordered on the web before this period started
        return web[first_web_day < period_start(web["day"], grain)]

    return Measure(Part(returning, "distinct", "customer_id"), Part(web, "distinct", "customer_id"))


# ---------------------------------------------------------------- catalogues
@kpi("catalog_product_types")
def catalog_product_types(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.lines, "distinct", "product_type"))


@kpi("average_order_quantity")
def average_order_quantity(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.lines, "sum", "quantity"), _orders(facts))


@kpi("catalog_kind_revenue_share")
def catalog_kind_revenue_share(facts: Facts, rules: Rules) -> Measure:
    return Measure(_revenue(facts), total(_revenue(facts)))


# ---------------------------------------------------------------- quotes and sales agents
@kpi("quotes_requested")
def quotes_requested(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(dated(facts.quotes, "requested_day")))


@kpi("quote_conversion_rate")
def quote_conversion_rate(facts: Facts, rules: Rules) -> Measure:
    quotes = facts.quotes
    converted = dated(quotes[quotes["issued"]], "ordered_day")
    return Measure(Part(converted), Part(dated(quotes, "issued_day")))


@kpi("quotes_to_orders_rate")
def quotes_to_orders_rate(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(dated(facts.quotes, "requested_day")), _orders(facts))


@kpi("quote_acceptance_rate", "agent_quote_acceptance_rate")
def quote_acceptance_rate(facts: Facts, rules: Rules) -> Measure:
    decided = dated(facts.quotes, "decided_day")
    return Measure(Part(decided[decided["accepted"]]), Part(decided))


@kpi("average_quote_discount", "agent_average_discount")
def average_quote_discount(facts: Facts, rules: Rules) -> Measure:
    issued = dated(facts.quotes, "issued_day")
    return Measure(Part(issued, "cents", "discount_cents"), Part(issued))


@kpi("quote_first_action_time", "agent_first_action_time")
def quote_first_action_time(facts: Facts, rules: Rules) -> Measure:
    acted = dated(facts.quotes, "first_action_day")
    return Measure(Part(acted, "sum", "first_action_business_hours"), Part(acted))


@kpi("quote_lead_time", "agent_quote_lead_time")
def quote_lead_time(facts: Facts, rules: Rules) -> Measure:
    decided = dated(facts.quotes, "decided_day")
    return Measure(Part(decided, "sum", "lead_days"), Part(decided))


@kpi("quote_to_order_rate")
def quote_to_order_rate(facts: Facts, rules: Rules) -> Measure:
    requested = dated(facts.quotes, "requested_day")
    return Measure(Part(requested[requested["ordered"]]), Part(requested))


@kpi("quote_to_order_days")
def quote_to_order_days(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(dated(facts.quotes, "ordered_day"), "median", "to_order_days"))


# ---------------------------------------------------------------- registration -> first order
@kpi("registration_to_first_order_rate")
def registration_to_first_order_rate(facts: Facts, rules: Rules) -> Measure:
    cohort = dated(facts.first_orders, "registered_day")
    return Measure(Part(cohort[cohort["first_order_at"].notna()]), Part(cohort))


@kpi("registration_to_first_order_days")
def registration_to_first_order_days(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(dated(facts.first_orders, "first_order_day"), "median", "days_to_first_order"))
