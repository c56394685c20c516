"""Incidents injected into the simulated company on documented dates (offsets from the last day),
so dashboards and alerts have something real to find.

An incident is anchored `offset` days before the window's last day. Incidents of office days
(a broken checkout, a staffing gap) end on the office day on or before the anchor, so that they
never fall on a quiet weekend; the carrier strike is the ISO week (Monday to Sunday) holding
its anchor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox.world_io import Incident


@dataclass(frozen=True)
class IncidentSpec:
    name: str
    offset: int  # days before the window's last day
    office_days: int  # length in office days; 0 = the ISO week holding the anchor
    description: str
    affected: tuple[str, ...]


SPECS = (
    IncidentSpec(
        "checkout_bug", 20, 1,
        "A checkout release breaks payment for most carts for a day: cart abandonment spikes "
        "and web orders drop.",
        ("cart_abandonment_rate", "web_transactions", "conversion_rate"),
    ),
    IncidentSpec(
        "ga_tracking_outage", 12, 1,
        "The GA4 tag is removed by a site deploy for a day: GA sessions and users collapse, "
        "shop orders do not.",
        ("sessions", "unique_visitors", "conversion_rate"),
    ),
    IncidentSpec(
        "phone_staffing_gap", 28, 3,
        "Three office days with half the phone team out: wait times rise, answer rate and phone SLA fall.",
        ("call_wait_time", "call_answer_rate", "phone_sla_compliance"),
    ),
    IncidentSpec(
        "carrier_strike", 42, 0,
        "A PostNL strike week: most PostNL parcels shipped that week arrive days after their promised date.",
        ("late_delivery_rate", "incident_rate_by_carrier", "dispute_rate"),
    ),
    IncidentSpec(
        "price_error", 58, 3,
        "A price import error sells the Power tools category below cost for three office days: "
        "negative margin.",
        ("profit_margin", "profit_margin_rate"),
    ),
)

STRIKING_CARRIER = "PostNL"
MISPRICED_CATEGORY = "Power tools"


def incidents_for(start: dt.date, end: dt.date,
                  calendar: BusinessCalendar | None = None) -> tuple[Incident, ...]:
    """The incidents that fall wholly inside the window [start, end]."""
    calendar = calendar or BusinessCalendar.from_settings()
    incidents = []
    for spec in SPECS:
        first, last = _dates(spec, end, calendar)
        if first >= start:
            incidents.append(Incident(spec.name, first, last, spec.description, spec.affected))
    return tuple(incidents)


def _dates(spec: IncidentSpec, end: dt.date, calendar: BusinessCalendar) -> tuple[dt.date, dt.date]:
    anchor = end - dt.timedelta(days=spec.offset)
    if spec.office_days == 0:
        monday = anchor - dt.timedelta(days=anchor.isoweekday() - 1)
        return monday, monday + dt.timedelta(days=6)
    last = _office_day_on_or_before(anchor, calendar)
    first = last
    for _ in range(spec.office_days - 1):
        first = _office_day_on_or_before(first - dt.timedelta(days=1), calendar)
    return first, last


def _office_day_on_or_before(day: dt.date, calendar: BusinessCalendar) -> dt.date:
    while not calendar.is_office_day(day):
        day -= dt.timedelta(days=1)
    return day
