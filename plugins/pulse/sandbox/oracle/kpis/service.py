"""Service quality, after-sales and delivery (KPIs 38-50, G7, G8)."""

from __future__ import annotations

from pulse.sandbox.oracle.facts import Facts
from pulse.sandbox.oracle.kpis.common import Rules, collector, dated
from pulse.sandbox.oracle.measures import Measure, Part

MEASURES, kpi = collector()


@kpi("site_speed")
def site_speed(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.speed_samples, "sum", "seconds"), Part(facts.speed_samples))


@kpi("nps")
def nps(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.nps_responses, "sum", "points"), Part(facts.nps_responses))


# ---------------------------------------------------------------- phone
@kpi("call_wait_time")
def call_wait_time(facts: Facts, rules: Rules) -> Measure:
    answered = facts.inbound_calls[facts.inbound_calls["answered"]]
    return Measure(Part(answered, "sum", "wait_seconds"), Part(answered))


def _office_hour_calls(facts: Facts):
    return facts.inbound_calls[facts.inbound_calls["in_office_hours"]]


@kpi("call_answer_rate")
def call_answer_rate(facts: Facts, rules: Rules) -> Measure:
    calls = _office_hour_calls(facts)
    return Measure(Part(calls[calls["answered"]]), Part(calls))


@kpi("phone_sla_compliance")
def phone_sla_compliance(facts: Facts, rules: Rules) -> Measure:
    calls = _office_hour_calls(facts)
    within = calls["answered"] & (calls["wait_seconds"] <= rules.phone_sla_seconds)
    return Measure(Part(calls[within]), Part(calls))


@kpi("inbound_calls")
def inbound_calls(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.inbound_calls))


# ---------------------------------------------------------------- helpdesk
@kpi("ticket_to_order_ratio")
def ticket_to_order_ratio(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.tickets), Part(facts.orders))


@kpi("tickets_created")
def tickets_created(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.tickets))


def _average_hours(facts: Facts, day_column: str, hours: str) -> Measure:
    tickets = dated(facts.tickets, day_column)
    return Measure(Part(tickets, "sum", hours), Part(tickets))


@kpi("first_response_time")
def first_response_time(facts: Facts, rules: Rules) -> Measure:
    return _average_hours(facts, "first_reply_day", "first_reply_hours")


@kpi("first_response_time_business")
def first_response_time_business(facts: Facts, rules: Rules) -> Measure:
    return _average_hours(facts, "first_reply_day", "first_reply_business_hours")


@kpi("resolution_time")
def resolution_time(facts: Facts, rules: Rules) -> Measure:
    return _average_hours(facts, "solved_day", "resolution_hours")


@kpi("resolution_time_business")
def resolution_time_business(facts: Facts, rules: Rules) -> Measure:
    return _average_hours(facts, "solved_day", "resolution_business_hours")


@kpi("ticket_sla_compliance")
def ticket_sla_compliance(facts: Facts, rules: Rules) -> Measure:
    solved = dated(facts.tickets, "solved_day")
    within = solved["resolution_hours"] <= rules.ticket_sla_hours
    return Measure(Part(solved[within]), Part(solved))


# ---------------------------------------------------------------- after-sales and delivery
def _delivered(facts: Facts) -> Part:
    return Part(dated(facts.shipments, "delivered_day"))


@kpi("dispute_rate")
def dispute_rate(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.disputes.drop(columns=["carrier"])), Part(facts.orders))


@kpi("late_delivery_rate")
def late_delivery_rate(facts: Facts, rules: Rules) -> Measure:
    delivered = dated(facts.shipments, "delivered_day")
    return Measure(Part(delivered[delivered["late"]]), Part(delivered))


def _shipped_orders(facts: Facts):
    shipments = dated(facts.shipments, "shipped_day")
    return shipments[~shipments["order_cancelled"]]


@kpi("carrier_orders")
def carrier_orders(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(_shipped_orders(facts)))


@kpi("carrier_revenue")
def carrier_revenue(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(_shipped_orders(facts), "cents", "revenue_cents"))


@kpi("incident_rate_by_carrier")
def incident_rate_by_carrier(facts: Facts, rules: Rules) -> Measure:
    disputes = facts.disputes[facts.disputes["carrier"].notna()]
    return Measure(Part(disputes), _delivered(facts))


@kpi("order_processing_time")
def order_processing_time(facts: Facts, rules: Rules) -> Measure:
    delivered = dated(facts.shipments, "delivered_day")
    return Measure(Part(delivered, "sum", "processing_days"), Part(delivered))
