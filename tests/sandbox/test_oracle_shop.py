"""The oracle's shop KPIs (transactions, catalogues, carts, quotes, customers) on a hand-made
fortnight, every value worked out by hand. Budget: about 4 s.

Orders, March 2026 (CET):
  o1  Alpha  Mon 2 10:00  web        ideal        100.10 / cost  60.05  public catalogue  utm google/cpc
  o2  Alpha  Mon 2 20:00  web        invoice        0.20 / cost   0.10  public            no utm
  o3  GemX   Tue 3 09:00  sales_rep  invoice      250.00 / cost 200.00  GemX catalogue
  o4  GemX   Tue 3 11:00  web        invoice       49.70  CANCELLED
  o5  Alpha  Sat 7 11:00  web        credit_card   80.00 / cost  90.00  public            utm linkedin.com/referral
  o6  Alpha  Wed 11 10:00 web        ideal         40.00 / cost  20.00  public
Week of 2 March (o1, o2, o3, o5): revenue 430.30, margin 80.15, 4 orders, customers Alpha and GemX.
"""

from __future__ import annotations

import datetime as dt

import pytest

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.oracle import Oracle
from pulse.sandbox.oracle.handmade import handmade_world
from pulse.settings import Settings

CALENDAR = BusinessCalendar(timezone="Europe/Amsterdam", opening=dt.time(8, 30), closing=dt.time(17, 30),
                            weekdays=frozenset({1, 2, 3, 4, 5}), holiday_country="NL")
SETTINGS = Settings(phone_sla_seconds=40, ticket_sla_hours=48)
WEEK, NEXT_WEEK, MONTH = dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 1)
MON, SAT, SUN = dt.date(2026, 3, 2), dt.date(2026, 3, 7), dt.date(2026, 3, 8)
RESELLER = "BouwPartners Noord"


def order(number, customer, placed, channel, payment, revenue, cost, catalog=1, **extra):
    return dict(order_id=number, customer_id=customer, placed_at=placed, channel=channel, payment_method=payment,
                revenue=revenue, cost=cost, catalog_id=catalog, **extra)


def line(order_id, product, quantity, price, cost):
    return dict(order_id=order_id, product_id=product, quantity=quantity, unit_price=price, unit_cost=cost)


@pytest.fixture(scope="module")
def oracle():
    world = handmade_world({
        "resellers": [dict(reseller_id=1, name=RESELLER)],
        "sales_agents": [dict(agent_id=1, name="Anna Bakker"), dict(agent_id=2, name="Daan de Vries")],
        "catalogs": [dict(catalog_id=1, name="Public", kind="public"),
                     dict(catalog_id=2, name="GemX catalogue", kind="customer", customer_id=2)],
        "products": [dict(product_id=1, category="Power tools", product_type="cordless drill"),
                     dict(product_id=2, category="Fasteners", product_type="wood screws"),
                     dict(product_id=3, category="Hand tools", product_type="hammer")],
        "customers": [
            dict(customer_id=1, name="Alpha BV", segment="wholesale", reseller_id=1, sales_agent_id=1, catalog_id=1,
                 credit_limit=10000.0, registered_at="2026-01-10 10:00+01:00"),
            dict(customer_id=2, name="Gemeente X", segment="public_sector", reseller_id=None, sales_agent_id=2,
                 catalog_id=2, credit_limit=0.0, registered_at="2026-03-02 09:00+01:00"),
            dict(customer_id=3, name="Gamma Installaties", segment="installer", reseller_id=1, sales_agent_id=1,
                 catalog_id=1, credit_limit=5000.0, registered_at="2026-03-04 09:00+01:00"),
        ],
        "buyers": [dict(buyer_id=1, customer_id=1, registered_at="2026-01-10 10:00+01:00"),
                   dict(buyer_id=2, customer_id=1, registered_at="2026-02-01 10:00+01:00"),
                   dict(buyer_id=3, customer_id=1, registered_at="2026-04-05 10:00+02:00"),  # after the clock
                   dict(buyer_id=4, customer_id=2, registered_at="2026-03-02 09:00+01:00")],
        "orders": [
            order(1, 1, "2026-03-02 10:00+01:00", "web", "ideal", 100.10, 60.05, utm_source="google",
                  utm_medium="cpc"),
            order(2, 1, "2026-03-02 20:00+01:00", "web", "invoice", 0.20, 0.10),
            order(3, 2, "2026-03-03 09:00+01:00", "sales_rep", "invoice", 250.00, 200.00, catalog=2),
            order(4, 2, "2026-03-03 11:00+01:00", "web", "invoice", 49.70, 30.00, catalog=2, status="cancelled"),
            order(5, 1, "2026-03-07 11:00+01:00", "web", "credit_card", 80.00, 90.00, utm_source="linkedin.com",
                  utm_medium="referral"),
            order(6, 1, "2026-03-11 10:00+01:00", "web", "ideal", 40.00, 20.00),
        ],
        "order_lines": [line(1, 1, 1, 90.10, 55.05), line(1, 2, 2, 5.00, 2.50), line(2, 2, 2, 0.10, 0.05),
                        line(3, 3, 10, 25.00, 20.00), line(4, 1, 1, 49.70, 30.00), line(5, 1, 1, 80.00, 90.00),
                        line(6, 3, 2, 20.00, 10.00)],
        "carts": [
            dict(customer_id=1, created_at="2026-03-02 09:00+01:00", status="ordered", order_id=1),
            dict(customer_id=1, created_at="2026-03-02 15:00+01:00", status="abandoned"),
            dict(customer_id=2, created_at="2026-03-03 10:00+01:00", status="abandoned"),
            dict(customer_id=1, created_at="2026-03-07 10:00+01:00", status="ordered", order_id=5),
            dict(customer_id=3, created_at="2026-03-08 10:00+01:00", status="open"),
        ],
        "quotes": [
            dict(quote_id=1, customer_id=1, sales_agent_id=1, deal_id=1, requested_at="2026-03-02 09:00+01:00",
                 first_action_at="2026-03-02 11:30+01:00", issued_at="2026-03-03 10:00+01:00",
                 decided_at="2026-03-05 10:00+01:00", outcome="accepted", ordered_at="2026-03-05 12:00+01:00",
                 list_amount=1000.0, quoted_amount=900.0, discount_amount=100.0),
            dict(quote_id=2, customer_id=2, sales_agent_id=2, deal_id=2, requested_at="2026-03-06 16:00+01:00",
                 first_action_at="2026-03-09 10:30+01:00", issued_at="2026-03-09 12:00+01:00",
                 decided_at="2026-03-11 12:00+01:00", outcome="rejected",
                 list_amount=500.0, quoted_amount=450.0, discount_amount=50.0),
            dict(quote_id=3, customer_id=1, sales_agent_id=1, deal_id=3, requested_at="2026-03-03 10:00+01:00",
                 list_amount=300.0, quoted_amount=None, discount_amount=None),
        ],
        "crm_deals": [
            dict(deal_id=1, quote_id=1, created_at="2026-03-02 09:00+01:00", contractsent_at="2026-03-03 10:00+01:00",
                 closedwon_at="2026-03-05 10:00+01:00"),
            dict(deal_id=2, quote_id=2, created_at="2026-03-06 16:00+01:00", contractsent_at="2026-03-09 12:00+01:00",
                 closedlost_at="2026-03-11 12:00+01:00"),
            dict(deal_id=3, quote_id=3, created_at="2026-03-03 10:00+01:00"),
        ],
        "invoices": [
            dict(order_id=1, customer_id=1, amount=100.10, issued_at="2026-03-02 12:00+01:00",
                 paid_at="2026-03-10 12:00+01:00"),
            dict(order_id=5, customer_id=1, amount=80.00, issued_at="2026-03-07 12:00+01:00"),
            dict(order_id=6, customer_id=1, amount=40.00, issued_at="2026-03-11 12:00+01:00"),
            dict(order_id=3, customer_id=2, amount=250.00, issued_at="2026-03-03 12:00+01:00"),
        ],
    })
    return Oracle(world, CALENDAR, SETTINGS)


def test_revenue_excludes_cancelled_orders_and_sums_cents_exactly(oracle):
    assert oracle.value("revenue", "week", WEEK) == 430.30
    assert oracle.value("revenue", "day", MON) == 100.30  # 100.10 + 0.20, exact to the cent
    assert oracle.value("revenue", "day", SUN) == 0
    assert oracle.value("revenue", "month", MONTH) == 470.30
    assert oracle.value("revenue", "week", WEEK, "reseller", RESELLER) == 180.30
    assert oracle.value("revenue", "week", WEEK, "reseller", "(direct)") == 250.00
    assert oracle.value("revenue", "week", WEEK, "sales_agent", "Daan de Vries") == 250.00
    assert oracle.value("revenue", "week", WEEK, "order_channel", "web") == 180.30


def test_revenue_by_category_and_by_acquisition_channel(oracle):
    by_category = {c: oracle.value("revenue_by_category", "week", WEEK, "category", c)
                   for c in ("Power tools", "Fasteners", "Hand tools")}
    assert by_category == {"Power tools": 170.10, "Fasteners": 10.20, "Hand tools": 250.00}
    channels = {c: oracle.value("revenue_by_acquisition_channel", "week", WEEK, "acquisition_channel", c)
                for c in ("Paid Search", "Direct", "Offline", "Organic Social", "Referral")}
    assert channels == {"Paid Search": 100.10, "Direct": 0.20, "Offline": 250.00, "Organic Social": 80.00,
                        "Referral": None}


def test_margin_from_orders_and_per_category_from_lines(oracle):
    assert oracle.value("profit_margin", "week", WEEK) == pytest.approx(80.15, abs=1e-9)
    assert oracle.value("profit_margin", "week", WEEK, "category", "Power tools") == pytest.approx(25.05, abs=1e-9)
    assert oracle.value("profit_margin", "day", SAT) == -10.00  # sold below cost
    assert oracle.value("profit_margin_rate", "week", WEEK) == pytest.approx(80.15 / 430.30, rel=1e-9)
    assert oracle.value("profit_margin_rate", "week", WEEK, "category", "Power tools") == pytest.approx(
        25.05 / 170.10, rel=1e-9)


def test_order_values(oracle):
    assert oracle.value("average_order_value", "week", WEEK) == pytest.approx(107.575, rel=1e-12)
    # 0.20, 80.00, 100.10, 250.00: an even count, the median is the mean of the middle two
    assert oracle.value("order_value_median", "week", WEEK) == pytest.approx(90.05, rel=1e-12)
    assert oracle.value("order_value_min", "week", WEEK) == 0.20
    assert oracle.value("order_value_max", "week", WEEK) == 250.00
    rows = oracle.values("order_value_median", "week")
    assert rows.numerator.isna().all() and rows.denominator.isna().all()
    assert oracle.value("order_value_median", "day", SUN) is None


def test_active_customers_are_distinct_per_grain(oracle):
    assert [oracle.value("active_customers", "day", d) for d in (MON, dt.date(2026, 3, 3), SAT)] == [1, 1, 1]
    assert oracle.value("active_customers", "week", WEEK) == 2
    assert oracle.value("orders_per_active_customer", "week", WEEK) == 2.0
    assert oracle.value("revenue_per_customer", "week", WEEK) == pytest.approx(215.15, rel=1e-12)


def test_web_orders_payment_methods_and_office_hours(oracle):
    assert oracle.value("web_transactions", "week", WEEK) == 3  # o4 was cancelled
    assert oracle.value("payment_method_share", "week", WEEK, "payment_method", "invoice") == 0.5
    assert oracle.value("payment_method_share", "week", WEEK) == 1.0
    # o2 at 20:00 and o5 on a Saturday were placed outside office hours
    assert oracle.value("off_hours_order_share", "week", WEEK) == pytest.approx(2 / 3, rel=1e-12)


def test_cart_abandonment_leaves_open_carts_out(oracle):
    assert oracle.value("cart_abandonment_rate", "week", WEEK) == 0.5  # 2 abandoned of 4 decided; 1 open
    assert oracle.value("cart_abandonment_rate", "week", WEEK, "reseller", RESELLER) == pytest.approx(1 / 3)
    assert oracle.value("cart_abandonment_rate", "day", SUN) is None  # only an open cart
    rows = oracle.values("cart_abandonment_rate", "day")
    assert rows[(rows.period_start == SUN) & (rows.slice_name == "reseller")].empty


def test_catalogues(oracle):
    assert oracle.value("catalog_revenue", "week", WEEK, "catalog", "Public") == 180.30
    assert oracle.value("catalog_revenue", "week", WEEK, "catalog_kind", "customer") == 250.00
    assert oracle.value("catalog_kind_revenue_share", "week", WEEK, "catalog_kind", "customer") == pytest.approx(
        250.00 / 430.30, rel=1e-12)
    assert oracle.value("catalog_product_types", "week", WEEK) == 3
    assert oracle.value("catalog_product_types", "week", WEEK, "catalog", "Public") == 2
    assert oracle.value("average_order_quantity", "week", WEEK) == 4.0  # 16 units over 4 orders
    assert oracle.value("average_order_quantity", "week", WEEK, "catalog", "Public") == 2.0


def test_quote_funnel(oracle):
    assert oracle.value("quotes_requested", "week", WEEK) == 3  # q2 came on the Friday
    assert oracle.value("quote_conversion_rate", "week", WEEK) == 1.0  # q1 issued and ordered that week
    assert oracle.value("quote_conversion_rate", "week", NEXT_WEEK) == 0.0
    assert oracle.value("quote_acceptance_rate", "month", MONTH) == 0.5
    assert oracle.value("agent_quote_acceptance_rate", "month", MONTH, "sales_agent", "Anna Bakker") == 1.0
    assert oracle.value("average_quote_discount", "month", MONTH) == 75.0
    # business hours: q1 Mon 09:00 -> 11:30 is 2.5 h; q2 Fri 16:00 -> Mon 10:30 is 1.5 h + 2 h
    assert oracle.value("quote_first_action_time", "week", WEEK) == 2.5
    assert oracle.value("agent_first_action_time", "week", NEXT_WEEK, "sales_agent", "Daan de Vries") == 3.5
    assert oracle.value("quote_first_action_time", "month", MONTH) == 3.0
    # q1: Mon 09:00 -> Thu 10:00 is 3 days 1 hour; q2: Fri 16:00 -> Wed 12:00 is 4 days 20 hours
    assert oracle.value("quote_lead_time", "month", MONTH) == pytest.approx((3 + 1 / 24 + 4 + 20 / 24) / 2)
    assert oracle.value("quote_to_order_rate", "week", WEEK) == pytest.approx(1 / 3)  # q1 of q1, q2, q3
    assert oracle.value("quote_to_order_days", "week", WEEK) == pytest.approx(3.125, rel=1e-12)
    assert oracle.value("quotes_to_orders_rate", "week", WEEK) == 0.75  # 3 quotes, 4 orders


def test_quote_list_shows_the_deal_stage(oracle):
    quotes = oracle.list("quote_list")
    assert quotes[["quote_id", "status", "reseller", "sales_agent"]].values.tolist() == [
        [2, "closedlost", "(direct)", "Daan de Vries"],
        [3, "appointmentscheduled", RESELLER, "Anna Bakker"],
        [1, "closedwon", RESELLER, "Anna Bakker"],
    ]


def test_registration_to_first_order(oracle):
    assert oracle.value("new_customers", "week", WEEK) == 2
    assert oracle.value("registration_to_first_order_rate", "week", WEEK) == 0.5  # GemX ordered, Gamma not
    # first orders that week: GemX 1 day after registering, Alpha 51 days after: median 26
    assert oracle.value("registration_to_first_order_days", "week", WEEK) == 26.0


def test_customer_retention_counts_earlier_web_orders(oracle):
    assert oracle.value("customer_retention_rate", "week", WEEK) == 0.0  # Alpha's first web order is that week
    assert oracle.value("customer_retention_rate", "week", NEXT_WEEK) == 1.0
    assert oracle.value("customer_retention_rate", "day", SAT) == 1.0


def test_heatmap_and_top_customers(oracle):
    heatmap = oracle.list("order_heatmap", "week")
    week = heatmap[heatmap.period_start == WEEK]
    assert week[["iso_weekday", "hour", "orders"]].values.tolist() == [[1, 10, 1], [1, 20, 1], [2, 9, 1], [6, 11, 1]]
    top = oracle.list("top_customers", "week")
    assert top[top.period_start == WEEK][["rank", "customer_name", "reseller", "revenue"]].values.tolist() == [
        [1, "Gemeente X", "(direct)", 250.00], [2, "Alpha BV", RESELLER, 180.30]]


def test_customer_facts(oracle):
    facts = oracle.table("customer_facts").set_index("customer_id")
    alpha, gemx, gamma = facts.loc[1], facts.loc[2], facts.loc[3]
    assert (alpha.orders_since_registration, alpha.products_since_registration) == (4, 8)
    assert alpha.revenue_since_registration == 220.30
    assert alpha.buyer_accounts == 2  # the third registers after the clock
    assert alpha.days_since_last_order == 20  # 11 March to 31 March
    assert alpha.avg_days_between_orders == 3.0  # 9 days over 3 gaps
    assert (alpha.credit_used, alpha.credit_usage_rate) == (120.00, 0.012)
    assert (gemx.orders_since_registration, gemx.revenue_since_registration, gemx.days_since_last_order) == (
        1, 250.00, 28)
    assert pd_isna(gemx.avg_days_between_orders) and pd_isna(gemx.credit_usage_rate)  # one order; no limit
    assert (gamma.orders_since_registration, gamma.credit_used, gamma.credit_usage_rate) == (0, 0.0, 0.0)
    assert pd_isna(gamma.days_since_last_order)
    assert list(oracle.list("customer_credit").columns) == ["customer_id", "credit_limit", "credit_used",
                                                            "credit_usage_rate"]


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
