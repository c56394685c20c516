"""The world's records as the facts KPIs are computed from: business-local days, money in integer
cents, slice attributes joined on, durations in calendar and business time, and GA's view limited
to what GA4 reports (tracked, processed sessions)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import ChannelRule
from pulse.sandbox.oracle.periods import as_day, local_day
from pulse.sandbox.world_io import World

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0


def cents(amounts: pd.Series) -> pd.Series:
    """EUR amounts (already rounded to cents) as exact integer cents; null stays null."""
    return (amounts.astype("float64") * 100).round().astype("Int64")


def lookup(keys: pd.Series, mapping: pd.Series) -> pd.Series:
    """`mapping[key]` for each key (missing or null keys give null), keeping the keys' index.
    Unlike Series.map it keeps the mapping's dtype on empty and nullable inputs."""
    return mapping.reindex(pd.Index(keys.astype("object"))).set_axis(keys.index).rename(None)


def seconds_between(starts: pd.Series, ends: pd.Series) -> pd.Series:
    return (pd.to_datetime(ends, utc=True) - pd.to_datetime(starts, utc=True)).dt.total_seconds()


class Facts:
    def __init__(self, world: World, calendar: BusinessCalendar, clock: dt.datetime,
                 channel_rules: tuple[ChannelRule, ...]):
        self.world = world
        self.calendar = calendar
        self.clock = pd.Timestamp(clock).tz_convert("UTC")
        self.channel_rules = channel_rules

    def day(self, moments: pd.Series) -> pd.Series:
        return local_day(moments, self.calendar.timezone)

    # ------------------------------------------------------------------ dimensions
    @cached_property
    def customers(self) -> pd.DataFrame:
        customers = self.world["customers"]
        resellers = self.world["resellers"].set_index("reseller_id")["name"]
        agents = self.world["sales_agents"].set_index("agent_id")["name"]
        return pd.DataFrame({
            "customer_id": customers["customer_id"],
            "customer_name": customers["name"],
            "segment": customers["segment"],
            "reseller": lookup(customers["reseller_id"], resellers).astype("string"),
            "sales_agent": lookup(customers["sales_agent_id"], agents).astype("string"),
            "registered_at": customers["registered_at"],
            "registered_day": self.day(customers["registered_at"]),
            "credit_limit": customers["credit_limit"],
        })

    def with_customer(self, frame: pd.DataFrame, columns=("segment", "reseller", "sales_agent")) -> pd.DataFrame:
        attributes = self.customers.set_index("customer_id")
        for column in columns:
            frame[column] = lookup(frame["customer_id"], attributes[column])
        return frame

    # ------------------------------------------------------------------ orders
    @cached_property
    def all_orders(self) -> pd.DataFrame:
        """Every order, cancelled ones included (GA transactions, shipments)."""
        orders = self.world["orders"]
        catalogs = self.world["catalogs"].set_index("catalog_id")
        frame = pd.DataFrame({
            "order_id": orders["order_id"],
            "customer_id": orders["customer_id"],
            "placed_at": orders["placed_at"],
            "day": self.day(orders["placed_at"]),
            "cancelled": orders["status"] == "cancelled",
            "order_channel": orders["channel"],
            "payment_method": orders["payment_method"],
            "catalog_id": orders["catalog_id"],
            "catalog": lookup(orders["catalog_id"], catalogs["name"]).astype("string"),
            "catalog_kind": lookup(orders["catalog_id"], catalogs["kind"]).astype("string"),
            "revenue_cents": cents(orders["revenue"]),
            "cost_cents": cents(orders["cost"]),
            "acquisition_channel": self.acquisition_channel(orders),
            "ga_tracked": orders["ga_tracked"],
            "ga_session_id": orders["ga_session_id"],
        })
        frame["margin_cents"] = frame["revenue_cents"] - frame["cost_cents"]
        return self.with_customer(frame)

    @cached_property
    def orders(self) -> pd.DataFrame:
        """Orders that count for shop KPIs: not cancelled."""
        return self.all_orders[~self.all_orders["cancelled"]].reset_index(drop=True)

    @cached_property
    def web_orders(self) -> pd.DataFrame:
        return self.orders[self.orders["order_channel"] == "web"].reset_index(drop=True)

    @cached_property
    def lines(self) -> pd.DataFrame:
        """Lines of orders that count (not cancelled), with their product and order attributes."""
        lines = self.world["order_lines"]
        products = self.world["products"].set_index("product_id")
        frame = pd.DataFrame({
            "order_id": lines["order_id"],
            "quantity": lines["quantity"],
            "category": lookup(lines["product_id"], products["category"]).astype("string"),
            "product_type": lookup(lines["product_id"], products["product_type"]).astype("string"),
            "revenue_cents": cents(lines["unit_price"]) * lines["quantity"],
            "cost_cents": cents(lines["unit_cost"]) * lines["quantity"],
        })
        frame["margin_cents"] = frame["revenue_cents"] - frame["cost_cents"]
        orders = self.orders.set_index("order_id")
        frame = frame[frame["order_id"].isin(orders.index)].reset_index(drop=True)
        for column in ("day", "customer_id", "catalog", "order_channel", "segment", "sales_agent"):
            frame[column] = lookup(frame["order_id"], orders[column])
        return frame

    def acquisition_channel(self, orders: pd.DataFrame) -> pd.Series:
        """The registry's acquisition_channels rules, first match wins."""
        def normalised(values: pd.Series) -> pd.Series:
            values = values.astype("string").str.strip().str.lower()
            return values.mask(values == "")

        source, medium = normalised(orders["utm_source"]), normalised(orders["utm_medium"])
        order_channel = normalised(orders["channel"])
        result = pd.Series(pd.NA, index=orders.index, dtype="string")
        for rule in self.channel_rules:
            match = pd.Series(True, index=orders.index)
            if rule.order_channel:
                match &= order_channel.isin(rule.order_channel).fillna(False)
            if rule.utm_missing:
                match &= source.isna() & medium.isna()
            if rule.source:
                match &= source.isin(rule.source).fillna(False)
            if rule.medium:
                match &= medium.isin(rule.medium).fillna(False)
            result = result.mask(result.isna() & match, rule.channel)
        return result

    # ------------------------------------------------------------------ GA4's view
    @cached_property
    def sessions(self) -> pd.DataFrame:
        """Sessions GA4 reports: tracked, and processed by the clock."""
        sessions = self.world["web_sessions"]
        visible = sessions["ga_tracked"] & sessions["ga_processed_at"].notna() & (
            sessions["ga_processed_at"] <= self.clock
        )
        sessions = sessions[visible].reset_index(drop=True)
        ends = sessions["started_at"] + pd.to_timedelta(sessions["duration_seconds"], unit="s")
        frame = pd.DataFrame({
            "session_id": sessions["session_id"],
            "user_pseudo_id": sessions["user_pseudo_id"],
            "day": self.day(sessions["started_at"]),
            "end_day": self.day(ends),
            "device": sessions["device_category"],
            "channel": sessions["channel_group"],
            "campaign": sessions["campaign"],
            "is_new_user": sessions["is_new_user"],
            "not_engaged": ~sessions["engaged"],
            "mobile": sessions["device_category"].isin(["mobile", "tablet"]),
            "page_views": sessions["page_views"].astype("float64"),
            "duration_seconds": sessions["duration_seconds"].astype("float64"),
            "exit_page": sessions["exit_page"],
        })
        frame["platform"] = lookup(frame["campaign"], self.campaign_platforms)
        return frame

    @cached_property
    def ga_transactions(self) -> pd.DataFrame:
        """Purchases GA4 recorded: ga_tracked orders (cancelled too) of a visible session."""
        orders = self.all_orders[self.all_orders["ga_tracked"] & self.all_orders["ga_session_id"].notna()]
        sessions = self.sessions.set_index("session_id")
        orders = orders[orders["ga_session_id"].isin(sessions.index)]
        session_ids = orders["ga_session_id"].astype("int64")
        return pd.DataFrame({
            "day": orders["day"].to_numpy(),
            "revenue_cents": orders["revenue_cents"].to_numpy(),
            "campaign": lookup(session_ids, sessions["campaign"]).to_numpy(),
            "platform": lookup(session_ids, sessions["platform"]).to_numpy(),
        })

    def ga_events(self, table: str) -> pd.DataFrame:
        """Events (site searches, key events) of visible sessions, dated by the event."""
        events = self.world[table]
        events = events[events["session_id"].isin(self.sessions["session_id"])].reset_index(drop=True)
        frame = events.drop(columns=["occurred_at"]).copy()
        frame["day"] = self.day(events["occurred_at"])
        return frame

    # ------------------------------------------------------------------ advertising
    @cached_property
    def campaign_platforms(self) -> pd.Series:
        """Paid campaign name -> its ad platform."""
        spend = self.ad_rows
        platforms = spend.groupby("campaign")["platform"].unique()
        shared = platforms[platforms.map(len) > 1]
        if len(shared):
            raise ValueError(
                f"world ad_daily: campaign {shared.index[0]!r} appears on platforms {sorted(shared.iloc[0])}; "
                "a paid campaign must belong to one platform"
            )
        return platforms.map(lambda values: values[0]).astype("string")

    @cached_property
    def ad_rows(self) -> pd.DataFrame:
        """Ad-spend rows as the sources report them: Google Ads comes through GA4, which leaves out
        rows whose metrics are all zero; the other platforms' exports keep them."""
        spend = self.world["ad_daily"]
        silent = (spend["platform"] == "google_ads") & (spend["impressions"] == 0) & (spend["clicks"] == 0) & (
            spend["spend"] == 0)
        return spend[~silent].reset_index(drop=True)

    @cached_property
    def ad_spend(self) -> pd.DataFrame:
        spend = self.ad_rows
        return pd.DataFrame({
            "day": as_day(spend["date"]),
            "campaign": spend["campaign"],
            "platform": spend["platform"],
            "spend_cents": cents(spend["spend"]),
            "impressions": spend["impressions"].astype("float64"),
        })

    @cached_property
    def campaign_visits(self) -> pd.DataFrame:
        return self.sessions[self.sessions["campaign"].isin(self.campaign_platforms.index)].reset_index(drop=True)

    # ------------------------------------------------------------------ CRM
    @cached_property
    def contacts(self) -> pd.DataFrame:
        contacts = self.world["crm_contacts"]
        qualified_at = contacts[["mql_at", "sql_at"]].min(axis=1)
        registered_at = lookup(contacts["customer_id"], self.customers.set_index("customer_id")["registered_at"])
        return pd.DataFrame({
            "contact_id": contacts["contact_id"],
            "created_day": self.day(contacts["created_at"]),
            "lead_day": self.day(contacts["lead_at"]),
            "mql_day": self.day(contacts["mql_at"]),
            "sql_day": self.day(contacts["sql_at"]),
            "qualified_day": self.day(qualified_at).where(contacts["persona"].notna()),
            "registered_day": self.day(registered_at),
            "has_mql": contacts["mql_at"].notna(),
            "has_sql": contacts["sql_at"].notna(),
            "has_registered": registered_at.notna(),
            "lead_to_mql_days": seconds_between(contacts["lead_at"], contacts["mql_at"]) / SECONDS_PER_DAY,
            "mql_to_sql_days": seconds_between(contacts["mql_at"], contacts["sql_at"]) / SECONDS_PER_DAY,
            "sql_to_registration_days": seconds_between(contacts["sql_at"], registered_at) / SECONDS_PER_DAY,
            "lead_source": contacts["analytics_source"],
            "campaign": contacts["utm_campaign"],
        })

    # ------------------------------------------------------------------ shop processes
    @cached_property
    def carts(self) -> pd.DataFrame:
        carts = self.world["carts"]
        frame = pd.DataFrame({
            "customer_id": carts["customer_id"],
            "day": self.day(carts["created_at"]),
            "status": carts["status"],
        })
        return self.with_customer(frame, ("segment", "reseller"))

    @cached_property
    def quotes(self) -> pd.DataFrame:
        quotes = self.world["quotes"]
        agents = self.world["sales_agents"].set_index("agent_id")["name"]
        frame = pd.DataFrame({
            "quote_id": quotes["quote_id"],
            "customer_id": quotes["customer_id"],
            "sales_agent": lookup(quotes["sales_agent_id"], agents).astype("string"),
            "requested_day": self.day(quotes["requested_at"]),
            "issued_day": self.day(quotes["issued_at"]),
            "decided_day": self.day(quotes["decided_at"]),
            "first_action_day": self.day(quotes["first_action_at"]),
            "ordered_day": self.day(quotes["ordered_at"]),
            "issued": quotes["issued_at"].notna(),
            "ordered": quotes["ordered_at"].notna(),
            "accepted": quotes["outcome"] == "accepted",
            "discount_cents": cents(quotes["discount_amount"]),
            "first_action_business_hours": self.calendar.business_seconds_between(
                quotes["requested_at"], quotes["first_action_at"]) / SECONDS_PER_HOUR,
            "lead_days": seconds_between(quotes["requested_at"], quotes["decided_at"]) / SECONDS_PER_DAY,
            "to_order_days": seconds_between(quotes["requested_at"], quotes["ordered_at"]) / SECONDS_PER_DAY,
        })
        frame["accepted"] = frame["accepted"].fillna(False).astype(bool)
        return self.with_customer(frame, ("segment", "reseller"))

    @cached_property
    def first_orders(self) -> pd.DataFrame:
        """Per registered customer: its first order (not cancelled) placed at or after registration."""
        customers = self.customers[self.customers["registered_at"].notna()]
        orders = self.orders.merge(customers[["customer_id", "registered_at"]], on="customer_id")
        orders = orders[orders["placed_at"] >= orders["registered_at"]]
        first = orders.groupby("customer_id")["placed_at"].min()
        frame = customers[["customer_id", "registered_at", "registered_day", "segment"]].copy()
        frame["first_order_at"] = lookup(frame["customer_id"], first)
        frame["first_order_day"] = self.day(frame["first_order_at"])
        frame["days_to_first_order"] = seconds_between(frame["registered_at"], frame["first_order_at"]) / SECONDS_PER_DAY
        return frame

    def office_time(self, moments: pd.Series) -> pd.Series:
        """True where the moment falls inside the office window of an office day."""
        moments = pd.to_datetime(moments, utc=True)
        result = pd.Series(False, index=moments.index)
        if moments.notna().sum() == 0:
            return result
        days = self.day(moments)
        calendar = self.calendar.days(days.min().date(), days.max().date())
        calendar["day"] = as_day(calendar["date"])
        windows = calendar.set_index("day")
        opens, closes = lookup(days, windows["opens_at"]), lookup(days, windows["closes_at"])
        return ((moments >= opens) & (moments < closes)).fillna(False).astype(bool)

    # ------------------------------------------------------------------ service
    @cached_property
    def inbound_calls(self) -> pd.DataFrame:
        calls = self.world["calls"]
        calls = calls[calls["direction"] == "inbound"].reset_index(drop=True)
        return pd.DataFrame({
            "day": self.day(calls["started_at"]),
            "answered": calls["answered_at"].notna(),
            "wait_seconds": seconds_between(calls["started_at"], calls["answered_at"]),
            "in_office_hours": self.office_time(calls["started_at"]),
        })

    @cached_property
    def tickets(self) -> pd.DataFrame:
        tickets = self.world["tickets"]
        business = self.calendar.business_seconds_between
        # Zendesk exposes the first reply only as whole minutes after creation (ticket metrics
        # reply_time_in_minutes, calendar and business): the KPIs use those minutes, and the reply
        # is dated by the moment they imply.
        created = tickets["created_at"]
        reply_minutes = np.floor(seconds_between(created, tickets["first_reply_at"]) / 60)
        reply_business_minutes = np.floor(business(created, tickets["first_reply_at"]) / 60)
        replied_at = created + pd.to_timedelta(reply_minutes, unit="min")
        return pd.DataFrame({
            "day": self.day(tickets["created_at"]),
            "first_reply_day": self.day(replied_at),
            "solved_day": self.day(tickets["solved_at"]),
            "first_reply_hours": reply_minutes * 60 / SECONDS_PER_HOUR,
            "first_reply_business_hours": reply_business_minutes * 60 / SECONDS_PER_HOUR,
            "resolution_hours": seconds_between(tickets["created_at"], tickets["solved_at"]) / SECONDS_PER_HOUR,
            "resolution_business_hours": business(tickets["created_at"], tickets["solved_at"]) / SECONDS_PER_HOUR,
            "priority": tickets["priority"],
            "ticket_channel": tickets["channel"],
        })

    @cached_property
    def speed_samples(self) -> pd.DataFrame:
        samples = self.world["speed_samples"]
        return pd.DataFrame({
            "day": self.day(samples["measured_at"]),
            "seconds": samples["load_time_ms"].astype("float64") / 1000,
            "device": samples["device"],
            "page_type": samples["page_type"],
        })

    @cached_property
    def nps_responses(self) -> pd.DataFrame:
        responses = self.world["nps_responses"]
        score = responses["score"]
        frame = pd.DataFrame({
            "customer_id": responses["customer_id"],
            "day": self.day(responses["submitted_at"]),
            "points": np.where(score >= 9, 100.0, np.where(score <= 6, -100.0, 0.0)),
        })
        return self.with_customer(frame, ("segment", "reseller"))

    # ------------------------------------------------------------------ delivery and after-sales
    @cached_property
    def shipments(self) -> pd.DataFrame:
        shipments = self.world["shipments"]
        repeated = shipments["order_id"][shipments["order_id"].duplicated()]
        if len(repeated):
            raise ValueError(f"world shipments: order {repeated.iloc[0]} has more than one shipment")
        orders = self.all_orders.set_index("order_id")
        delivered_day = self.day(shipments["delivered_at"])
        placed_at = lookup(shipments["order_id"], orders["placed_at"])
        return pd.DataFrame({
            "order_id": shipments["order_id"],
            "carrier": shipments["carrier"],
            "shipped_day": self.day(shipments["shipped_at"]),
            "delivered_day": delivered_day,
            "late": delivered_day > as_day(shipments["promised_date"]),
            "processing_days": seconds_between(placed_at, shipments["delivered_at"]) / SECONDS_PER_DAY,
            "order_cancelled": lookup(shipments["order_id"], orders["cancelled"]).fillna(False).astype(bool),
            "revenue_cents": lookup(shipments["order_id"], orders["revenue_cents"]),
        })

    @cached_property
    def disputes(self) -> pd.DataFrame:
        disputes = self.world["disputes"]
        orders = self.all_orders.set_index("order_id")
        carriers = self.shipments.set_index("order_id")["carrier"]
        frame = pd.DataFrame({
            "customer_id": lookup(disputes["order_id"], orders["customer_id"]),
            "day": self.day(disputes["created_at"]),
            "dispute_kind": disputes["kind"],
            "carrier": lookup(disputes["order_id"], carriers),
        })
        return self.with_customer(frame, ("segment", "reseller"))
