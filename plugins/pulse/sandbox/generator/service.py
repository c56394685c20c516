"""Customer service: helpdesk tickets (Zendesk), phone calls (Aircall) and the monthly NPS survey."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pulse.sandbox.generator import vocab
from pulse.sandbox.generator.context import Context
from pulse.sandbox.generator.customers import Picker
from pulse.sandbox.generator.draw import (
    OFFICE_HOURS_PROFILE,
    choice,
    local_days,
    lognormal,
    spread_over_days,
)
from pulse.sandbox.generator.timeline import DAY, HOUR, NONE, to_business_epochs

TICKETS_PER_DAY = 14
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_SPEED = np.array([1.5, 1.0, 0.6, 0.3])  # reply and resolution time factors
TICKET_TYPES = ("question", "incident", "problem", "task")
TICKET_CHANNELS = ("email", "web", "voice", "chat")
REOPENED = 0.06
TICKET_ID_BASE = 40_000

INBOUND_CALLS_PER_DAY = 48
OUTBOUND_CALLS_PER_DAY = 14
PHONE_TEAM_PER_SCALE = 6
SALES_USER_BASE = 100  # Aircall user id of sales agent n is 100 + n
SUPPORT_LINE, SALES_LINE = 1, 2
WAIT_SECONDS = 20  # mean queue wait with a full team
WAIT_SECONDS_SHORT_STAFFED = 140
PATIENCE_SECONDS = 110
CALLS_HOURS = np.array(
    [0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.4, 1.5, 7, 10, 10, 9,
     7, 8.5, 9, 8.5, 7, 3, 1.2, 0.8, 0.5, 0.3, 0.2, 0.1]
)

NPS_RESPONSE_RATE = 0.22


def tickets(ctx: Context, picker: Picker, orders: pd.DataFrame, disputes: pd.DataFrame) -> pd.DataFrame:
    """Questions and problems from customers, plus a ticket for most disputes. First reply and
    resolution are measured in office time."""
    rng = ctx.rng("tickets")
    tl = ctx.timeline
    expected = TICKETS_PER_DAY * ctx.scale * tl.seasonality() * tl.business_weekday_factor(0.15, 0.25)
    _, created = spread_over_days(rng, tl, expected)
    customer, _ = picker.pick(rng, created)
    n = len(created)
    known = rng.random(n) < 0.8
    customer_id = np.where(known, picker.customer_ids[customer], NONE)
    # an order question refers to the customer's latest order placed before the ticket, if any
    topic = choice(rng, [0.3, 0.15, 0.2, 0.1, 0.15, 0.1], n)
    order_id = _latest_order(orders, customer, created)
    order_id = np.where(known & np.isin(topic, [0, 4]), order_id, NONE)
    general = pd.DataFrame({
        "created_at": created, "customer_id": customer_id, "order_id": order_id,
        "type": choice(rng, [0.55, 0.2, 0.1, 0.15], n), "priority": choice(rng, [0.2, 0.6, 0.15, 0.05], n),
        "channel": choice(rng, [0.5, 0.3, 0.1, 0.1], n),
        "tags": np.array(vocab.TICKET_TOPICS)[topic], "dispute_row": NONE,
    })
    with_ticket = disputes[disputes["has_ticket"]]
    order_customer = orders.set_index("order_id").loc[with_ticket["order_id"], "customer_id"].to_numpy()
    m = len(with_ticket)
    from_disputes = pd.DataFrame({
        "created_at": with_ticket["created_at"].to_numpy(), "customer_id": order_customer,
        "order_id": with_ticket["order_id"].to_numpy(),
        "type": np.where(with_ticket["kind"] == "claim", 2, 1),
        "priority": choice(rng, [0.05, 0.6, 0.3, 0.05], m), "channel": choice(rng, [0.6, 0.4, 0.0, 0.0], m),
        "tags": ("dispute " + with_ticket["kind"] + " " + with_ticket["reason"]).to_numpy(),
        "dispute_row": with_ticket.index.to_numpy(),
    })
    frame = pd.concat([general, from_disputes], ignore_index=True).sort_values(
        ["created_at", "dispute_row"], kind="stable", ignore_index=True)
    total = len(frame)
    frame.insert(0, "ticket_id", TICKET_ID_BASE + np.arange(1, total + 1))
    speed = PRIORITY_SPEED[frame["priority"].to_numpy()]
    created = frame["created_at"].to_numpy()
    first_reply = to_business_epochs(ctx.calendar, created, lognormal(rng, 2 * HOUR * speed, 1.0, total))
    reopens = (rng.random(total) < REOPENED).astype("int64")
    work = lognormal(rng, 6 * HOUR * speed, 1.1, total) * (1 + reopens)
    frame["first_reply_at"] = first_reply
    frame["solved_at"] = to_business_epochs(ctx.calendar, first_reply, work)
    frame["replies"] = 1 + rng.poisson(1.2, total) + reopens
    frame["reopens"] = reopens
    frame["type"] = pd.Categorical.from_codes(frame["type"], TICKET_TYPES)
    frame["priority"] = pd.Categorical.from_codes(frame["priority"], PRIORITIES)
    frame["channel"] = pd.Categorical.from_codes(frame["channel"], TICKET_CHANNELS)
    return frame


def _latest_order(orders: pd.DataFrame, customer: np.ndarray, moments: np.ndarray) -> np.ndarray:
    by_customer = orders.sort_values(["customer_index", "placed_at"], kind="stable")
    index = by_customer["customer_index"].to_numpy()
    origin = min(int(by_customer["placed_at"].min()), int(moments.min())) if len(by_customer) else 0
    keys = index * (1 << 40) + (by_customer["placed_at"].to_numpy() - origin)
    position = np.searchsorted(keys, customer * (1 << 40) + (moments - origin), side="right") - 1
    valid = (position >= 0) & (index[np.maximum(position, 0)] == customer)
    return np.where(valid, by_customer["order_id"].to_numpy()[np.maximum(position, 0)], NONE)


def _open_at(ctx: Context, epochs: np.ndarray) -> np.ndarray:
    day = local_days(ctx.span, epochs)
    local = epochs - ctx.span.at(day - ctx.first_day, np.zeros(len(epochs), dtype="int64"))
    opening = ctx.calendar.opening.hour * HOUR + ctx.calendar.opening.minute * 60
    closing = ctx.calendar.closing.hour * HOUR + ctx.calendar.closing.minute * 60
    return ctx.office_days.is_office(day) & (local >= opening) & (local < closing)


def calls(ctx: Context, agents: pd.DataFrame) -> pd.DataFrame:
    """Inbound calls queue for the phone team during opening hours (outside them they reach a
    closed line); callers hang up when the wait exceeds their patience. Sales agents call out."""
    rng = ctx.rng("calls")
    tl = ctx.timeline
    expected = INBOUND_CALLS_PER_DAY * ctx.scale * tl.seasonality() * tl.business_weekday_factor(0.06, 0.1)
    _, started = spread_over_days(rng, tl, expected, CALLS_HOURS, CALLS_HOURS)
    n = len(started)
    team = ctx.volume(PHONE_TEAM_PER_SCALE)
    short_staffed = ctx.in_incident("phone_staffing_gap", started)
    open_line = _open_at(ctx, started)
    mean_wait = np.where(short_staffed, WAIT_SECONDS_SHORT_STAFFED, WAIT_SECONDS)
    wait = rng.exponential(mean_wait, n).astype("int64") + 3
    patience = rng.exponential(PATIENCE_SECONDS, n).astype("int64") + 2
    unstaffed = rng.random(n) < np.where(short_staffed, 0.12, 0.015)
    not_picked_up = rng.random(n) < 0.02
    reason = np.select(
        [~open_line, unstaffed, not_picked_up, (patience < wait) & (patience < 10),
         (patience < wait) & (patience < 25), patience < wait],
        ["out_of_opening_hours", "no_available_agent", "agents_did_not_answer", "short_abandoned",
         "abandoned_in_ivr", "abandoned_in_classic"],
        "",
    )
    answered = reason == ""
    present = np.where(short_staffed, rng.integers(1, max(team // 2, 1) + 1, size=n), team)
    user = np.where(answered, 1 + (rng.random(n) * present).astype("int64"), NONE)
    answered_at = np.where(answered, started + wait, NONE)
    ended = np.select(
        [answered, reason == "out_of_opening_hours",
         np.isin(reason, ["no_available_agent", "agents_did_not_answer"])],
        [answered_at + lognormal(rng, 210, 0.7, n).astype("int64"), started + rng.integers(15, 40, size=n),
         started + rng.integers(30, 90, size=n)],
        started + np.minimum(patience, wait),
    )
    inbound = pd.DataFrame({
        "direction": "inbound", "started_at": started, "answered_at": answered_at, "ended_at": ended,
        "missed_call_reason": pd.Series(reason).replace("", None).to_numpy(),
        "number_id": np.where(rng.random(n) < 0.6, SUPPORT_LINE, SALES_LINE), "user_id": user,
    })
    expected_out = (OUTBOUND_CALLS_PER_DAY * ctx.scale * tl.seasonality()
                    * tl.business_weekday_factor(0.0, 0.0))
    office_only = np.where((np.arange(24) >= 9) & (np.arange(24) < 17), OFFICE_HOURS_PROFILE, 0.0)
    _, out_started = spread_over_days(rng, tl, expected_out, office_only, office_only)
    m = len(out_started)
    picked_up = rng.random(m) < 0.68
    out_answered = np.where(picked_up, out_started + rng.integers(5, 25, size=m), NONE)
    outbound = pd.DataFrame({
        "direction": "outbound", "started_at": out_started, "answered_at": out_answered,
        "ended_at": np.where(picked_up, out_answered + lognormal(rng, 240, 0.8, m).astype("int64"),
                             out_started + 30),
        "missed_call_reason": None, "number_id": SALES_LINE,
        "user_id": SALES_USER_BASE + rng.integers(1, len(agents) + 1, size=m),
    })
    frame = pd.concat([inbound, outbound], ignore_index=True).sort_values(
        ["started_at", "direction"], kind="stable", ignore_index=True)
    frame.insert(0, "call_id", np.arange(1, len(frame) + 1))
    return frame


def nps_responses(ctx: Context, customers: pd.DataFrame) -> pd.DataFrame:
    """The survey goes out at 10:00 on the first office day of each month; about a fifth of the
    customers answer within days, from their own mood of the moment."""
    rng = ctx.rng("nps_responses")
    days = ctx.first_day + np.arange(ctx.timeline.n_days)
    month_starts = np.unique(days.astype("datetime64[D]").astype("datetime64[M]")).astype("datetime64[D]")
    send_days = ctx.office_days.offset(month_starts.astype("int64"), 0)
    send_days = send_days[(send_days >= days[0]) & (send_days <= days[-1])]
    sent = ctx.span.at(send_days - ctx.first_day, np.full(len(send_days), 10 * HOUR))
    mood = rng.normal(8.0, 1.4, len(customers))
    registered = customers["registered_at"].to_numpy()
    frames = []
    for survey in sent:
        invited = np.flatnonzero(registered < survey)
        answered = invited[rng.random(len(invited)) < NPS_RESPONSE_RATE]
        k = len(answered)
        score = np.clip(np.round(mood[answered] + rng.normal(0, 1.3, k)), 0, 10).astype("int64")
        frames.append(pd.DataFrame({
            "submitted_at": survey + np.minimum(rng.exponential(2 * DAY, k), 20 * DAY).astype("int64"),
            "customer_id": customers["customer_id"].to_numpy()[answered], "score": score,
        }))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {"submitted_at": [], "customer_id": [], "score": []}).astype("int64")
    score = frame["score"].to_numpy()
    band = np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor"))
    pick = rng.integers(0, 4, size=len(frame))
    comment = [vocab.NPS_COMMENTS[b][p % len(vocab.NPS_COMMENTS[b])] for b, p in zip(band, pick, strict=True)]
    commented = rng.random(len(frame)) < 0.45
    frame["comment"] = pd.Series(comment, dtype="object").where(commented, None).to_numpy()
    frame = frame.sort_values(["submitted_at", "customer_id"], kind="stable", ignore_index=True)
    frame.insert(0, "response_id", np.arange(1, len(frame) + 1))
    return frame
