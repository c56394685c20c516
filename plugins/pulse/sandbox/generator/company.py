"""The company's own master data: resellers, sales agents and the product range."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pulse.sandbox.generator import vocab
from pulse.sandbox.generator.context import Context
from pulse.sandbox.generator.draw import lognormal
from pulse.sandbox.generator.timeline import DAY

PRODUCTS = 400  # the range does not grow with scale: more customers buy from the same catalogue
SALES_AGENTS_PER_SCALE = 8
RESELLERS_PER_SCALE = 6
HUBSPOT_OWNER_BASE = 51_200_000


def _founded(ctx: Context, rng: np.random.Generator, n: int, years: float) -> np.ndarray:
    """Creation moments before the window, in office hours-ish."""
    days_before = rng.integers(30, int(years * 365), size=n)
    seconds = rng.integers(9 * 3600, 17 * 3600, size=n)
    return ctx.start_epoch - days_before * DAY + seconds


def resellers(ctx: Context) -> pd.DataFrame:
    rng = ctx.rng("resellers")
    n = ctx.volume(RESELLERS_PER_SCALE)
    base = [vocab.RESELLER_NAMES[i % len(vocab.RESELLER_NAMES)] for i in range(n)]
    names = [name if i < len(vocab.RESELLER_NAMES) else f"{name} {i // len(vocab.RESELLER_NAMES) + 1}"
             for i, name in enumerate(base)]
    return pd.DataFrame({"reseller_id": np.arange(1, n + 1), "name": names,
                         "created_at": np.sort(_founded(ctx, rng, n, 6))})


def sales_agents(ctx: Context) -> pd.DataFrame:
    rng = ctx.rng("sales_agents")
    n = ctx.volume(SALES_AGENTS_PER_SCALE)
    first = rng.choice(vocab.FIRST_NAMES, size=n)
    last = rng.choice(vocab.LAST_NAMES, size=n)
    names = [f"{f} {ln}" for f, ln in zip(first, last, strict=True)]
    emails = [f"{f.lower()}.{ln.lower().replace(' ', '')}{i}@pulse-wholesale.example"
              for i, (f, ln) in enumerate(zip(first, last, strict=True), start=1)]
    return pd.DataFrame({
        "agent_id": np.arange(1, n + 1), "name": names, "email": emails,
        "hubspot_owner_id": HUBSPOT_OWNER_BASE + np.arange(1, n + 1) * 37,
        "created_at": np.sort(_founded(ctx, rng, n, 5)),
        # drawn traits, used by the quote process (not part of the table)
        "discount_mean": rng.uniform(0.03, 0.14, size=n),
        "acceptance": rng.uniform(0.45, 0.70, size=n),
        "response_hours": lognormal(rng, 2.0, 0.5, n),
    })


def products(ctx: Context) -> pd.DataFrame:
    rng = ctx.rng("products")
    shares = np.array([c.share for c in vocab.CATEGORIES])
    counts = np.floor(shares / shares.sum() * PRODUCTS).astype(int)
    counts[: PRODUCTS - counts.sum()] += 1
    category = np.repeat(np.arange(len(vocab.CATEGORIES)), counts)
    n = len(category)
    type_index = np.array([rng.integers(len(vocab.CATEGORIES[c].types)) for c in category])
    brand_index = np.array([rng.integers(len(vocab.CATEGORIES[c].brands)) for c in category])
    median = np.array([vocab.CATEGORIES[c].median_price for c in category])
    list_price = np.round(np.maximum(lognormal(rng, median, 0.55, n), 1.5), 0) - 0.05
    # unit cost -> gross margin of 20-40 % at list price
    unit_cost = np.round(list_price * rng.uniform(0.60, 0.80, size=n), 2)
    model = rng.integers(100, 9999, size=n)
    names = [
        f"{vocab.CATEGORIES[c].brands[b]} {vocab.CATEGORIES[c].types[t]} {m}"
        for c, t, b, m in zip(category, type_index, brand_index, model, strict=True)
    ]
    product_id = np.arange(1, n + 1)
    prefix = [vocab.CATEGORIES[c].sku_prefix for c in category]
    skus = [f"{p}-{pid:05d}" for p, pid in zip(prefix, product_id, strict=True)]
    created = _founded(ctx, rng, n, 4)
    return pd.DataFrame({
        "product_id": product_id, "sku": skus, "name": names,
        "category": [vocab.CATEGORIES[c].name for c in category],
        "product_type": [vocab.CATEGORIES[c].types[t] for c, t in zip(category, type_index, strict=True)],
        "list_price": list_price, "unit_cost": unit_cost, "created_at": created, "updated_at": created,
        # drawn traits (not part of the table)
        "category_index": category,
        "popularity": rng.pareto(1.3, size=n) + 0.05,
    })


def typical_quantity(rng: np.random.Generator, list_price: np.ndarray) -> np.ndarray:
    """Quantity on a line: many of the cheap things, few of the expensive ones."""
    mean = np.clip(90.0 / np.maximum(list_price, 1.0), 1.0, 60.0)
    return 1 + rng.poisson(mean * rng.uniform(0.3, 1.4, size=len(list_price)))
