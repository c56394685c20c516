"""Web traffic: sessions of prospects and of logged-in buyers (some of which place orders), and
what GA4 records of them: site searches, key events, ad campaigns and page-speed samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pulse.sandbox.generator import vocab
from pulse.sandbox.generator.context import Context
from pulse.sandbox.generator.draw import (
    categorical,
    choice,
    lognormal,
    nullable_ids,
    spread_over_days,
)
from pulse.sandbox.generator.timeline import DAY, HOUR, NONE

PROSPECT_SESSIONS_PER_DAY = 1_230  # scale 1, a weekday at average season; with buyers' sessions ~1,500
BUYER_BROWSE_SESSIONS_PER_DAY = 230
WEEKEND_TRAFFIC = 0.22
HOLIDAY_TRAFFIC = 0.35
NEW_USER_SHARE = 0.33
RETURNING_PROSPECTS_PER_SCALE = 15_000  # users seen before the window
CONSENT_RATE = 0.875  # users who accept analytics cookies
GA_OUTAGE_FROM = 7 * HOUR + 40 * 60  # the broken deploy went live at 07:40 local
SPEED_SAMPLE_RATE = 0.12  # sessions whose landing page load is measured (RUM)
TERMS = 260


@dataclass(frozen=True)
class Pages:
    paths: list[str]
    types: list[str]
    landing: np.ndarray
    exit: np.ndarray

    def code(self, path: str) -> int:
        return self.paths.index(path)


def page_inventory(products: pd.DataFrame) -> Pages:
    paths = [p[0] for p in vocab.FIXED_PAGES]
    types = [p[1] for p in vocab.FIXED_PAGES]
    landing = [p[2] for p in vocab.FIXED_PAGES]
    exits = [p[3] for p in vocab.FIXED_PAGES]
    shares = np.array([c.share for c in vocab.CATEGORIES])
    for category, share in zip(vocab.CATEGORIES, shares / shares.sum(), strict=True):
        paths.append(f"/c/{category.slug}")
        types.append("category")
        landing.append(vocab.CATEGORY_PAGE_WEIGHT[0] * share)
        exits.append(vocab.CATEGORY_PAGE_WEIGHT[1] * share)
    by_popularity = products.sort_values(["popularity", "product_id"], ascending=[False, True])
    popular = by_popularity.head(vocab.PRODUCT_PAGES)
    weights = popular["popularity"].to_numpy() / popular["popularity"].sum()
    for sku, product_type, weight in zip(popular["sku"], popular["product_type"], weights, strict=True):
        paths.append(f"/p/{sku.lower()}-{product_type.replace(' ', '-').lower()}")
        types.append("product")
        landing.append(vocab.PRODUCT_PAGE_WEIGHT[0] * weight)
        exits.append(vocab.PRODUCT_PAGE_WEIGHT[1] * weight)
    paths.append(vocab.CONFIRMATION_PAGE)
    types.append("checkout")
    landing.append(0.0)
    exits.append(0.0)
    return Pages(paths, types, np.array(landing), np.array(exits))


def campaign_names(ctx: Context) -> list[str]:
    months = sorted({(d.year, d.month) for d in ctx.timeline.dates})
    return ["(not set)"] + [c.name for c in vocab.CAMPAIGNS] + [f"newsletter-{y}-{m:02d}" for y, m in months]


def _campaigns(ctx: Context, rng: np.random.Generator, source: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Campaign code per session (0 = '(not set)'), drawn within the session's traffic source."""
    names = campaign_names(ctx)
    codes = np.zeros(len(source), dtype="int64")
    for s, traffic in enumerate(vocab.TRAFFIC_SOURCES):
        rows = np.flatnonzero(source == s)
        if traffic.platform is None or len(rows) == 0:
            continue
        if traffic.platform == "newsletter":
            month_names = [f"newsletter-{d.year}-{d.month:02d}" for d in ctx.timeline.dates]
            per_day = np.array([names.index(m) for m in month_names])
            codes[rows] = per_day[day[rows]]
            continue
        options = [c for c in vocab.CAMPAIGNS
                   if c.platform == traffic.platform and c.medium == traffic.medium]
        picked = choice(rng, [c.share for c in options], len(rows))
        codes[rows] = np.array([names.index(c.name) for c in options])[picked]
    return codes


def _describe(ctx: Context, rng: np.random.Generator, pages: Pages, day: np.ndarray, started: np.ndarray,
              buyers: bool) -> dict[str, np.ndarray]:
    """Traffic source, device, engagement and pages of sessions."""
    n = len(started)
    shares = [t.buyer_share if buyers else t.share for t in vocab.TRAFFIC_SOURCES]
    source = choice(rng, shares, n)
    office = ctx.timeline.is_office_day[day]
    local = started - ctx.timeline.at(day, np.zeros(n, dtype="int64"))
    at_work = office & (local >= 8 * HOUR) & (local < 18 * HOUR)
    mobile_share = np.where(at_work, 0.18, 0.45)
    u = rng.random(n)
    device = np.where(u < mobile_share, 1, np.where(u < mobile_share + 0.05, 2, 0))  # desktop, mobile, tablet
    channel = np.array([t.channel_group for t in vocab.TRAFFIC_SOURCES])[source]
    engaged_rate = np.select(
        [channel == "Display", channel == "Paid Social", channel == "Direct", channel == "Email"],
        [0.35, 0.5, 0.72, 0.70], 0.63,
    )
    if buyers:
        engaged_rate = np.full(n, 0.85)
    engaged = rng.random(n) < engaged_rate
    page_views = np.where(engaged, 1 + rng.geometric(0.22, size=n), 1)
    page_views = np.where(engaged & (page_views == 1) & (rng.random(n) < 0.6), 2, np.minimum(page_views, 60))
    duration = np.where(
        engaged,
        np.maximum(lognormal(rng, 40.0 * page_views, 0.6, n), 11).astype("int64"),
        rng.integers(0, 10, size=n),
    )
    engagement = duration * np.where(engaged, rng.uniform(0.45, 0.9, size=n), rng.uniform(0, 0.9, size=n))
    landing = choice(rng, pages.landing, n)
    whitepaper_landing = np.isin(landing, [pages.code(p) for p in vocab.WHITEPAPERS])
    paid_social = channel == "Paid Social"
    whitepapers = np.array([pages.code(p) for p in vocab.WHITEPAPERS])
    landing = np.where(paid_social & ~whitepaper_landing & (rng.random(n) < 0.7),
                       whitepapers[rng.integers(0, len(whitepapers), size=n)], landing)
    exit_page = np.where(page_views == 1, landing, choice(rng, pages.exit, n))
    return {
        "source": source, "device": device, "engaged": engaged, "page_views": page_views,
        "duration_seconds": duration, "engagement_seconds": engagement.astype("int64"),
        "landing": landing, "exit": exit_page, "campaign": _campaigns(ctx, rng, source, day),
    }


def _ga_visibility(ctx: Context, rng: np.random.Generator, started: np.ndarray, ends: np.ndarray,
                   consent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether GA4 records a session, and when it has processed it (hours to about three days later)."""
    day = ctx.span.day_of(started)
    local = started - ctx.span.at(day, np.zeros(len(started), dtype="int64"))
    outage = ctx.in_incident("ga_tracking_outage", started) & (local >= GA_OUTAGE_FROM)
    tracked = consent & ~outage
    kind = rng.random(len(started))
    n = len(started)
    lag = np.select([kind < 0.70, kind < 0.95],
                    [rng.uniform(3, 12, n), rng.uniform(12, 36, n)], rng.uniform(36, 70, n))
    processed = np.where(tracked, ends + (lag * HOUR).astype("int64"), NONE)
    return tracked, processed


def prospect_sessions(ctx: Context, pages: Pages) -> pd.DataFrame:
    """Visitors who are not logged in: new and returning users by GA client id."""
    rng = ctx.rng("web_sessions")
    tl = ctx.timeline
    expected = (PROSPECT_SESSIONS_PER_DAY * ctx.scale * tl.seasonality()
                * tl.business_weekday_factor(WEEKEND_TRAFFIC, HOLIDAY_TRAFFIC))
    day, started = spread_over_days(rng, tl, expected)
    n = len(started)
    described = _describe(ctx, rng, pages, day, started, False)
    frame = pd.DataFrame({"day": day, "started_at": started, **described})
    # users: a new one gets the next id; a returning one is any user seen before (also before the window)
    known_before = ctx.volume(RETURNING_PROSPECTS_PER_SCALE)
    is_new = rng.random(n) < NEW_USER_SHARE
    new_before = np.cumsum(is_new) - is_new
    returning = rng.integers(0, known_before + new_before)
    user = np.where(is_new, known_before + new_before, returning)
    users = known_before + int(is_new.sum())
    user_rng = ctx.rng("web_users")
    client_number = user_rng.integers(100_000_000, 2_147_483_647, size=users)
    first_seen = ctx.start_epoch - user_rng.integers(DAY, 3 * 365 * DAY, size=users)
    first_seen[user[is_new]] = started[is_new]
    consent = user_rng.random(users) < CONSENT_RATE
    used = np.unique(user)
    ids = pd.Series(client_number[used]).astype(str) + "." + pd.Series(first_seen[used]).astype(str)
    frame["user_pseudo_id"] = pd.Categorical.from_codes(np.searchsorted(used, user),
                                                        categories=ids.to_numpy())
    frame["is_new_user"] = is_new
    frame["ends_at"] = started + frame["duration_seconds"].to_numpy()
    frame["ga_tracked"], frame["ga_processed_at"] = _ga_visibility(
        ctx, rng, started, frame["ends_at"].to_numpy(), consent[user])
    frame["buyer_id"] = NONE
    frame["order_ref"] = NONE
    return frame


def buyer_sessions(ctx: Context, pages: Pages, picker, buyers: pd.DataFrame,
                   orders: pd.DataFrame) -> pd.DataFrame:
    """Logged-in buyers: browsing sessions, and the session in which each web order was placed."""
    rng = ctx.rng("web_sessions.buyers")
    tl = ctx.timeline
    expected = (BUYER_BROWSE_SESSIONS_PER_DAY * ctx.scale * tl.seasonality()
                * tl.business_weekday_factor(0.12, 0.2))
    day, started = spread_over_days(rng, tl, expected)
    _, buyer_id = picker.pick(rng, started)
    browse = pd.DataFrame({"day": day, "started_at": started, "buyer_id": buyer_id, "order_ref": NONE,
                           **_describe(ctx, rng, pages, day, started, True)})
    web = orders[orders["channel"] == "web"]
    placed = web["placed_at"].to_numpy()
    n = len(placed)
    lead = lognormal(rng, 9 * 60, 0.7, n).astype("int64") + 60
    start = placed - lead
    start_day = np.clip(tl.day_of(start), 0, tl.n_days - 1)
    described = _describe(ctx, rng, pages, start_day, start, True)
    described["engaged"] = np.ones(n, dtype=bool)
    described["page_views"] = np.maximum(described["page_views"], 4 + lead // 90)
    described["duration_seconds"] = lead + rng.integers(15, 180, size=n)
    engaged_for = described["duration_seconds"] * rng.uniform(0.6, 0.9, n)
    described["engagement_seconds"] = engaged_for.astype("int64")
    described["landing"] = np.where(rng.random(n) < 0.55, pages.code("/login"), described["landing"])
    described["exit"] = np.full(n, pages.code(vocab.CONFIRMATION_PAGE))
    ordering = pd.DataFrame({"day": start_day, "started_at": start, "buyer_id": web["buyer_id"].to_numpy(),
                             "order_ref": web.index.to_numpy(), **described})
    frame = pd.concat([browse, ordering], ignore_index=True)
    frame["is_new_user"] = False
    frame["ends_at"] = frame["started_at"] + frame["duration_seconds"]
    buyer_index = buyers.set_index("buyer_id")
    frame["user_pseudo_id"] = buyer_index.loc[frame["buyer_id"], "user_pseudo_id"].to_numpy()
    consent = buyer_index.loc[frame["buyer_id"], "consent"].to_numpy()
    frame["ga_tracked"], frame["ga_processed_at"] = _ga_visibility(
        ctx, rng, frame["started_at"].to_numpy(), frame["ends_at"].to_numpy(), consent
    )
    return frame


def web_sessions(ctx: Context, pages: Pages, parts: list[pd.DataFrame],
                 order_ids: np.ndarray) -> pd.DataFrame:
    """All sessions, numbered by start time. `order_ids[order_ref]` is the shop order id."""
    # column by column: concatenating and sorting whole frames would copy ~all sessions twice
    started = np.concatenate([part["started_at"].to_numpy() for part in parts])
    order = np.argsort(started, kind="stable")

    def column(name: str) -> np.ndarray:
        return np.concatenate([part[name].to_numpy() for part in parts])[order]

    traffic = vocab.TRAFFIC_SOURCES
    names = campaign_names(ctx)
    source = column("source")
    campaign = column("campaign")
    google_ads = np.array([t.platform == "google_ads" for t in traffic])[source]
    order_ref = column("order_ref")
    users = pd.concat([part["user_pseudo_id"].astype("string") for part in parts], ignore_index=True)
    landing = column("landing")
    return pd.DataFrame({
        "session_id": np.arange(1, len(order) + 1),
        "user_pseudo_id": users.take(order).reset_index(drop=True),
        "started_at": started[order],
        "device_category": categorical(column("device"), ["desktop", "mobile", "tablet"]),
        "channel_group": categorical(source, [t.channel_group for t in traffic]),
        "source": categorical(source, [t.source for t in traffic]),
        "medium": categorical(source, [t.medium for t in traffic]),
        "campaign": categorical(campaign, names),
        "google_ads_campaign": categorical(np.where(google_ads, campaign, -1), names),
        "is_new_user": column("is_new_user").astype(bool), "engaged": column("engaged"),
        "page_views": column("page_views"), "duration_seconds": column("duration_seconds"),
        "engagement_seconds": column("engagement_seconds"),
        "landing_page": categorical(landing, pages.paths),
        "exit_page": categorical(column("exit"), pages.paths),
        "ga_tracked": column("ga_tracked"), "ga_processed_at": column("ga_processed_at"),
        "order_id": nullable_ids(np.where(order_ref >= 0, order_ids[np.maximum(order_ref, 0)], NONE)),
        "buyer_id": nullable_ids(column("buyer_id")),
        # kept for the event tables; dropped before the world is built
        "part_row": order, "ends_at": column("ends_at"), "landing": landing,
    })


def key_events(ctx: Context, stream: str, sessions: pd.DataFrame, pages: Pages, rate: float) -> pd.DataFrame:
    """Soft conversions of engaged sessions. Rows refer to `sessions` by position (`row`)."""
    rng = ctx.rng(stream)
    n = len(sessions)
    engaged = sessions["engaged"].to_numpy()
    landing = sessions["landing"].to_numpy()
    whitepaper = np.isin(landing, [pages.code(p) for p in vocab.WHITEPAPERS])
    probability = {
        "whitepaper_download": np.where(whitepaper, 0.09, 0.004),
        "contact_form": np.full(n, 0.005),
        "newsletter_signup": np.full(n, 0.003),
    }
    rows, names = [], []
    for code, name in enumerate(vocab.KEY_EVENTS):
        hit = np.flatnonzero(engaged & (rng.random(n) < probability[name] * rate))
        rows.append(hit)
        names.append(np.full(len(hit), code))
    row = np.concatenate(rows)
    started = sessions["started_at"].to_numpy()[row]
    duration = sessions["duration_seconds"].to_numpy()[row]
    occurred = started + (rng.random(len(row)) * duration).astype("int64")
    return pd.DataFrame({"row": row, "occurred_at": occurred, "event": np.concatenate(names)})


def search_terms(ctx: Context) -> tuple[list[str], np.ndarray]:
    """The site-search vocabulary and its Zipf-like popularity."""
    rng = ctx.rng("search_terms")
    terms: list[str] = []
    for category in vocab.CATEGORIES:
        for product_type in category.types:
            terms.append(product_type.lower())
            terms.extend(f"{product_type.lower()} {q}".strip() for q in vocab.SEARCH_QUALIFIERS[1:4])
        terms.extend(brand.lower() for brand in category.brands)
    terms = sorted(set(terms))[:TERMS]
    order = rng.permutation(len(terms))
    weights = 1.0 / np.arange(1, len(terms) + 1) ** 1.07
    return [terms[i] for i in order], weights


def site_searches(ctx: Context, sessions: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng("site_searches")
    terms, weights = search_terms(ctx)
    engaged = sessions["engaged"].to_numpy()
    mean = np.where(engaged, np.minimum(sessions["page_views"].to_numpy() / 6, 1.5) * 0.5, 0.0)
    counts = rng.poisson(mean)
    row = np.repeat(np.arange(len(sessions)), counts)
    occurred = (sessions["started_at"].to_numpy()[row]
                + (rng.random(len(row)) * sessions["duration_seconds"].to_numpy()[row]).astype("int64"))
    frame = pd.DataFrame({"session_id": sessions["session_id"].to_numpy()[row], "occurred_at": occurred,
                          "search_term": categorical(choice(rng, weights, len(row)), terms)})
    frame = frame.sort_values(["occurred_at", "session_id"], kind="stable", ignore_index=True)
    frame.insert(0, "search_id", np.arange(1, len(frame) + 1))
    return frame


def key_event_table(sessions: pd.DataFrame, parts: list[tuple[pd.DataFrame, int]],
                    all_rows: int) -> pd.DataFrame:
    """Key events of every part, with final session ids. `parts` pairs events with the offset of
    their part among the `all_rows` concatenated session rows (of which `sessions` kept some)."""
    session_of_row = np.full(all_rows, NONE, dtype="int64")
    session_of_row[sessions["part_row"].to_numpy()] = sessions["session_id"].to_numpy()
    frames = []
    for events, offset in parts:
        frames.append(pd.DataFrame({"session_id": session_of_row[events["row"].to_numpy() + offset],
                                    "occurred_at": events["occurred_at"].to_numpy(),
                                    "event": events["event"].to_numpy()}))
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[frame["session_id"] != NONE]  # sessions GA has not processed yet: their events neither
    frame = frame.sort_values(["occurred_at", "session_id", "event"],
                                                             kind="stable", ignore_index=True)
    frame.insert(0, "event_id", np.arange(1, len(frame) + 1))
    frame["event_name"] = categorical(frame.pop("event"), vocab.KEY_EVENTS)
    return frame


def ad_daily(ctx: Context, sessions: pd.DataFrame) -> pd.DataFrame:
    """Spend, impressions and clicks per day and campaign; clicks follow the paid sessions."""
    rng = ctx.rng("ad_daily")
    n_days = ctx.timeline.n_days
    day = ctx.span.day_of(sessions["started_at"].to_numpy())
    names = list(sessions["campaign"].cat.categories)
    campaign = sessions["campaign"].cat.codes.to_numpy()
    inside = (day >= 0) & (day < n_days) & (campaign >= 0)
    counts = np.zeros((n_days, len(names)), dtype="int64")
    np.add.at(counts, (day[inside], campaign[inside]), 1)
    frames = []
    for c in vocab.CAMPAIGNS:
        visits = counts[:, names.index(c.name)] if c.name in names else np.zeros(n_days, dtype="int64")
        lost = vocab.CLICKS_WITHOUT_SESSION
        clicks = visits + rng.poisson(visits * lost / (1 - lost))
        ctr = c.ctr * rng.uniform(0.8, 1.2, n_days)
        impressions = np.maximum(np.round(clicks / ctr), clicks).astype("int64")
        spend = np.round(clicks * c.cpc * lognormal(rng, 1.0, 0.15, n_days), 2)
        frames.append(pd.DataFrame({"date": ctx.first_day + np.arange(n_days), "platform": c.platform,
                                    "campaign": c.name, "impressions": impressions, "clicks": clicks,
                                    "spend": spend}))
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["date", "platform", "campaign"], ignore_index=True)


def speed_samples(ctx: Context, sessions: pd.DataFrame, pages: Pages) -> pd.DataFrame:
    rng = ctx.rng("speed_samples")
    measured = np.flatnonzero(rng.random(len(sessions)) < SPEED_SAMPLE_RATE)
    landing = sessions["landing"].to_numpy()[measured]
    page_type = np.array(pages.types)[landing]
    device = sessions["device_category"].to_numpy()[measured]
    base = pd.Series(page_type).map({"home": 1600, "category": 2200, "product": 1900, "search": 2600,
                                     "checkout": 2400, "account": 1700, "content": 1500}).to_numpy()
    factor = pd.Series(device).map({"desktop": 1.0, "mobile": 1.55, "tablet": 1.3}).to_numpy(dtype="float64")
    day = ctx.timeline.day_of(sessions["started_at"].to_numpy()[measured])
    drift = 1 + 0.08 * np.sin(np.arange(ctx.timeline.n_days) / 9.0)  # releases make the site faster or slower
    median = base * factor * drift[np.clip(day, 0, ctx.timeline.n_days - 1)]
    load = lognormal(rng, median, 0.35, len(measured))
    frame = pd.DataFrame({
        "measured_at": sessions["started_at"].to_numpy()[measured] + rng.integers(1, 5, size=len(measured)),
        "url": "https://shop.pulse-wholesale.example" + pd.Series(np.array(pages.paths)[landing]),
        "page_type": page_type, "device": device, "load_time_ms": np.round(load).astype("int64"),
    })
    frame = frame.sort_values("measured_at", kind="stable", ignore_index=True)
    frame.insert(0, "sample_id", np.arange(1, len(frame) + 1))
    return frame
