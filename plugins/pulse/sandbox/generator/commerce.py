"""Buying: carts (ordered or abandoned), quotes with their deals, and orders from the web shop,
from accepted quotes and from phone, email and sales reps, each with its lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pulse.sandbox.generator.company import typical_quantity
from pulse.sandbox.generator.context import Context
from pulse.sandbox.generator.customers import Picker
from pulse.sandbox.generator.draw import (
    OFFICE_HOURS_PROFILE,
    cents,
    choice,
    choice_per_row,
    euros,
    lognormal,
    spread_over_days,
)
from pulse.sandbox.generator.timeline import DAY, HOUR, NONE, to_business_epochs
from pulse.sandbox.incidents import MISPRICED_CATEGORY

CARTS_PER_DAY = 54
QUOTES_PER_DAY = 9
OFFLINE_ORDERS_PER_DAY = 14
CART_ORDERED = 0.78
CHECKOUT_BUG_ORDERED = 0.2  # carts that still got through on the broken checkout
QUOTE_ORDERED = 0.95  # accepted quotes that become an order
QUOTE_VALIDITY = 30 * DAY
CANCELLED = 0.015
PRICE_ERROR_FACTOR = 0.45  # the faulty import priced the category at 45 % of list (below cost)
OFFICE_ONLY = np.where((np.arange(24) >= 8) & (np.arange(24) < 17), OFFICE_HOURS_PROFILE, 0.0)
SEGMENT_QUANTITY = {"wholesale": 1.6, "installer": 0.8, "retail_chain": 2.2, "public_sector": 1.0}
PAYMENT_METHODS = ("invoice", "ideal", "credit_card", "paypal", "direct_debit")
OUTCOMES = ("accepted", "rejected", "expired")
PREPAID_SHARE = (0.0, 0.55, 0.2, 0.1, 0.15)


@dataclass
class Baskets:
    """Lines of many baskets; `basket` is the owner's position."""

    lines: pd.DataFrame


def baskets(ctx: Context, rng: np.random.Generator, products: pd.DataFrame, customers: pd.DataFrame,
            weights: np.ndarray, customer: np.ndarray, mean_lines: float, size: float = 1.0) -> Baskets:
    """Products and quantities for each basket, from the customer's categories by popularity."""
    n_lines = 1 + rng.poisson(mean_lines - 1, size=len(customer))
    basket = np.repeat(np.arange(len(customer)), n_lines)
    owner = customer[basket]
    category = choice_per_row(rng, weights[owner])
    category_of_product = products["category_index"].to_numpy()
    cumulative = np.cumsum(products["popularity"].to_numpy())
    first = np.searchsorted(category_of_product, np.arange(weights.shape[1]))
    last = np.searchsorted(category_of_product, np.arange(weights.shape[1]), side="right")
    low = np.where(first > 0, cumulative[np.maximum(first - 1, 0)], 0.0)[category]
    high = cumulative[last - 1][category]
    product = np.searchsorted(cumulative, low + rng.random(len(basket)) * (high - low), side="right")
    product = np.clip(product, first[category], last[category] - 1)
    list_price = products["list_price"].to_numpy()[product]
    segment_factor = pd.Series(customers["segment"].to_numpy()[owner]).map(SEGMENT_QUANTITY).to_numpy()
    quantity = np.round(typical_quantity(rng, list_price) * segment_factor * size)
    quantity = np.maximum(quantity, 1).astype("int64")
    lines = pd.DataFrame({
        "basket": basket, "product_index": product, "product_id": products["product_id"].to_numpy()[product],
        "quantity": quantity, "unit_list_price": list_price,
        "unit_cost": products["unit_cost"].to_numpy()[product],
        "category_index": products["category_index"].to_numpy()[product],
    })
    lines["list_cents"] = lines["quantity"] * cents(list_price)
    return Baskets(lines)


def price_lines(ctx: Context, lines: pd.DataFrame, discount: np.ndarray, placed: np.ndarray,
                mispriced_category: int) -> pd.DataFrame:
    """The price charged per line: list less the basket's discount, or the faulty import's price."""
    unit_price = np.round(lines["unit_list_price"].to_numpy() * (1 - discount), 2)
    mispriced = lines["category_index"].to_numpy() == mispriced_category
    faulty = ctx.in_incident("price_error", placed) & mispriced
    faulty_price = np.round(lines["unit_list_price"].to_numpy() * PRICE_ERROR_FACTOR, 2)
    unit_price = np.where(faulty, faulty_price, unit_price)
    lines = lines.copy()
    lines["unit_price"] = unit_price
    lines["revenue_cents"] = lines["quantity"] * cents(unit_price)
    lines["cost_cents"] = lines["quantity"] * cents(lines["unit_cost"].to_numpy())
    return lines


def carts(ctx: Context, picker: Picker, products, customers, weights) -> tuple[pd.DataFrame, Baskets]:
    rng = ctx.rng("carts")
    tl = ctx.timeline
    expected = CARTS_PER_DAY * ctx.scale * tl.seasonality() * tl.business_weekday_factor(0.12, 0.2)
    _, created = spread_over_days(rng, tl, expected)
    customer, buyer = picker.pick(rng, created)
    n = len(created)
    ordered_at = created + np.minimum(lognormal(rng, 10 * 60, 1.1, n), 20 * HOUR).astype("int64")
    bug = ctx.in_incident("checkout_bug", created) | ctx.in_incident("checkout_bug", ordered_at)
    ordered = rng.random(n) < np.where(bug, CHECKOUT_BUG_ORDERED, CART_ORDERED)
    frame = pd.DataFrame({
        "created_at": created, "customer_index": customer,
        "customer_id": customers["customer_id"].to_numpy()[customer],
        "buyer_id": buyer, "ordered_at": np.where(ordered, ordered_at, NONE),
        "abandoned_at": np.where(ordered, NONE, created + DAY),
    })
    basket = baskets(ctx, rng, products, customers, weights, customer, 4.0)
    return frame, basket


def quotes(ctx: Context, picker: Picker, agents: pd.DataFrame, products, customers, weights
           ) -> tuple[pd.DataFrame, Baskets]:
    """Quote lifecycle: requested -> first action (office hours) -> issued -> decided -> ordered."""
    rng = ctx.rng("quotes")
    tl = ctx.timeline
    expected = QUOTES_PER_DAY * ctx.scale * tl.seasonality() * tl.business_weekday_factor(0.1, 0.15)
    _, requested = spread_over_days(rng, tl, expected)
    big_buyers = customers["activity"].to_numpy() * customers["segment"].map(
        {"wholesale": 1.0, "installer": 0.5, "retail_chain": 1.5, "public_sector": 2.5}).to_numpy()
    customer, buyer = picker.pick(rng, requested, weights=big_buyers)
    n = len(requested)
    agent = customers["sales_agent_id"].to_numpy()[customer]
    trait = agents.set_index("agent_id")
    response = trait.loc[agent, "response_hours"].to_numpy() * HOUR
    first_action = to_business_epochs(ctx.calendar, requested, lognormal(rng, response, 0.8, n))
    issued = to_business_epochs(ctx.calendar, first_action, lognormal(rng, 5 * HOUR, 0.7, n))
    acceptance = trait.loc[agent, "acceptance"].to_numpy()
    u = rng.random(n)
    outcome = np.where(u < acceptance, 0, np.where(u < acceptance + (1 - acceptance) * 0.55, 1, 2))
    decision_delay = np.minimum(lognormal(rng, 3 * DAY, 0.9, n), QUOTE_VALIDITY - HOUR).astype("int64")
    decided = issued + np.where(outcome == 2, QUOTE_VALIDITY, decision_delay)
    ordered = (outcome == 0) & (rng.random(n) < QUOTE_ORDERED)
    to_order = to_business_epochs(ctx.calendar, decided, lognormal(rng, 2 * HOUR, 0.8, n))
    ordered_at = np.where(ordered, to_order, NONE)
    discount = np.clip(rng.normal(trait.loc[agent, "discount_mean"].to_numpy(), 0.025), 0.0, 0.35)
    frame = pd.DataFrame({
        "customer_index": customer, "customer_id": customers["customer_id"].to_numpy()[customer],
        "buyer_id": buyer, "sales_agent_id": agent, "requested_at": requested,
        "first_action_at": first_action, "issued_at": issued,
        "decided_at": decided, "outcome": outcome, "ordered_at": ordered_at, "discount": discount,
        "channel": np.where(rng.random(n) < 0.55, "sales_rep", "email"),
    })
    basket = baskets(ctx, rng, products, customers, weights, customer, 7.0, size=1.8)
    return frame, basket


def offline_orders(ctx: Context, picker: Picker, products, customers,
                   weights) -> tuple[pd.DataFrame, Baskets]:
    """Orders taken by phone, by email and by sales reps, entered during office hours."""
    rng = ctx.rng("orders.offline")
    tl = ctx.timeline
    expected = OFFLINE_ORDERS_PER_DAY * ctx.scale * tl.seasonality() * tl.business_weekday_factor(0.0, 0.0)
    _, placed = spread_over_days(rng, tl, expected, OFFICE_ONLY, OFFICE_ONLY)
    customer, buyer = picker.pick(rng, placed)
    channel = np.array(["phone", "email", "sales_rep"])[choice(rng, [0.45, 0.30, 0.25], len(placed))]
    frame = pd.DataFrame({"placed_at": placed, "customer_index": customer,
                          "customer_id": customers["customer_id"].to_numpy()[customer], "buyer_id": buyer,
                          "channel": channel})
    return frame, baskets(ctx, rng, products, customers, weights, customer, 5.0, size=1.3)


@dataclass
class Commerce:
    carts: pd.DataFrame
    quotes: pd.DataFrame
    deals: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame


def commerce(ctx: Context, picker: Picker, agents, products, customers, weights) -> Commerce:
    mispriced = int(products.loc[products["category"] == MISPRICED_CATEGORY, "category_index"].iloc[0])
    cart_frame, cart_basket = carts(ctx, picker, products, customers, weights)
    quote_frame, quote_basket = quotes(ctx, picker, agents, products, customers, weights)
    offline_frame, offline_basket = offline_orders(ctx, picker, products, customers, weights)
    catalog_discount = customers["catalog_discount"].to_numpy()

    # carts: priced when the order is placed (or, if abandoned, when created)
    lines = cart_basket.lines
    moment = np.where(cart_frame["ordered_at"] != NONE, cart_frame["ordered_at"], cart_frame["created_at"])
    cart_discount = catalog_discount[cart_frame["customer_index"].to_numpy()][lines["basket"]]
    cart_lines = price_lines(ctx, lines, cart_discount, moment[lines["basket"]], mispriced)
    # quotes: the quote's discount on list prices, fixed when issued
    lines = quote_basket.lines
    quote_lines = price_lines(ctx, lines, quote_frame["discount"].to_numpy()[lines["basket"]],
                              quote_frame["issued_at"].to_numpy()[lines["basket"]], mispriced)
    lines = offline_basket.lines
    offline_lines = price_lines(ctx, lines,
                                catalog_discount[offline_frame["customer_index"].to_numpy()][lines["basket"]],
                                offline_frame["placed_at"].to_numpy()[lines["basket"]], mispriced)
    cart_totals = _totals(cart_lines, len(cart_frame))
    quote_totals = _totals(quote_lines, len(quote_frame))

    # orders from the three origins, numbered by placement
    ordered_carts = np.flatnonzero(cart_frame["ordered_at"].to_numpy() != NONE)
    ordered_quotes = np.flatnonzero(quote_frame["ordered_at"].to_numpy() != NONE)
    origin = pd.concat([
        pd.DataFrame({"placed_at": cart_frame["ordered_at"].to_numpy()[ordered_carts], "origin": 0,
                      "row": ordered_carts, "channel": "web"}),
        pd.DataFrame({"placed_at": quote_frame["ordered_at"].to_numpy()[ordered_quotes], "origin": 1,
                      "row": ordered_quotes, "channel": quote_frame["channel"].to_numpy()[ordered_quotes]}),
        pd.DataFrame({"placed_at": offline_frame["placed_at"].to_numpy(), "origin": 2,
                      "row": np.arange(len(offline_frame)), "channel": offline_frame["channel"].to_numpy()}),
    ], ignore_index=True).sort_values(["placed_at", "origin", "row"], kind="stable", ignore_index=True)
    origin["order_id"] = np.arange(1, len(origin) + 1)
    sources = (cart_frame, quote_frame, offline_frame)
    for column in ("customer_index", "customer_id", "buyer_id"):
        values = np.empty(len(origin), dtype="int64")
        for code, source in enumerate(sources):
            rows = origin["origin"].to_numpy() == code
            values[rows] = source[column].to_numpy()[origin["row"].to_numpy()[rows]]
        origin[column] = values
    order_of = [np.full(len(s), NONE, dtype="int64") for s in sources]
    for code in range(3):
        rows = origin["origin"].to_numpy() == code
        order_of[code][origin["row"].to_numpy()[rows]] = origin["order_id"].to_numpy()[rows]

    # order lines: the lines of the cart, quote or offline basket behind each order
    line_frames = []
    for code, priced in enumerate((cart_lines, quote_lines, offline_lines)):
        owner_order = order_of[code][priced["basket"].to_numpy()]
        line_frames.append(priced.assign(order_id=owner_order)[owner_order != NONE])
    order_lines = pd.concat(line_frames, ignore_index=True).sort_values(
        ["order_id", "product_id", "basket"], kind="stable", ignore_index=True)
    order_lines.insert(0, "line_id", np.arange(1, len(order_lines) + 1))

    orders = _orders(ctx, origin, order_lines, customers)
    order_lines["updated_at"] = orders["placed_at"].to_numpy()[order_lines["order_id"].to_numpy() - 1]

    # carts and quotes are drawn in time order: their position is their id
    cart_frame["order_id"] = order_of[0]
    cart_frame["item_count"] = np.bincount(cart_basket.lines["basket"], minlength=len(cart_frame))
    cart_frame["value"] = euros(cart_totals["revenue_cents"])
    cart_frame.insert(0, "cart_id", np.arange(1, len(cart_frame) + 1))

    quote_frame["order_id"] = order_of[1]
    quote_frame["list_amount"] = euros(quote_totals["list_cents"])
    quote_frame["quoted_amount"] = euros(quote_totals["revenue_cents"])
    quote_frame["discount_amount"] = euros(quote_totals["list_cents"] - quote_totals["revenue_cents"])
    quote_frame["outcome"] = pd.Categorical.from_codes(quote_frame["outcome"], list(OUTCOMES))
    quote_frame.insert(0, "quote_id", np.arange(1, len(quote_frame) + 1))
    quote_frame["deal_id"] = deal_ids(quote_frame["quote_id"].to_numpy())

    row = origin["row"].to_numpy()
    kind = origin["origin"].to_numpy()
    orders["cart_id"] = np.where(kind == 0, row + 1, NONE)
    orders["quote_id"] = np.where(kind == 1, row + 1, NONE)
    return Commerce(cart_frame, quote_frame, deals(quote_frame, customers), orders, order_lines)


def deal_ids(quote_ids: np.ndarray) -> np.ndarray:
    return 8_000_000 + quote_ids * 3


def _totals(lines: pd.DataFrame, n: int) -> dict[str, np.ndarray]:
    basket = lines["basket"].to_numpy()
    return {column: np.bincount(basket, weights=lines[column].to_numpy(), minlength=n).round().astype("int64")
            for column in ("list_cents", "revenue_cents", "cost_cents")}


def _orders(ctx: Context, origin: pd.DataFrame, lines: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng("orders")
    n = len(origin)
    totals = {column: np.bincount(lines["order_id"].to_numpy() - 1, weights=lines[column].to_numpy(),
                                  minlength=n).round().astype("int64")
              for column in ("revenue_cents", "cost_cents")}
    credit = customers["credit_limit"].to_numpy()[origin["customer_index"].to_numpy()] > 0
    web = origin["channel"].to_numpy() == "web"
    on_account = credit & (rng.random(n) < np.where(web, 0.7, 0.92))
    prepaid = choice(rng, PREPAID_SHARE, n)
    method = np.where(on_account, 0, prepaid)
    cancelled = rng.random(n) < CANCELLED
    placed = origin["placed_at"].to_numpy()
    return pd.DataFrame({
        "order_id": origin["order_id"], "customer_id": origin["customer_id"], "buyer_id": origin["buyer_id"],
        "customer_index": origin["customer_index"], "placed_at": placed, "channel": origin["channel"],
        "catalog_id": customers["catalog_id"].to_numpy()[origin["customer_index"].to_numpy()],
        "payment_method": pd.Categorical.from_codes(method, PAYMENT_METHODS),
        "cancelled_at": np.where(cancelled, placed + rng.integers(10 * 60, 6 * HOUR, size=n), NONE),
        "revenue": euros(totals["revenue_cents"]), "cost": euros(totals["cost_cents"]),
    })


def deals(quotes: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """One HubSpot deal per quote: created with the request, contract sent when issued, won when
    accepted, lost when rejected or expired."""
    outcome = quotes["outcome"].astype(str).to_numpy()
    names = customers.set_index("customer_id").loc[quotes["customer_id"], "name"].to_numpy()
    return pd.DataFrame({
        "deal_id": quotes["deal_id"], "quote_id": quotes["quote_id"],
        "dealname": "Q-" + quotes["quote_id"].astype(str).str.zfill(6) + " " + pd.Series(names),
        "sales_agent_id": quotes["sales_agent_id"], "amount": quotes["quoted_amount"],
        "list_amount": quotes["list_amount"],
        "created_at": quotes["requested_at"], "contractsent_at": quotes["issued_at"],
        "closedwon_at": np.where(outcome == "accepted", quotes["decided_at"], NONE),
        "closedlost_at": np.where(outcome != "accepted", quotes["decided_at"], NONE),
    })
