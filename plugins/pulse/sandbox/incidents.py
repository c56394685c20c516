"""Incidents injected into the simulated company on documented dates (offsets from the last day),
so dashboards and alerts have something real to find."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pulse.sandbox.world_io import Incident


@dataclass(frozen=True)
class IncidentSpec:
    name: str
    first_offset: int  # days before the window's last day
    last_offset: int
    description: str
    affected: tuple[str, ...]


SPECS = (
    IncidentSpec(
        "checkout_bug", 20, 20,
        "A checkout release breaks payment for most carts for a day: cart abandonment spikes and web orders drop.",
        ("cart_abandonment_rate", "web_transactions", "conversion_rate"),
    ),
    IncidentSpec(
        "ga_tracking_outage", 12, 12,
        "The GA4 tag is removed by a site deploy for a day: GA sessions and users collapse, shop orders do not.",
        ("sessions", "unique_visitors", "conversion_rate"),
    ),
    IncidentSpec(
        "phone_staffing_gap", 30, 28,
        "Three days with half the phone team out: wait times rise, answer rate and phone SLA fall.",
        ("call_wait_time", "call_answer_rate", "phone_sla_compliance"),
    ),
    IncidentSpec(
        "carrier_strike", 45, 39,
        "A PostNL strike week: most PostNL parcels shipped that week arrive days after their promised date.",
        ("late_delivery_rate", "incident_rate_by_carrier", "dispute_rate"),
    ),
    IncidentSpec(
        "price_error", 60, 58,
        "A price import error sells the Power tools category below cost for three days: negative margin.",
        ("profit_margin", "profit_margin_rate"),
    ),
)

STRIKING_CARRIER = "PostNL"
MISPRICED_CATEGORY = "Power tools"


def incidents_for(start: dt.date, end: dt.date) -> tuple[Incident, ...]:
    """The incidents that fall inside the window [start, end]."""
    incidents = []
    for spec in SPECS:
        first = end - dt.timedelta(days=spec.first_offset)
        last = end - dt.timedelta(days=spec.last_offset)
        if first >= start:
            incidents.append(Incident(spec.name, first, last, spec.description, spec.affected))
    return tuple(incidents)
