"""GA4 audience and navigation (KPIs 12-19, G1, G6 returning visitors): sessions GA reports."""

from __future__ import annotations

from pulse.sandbox.oracle.facts import Facts
from pulse.sandbox.oracle.kpis.common import Rules, collector
from pulse.sandbox.oracle.measures import Difference, Measure, Part

MEASURES, kpi = collector()


def _sessions(facts: Facts) -> Part:
    return Part(facts.sessions)


def _users(facts: Facts) -> Part:
    return Part(facts.sessions, "distinct", "user_pseudo_id")


def _new_users(facts: Facts) -> Part:
    return Part(facts.sessions[facts.sessions["is_new_user"]], "distinct", "user_pseudo_id")


@kpi("unique_visitors")
def unique_visitors(facts: Facts, rules: Rules) -> Measure:
    return Measure(_users(facts))


@kpi("sessions")
def sessions(facts: Facts, rules: Rules) -> Measure:
    return Measure(_sessions(facts))


@kpi("new_visitor_rate")
def new_visitor_rate(facts: Facts, rules: Rules) -> Measure:
    return Measure(_new_users(facts), _users(facts))


@kpi("returning_visitors")
def returning_visitors(facts: Facts, rules: Rules) -> Measure:
    return Measure(Difference(_users(facts), _new_users(facts)))


@kpi("mobile_desktop_ratio")
def mobile_desktop_ratio(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.sessions[facts.sessions["mobile"]]), _sessions(facts))


@kpi("sessions_per_visitor")
def sessions_per_visitor(facts: Facts, rules: Rules) -> Measure:
    return Measure(_sessions(facts), _users(facts))


@kpi("session_duration")
def session_duration(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.sessions, "sum", "duration_seconds"), _sessions(facts))


@kpi("pages_per_session")
def pages_per_session(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.sessions, "sum", "page_views"), _sessions(facts))


@kpi("bounce_rate")
def bounce_rate(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.sessions[facts.sessions["not_engaged"]]), _sessions(facts))


@kpi("soft_conversions")
def soft_conversions(facts: Facts, rules: Rules) -> Measure:
    return Measure(Part(facts.ga_events("key_events")))
