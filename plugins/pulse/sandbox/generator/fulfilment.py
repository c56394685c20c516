"""After the order: the parcel (shipment, carrier scans, delivery against the promised date),
the invoice and its payment, and disputes (returns and claims)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pulse.sandbox.generator import vocab
from pulse.sandbox.generator.context import Context
from pulse.sandbox.generator.draw import at_local, choice, local_days, lognormal
from pulse.sandbox.generator.timeline import DAY, HOUR, NONE
from pulse.sandbox.incidents import STRIKING_CARRIER

CUTOFF = 15 * HOUR  # orders placed before 15:00 on an office day ship that day, for delivery the next
WAREHOUSE_SLIP = 0.03  # parcels that miss their shipping day
FAILED_ATTEMPT = 0.025  # recipient not at home: delivered the next office day
CARRIER_DELAY = 0.012  # sorting-centre delays of two or three days
STRIKE_DELAYED = 0.85  # parcels of the striking carrier shipped in the strike week that are held up
PAYMENT_TERM_DAYS = 30
LATE_PAYERS = 0.08
DISPUTE_RATE = 0.022
DISPUTE_RATE_WHEN_LATE = 0.20
DISPUTE_TICKET = 0.65


@dataclass
class Fulfilment:
    shipments: pd.DataFrame
    shipment_events: pd.DataFrame
    invoices: pd.DataFrame
    disputes: pd.DataFrame


def _local_seconds(ctx: Context, epochs: np.ndarray) -> np.ndarray:
    return epochs - at_local(ctx.span, local_days(ctx.span, epochs), np.zeros(len(epochs), dtype="int64"))


def shipments(ctx: Context, orders: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng("shipments")
    shipped = orders[orders["cancelled_at"] == NONE]
    n = len(shipped)
    placed = shipped["placed_at"].to_numpy()
    placed_day = local_days(ctx.span, placed)
    before_cutoff = ctx.office_days.is_office(placed_day) & (_local_seconds(ctx, placed) < CUTOFF)
    processing_day = np.where(before_cutoff, placed_day, ctx.office_days.offset(placed_day, 1))
    promised = ctx.office_days.offset(processing_day, 1)
    slipped = rng.random(n) < WAREHOUSE_SLIP
    ship_day = np.where(slipped, ctx.office_days.offset(processing_day, 1), processing_day)
    same_day = ship_day == placed_day
    earliest = np.where(same_day, np.maximum(_local_seconds(ctx, placed) + 30 * 60, 8 * HOUR), 9 * HOUR)
    ship_seconds = earliest + (rng.random(n) * np.maximum(17 * HOUR + 1800 - earliest, 60)).astype("int64")
    shipped_at = at_local(ctx.span, ship_day, ship_seconds)
    carrier = choice(rng, vocab.CARRIER_SHARE, n)
    first_est = ctx.office_days.offset(ship_day, 1)
    on_strike = ctx.in_incident("carrier_strike", shipped_at)
    striking = (np.array(vocab.CARRIERS)[carrier] == STRIKING_CARRIER) & on_strike
    u = rng.random(n)
    delay_kind = np.select(  # 0 none, 1 failed attempt, 2 delayed by the carrier, 3 strike
        [striking & (u < STRIKE_DELAYED), u < FAILED_ATTEMPT, u < FAILED_ATTEMPT + CARRIER_DELAY],
        [3, 1, 2], 0,
    )
    delay = np.select([delay_kind == 1, delay_kind == 2, delay_kind == 3],
                      [1, rng.integers(2, 4, size=n), rng.integers(2, 6, size=n)], 0)
    delivered_day = ctx.office_days.offset(first_est, delay)
    delivered_at = at_local(ctx.span, delivered_day, rng.integers(9 * HOUR, 18 * HOUR, size=n))
    carrier_name = np.array(vocab.CARRIERS)[carrier]
    frame = pd.DataFrame({
        "order_id": shipped["order_id"].to_numpy(), "carrier": carrier_name,
        "feed": pd.Series(carrier_name).map(vocab.CARRIER_FEED).to_numpy(),
        "shipped_at": shipped_at, "promised_date": promised, "first_est_delivery_date": first_est,
        "est_delivery_date": delivered_day, "delivered_at": delivered_at, "delay_kind": delay_kind,
    }).sort_values(["shipped_at", "order_id"], kind="stable", ignore_index=True)
    frame.insert(0, "shipment_id", np.arange(1, len(frame) + 1))
    prefix = pd.Series(frame["carrier"].map(vocab.CARRIER_TRACKING_PREFIX))
    frame["tracking_code"] = prefix + (frame["shipment_id"] * 7919 + 10_000_000).astype(str).str.zfill(10)
    return frame


def shipment_events(ctx: Context, shipments: pd.DataFrame) -> pd.DataFrame:
    """Carrier scans: label, sorting, a delay or failed attempt, out for delivery, delivered.
    Each scan carries the carrier's estimate after it."""
    rng = ctx.rng("shipment_events")
    n = len(shipments)
    code = shipments["tracking_code"].to_numpy()
    shipped = shipments["shipped_at"].to_numpy()
    first_est = shipments["first_est_delivery_date"].to_numpy()
    delivered_day = shipments["est_delivery_date"].to_numpy()
    delivered = shipments["delivered_at"].to_numpy()
    kind = shipments["delay_kind"].to_numpy()
    events = [
        (np.arange(n), shipped, "pre_transit", "Shipping label created", first_est),
        (np.arange(n), shipped + rng.integers(2 * HOUR, 5 * HOUR, size=n), "in_transit",
         "Parcel sorted at distribution centre", first_est),
    ]
    failed = np.flatnonzero(kind == 1)
    attempted = at_local(ctx.span, first_est[failed], rng.integers(11 * HOUR, 16 * HOUR, len(failed)))
    events.append((failed, attempted, "failure", "Delivery attempt failed: recipient not at home",
                   delivered_day[failed]))
    for delay_kind, message in ((2, "Delayed: high volumes at the sorting centre"),
                                (3, "Delayed: industrial action at the carrier")):
        rows = np.flatnonzero(kind == delay_kind)
        events.append((rows, at_local(ctx.span, first_est[rows], rng.integers(6 * HOUR, 7 * HOUR, len(rows))),
                       "in_transit", message, delivered_day[rows]))
    everyone = np.arange(n)
    events.append((everyone, at_local(ctx.span, delivered_day, rng.integers(7 * HOUR, 8 * HOUR + 1800, n)),
                   "out_for_delivery", "Out for delivery", delivered_day))
    events.append((everyone, delivered, "delivered", "Delivered", delivered_day))
    frame = pd.concat([
        pd.DataFrame({"row": rows, "occurred_at": at, "status": status, "message": message,
                      "est_delivery_date": est})
        for rows, at, status, message, est in events
    ], ignore_index=True)
    frame["tracking_code"] = code[frame["row"].to_numpy()]
    frame = frame.sort_values(["occurred_at", "row"], kind="stable", ignore_index=True)
    frame.insert(0, "event_id", np.arange(1, len(frame) + 1))
    return frame.drop(columns="row")


def invoices(ctx: Context, orders: pd.DataFrame, shipments: pd.DataFrame) -> pd.DataFrame:
    """An invoice per shipped order, issued at shipping. On account: due after the payment term,
    mostly paid around the due date; prepaid methods are settled at once, direct debit in days."""
    rng = ctx.rng("invoices")
    order = orders.set_index("order_id").loc[shipments["order_id"]]
    n = len(shipments)
    issued = shipments["shipped_at"].to_numpy()
    issued_day = local_days(ctx.span, issued)
    method = order["payment_method"].astype(str).to_numpy()
    on_account = method == "invoice"
    due = issued_day + np.where(on_account, PAYMENT_TERM_DAYS, 0)
    late = rng.random(n) < LATE_PAYERS
    pay_day = np.where(late, due + rng.integers(10, 45, size=n), due + np.round(rng.normal(-3, 5, size=n)))
    paid = np.select(
        [on_account, method == "direct_debit"],
        [at_local(ctx.span, pay_day.astype("int64"), rng.integers(9 * HOUR, 17 * HOUR, size=n)),
         issued + 5 * DAY],
        issued,
    )
    frame = pd.DataFrame({
        "order_id": shipments["order_id"].to_numpy(), "customer_id": order["customer_id"].to_numpy(),
        "amount": order["revenue"].to_numpy(), "issued_at": issued, "due_date": due, "paid_at": paid,
    }).sort_values(["issued_at", "order_id"], kind="stable", ignore_index=True)
    frame.insert(0, "invoice_id", np.arange(1, len(frame) + 1))
    return frame


def disputes(ctx: Context, shipments: pd.DataFrame) -> pd.DataFrame:
    """Returns and claims after delivery; late parcels draw far more of them."""
    rng = ctx.rng("disputes")
    n = len(shipments)
    late = shipments["est_delivery_date"].to_numpy() > shipments["promised_date"].to_numpy()
    disputed = np.flatnonzero(rng.random(n) < np.where(late, DISPUTE_RATE_WHEN_LATE, DISPUTE_RATE))
    m = len(disputed)
    late_one = late[disputed]
    reasons = np.array(["damaged", "wrong_item", "late", "not_delivered", "quality"])
    reason = np.where(late_one & (rng.random(m) < 0.7), 2, choice(rng, [0.35, 0.25, 0.0, 0.08, 0.32], m))
    kind = np.where(np.isin(reason, [1, 4]), np.where(rng.random(m) < 0.85, "return", "claim"),
                    np.where(reason == 0, np.where(rng.random(m) < 0.5, "return", "claim"), "claim"))
    created = (shipments["delivered_at"].to_numpy()[disputed]
               + lognormal(rng, 1.5 * DAY, 0.9, m).astype("int64"))
    frame = pd.DataFrame({
        "order_id": shipments["order_id"].to_numpy()[disputed], "kind": kind, "reason": reasons[reason],
        "carrier_related": np.isin(reason, [0, 2, 3]), "carrier": shipments["carrier"].to_numpy()[disputed],
        "created_at": created, "has_ticket": rng.random(m) < DISPUTE_TICKET,
    }).sort_values(["created_at", "order_id"], kind="stable", ignore_index=True)
    frame.insert(0, "dispute_id", np.arange(1, len(frame) + 1))
    frame["updated_at"] = frame["created_at"]
    return frame


def fulfilment(ctx: Context, orders: pd.DataFrame) -> Fulfilment:
    shipped = shipments(ctx, orders)
    return Fulfilment(shipped, shipment_events(ctx, shipped), invoices(ctx, orders, shipped),
                      disputes(ctx, shipped))
