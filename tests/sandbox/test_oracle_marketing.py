"""The oracle's acquisition KPIs (CRM funnel, paid campaigns, GA transactions) on hand-made
records, every value worked out by hand. Budget: about 3 s.

Week of Monday 2 March 2026 (CET). Contacts:
  ct1 lead Mon 10:00, MQL Wed 10:00, SQL Mon 9 10:00, registers Thu 12 10:00; persona; PAID_SEARCH, NL | Brand
  ct2 lead Tue 10:00, no MQL, SQL Thu 5 10:00; persona; ORGANIC_SEARCH
  ct3 lead Tue 12:00, MQL Fri 12:00; no persona; PAID_SEARCH, NL | Brand
  ct4 no lead (subscriber)
  ct5 lead Wed; PAID_SOCIAL, LinkedIn | Lead gen
  ct6 lead Thu; EMAIL_MARKETING, a newsletter (not a paid campaign)
Ads: NL | Brand (google_ads) Mon 1000 impressions EUR 30.00, Tue 500 impressions EUR 10.50;
LinkedIn | Lead gen (linkedin) Wed 2000 impressions EUR 55.55.
GA sessions of paid campaigns: s1, s2 Mon and s3 Tue (NL | Brand), s4 Wed (LinkedIn); s5 newsletter;
s6 NL | Brand without consent. GA purchases: o1 in s1 (200.00), o2 in s3 (100.55, later cancelled),
o3 in s5 (newsletter); o4 in s2 was not tracked.
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
MON = dt.date(2026, 3, 2)
BRAND, LINKEDIN = "NL | Brand", "LinkedIn | Lead gen"


def contact(number, created, lead=None, mql=None, sql=None, persona=None, source="DIRECT_TRAFFIC", campaign=None,
            customer=None):
    return dict(contact_id=number, created_at=created, lead_at=lead, mql_at=mql, sql_at=sql, persona=persona,
                analytics_source=source, utm_campaign=campaign, customer_id=customer)


def paid_session(number, started, campaign, tracked=True):
    return dict(session_id=number, user_pseudo_id=f"u{number}", started_at=started, campaign=campaign,
                ga_tracked=tracked)


def ga_order(number, session, placed, revenue, tracked=True, status="placed"):
    return dict(order_id=number, customer_id=1, ga_session_id=session, placed_at=placed, revenue=revenue,
                ga_tracked=tracked, status=status)


@pytest.fixture(scope="module")
def oracle():
    world = handmade_world({
        "crm_contacts": [
            contact(1, "2026-03-02 09:00+01:00", "2026-03-02 10:00+01:00", "2026-03-04 10:00+01:00",
                    "2026-03-09 10:00+01:00", "persona_1", "PAID_SEARCH", BRAND, customer=1),
            contact(2, "2026-03-02 09:00+01:00", "2026-03-03 10:00+01:00", None, "2026-03-05 10:00+01:00",
                    "persona_2", "ORGANIC_SEARCH"),
            contact(3, "2026-03-03 09:00+01:00", "2026-03-03 12:00+01:00", "2026-03-06 12:00+01:00", None, None,
                    "PAID_SEARCH", BRAND),
            contact(4, "2026-03-04 09:00+01:00"),
            contact(5, "2026-03-04 09:00+01:00", "2026-03-04 10:00+01:00", source="PAID_SOCIAL", campaign=LINKEDIN),
            contact(6, "2026-03-05 09:00+01:00", "2026-03-05 10:00+01:00", source="EMAIL_MARKETING",
                    campaign="newsletter-2026-03"),
        ],
        "customers": [dict(customer_id=1, registered_at="2026-03-12 10:00+01:00")],
        "ad_daily": [
            dict(date=dt.date(2026, 3, 2), platform="google_ads", campaign=BRAND, impressions=1000, clicks=60,
                 spend=30.00),
            dict(date=dt.date(2026, 3, 3), platform="google_ads", campaign=BRAND, impressions=500, clicks=20,
                 spend=10.50),
            dict(date=dt.date(2026, 3, 4), platform="linkedin", campaign=LINKEDIN, impressions=2000, clicks=10,
                 spend=55.55),
        ],
        "web_sessions": [
            paid_session(1, "2026-03-02 10:00+01:00", BRAND),
            paid_session(2, "2026-03-02 11:00+01:00", BRAND),
            paid_session(3, "2026-03-03 10:00+01:00", BRAND),
            paid_session(4, "2026-03-04 10:00+01:00", LINKEDIN),
            paid_session(5, "2026-03-04 11:00+01:00", "newsletter-2026-03"),
            paid_session(6, "2026-03-02 12:00+01:00", BRAND, tracked=False),
        ],
        "orders": [
            ga_order(1, 1, "2026-03-02 10:20+01:00", 200.00),
            ga_order(2, 3, "2026-03-03 10:20+01:00", 100.55, status="cancelled"),
            ga_order(3, 5, "2026-03-04 11:20+01:00", 50.00),
            ga_order(4, 2, "2026-03-02 11:20+01:00", 70.00, tracked=False),
        ],
    })
    return Oracle(world, CALENDAR, SETTINGS)


def test_crm_counts(oracle):
    assert oracle.value("suspects", "week", WEEK) == 6
    assert oracle.value("leads", "week", WEEK) == 5
    # ct1 by its MQL date, ct2 by its SQL date (it skipped MQL); ct3 has no persona
    assert oracle.value("prospects", "week", WEEK) == 2
    assert oracle.value("prospects", "day", dt.date(2026, 3, 5)) == 1
    assert oracle.value("leads", "week", WEEK, "lead_source", "PAID_SEARCH") == 2


def test_lead_shares_and_conversion(oracle):
    assert oracle.value("lead_distribution_by_source", "week", WEEK, "lead_source", "PAID_SEARCH") == 0.4
    assert oracle.value("lead_distribution_by_source", "week", WEEK, "campaign", "(not set)") == 0.2
    assert oracle.value("lead_conversion_rate", "week", WEEK) == 0.0
    assert oracle.value("lead_conversion_rate", "week", NEXT_WEEK) is None  # a new customer, no leads
    assert oracle.value("lead_conversion_rate", "month", MONTH) == 0.2


def test_paid_campaigns(oracle):
    # EUR 96.05 over the 3 leads of paid campaigns (the newsletter lead is not paid)
    assert oracle.value("cost_per_lead", "week", WEEK) == pytest.approx(96.05 / 3, rel=1e-12)
    assert oracle.value("cost_per_lead", "week", WEEK, "campaign", BRAND) == 20.25
    assert oracle.value("cost_per_lead", "week", WEEK, "platform", "linkedin") == 55.55
    assert oracle.value("click_through_rate", "week", WEEK) == pytest.approx(4 / 3500, rel=1e-12)
    assert oracle.value("click_through_rate", "day", MON) == 0.002  # the session without consent is not a visit
    assert oracle.value("cost_per_click", "week", WEEK) == pytest.approx(24.0125, rel=1e-12)
    assert oracle.value("cost_per_click", "week", WEEK, "platform", "google_ads") == 13.5


def test_ga_transactions_of_paid_campaigns(oracle):
    # o1 and o2 (GA keeps the cancelled one), not o4 (untracked) nor o3 (newsletter)
    assert oracle.value("ad_conversion_rate", "week", WEEK) == 0.5
    assert oracle.value("ad_conversion_rate", "week", WEEK, "campaign", BRAND) == pytest.approx(2 / 3, rel=1e-12)
    assert oracle.value("ad_conversion_rate", "week", WEEK, "campaign", LINKEDIN) == 0.0
    assert oracle.value("roas", "week", WEEK) == pytest.approx(300.55 / 96.05, rel=1e-12)
    assert oracle.value("roas", "day", MON) == pytest.approx(200 / 30, rel=1e-12)


def test_funnel_steps(oracle):
    assert oracle.value("funnel_lead_to_mql_rate", "week", WEEK) == 0.4  # ct1, ct3 of 5 leads
    assert oracle.value("funnel_lead_to_mql_days", "week", WEEK) == 2.5  # median of 2 and 3 days
    assert oracle.value("funnel_mql_to_sql_rate", "week", WEEK) == 0.5  # ct1 of ct1, ct3
    assert oracle.value("funnel_mql_to_sql_days", "week", NEXT_WEEK) == 5.0
    assert oracle.value("funnel_mql_to_sql_days", "week", WEEK) is None  # ct2 reached SQL without an MQL
    assert oracle.value("funnel_sql_to_registration_rate", "week", WEEK) == 0.0  # ct2 never registered
    assert oracle.value("funnel_sql_to_registration_rate", "week", NEXT_WEEK) == 1.0
    assert oracle.value("funnel_sql_to_registration_days", "week", NEXT_WEEK) == 3.0
