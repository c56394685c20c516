"""When each DAG runs and when its data counts as late: every cadence in one place.

Crons are read in the business time zone (`PULSE_BUSINESS_TIMEZONE`), so "06:45" stays 06:45 local
across daylight saving. `late_after` is how long a source may go without a loaded batch before the
freshness check marks its streams stale and emails the data team: one missed run plus the time a
slow run and its retries take.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Cadence:
    cron: str
    every: dt.timedelta  # the time between two ticks: a scheduled run's data interval ends at its tick
    late_after: dt.timedelta
    why: str


HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


# source -> cadence; a source in pulse.sources.SOURCES without an entry here fails the DAG import
SOURCE_CADENCES: dict[str, Cadence] = {
    "shop": Cadence("5 * * * *", HOUR, dt.timedelta(hours=3),
                    "orders, carts and quotes drive the intraday figures; the ERP database takes hourly reads"),
    "zendesk": Cadence("15 * * * *", HOUR, dt.timedelta(hours=3), "ticket backlog and reply times are watched intraday"),
    "aircall": Cadence("20 * * * *", HOUR, dt.timedelta(hours=3), "call waits and missed calls are watched intraday"),
    "hubspot": Cadence("30 */2 * * *", 2 * HOUR, dt.timedelta(hours=6),
                       "lifecycle stages move a few times a day; every 2 hours spares the search quota"),
    "easypost": Cadence("40 */4 * * *", 4 * HOUR, dt.timedelta(hours=10), "carrier scans arrive in bursts a few times a day"),
    # GA4 finishes processing a day in the morning and keeps revising it for ~72 hours (lookback)
    "ga4": Cadence("30 5 * * *", DAY, dt.timedelta(hours=30), "GA4 processes a day overnight; one read a day"),
    "carrier_files": Cadence("0 7 * * *", DAY, dt.timedelta(hours=30), "carriers drop their CSV files once a day"),
    "ad_spend": Cadence("0 7 * * *", DAY, dt.timedelta(hours=30), "ad platforms export yesterday's spend each morning"),
    "nps": Cadence("0 7 * * *", DAY, dt.timedelta(hours=30), "survey answers are exported once a day"),
    "site_speed": Cadence("0 7 * * *", DAY, dt.timedelta(hours=30), "page-speed samples are exported once a day"),
}

# The KPI build runs whenever a raw table it reads changed, and at this time every day whatever
# landed, so one dead source never freezes the dashboards (its figures are marked stale instead).
# It sits before the executives' morning report.
KPI_BUILD_DEADLINE = "45 6 * * *"

# How often lateness is checked (and the data team told about a newly late source).
FRESHNESS_CHECK = "50 * * * *"


def cadence_for(source: str) -> Cadence:
    try:
        return SOURCE_CADENCES[source]
    except KeyError:
        raise KeyError(
            f"source {source!r} has no cadence: add it to SOURCE_CADENCES in {__name__} "
            f"(when its extract DAG runs and when its data is late)"
        ) from None
