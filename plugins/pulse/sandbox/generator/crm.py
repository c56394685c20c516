"""HubSpot contacts and their lifecycle: subscriber or lead -> MQL -> SQL -> opportunity -> customer.

Contacts of the window are created by key events on the website (a form, a whitepaper, the
newsletter) and by offline sources (fairs, imports). Each later stage is reached by a share of
the previous one after a realistic delay; sales stages move during office hours. A contact that
reaches `customer` becomes a shop customer at that moment. Customers from before the window got
their contact back then."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pulse.sandbox.generator import vocab
from pulse.sandbox.generator.context import Context
from pulse.sandbox.generator.draw import choice, lognormal, spread_over_days
from pulse.sandbox.generator.timeline import DAY, HOUR, NONE, to_business_epochs

CONTACT_CREATED_BY_EVENT = {"whitepaper_download": 0.7, "contact_form": 0.85, "newsletter_signup": 0.9}
OFFLINE_LEADS_PER_DAY = 1.2
PERSONA_RATE = 0.75
SUBSCRIBER_TO_LEAD = 0.25
LEAD_TO_MQL = {True: 0.55, False: 0.15}  # by whether the contact matches a persona
MQL_TO_SQL = 0.5
SQL_TO_OPPORTUNITY = 0.6
OPPORTUNITY_TO_CUSTOMER = 0.5
OFFICE_DAY = 9 * HOUR  # business seconds in an office day
CONTACT_ID_BASE = 10_000


def _reach(rng: np.random.Generator, previous: np.ndarray, share, delay: np.ndarray) -> np.ndarray:
    reached = (previous != NONE) & (rng.random(len(previous)) < share)
    return np.where(reached, previous + delay.astype("int64"), NONE)


def _reach_in_office_time(ctx: Context, rng: np.random.Generator, previous: np.ndarray, share: float,
                          median_office_days: float) -> np.ndarray:
    reached = (previous != NONE) & (rng.random(len(previous)) < share)
    result = np.full(len(previous), NONE, dtype="int64")
    rows = np.flatnonzero(reached)
    seconds = lognormal(rng, median_office_days * OFFICE_DAY, 0.8, len(rows))
    result[rows] = to_business_epochs(ctx.calendar, previous[rows], seconds)
    return result


def window_contacts(ctx: Context, prospects: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Contacts created during the window, with their lifecycle as it will unfold (also past now)."""
    rng = ctx.rng("crm_contacts")
    names = np.array(vocab.KEY_EVENTS)[events["event"].to_numpy()]
    creates = rng.random(len(events)) < pd.Series(names).map(CONTACT_CREATED_BY_EVENT).to_numpy()
    web = events[creates]
    sources = prospects["source"].to_numpy()[web["row"].to_numpy()]
    campaign = prospects["campaign"].to_numpy()[web["row"].to_numpy()]
    web_frame = pd.DataFrame({
        "created_at": web["occurred_at"].to_numpy(),
        "subscriber_only": names[creates] == "newsletter_signup",
        "analytics_source": np.array([t.hubspot_source for t in vocab.TRAFFIC_SOURCES])[sources],
        "campaign_code": campaign,
    })
    tl = ctx.timeline
    office = tl.is_office_day.astype(float)
    _, offline = spread_over_days(rng, tl, OFFLINE_LEADS_PER_DAY * ctx.scale * office)
    offline_frame = pd.DataFrame({"created_at": offline, "subscriber_only": False,
                                  "analytics_source": "OFFLINE", "campaign_code": 0})
    frame = pd.concat([web_frame, offline_frame], ignore_index=True)
    created = frame["created_at"].to_numpy()
    n = len(frame)
    subscriber = np.where(frame["subscriber_only"], created, NONE)
    lead = np.where(frame["subscriber_only"],
                    _reach(rng, created, SUBSCRIBER_TO_LEAD, lognormal(rng, 25 * DAY, 0.8, n)), created)
    has_persona = rng.random(n) < PERSONA_RATE
    mql = _reach(rng, lead, np.where(has_persona, LEAD_TO_MQL[True], LEAD_TO_MQL[False]),
                 lognormal(rng, 3 * DAY, 0.8, n))
    sql = _reach_in_office_time(ctx, rng, mql, MQL_TO_SQL, 2.0)
    opportunity = _reach_in_office_time(ctx, rng, sql, SQL_TO_OPPORTUNITY, 4.0)
    customer = _reach_in_office_time(ctx, rng, opportunity, OPPORTUNITY_TO_CUSTOMER, 6.0)
    persona = np.where(has_persona, choice(rng, [0.4, 0.4, 0.2], n), -1)
    return pd.DataFrame({
        "created_at": created, "subscriber_at": subscriber, "lead_at": lead, "mql_at": mql, "sql_at": sql,
        "opportunity_at": opportunity, "customer_at": customer, "persona": persona,
        "analytics_source": frame["analytics_source"].to_numpy(),
        "campaign_code": frame["campaign_code"].to_numpy(),
    })


def customer_contacts(ctx: Context, registered_at: np.ndarray, segment: np.ndarray) -> pd.DataFrame:
    """Contacts of customers that registered before the window (some predate the CRM: none)."""
    rng = ctx.rng("crm_contacts.before")
    n = len(registered_at)
    journey = lognormal(rng, 40 * DAY, 0.7, n).astype("int64") + DAY
    created = registered_at - journey
    fraction = np.sort(rng.random((n, 3)), axis=1)
    persona_of_segment = {"wholesale": 0, "retail_chain": 0, "installer": 1, "public_sector": 2}
    persona = np.array([persona_of_segment[s] for s in segment])
    hubspot_sources = sorted({t.hubspot_source for t in vocab.TRAFFIC_SOURCES})
    return pd.DataFrame({
        "created_at": created, "subscriber_at": NONE, "lead_at": created,
        "mql_at": created + (journey * fraction[:, 0]).astype("int64"),
        "sql_at": created + (journey * fraction[:, 1]).astype("int64"),
        "opportunity_at": created + (journey * fraction[:, 2]).astype("int64"),
        "customer_at": registered_at, "persona": np.where(rng.random(n) < 0.9, persona, -1),
        "analytics_source": np.array(hubspot_sources)[rng.integers(0, len(hubspot_sources), size=n)],
        "campaign_code": 0,
    })


def contacts_table(ctx: Context, contacts: pd.DataFrame, campaign_names: list[str]) -> pd.DataFrame:
    """Number the contacts by creation and give them names; `customer_id`, `company` and
    `owner_id` are filled in by the caller."""
    rng = ctx.rng("crm_contacts.names")
    frame = contacts.sort_values(["created_at", "lead_at"], kind="stable", ignore_index=True)
    n = len(frame)
    frame.insert(0, "contact_id", CONTACT_ID_BASE + np.arange(1, n + 1))
    frame["firstname"] = rng.choice(vocab.FIRST_NAMES, size=n)
    frame["lastname"] = rng.choice(vocab.LAST_NAMES, size=n)
    campaign = frame.pop("campaign_code").to_numpy()
    frame["utm_campaign"] = pd.Categorical.from_codes(np.where(campaign > 0, campaign, -1),
                                                      categories=campaign_names)
    persona = frame["persona"].to_numpy()
    frame["persona"] = pd.Categorical.from_codes(persona, categories=list(vocab.PERSONAS))
    frame["persona_index"] = persona
    return frame
