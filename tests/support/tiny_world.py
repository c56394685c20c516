"""A small hand-built company for connector tests: every shop table, carrier scans of a CSV and an
EasyPost carrier, ad spend, NPS answers and page-speed samples over ten days, with awkward values
(SQL and spreadsheet-formula text, accents, nulls). Deterministic; built without the generator so
the tests do not depend on its statistics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pulse.sandbox.world_io import World, WorldMeta

START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 11)
TZ = "Europe/Amsterdam"
AWKWARD = ["Acme B.V.", "Café Ünïcode & Zn.", "'; drop table raw.shop__customers; --", "=cmd|' /C calc'!A0"]


def moment(day: int, hour: float) -> pd.Timestamp:
    """Local wall-clock time on the day-th day of the window, in UTC."""
    local = pd.Timestamp(START + dt.timedelta(days=day), tz=TZ) + pd.Timedelta(hours=hour)
    return local.tz_convert("UTC")


def tiny_world(orders_per_day: int = 6, seed: int = 7) -> World:
    rng = np.random.default_rng(seed)
    days = (END - START).days + 1
    t0 = moment(-30, 9)
    resellers = pd.DataFrame({"reseller_id": [1, 2], "name": ["Noord Groothandel", "Zuid & Co"],
                              "created_at": [t0, t0]})
    agents = pd.DataFrame({"agent_id": [1, 2], "name": ["An de Vries", "Bas Jansen"],
                           "email": ["an@pulse.example", "bas@pulse.example"], "hubspot_owner_id": [501, 502],
                           "created_at": [t0, t0]})
    n_customers = 8
    customers = pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "name": [AWKWARD[i % len(AWKWARD)] + f" {i}" for i in range(n_customers)],
        "segment": ["wholesale", "installer", "retail_chain", "public_sector"] * 2,
        "reseller_id": pd.array([1, None, 2, None, 1, 2, None, 1], dtype="Int64"),
        "sales_agent_id": [1, 2] * 4, "catalog_id": [1, 1, 2, 1, 3, 1, 1, 1], "country": ["NL"] * 7 + ["BE"],
        "credit_limit": [5000.0, 2500.5, 10000.0, 0.0, 750.25, 1000.0, 3000.0, 1500.0],
        "registered_at": [moment(-20 + i * 3, 10) for i in range(n_customers)],
        "crm_contact_id": pd.array([100 + i if i % 3 else None for i in range(n_customers)], dtype="Int64"),
    })
    customers["created_at"] = customers["registered_at"]
    customers["updated_at"] = customers["registered_at"]
    catalogs = pd.DataFrame({"catalog_id": [1, 2, 3], "name": ["Public", "Acme special", "Café list"],
                             "kind": ["public", "customer", "customer"],
                             "customer_id": pd.array([None, 3, 5], dtype="Int64"), "created_at": [t0] * 3})
    products = pd.DataFrame({
        "product_id": np.arange(1, 7), "sku": [f"SKU-{i:04d}" for i in range(1, 7)],
        "name": ["Cable 3x2.5", "Switch", "Socket", "Lamp \"Deluxe\"", "Tape; red", "Drill, cordless"],
        "category": ["cables", "switches", "switches", "lighting", "tools", "tools"],
        "product_type": ["stock", "stock", "stock", "stock", "consumable", "stock"],
        "list_price": [12.5, 30.0, 4.99, 89.0, 2.35, 149.0], "unit_cost": [7.1, 18.0, 2.5, 51.2, 1.1, 99.99],
        "created_at": [t0] * 6, "updated_at": [t0] * 6,
    })
    buyers = pd.DataFrame({
        "buyer_id": np.arange(1, 2 * n_customers + 1), "customer_id": np.repeat(customers["customer_id"], 2).to_numpy(),
        "email": [f"buyer{i}@customer.example" for i in range(1, 2 * n_customers + 1)],
        "name": [f"Buyer {i}" for i in range(1, 2 * n_customers + 1)],
        "registered_at": np.repeat(customers["registered_at"], 2).to_numpy(),
    })
    buyers["created_at"] = buyers["registered_at"]
    buyers["updated_at"] = buyers["registered_at"]

    order_rows, line_rows = [], []
    line_id = 0
    for day in range(days):
        for k in range(orders_per_day):
            order_id = len(order_rows) + 1
            customer = int(rng.integers(1, n_customers + 1))
            placed = moment(day, 8 + 10 * k / orders_per_day + rng.random())
            revenue = cost = 0.0
            for _ in range(int(rng.integers(1, 4))):
                line_id += 1
                product = int(rng.integers(1, 7))
                quantity = int(rng.integers(1, 20))
                list_price = float(products.loc[product - 1, "list_price"])
                unit_price = round(list_price * (1 - 0.05 * int(rng.integers(0, 3))), 2)
                unit_cost = float(products.loc[product - 1, "unit_cost"])
                line_rows.append({"line_id": line_id, "order_id": order_id, "product_id": product,
                                  "quantity": quantity, "unit_list_price": list_price, "unit_price": unit_price,
                                  "unit_cost": unit_cost, "updated_at": placed})
                revenue += quantity * unit_price
                cost += quantity * unit_cost
            cancelled = k == 3 and day % 4 == 0
            order_rows.append({
                "order_id": order_id, "customer_id": customer, "buyer_id": 2 * customer - 1, "placed_at": placed,
                "channel": ["web", "web", "sales_rep", "phone", "email", "web"][k % 6],
                "catalog_id": 1, "quote_id": None, "cart_id": None,
                "payment_method": ["invoice", "ideal", "credit_card", "paypal", "direct_debit"][k % 5],
                "status": "cancelled" if cancelled else "delivered",
                "cancelled_at": placed + pd.Timedelta(hours=2) if cancelled else pd.NaT,
                "revenue": round(revenue, 2), "cost": round(cost, 2), "utm_source": "google" if k % 2 else None,
                "utm_medium": "cpc" if k % 2 else None, "utm_campaign": "=HYPERLINK(\"http://x\")" if k == 1 else None,
                "ga_session_id": None, "ga_tracked": bool(k % 2),
                "updated_at": placed + pd.Timedelta(hours=2) if cancelled else placed,
            })
    orders = pd.DataFrame(order_rows)
    orders["quote_id"] = pd.array(orders["quote_id"], dtype="Int64")
    orders["cart_id"] = pd.array(orders["cart_id"], dtype="Int64")
    orders["ga_session_id"] = pd.array(orders["ga_session_id"], dtype="Int64")
    lines = pd.DataFrame(line_rows)

    web = orders[orders["channel"] == "web"]
    carts = pd.DataFrame({
        "cart_id": np.arange(1, len(web) + 4), "customer_id": [*web["customer_id"], 1, 2, 3],
        "buyer_id": [*web["buyer_id"], 1, 3, 5],
        "created_at": [*(web["placed_at"] - pd.Timedelta(minutes=20)), moment(2, 10), moment(5, 11), moment(9, 16)],
        "status": ["ordered"] * len(web) + ["abandoned", "abandoned", "open"],
        "ordered_at": [*web["placed_at"], pd.NaT, pd.NaT, pd.NaT],
        "abandoned_at": [pd.NaT] * len(web) + [moment(3, 10), moment(6, 11), pd.NaT],
        "order_id": pd.array([*web["order_id"], None, None, None], dtype="Int64"),
        "item_count": [2] * len(web) + [1, 3, 4], "value": [*web["revenue"], 45.0, 120.75, 9.99],
    })
    carts["updated_at"] = carts["ordered_at"].fillna(carts["abandoned_at"]).fillna(carts["created_at"])

    quotes = pd.DataFrame({
        "quote_id": [1, 2, 3], "customer_id": [1, 2, 3], "buyer_id": [1, 3, 5], "sales_agent_id": [1, 2, 1],
        "requested_at": [moment(1, 9), moment(4, 10), moment(8, 11)],
        "first_action_at": [moment(1, 11), moment(4, 15), moment(8, 14)],
        "issued_at": [moment(2, 10), moment(5, 9), moment(9, 10)],
        "decided_at": [moment(3, 12), moment(6, 16), pd.NaT],
        "outcome": ["accepted", "rejected", None], "ordered_at": [moment(3, 13), pd.NaT, pd.NaT],
        "order_id": pd.array([7, None, None], dtype="Int64"),
        "list_amount": [1000.0, 250.0, 4300.5], "quoted_amount": [900.0, 240.0, 4000.0],
        "discount_amount": [100.0, 10.0, 300.5], "deal_id": [9001, 9002, 9003],
    })
    quotes["updated_at"] = quotes["ordered_at"].fillna(quotes["decided_at"]).fillna(quotes["issued_at"])

    shipped = orders[orders["status"] != "cancelled"].reset_index(drop=True)
    carriers = np.where(shipped["order_id"] % 3 == 0, "DHL", np.where(shipped["order_id"] % 3 == 1, "PostNL", "DPD"))
    shipments = pd.DataFrame({
        "shipment_id": np.arange(1, len(shipped) + 1), "order_id": shipped["order_id"], "carrier": carriers,
        "tracking_code": [f"{c[:3].upper()}{i:08d}" for c, i in zip(carriers, shipped["order_id"], strict=True)],
        "feed": np.where(carriers == "DHL", "easypost", "csv"),
        "shipped_at": shipped["placed_at"] + pd.Timedelta(hours=5),
        "promised_date": [(p + pd.Timedelta(days=1)).tz_convert(TZ).date() for p in shipped["placed_at"]],
        "first_est_delivery_date": [(p + pd.Timedelta(days=1)).tz_convert(TZ).date() for p in shipped["placed_at"]],
        "est_delivery_date": [(p + pd.Timedelta(days=1 + (i % 7 == 0))).tz_convert(TZ).date()
                              for i, p in enumerate(shipped["placed_at"])],
    })
    shipments["delivered_at"] = [
        pd.Timestamp(d, tz=TZ).tz_convert("UTC") + pd.Timedelta(hours=13) for d in shipments["est_delivery_date"]
    ]
    shipments["updated_at"] = shipments["delivered_at"]
    event_rows = []
    for s in shipments.itertuples():
        event_rows += [
            (s.tracking_code, s.shipped_at, "pre_transit", "Shipping label created", s.first_est_delivery_date),
            (s.tracking_code, s.shipped_at + pd.Timedelta(hours=3), "in_transit", "Parcel sorted", s.first_est_delivery_date),
            (s.tracking_code, s.delivered_at - pd.Timedelta(hours=5), "out_for_delivery", "Out for delivery",
             s.est_delivery_date),
            (s.tracking_code, s.delivered_at, "delivered", "Delivered", s.est_delivery_date),
        ]
        if s.est_delivery_date != s.first_est_delivery_date:
            event_rows.append((s.tracking_code, s.delivered_at - pd.Timedelta(hours=25), "failure",
                               "Delivery attempt failed: recipient not at home", s.est_delivery_date))
    events = pd.DataFrame(event_rows, columns=["tracking_code", "occurred_at", "status", "message", "est_delivery_date"])
    events = events.sort_values(["occurred_at", "tracking_code"], ignore_index=True)
    events.insert(0, "event_id", np.arange(1, len(events) + 1))

    invoices = pd.DataFrame({
        "invoice_id": np.arange(1, len(shipped) + 1), "order_id": shipped["order_id"],
        "customer_id": shipped["customer_id"], "amount": shipped["revenue"],
        "issued_at": shipments["shipped_at"],
        "due_date": [(p + pd.Timedelta(days=30)).tz_convert(TZ).date() for p in shipments["shipped_at"]],
        "paid_at": [p + pd.Timedelta(days=2) if i % 2 else pd.NaT for i, p in enumerate(shipments["shipped_at"])],
    })
    invoices["updated_at"] = invoices["paid_at"].fillna(invoices["issued_at"])
    disputes = pd.DataFrame({
        "dispute_id": [1, 2], "order_id": [int(shipped["order_id"].iloc[2]), int(shipped["order_id"].iloc[9])],
        "kind": ["return", "claim"], "reason": ["wrong_item", "late"], "carrier_related": [False, True],
        "created_at": [moment(4, 10), moment(7, 15)], "zendesk_ticket_id": pd.array([77, None], dtype="Int64"),
    })
    disputes["updated_at"] = disputes["created_at"]

    ad_rows = []
    for day in range(days):
        date = START + dt.timedelta(days=day)
        for platform, campaigns in (("linkedin", ["ABM Installers", "Wholesale NL"]),
                                    ("microsoft_ads", ["Brand", "Generic; cables"]),
                                    ("google_ads", ["Brand NL"])):
            for campaign in campaigns:
                impressions = int(rng.integers(500, 5000))
                clicks = int(impressions * rng.uniform(0.005, 0.03))
                ad_rows.append({"date": date, "platform": platform, "campaign": campaign,
                                "impressions": impressions, "clicks": clicks, "spend": round(clicks * 2.37, 2)})
    ad_daily = pd.DataFrame(ad_rows)

    nps = pd.DataFrame({
        "response_id": np.arange(1, 13),
        "submitted_at": [moment(day, 10 + day % 5) for day in range(-6, 6)],
        "customer_id": [1 + i % n_customers for i in range(12)],
        "score": [10, 9, 8, 7, 6, 0, 10, 3, 9, 9, 5, 10],
        "comment": ["Très bien, snelle levering", "=cmd|' /C calc'!A0", "", None, "late again; annoyed",
                    "'; delete from raw.nps__responses; --", "Top", "Bestelling kwam twee keer te laat", "ok", "€ prijzen ok",
                    "multi\nline", "👍"],
    })
    speed = pd.DataFrame({
        "sample_id": np.arange(1, days * 5 + 1),
        "measured_at": [moment(day, 7 + 2.3 * k) for day in range(days) for k in range(5)],
        "url": [["/", "/catalog/cables", "/product/SKU-0001", "/cart", "/search?q=kabel,3x2"][k]
                for day in range(days) for k in range(5)],
        "page_type": [["home", "category", "product", "cart", "search"][k] for day in range(days) for k in range(5)],
        "device": [["desktop", "mobile"][k % 2] for day in range(days) for k in range(5)],
        "load_time_ms": rng.integers(600, 4200, size=days * 5),
    })
    tables = {
        "resellers": resellers, "sales_agents": agents, "catalogs": catalogs, "products": products,
        "customers": customers, "buyers": buyers, "orders": orders, "order_lines": lines, "carts": carts,
        "quotes": quotes, "invoices": invoices, "shipments": shipments, "shipment_events": events,
        "disputes": disputes, "ad_daily": ad_daily, "nps_responses": nps, "speed_samples": speed,
    }
    return World.from_tables(tables, WorldMeta(seed=seed, scale=0.0, start=START, end=END))


def cents(values: pd.Series) -> int:
    """A money column's sum in integer cents (sums of money are compared exactly)."""
    return int(sum(round(float(v) * 100) for v in values if pd.notna(v)))
