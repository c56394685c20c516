"""The company as it was at a clock: what had happened by then, with the values records had then.

Rows created after the clock are gone; lifecycle moments after it are null; statuses, amounts
and `updated_at` are derived from the moments that remain. The generator builds the world from
lifecycles drawn into the future and applies this view at `now`, so the saved world and every
earlier view follow the same rules:

- GA4 data: a tracked session is there once GA has processed it (`ga_processed_at`), an
  untracked one once it has ended; site searches and key events follow their session.
- calls appear when they end; carrier scans, NPS answers, speed samples when they happen.
- a cart is `open` until ordered or, after 24 h, `abandoned`; a quote has no outcome before its
  decision and no quoted amount before it is issued; a deal's amount is the quote's list amount
  until the contract is sent.
- a ticket is `new` until the first reply, `open` (or `pending`, for tickets waiting on the
  customer) until solved, `solved`, and `closed` four days after solving (Zendesk's default
  automation); its reply count is zero before the first reply.
- an order is `placed`, `shipped` or `delivered` by its shipment, or `cancelled`; a parcel's
  latest estimate is the one of its last scan by then.
- a contact's customer and owner appear with the stage that brought them (customer, MQL).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pulse.sandbox.world_io import World

CLOSED_AFTER_SOLVED = pd.Timedelta(days=4)
PENDING_EVERY = 5  # one ticket in five waits on the customer between reply and solution


def world_as_of(world: World, clock: dt.datetime) -> World:
    moment = pd.Timestamp(clock)
    if moment.tzinfo is None:
        raise ValueError(f"world_as_of: clock {clock!r} has no time zone; pass an aware datetime (UTC)")
    tables = tables_as_of(world.tables, moment.tz_convert("UTC"), world.meta.business_timezone)
    return World(tables, world.meta)


def tables_as_of(tables: dict[str, pd.DataFrame], clock: pd.Timestamp,
                 timezone: str) -> dict[str, pd.DataFrame]:
    t = tables
    out: dict[str, pd.DataFrame] = {}
    for name in ("resellers", "sales_agents", "catalogs", "products", "customers", "buyers"):
        out[name] = _until(t[name], "created_at", clock)
    out["crm_contacts"] = _contacts(t["crm_contacts"], clock)
    sessions = t["web_sessions"]
    ended = sessions["started_at"] + pd.to_timedelta(sessions["duration_seconds"], unit="s")
    visible = (ended <= clock) & (~sessions["ga_tracked"] | (sessions["ga_processed_at"] <= clock))
    out["web_sessions"] = _keep(sessions, visible)
    kept_sessions = out["web_sessions"]["session_id"]
    for name in ("site_searches", "key_events"):
        frame = t[name]
        out[name] = _keep(frame, (frame["occurred_at"] <= clock) & frame["session_id"].isin(kept_sessions))
    today = clock.tz_convert(timezone).date()
    out["ad_daily"] = _keep(t["ad_daily"], pd.to_datetime(t["ad_daily"]["date"]).dt.date <= today)
    out["carts"] = _carts(t["carts"], clock)
    out["quotes"] = _quotes(t["quotes"], clock)
    out["crm_deals"] = _deals(t["crm_deals"], t["quotes"], clock)
    events = _until(t["shipment_events"], "occurred_at", clock)
    out["shipment_events"] = events
    out["shipments"] = _shipments(t["shipments"], events, clock)
    out["orders"] = _orders(t["orders"], out["shipments"], clock)
    out["order_lines"] = _keep(t["order_lines"], t["order_lines"]["order_id"].isin(out["orders"]["order_id"]))
    invoices = _until(t["invoices"], "issued_at", clock)
    out["invoices"] = _hide(invoices, ["paid_at"], clock).assign(
        updated_at=lambda f: _last_change(f, ["issued_at", "paid_at"]))
    out["disputes"] = _until(t["disputes"], "created_at", clock)
    out["calls"] = _until(t["calls"], "ended_at", clock)
    out["tickets"] = _tickets(t["tickets"], clock)
    out["nps_responses"] = _until(t["nps_responses"], "submitted_at", clock)
    out["speed_samples"] = _until(t["speed_samples"], "measured_at", clock)
    return out


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """`values` looked up by `keys`, keeping the values' dtype (Series.map turns an empty or
    missing timestamp lookup into floats)."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


def _keep(frame: pd.DataFrame, rows: pd.Series) -> pd.DataFrame:
    """The rows where `rows` is true; the frame itself when that is all of them (worlds are large)."""
    rows = rows.to_numpy(dtype=bool, na_value=False)
    return frame if rows.all() else frame[rows].reset_index(drop=True)


def _until(frame: pd.DataFrame, column: str, clock: pd.Timestamp) -> pd.DataFrame:
    return _keep(frame, frame[column] <= clock)


def _hide(frame: pd.DataFrame, columns: list[str], clock: pd.Timestamp) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].where(frame[column] <= clock)
    return frame


def _last_change(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    return frame[columns].max(axis=1)


def _contacts(frame: pd.DataFrame, clock: pd.Timestamp) -> pd.DataFrame:
    stages = ["subscriber_at", "lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at"]
    frame = _hide(_until(frame, "created_at", clock), stages, clock)
    frame["customer_id"] = frame["customer_id"].where(frame["customer_at"].notna())
    frame["owner_id"] = frame["owner_id"].where(frame["mql_at"].notna())
    frame["updated_at"] = _last_change(frame, ["created_at", *stages])
    return frame


def _carts(frame: pd.DataFrame, clock: pd.Timestamp) -> pd.DataFrame:
    frame = _hide(_until(frame, "created_at", clock), ["ordered_at", "abandoned_at"], clock)
    frame["order_id"] = frame["order_id"].where(frame["ordered_at"].notna())
    frame["status"] = np.select([frame["ordered_at"].notna(), frame["abandoned_at"].notna()],
                                ["ordered", "abandoned"], "open")
    frame["updated_at"] = _last_change(frame, ["created_at", "ordered_at", "abandoned_at"])
    return frame


def _quotes(frame: pd.DataFrame, clock: pd.Timestamp) -> pd.DataFrame:
    moments = ["first_action_at", "issued_at", "decided_at", "ordered_at"]
    frame = _hide(_until(frame, "requested_at", clock), moments, clock)
    frame["outcome"] = frame["outcome"].where(frame["decided_at"].notna())
    frame["order_id"] = frame["order_id"].where(frame["ordered_at"].notna())
    issued = frame["issued_at"].notna()
    frame["quoted_amount"] = frame["quoted_amount"].where(issued)
    frame["discount_amount"] = frame["discount_amount"].where(issued)
    frame["updated_at"] = _last_change(frame, ["requested_at", *moments])
    return frame


def _deals(frame: pd.DataFrame, quotes: pd.DataFrame, clock: pd.Timestamp) -> pd.DataFrame:
    stages = ["contractsent_at", "closedwon_at", "closedlost_at"]
    frame = _hide(_until(frame, "created_at", clock), stages, clock)
    list_amount = frame["quote_id"].map(quotes.set_index("quote_id")["list_amount"])
    frame["amount"] = frame["amount"].where(frame["contractsent_at"].notna(), list_amount)
    frame["updated_at"] = _last_change(frame, ["created_at", *stages])
    return frame


def _shipments(frame: pd.DataFrame, events: pd.DataFrame, clock: pd.Timestamp) -> pd.DataFrame:
    frame = _hide(_until(frame, "shipped_at", clock), ["delivered_at"], clock)
    last_scan = events.sort_values(["occurred_at", "event_id"], kind="stable").drop_duplicates(
        "tracking_code", keep="last").set_index("tracking_code")
    estimate = frame["tracking_code"].map(last_scan["est_delivery_date"])
    frame["est_delivery_date"] = estimate.where(estimate.notna(), frame["first_est_delivery_date"])
    scanned = _lookup(frame["tracking_code"], last_scan["occurred_at"])
    frame["updated_at"] = pd.concat([frame["shipped_at"], scanned], axis=1).max(axis=1)
    return frame


def _orders(frame: pd.DataFrame, shipments: pd.DataFrame, clock: pd.Timestamp) -> pd.DataFrame:
    frame = _hide(_until(frame, "placed_at", clock), ["cancelled_at"], clock)
    parcel = shipments.set_index("order_id")
    shipped = _lookup(frame["order_id"], parcel["shipped_at"])
    delivered = _lookup(frame["order_id"], parcel["delivered_at"])
    frame["status"] = np.select(
        [frame["cancelled_at"].notna(), delivered.notna(), shipped.notna()],
        ["cancelled", "delivered", "shipped"], "placed",
    )
    moments = [frame["placed_at"], frame["cancelled_at"], shipped, delivered]
    frame["updated_at"] = pd.concat(moments, axis=1).max(axis=1)
    return frame


def _tickets(frame: pd.DataFrame, clock: pd.Timestamp) -> pd.DataFrame:
    frame = _hide(_until(frame, "created_at", clock), ["first_reply_at", "solved_at"], clock)
    replied = frame["first_reply_at"].notna()
    solved = frame["solved_at"].notna()
    closed_at = (frame["solved_at"] + CLOSED_AFTER_SOLVED).where(lambda s: s <= clock)
    waiting = frame["ticket_id"] % PENDING_EVERY == 0
    frame["status"] = np.select(
        [closed_at.notna(), solved, replied & waiting, replied],
        ["closed", "solved", "pending", "open"], "new",
    )
    frame["replies"] = frame["replies"].where(replied, 0)
    frame["reopens"] = frame["reopens"].where(solved, 0)
    moments = [frame[["created_at", "first_reply_at", "solved_at"]], closed_at]
    frame["updated_at"] = pd.concat(moments, axis=1).max(axis=1)
    return frame
