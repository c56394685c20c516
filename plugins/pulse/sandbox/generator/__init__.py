"""The simulated B2B wholesaler: `generate(seed, days, scale, end)` draws every table of
`pulse.sandbox.world` for the window of `days` days ending on `end`.

Everything is drawn as it will happen (lifecycles may run past `now`), then the world is cut at
`now` by `pulse.sandbox.as_of`, the same view the sandbox servers use for earlier clocks. Each
table draws from its own random stream (`timeline.rng_for`), so the same arguments give the
same world, byte for byte.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pulse.business_calendar import BusinessCalendar
from pulse.sandbox import as_of
from pulse.sandbox.generator import commerce, company, crm, customers, fulfilment, service, web
from pulse.sandbox.generator.context import Context, to_table
from pulse.sandbox.generator.timeline import NONE
from pulse.sandbox.incidents import incidents_for
from pulse.sandbox.world import TABLES
from pulse.sandbox.world_io import World, WorldMeta, conform

__all__ = ["generate"]


def generate(seed: int, days: int, scale: float, end: dt.date,
             calendar: BusinessCalendar | None = None) -> World:
    if days < 1:
        raise ValueError(f"sandbox generate: --days must be at least 1, got {days}")
    if not 0 < scale <= 100:
        raise ValueError(f"sandbox generate: --scale must be in (0, 100], got {scale}")
    calendar = calendar or BusinessCalendar.from_settings()
    start = end - dt.timedelta(days=days - 1)
    ctx = Context(seed, scale, start, end, calendar, incidents_for(start, end, calendar))
    meta = WorldMeta(
        seed=seed, scale=scale, start=start, end=end, business_timezone=calendar.timezone,
        property_time_zone=calendar.timezone,
        office_hours=f"{calendar.opening:%H:%M}-{calendar.closing:%H:%M}", incidents=ctx.incidents,
    )
    tables = _draw(ctx)
    for name in list(tables):  # one table at a time: a world at scale 10 is gigabytes
        tables[name] = conform(to_table(tables.pop(name), name), TABLES[name])
    return World(as_of.tables_as_of(tables, pd.Timestamp(meta.now), meta.business_timezone), meta)


def _draw(ctx: Context) -> dict[str, pd.DataFrame]:
    resellers = company.resellers(ctx)
    agents = company.sales_agents(ctx)
    products = company.products(ctx)
    pages = web.page_inventory(products)
    campaign_names = web.campaign_names(ctx)

    # prospects visit the site; some leave their details and go down the funnel to become customers
    prospects = web.prospect_sessions(ctx, pages)
    prospect_events = web.key_events(ctx, "key_events", prospects, pages, 1.0)
    window_contacts = crm.window_contacts(ctx, prospects, prospect_events)
    converted = window_contacts[window_contacts["customer_at"] != NONE]
    # until contacts are numbered, a converted contact is known by its row
    customer_frame = customers.customers(ctx, agents, resellers, converted.assign(
        persona_index=converted["persona"], contact_id=converted.index.to_numpy()))
    window_contacts["customer_ref"] = NONE
    from_window = customer_frame["crm_contact_id"] != NONE
    window_contacts.loc[customer_frame.loc[from_window, "crm_contact_id"].to_numpy(), "customer_ref"] = (
        customer_frame.loc[from_window, "customer_id"].to_numpy())
    before = customer_frame[~from_window]
    with_contact = before.sample(frac=0.8, random_state=ctx.rng("crm_contacts.which"))
    with_contact = with_contact.sort_values("customer_id")
    earlier = crm.customer_contacts(ctx, with_contact["registered_at"].to_numpy(),
                                    with_contact["segment"].to_numpy())
    earlier["customer_ref"] = with_contact["customer_id"].to_numpy()
    all_contacts = pd.concat([earlier, window_contacts], ignore_index=True)
    contacts = crm.contacts_table(ctx, all_contacts, campaign_names)
    customer_frame = _link_contacts(customer_frame, contacts)
    contacts = _contact_details(ctx, contacts, customer_frame, agents)

    weights = customers.category_weights(ctx, customer_frame)
    buyers = customers.buyers(ctx, customer_frame)
    picker = customers.Picker(customer_frame, buyers)
    bought = commerce.commerce(ctx, picker, agents, products, customer_frame, weights)
    orders = bought.orders

    # the sessions of logged-in buyers, among them the session of each web order
    buyer_part = web.buyer_sessions(ctx, pages, picker, buyers, orders)
    buyer_events = web.key_events(ctx, "key_events.buyers", buyer_part, pages, 0.3)
    sessions = web.web_sessions(ctx, pages, [prospects, buyer_part], orders["order_id"].to_numpy())
    prospect_rows, all_rows = len(prospects), len(prospects) + len(buyer_part)
    del prospects, buyer_part
    orders = _attribute_orders(orders, sessions)
    ads = web.ad_daily(ctx, sessions)
    speed = web.speed_samples(ctx, sessions, pages)
    # GA has not processed the latest tracked sessions yet (the as-of view would drop them too;
    # cutting them here, while columns are compact, spares copying gigabytes of strings later)
    ended = sessions["ends_at"].to_numpy() <= ctx.now
    processed = sessions["ga_processed_at"].to_numpy() <= ctx.now
    sessions = sessions[ended & (~sessions["ga_tracked"].to_numpy() | processed)].reset_index(drop=True)
    after = fulfilment.fulfilment(ctx, orders)
    tickets = service.tickets(ctx, picker, orders, after.disputes)
    disputes = _link_tickets(after.disputes, tickets)

    tables = {
        "resellers": resellers,
        "sales_agents": agents,
        "catalogs": customers.catalogs(ctx, customer_frame),
        "products": products,
        "customers": customer_frame,
        "buyers": buyers,
        "web_sessions": sessions,
        "site_searches": web.site_searches(ctx, sessions),
        "key_events": web.key_event_table(
            sessions, [(prospect_events, 0), (buyer_events, prospect_rows)], all_rows),
        "ad_daily": ads,
        "crm_contacts": contacts,
        "crm_deals": _deals(bought.deals, agents),
        "carts": bought.carts.assign(status=None, updated_at=NONE),
        "quotes": bought.quotes.assign(updated_at=NONE),
        "orders": orders.assign(status=None, updated_at=NONE),
        "order_lines": bought.order_lines,
        "invoices": after.invoices.assign(updated_at=NONE),
        "shipments": after.shipments.assign(updated_at=NONE),
        "shipment_events": after.shipment_events,
        "disputes": disputes,
        "calls": service.calls(ctx, agents),
        "tickets": tickets.assign(status=None, updated_at=NONE),
        "nps_responses": service.nps_responses(ctx, customer_frame),
        "speed_samples": speed,
    }
    return {name: frame[TABLES[name].column_names] for name, frame in tables.items()}


def _link_contacts(customer_frame: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """Each customer points at the contact that became it (customers from before the CRM: none)."""
    linked = contacts[contacts["customer_ref"] != NONE]
    contact_of = pd.Series(linked["contact_id"].to_numpy(), index=linked["customer_ref"].to_numpy())
    result = customer_frame.copy()
    result["crm_contact_id"] = pd.array(customer_frame["customer_id"].map(contact_of), dtype="Int64")
    return result


def _contact_details(ctx: Context, contacts: pd.DataFrame, customer_frame: pd.DataFrame,
                     agents: pd.DataFrame) -> pd.DataFrame:
    """Company, email, customer and owner of each contact."""
    rng = ctx.rng("crm_contacts.details")
    customer_id = contacts["customer_ref"].where(contacts["customer_ref"] != NONE)
    names = customer_frame.set_index("customer_id")["name"]
    agent_of = customer_frame.set_index("customer_id")["sales_agent_id"]
    segments = np.array(customers.vocab.SEGMENTS)[rng.integers(0, 4, size=len(contacts))]
    prospect_company = pd.Series(customers._names(rng, segments), index=contacts.index)
    company_name = customer_id.map(names).fillna(prospect_company)
    agent = customer_id.map(agent_of).fillna(pd.Series(rng.integers(1, len(agents) + 1, size=len(contacts)),
                                                       index=contacts.index)).astype("int64")
    owner = agents.set_index("agent_id").loc[agent, "hubspot_owner_id"].to_numpy()
    result = contacts.copy()
    result["company"] = company_name.to_numpy()
    result["customer_id"] = pd.array(customer_id, dtype="Int64")
    result["owner_id"] = pd.array(owner, dtype="Int64")
    local_part = result["firstname"].str.lower() + "." + result["lastname"].str.lower().str.replace(" ", "")
    result["email"] = (local_part + "." + result["contact_id"].astype(str) + "@"
                       + customers.domain(result["company"]))
    result["updated_at"] = NONE
    return result


def _attribute_orders(orders: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    """Web orders carry their session's id, source/medium/campaign, and whether GA saw it."""
    placed_in = sessions.dropna(subset=["order_id"]).set_index("order_id")
    session = orders["order_id"].map(placed_in["session_id"])
    result = orders.copy()
    result["ga_session_id"] = pd.array(session, dtype="Int64")
    result["ga_tracked"] = orders["order_id"].map(placed_in["ga_tracked"]).fillna(False).astype(bool)
    result["utm_source"] = orders["order_id"].map(placed_in["source"].astype(str))
    result["utm_medium"] = orders["order_id"].map(placed_in["medium"].astype(str))
    campaign = orders["order_id"].map(placed_in["campaign"].astype(str))
    result["utm_campaign"] = campaign.where(campaign != "(not set)")
    return result


def _link_tickets(disputes: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    from_disputes = tickets[tickets["dispute_row"] != NONE]
    ticket_of = pd.Series(from_disputes["ticket_id"].to_numpy(),
                          index=from_disputes["dispute_row"].to_numpy())
    result = disputes.copy()
    result["zendesk_ticket_id"] = pd.array(pd.Series(disputes.index).map(ticket_of), dtype="Int64")
    return result


def _deals(deals: pd.DataFrame, agents: pd.DataFrame) -> pd.DataFrame:
    owner = agents.set_index("agent_id").loc[deals["sales_agent_id"], "hubspot_owner_id"].to_numpy()
    return deals.assign(owner_id=owner, updated_at=NONE)
