"""Prospecting, campaigns and the CRM funnel (KPIs 1-11, G2)."""

from __future__ import annotations

from pulse.sandbox.oracle.facts import Facts, lookup
from pulse.sandbox.oracle.kpis.common import Rules, collector, dated, total
from pulse.sandbox.oracle.measures import Measure, Part

MEASURES, kpi = collector()


def _leads(facts: Facts) -> Part:
    return Part(dated(facts.contacts, "lead_day"))


def _paid_leads(facts: Facts) -> Part:
    leads = dated(facts.contacts, "lead_day")
    leads = leads[leads["campaign"].isin(facts.campaign_platforms.index)].copy()
    leads["platform"] = lookup(leads["campaign"], facts.campaign_platforms)
    return Part(leads)


def _spend(facts: Facts) -> Part:
    return Part(facts.ad_spend, "cents", "spend_cents")


def _campaign_visits(facts: Facts) -> Part:
    return Part(facts.campaign_visits)


def _paid_transactions(facts: Facts):
    transactions = facts.ga_transactions
    return transactions[transactions["campaign"].isin(facts.campaign_platforms.index)]


@kpi("suspects")
def suspects(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(dated(facts.contacts, "created_day")))


@kpi("leads")
def leads(facts: Facts, rules: Rules) -> Measure:
    return Measure(_leads(facts))


@kpi("prospects")
def prospects(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(dated(facts.contacts, "qualified_day")))


@kpi("new_customers")
def new_customers(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(dated(facts.customers, "registered_day")))


@kpi("lead_conversion_rate")
def lead_conversion_rate(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(dated(facts.customers, "registered_day")), _leads(facts))


@kpi("lead_distribution_by_source")
def lead_distribution_by_source(facts: Facts, rules: Rules) -> Measure:
    return Measure(_leads(facts), total(_leads(facts)))


@kpi("cost_per_lead")
def cost_per_lead(facts: Facts, rules: Rules) -> Measure:
    return Measure(_spend(facts), _paid_leads(facts))


@kpi("click_through_rate")
def click_through_rate(facts: Facts, rules: Rules) -> Measure:
    return Measure(_campaign_visits(facts), Part(facts.ad_spend, "sum", "impressions"))


@kpi("cost_per_click")
def cost_per_click(facts: Facts, rules: Rules) -> Measure:
    return Measure(_spend(facts), _campaign_visits(facts))


@kpi("ad_conversion_rate")
def ad_conversion_rate(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(_paid_transactions(facts)), _campaign_visits(facts))


@kpi("roas")
def roas(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(_paid_transactions(facts), "cents", "revenue_cents"), _spend(facts))


# ---------------------------------------------------------------- G2: lead -> MQL -> SQL -> registration
def _cohort_rate(facts: Facts, cohort_day: str, reached: str) -> Measure:
    cohort = dated(facts.contacts, cohort_day)
    return Measure(Part(cohort[cohort[reached]]), Part(cohort))


def _step_median(facts: Facts, start_day: str, end_day: str, days: str) -> Measure:
    contacts = facts.contacts[facts.contacts[start_day].notna()]
    return Measure(Part(dated(contacts, end_day), "median", days))


@kpi("funnel_lead_to_mql_rate")
def funnel_lead_to_mql_rate(facts: Facts, rules: Rules) -> Measure:
    return _cohort_rate(facts, "lead_day", "has_mql")


@kpi("funnel_lead_to_mql_days")
def funnel_lead_to_mql_days(facts: Facts, rules: Rules) -> Measure:
    return _step_median(facts, "lead_day", "mql_day", "lead_to_mql_days")


@kpi("funnel_mql_to_sql_rate")
def funnel_mql_to_sql_rate(facts: Facts, rules: Rules) -> Measure:
    return _cohort_rate(facts, "mql_day", "has_sql")


@kpi("funnel_mql_to_sql_days")
def funnel_mql_to_sql_days(facts: Facts, rules: Rules) -> Measure:
    return _step_median(facts, "mql_day", "sql_day", "mql_to_sql_days")


@kpi("funnel_sql_to_registration_rate")
def funnel_sql_to_registration_rate(facts: Facts, rules: Rules) -> Measure:
    return _cohort_rate(facts, "sql_day", "has_registered")


@kpi("funnel_sql_to_registration_days")
def funnel_sql_to_registration_days(facts: Facts, rules: Rules) -> Measure:
    return _step_median(facts, "sql_day", "registered_day", "sql_to_registration_days")
