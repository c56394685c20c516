"""Customer companies, their buyer accounts and catalogues, and who buys how much."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pulse.sandbox.generator import vocab
from pulse.sandbox.generator.context import Context
from pulse.sandbox.generator.draw import choice, lognormal, nullable_ids
from pulse.sandbox.generator.timeline import DAY, HOUR, NONE

CUSTOMERS_BEFORE_WINDOW_PER_SCALE = 270
HISTORY_YEARS = 6
RESELLER_SERVED = 0.2


def _names(rng: np.random.Generator, segment: np.ndarray) -> list[str]:
    last = rng.choice(vocab.LAST_NAMES, size=len(segment))
    town = rng.choice(vocab.TOWNS, size=len(segment))
    part = rng.integers(0, 4, size=len(segment))
    names = []
    for s, ln, tw, p in zip(segment, last, town, part, strict=True):
        kind = vocab.SEGMENT_NAME_PARTS[s][p]
        if s == "public_sector":
            names.append(f"{kind} {tw}")
        elif s == "retail_chain":
            names.append(f"{kind} {ln}")
        else:
            names.append(f"{ln.split(' ')[-1].capitalize()} {kind} {tw}")
    return names


def domain(names: pd.Series) -> pd.Series:
    return names.str.lower().str.replace(r"[^a-z0-9]+", "", regex=True).str.slice(0, 24) + ".example"


def customers(ctx: Context, agents: pd.DataFrame, resellers: pd.DataFrame,
              converted: pd.DataFrame) -> pd.DataFrame:
    """Customers from before the window plus the contacts that become customers (`converted`,
    with `customer_at`, `persona_index` and `contact_id`). Ids follow registration order."""
    rng = ctx.rng("customers")
    n_before = ctx.volume(CUSTOMERS_BEFORE_WINDOW_PER_SCALE)
    registered_before = (ctx.start_epoch - rng.integers(14, HISTORY_YEARS * 365, size=n_before) * DAY
                         + rng.integers(8 * HOUR, 17 * HOUR, size=n_before))
    segment_before = np.array(vocab.SEGMENTS)[choice(rng, vocab.SEGMENT_SHARE, n_before)]
    persona = converted["persona_index"].to_numpy()
    by_persona = np.array([vocab.PERSONA_SEGMENT[p] for p in vocab.PERSONAS])
    drawn = np.array(vocab.SEGMENTS)[choice(rng, vocab.SEGMENT_SHARE, len(converted))]
    segment_new = np.where(persona >= 0, by_persona[np.maximum(persona, 0)], drawn)
    # a purchasing manager may work for a retail chain as well as for a wholesaler
    segment_new = np.where((segment_new == "wholesale") & (rng.random(len(converted)) < 0.25),
                           "retail_chain", segment_new)
    frame = pd.DataFrame({
        "registered_at": np.concatenate([registered_before, converted["customer_at"].to_numpy()]),
        "segment": np.concatenate([segment_before, segment_new]),
        "crm_contact_id": np.concatenate([np.full(n_before, NONE), converted["contact_id"].to_numpy()]),
    }).sort_values(["registered_at", "crm_contact_id"], kind="stable", ignore_index=True)
    n = len(frame)
    segment = frame["segment"].to_numpy()
    frame.insert(0, "customer_id", np.arange(1, n + 1))
    frame["name"] = _names(rng, segment)
    reseller_ok = np.isin(segment, ["wholesale", "installer"]) & (rng.random(n) < RESELLER_SERVED / 0.75)
    frame["reseller_id"] = np.where(reseller_ok, rng.integers(1, len(resellers) + 1, size=n), NONE)
    frame["sales_agent_id"] = rng.integers(1, len(agents) + 1, size=n)
    frame["country"] = np.array(vocab.COUNTRIES)[choice(rng, vocab.COUNTRY_SHARE, n)]
    low = np.array([vocab.SEGMENT_CREDIT[s][0] for s in segment])
    high = np.array([vocab.SEGMENT_CREDIT[s][1] for s in segment])
    prepaid = rng.random(n) < np.array([vocab.SEGMENT_PREPAID_SHARE[s] for s in segment])
    frame["credit_limit"] = np.where(prepaid, 0.0, np.round(rng.uniform(low, high) / 500) * 500)
    frame["created_at"] = frame["registered_at"]
    frame["updated_at"] = frame["registered_at"]
    # drawn traits (not part of the table)
    frame["activity"] = lognormal(rng, 1.0, 0.9, n) * np.array([vocab.SEGMENT_ACTIVITY[s] for s in segment])
    own = rng.random(n) < np.array([vocab.SEGMENT_OWN_CATALOG[s] for s in segment])
    frame["own_catalog"] = own
    frame["catalog_discount"] = np.where(own, rng.uniform(0.04, 0.15, size=n), 0.0)
    frame["catalog_id"] = np.where(own, 1 + np.cumsum(own), 1)
    return frame


def category_weights(ctx: Context, customers: pd.DataFrame) -> np.ndarray:
    """Per customer, how its purchases spread over the categories; a customer-specific
    catalogue holds only a few categories."""
    rng = ctx.rng("customers.categories")
    n = len(customers)
    weights = np.array([vocab.SEGMENT_CATEGORY_WEIGHTS[s] for s in customers["segment"]], dtype="float64")
    weights *= lognormal(rng, 1.0, 0.5, n * len(vocab.CATEGORIES)).reshape(n, -1)
    own = customers["own_catalog"].to_numpy()
    keep = rng.random(weights.shape) < 0.45
    keep[np.arange(n), np.argmax(weights, axis=1)] = True
    return np.where(own[:, None] & ~keep, 0.0, weights)


def catalogs(ctx: Context, customers: pd.DataFrame) -> pd.DataFrame:
    own = customers[customers["own_catalog"]]
    public_created = ctx.start_epoch - HISTORY_YEARS * 365 * DAY - 30 * DAY
    return pd.DataFrame({
        "catalog_id": np.concatenate([[1], own["catalog_id"].to_numpy()]),
        "name": ["Public catalogue", *(f"{name} assortment" for name in own["name"])],
        "kind": ["public"] + ["customer"] * len(own),
        "customer_id": np.concatenate([[NONE], own["customer_id"].to_numpy()]),
        "created_at": np.concatenate([[public_created], own["registered_at"].to_numpy()]),
    }).assign(customer_id=lambda f: nullable_ids(f["customer_id"]))


def buyers(ctx: Context, customers: pd.DataFrame) -> pd.DataFrame:
    """Buyer accounts: the first registers with the company, colleagues join later."""
    rng = ctx.rng("buyers")
    segment = customers["segment"].to_numpy()
    low = np.array([vocab.SEGMENT_BUYERS[s][0] for s in segment])
    high = np.array([vocab.SEGMENT_BUYERS[s][1] for s in segment])
    counts = rng.integers(low, high + 1)
    customer = np.repeat(np.arange(len(customers)), counts)
    first = np.concatenate([[True], customer[1:] != customer[:-1]])
    registered = customers["registered_at"].to_numpy()[customer]
    joined = registered + np.where(first, 0, lognormal(rng, 200 * DAY, 0.9, len(customer)).astype("int64"))
    n = len(customer)
    frame = pd.DataFrame({"customer_index": customer, "registered_at": joined})
    frame = frame.sort_values(["registered_at", "customer_index"], kind="stable", ignore_index=True)
    frame.insert(0, "buyer_id", np.arange(1, n + 1))
    frame["customer_id"] = customers["customer_id"].to_numpy()[frame["customer_index"]]
    first_name = rng.choice(vocab.FIRST_NAMES, size=n)
    last_name = rng.choice(vocab.LAST_NAMES, size=n)
    frame["name"] = pd.Series(first_name) + " " + pd.Series(last_name)
    company_domain = domain(customers["name"]).to_numpy()[frame["customer_index"]]
    surname = pd.Series(last_name).str.lower().str.replace(" ", "")
    local_part = pd.Series(first_name).str.lower() + "." + surname
    frame["email"] = local_part + frame["buyer_id"].astype(str) + "@" + company_domain
    frame["created_at"] = frame["registered_at"]
    frame["updated_at"] = frame["registered_at"]
    # GA client id of the buyer's browser, and whether it accepted analytics cookies
    frame["user_pseudo_id"] = (pd.Series(rng.integers(100_000_000, 2_147_483_647, size=n)).astype(str) + "."
                               + (frame["registered_at"] - rng.integers(DAY, 90 * DAY, size=n)).astype(str))
    frame["consent"] = rng.random(n) < 0.9
    return frame


class Picker:
    """Draws who buys: a customer registered by then, in proportion to its weight, and one of its
    buyers registered by then."""

    def __init__(self, customers: pd.DataFrame, buyers: pd.DataFrame, weights: np.ndarray | None = None):
        self.registered = customers["registered_at"].to_numpy()  # sorted: ids follow registration
        self.cumulative = np.cumsum(customers["activity"].to_numpy() if weights is None else weights)
        self.customer_ids = customers["customer_id"].to_numpy()
        by_customer = buyers.sort_values(["customer_index", "registered_at", "buyer_id"], kind="stable")
        self.buyer_ids = by_customer["buyer_id"].to_numpy()
        index = by_customer["customer_index"].to_numpy()
        self.origin = int(by_customer["registered_at"].min())
        self.keys = index * (1 << 40) + (by_customer["registered_at"].to_numpy() - self.origin)
        self.first = np.searchsorted(index, np.arange(len(customers)))

    def pick(self, rng: np.random.Generator, moments: np.ndarray,
             weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(customer index, buyer id) for each moment."""
        cumulative = self.cumulative if weights is None else np.cumsum(weights)
        eligible = np.searchsorted(self.registered, moments, side="right")
        if (eligible == 0).any():
            raise ValueError("no customer registered yet at some moment of the window")
        u = rng.random(len(moments)) * cumulative[eligible - 1]
        customer = np.minimum(np.searchsorted(cumulative, u, side="right"), eligible - 1)
        keys = customer * (1 << 40) + (moments - self.origin)
        buyers_by_then = np.searchsorted(self.keys, keys, side="right") - self.first[customer]
        buyers_by_then = np.maximum(buyers_by_then, 1)
        nth = (rng.random(len(moments)) * buyers_by_then).astype("int64")
        buyer = self.buyer_ids[self.first[customer] + nth]
        return customer, buyer
