"""A small hand-built world with what GA4 reports on: web sessions (tracked or not, processed hours
to days later), site searches, key events, tracked and untracked orders, and ad spend. Three
weeks around the spring daylight-saving change, so property hours and days are exercised."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from pulse.sandbox.world_io import World, WorldMeta

PAGES = ["/", "/login", "/search", "/contact", "/c/drills", "/c/fasteners", "/p/dr-18v", "/p/sc-m8",
         "/blog/choosing-a-drill", "/whitepapers/procurement-guide", "/cart", "/checkout/confirmation"]
TERMS = ["boormachine", "schroeven m8", "accu 18v", "zaagblad", "veiligheidshelm", "kabelgoot", "led paneel",
         "werkhandschoenen", "ladder", "bouwlamp"]
# (channel group, source, medium, campaign, google ads campaign)
TRAFFIC = [
    ("Organic Search", "google", "organic", None, None),
    ("Direct", "(direct)", "(none)", None, None),
    ("Paid Search", "google", "cpc", "gads-brand", "gads-brand"),
    ("Paid Search", "google", "cpc", "gads-tools", "gads-tools"),
    ("Paid Social", "linkedin", "paid_social", "li-procurement", None),
    ("Email", "newsletter", "email", "newsletter-2026-03", None),
    ("Referral", "partner.example", "referral", None, None),
]
KEY_EVENTS = ["whitepaper_download", "contact_form", "newsletter_signup"]
ADS = [("google_ads", "gads-brand"), ("google_ads", "gads-tools"), ("linkedin", "li-procurement")]


def ga4_world(*, seed: int = 7, days: int = 21, end: dt.date = dt.date(2026, 4, 5), sessions_per_day: int = 60,
              time_zone: str = "Europe/Amsterdam") -> World:
    rng = np.random.default_rng(seed)
    tz = ZoneInfo(time_zone)
    start = end - dt.timedelta(days=days - 1)
    day_starts = [dt.datetime.combine(start + dt.timedelta(days=i), dt.time(), tz) for i in range(days)]
    day_lengths = [(dt.datetime.combine(d.date() + dt.timedelta(days=1), dt.time(), tz) - d).total_seconds()
                   for d in day_starts]
    counts = rng.poisson(sessions_per_day, days)
    started = pd.to_datetime(np.concatenate([
        [pd.Timestamp(d).tz_convert("UTC").value + int(s * 1e9) for s in rng.uniform(0, length, n)]
        for d, length, n in zip(day_starts, day_lengths, counts, strict=True)
    ]).astype("int64"), utc=True).sort_values()
    n = len(started)
    users = np.array([f"{rng.integers(10**8, 2 * 10**9)}.{1700000000 + i}" for i in range(n // 3)])
    user = rng.integers(0, len(users), n)
    known_before = rng.random(len(users)) < 0.5  # seen before the world started: never new here
    first = ~pd.Series(user).duplicated().to_numpy()
    is_new = first & ~known_before[user]
    traffic = rng.choice(len(TRAFFIC), n, p=[0.35, 0.2, 0.12, 0.08, 0.1, 0.08, 0.07])
    engaged = rng.random(n) < 0.65
    page_views = np.where(engaged, 1 + rng.geometric(0.3, n), 1)
    duration = np.where(engaged, rng.integers(11, 900, n), rng.integers(0, 10, n))
    tracked = rng.random(n) < 0.88
    ended = started + pd.to_timedelta(duration, unit="s")
    lag_hours = np.where(rng.random(n) < 0.7, rng.uniform(2, 12, n), rng.uniform(12, 70, n))
    processed = (ended + pd.to_timedelta(lag_hours * 3600, unit="s")).where(tracked)
    ordering = engaged & (rng.random(n) < 0.08)
    session_ids = np.arange(1, n + 1)
    order_ids = np.where(ordering, np.cumsum(ordering) + 5000, -1)
    sessions = pd.DataFrame({
        "session_id": session_ids, "user_pseudo_id": users[user], "started_at": started,
        "device_category": rng.choice(["desktop", "mobile", "tablet"], n, p=[0.7, 0.25, 0.05]),
        "channel_group": [TRAFFIC[t][0] for t in traffic], "source": [TRAFFIC[t][1] for t in traffic],
        "medium": [TRAFFIC[t][2] for t in traffic], "campaign": [TRAFFIC[t][3] or "(not set)" for t in traffic],
        "google_ads_campaign": [TRAFFIC[t][4] for t in traffic], "is_new_user": is_new, "engaged": engaged,
        "page_views": page_views, "duration_seconds": duration,
        "engagement_seconds": (duration * rng.uniform(0.3, 0.9, n)).astype("int64"),
        "landing_page": rng.choice(PAGES[:10], n), "exit_page": rng.choice(PAGES, n),
        "ga_tracked": tracked, "ga_processed_at": processed,
        "order_id": pd.array([int(o) if o > 0 else None for o in order_ids], dtype="Int64"),
        "buyer_id": pd.array([None] * n, dtype="Int64"),
    })

    searching = np.repeat(np.arange(n), rng.poisson(np.where(engaged, 0.6, 0.1)))
    searches = pd.DataFrame({
        "search_id": np.arange(1, len(searching) + 1), "session_id": session_ids[searching],
        "occurred_at": started[searching] + pd.to_timedelta(rng.uniform(0, 1, len(searching))
                                                             * duration[searching], unit="s"),
        "search_term": rng.choice(TERMS, len(searching), p=_zipf(len(TERMS))),
    })
    converting = np.flatnonzero(engaged & (rng.random(n) < 0.12))
    key_events = pd.DataFrame({
        "event_id": np.arange(1, len(converting) + 1), "session_id": session_ids[converting],
        "occurred_at": started[converting] + pd.to_timedelta(duration[converting] // 2, unit="s"),
        "event_name": rng.choice(KEY_EVENTS, len(converting)),
    })

    web = np.flatnonzero(ordering)
    offline = 25
    first_moment = pd.Timestamp(day_starts[0]).tz_convert("UTC")
    placed = (started[web] + pd.to_timedelta(duration[web] * 0.9, unit="s")).append(
        first_moment + pd.to_timedelta(rng.uniform(0, days * 86400, offline), unit="s"))
    count = len(placed)
    revenue = np.round(rng.lognormal(6.5, 0.8, count), 2)
    orders = pd.DataFrame({
        "order_id": np.concatenate([order_ids[web], np.arange(9000, 9000 + offline)]),
        "customer_id": rng.integers(1, 80, count), "buyer_id": rng.integers(1, 200, count), "placed_at": placed,
        "channel": ["web"] * len(web) + ["sales_rep"] * offline, "catalog_id": 1,
        "quote_id": pd.array([None] * count, dtype="Int64"), "cart_id": pd.array([None] * count, dtype="Int64"),
        "payment_method": "invoice", "status": rng.choice(["placed", "delivered", "cancelled"], count, p=[.3, .6, .1]),
        "cancelled_at": pd.NaT, "revenue": revenue, "cost": np.round(revenue * 0.7, 2),
        "utm_source": None, "utm_medium": None, "utm_campaign": None,
        "ga_session_id": pd.array(list(session_ids[web]) + [None] * offline, dtype="Int64"),
        "ga_tracked": np.concatenate([tracked[web] & (rng.random(len(web)) < 0.9), np.zeros(offline, bool)]),
        "updated_at": placed,
    })

    ad_rows = [
        {"date": start + dt.timedelta(days=i), "platform": platform, "campaign": campaign,
         "impressions": int(impressions), "clicks": int(clicks), "spend": round(float(clicks) * 1.37, 2)}
        for i in range(days) for (platform, campaign), impressions, clicks in zip(
            ADS, rng.integers(500, 3000, len(ADS)), rng.integers(5, 60, len(ADS)), strict=True)
    ]
    meta = WorldMeta(seed=seed, scale=0.0, start=start, end=end, business_timezone=time_zone,
                     property_time_zone=time_zone)
    return World.from_tables({"web_sessions": sessions, "site_searches": searches, "key_events": key_events,
                              "orders": orders, "ad_daily": pd.DataFrame(ad_rows)}, meta)


def _zipf(n: int) -> np.ndarray:
    weights = 1 / np.arange(1, n + 1)
    return weights / weights.sum()


# --- what GA4 should report, computed straight from the world (independent of the sandbox code) --
def ga_sessions(world: World, clock: dt.datetime | None = None) -> pd.DataFrame:
    """Sessions GA4 has processed by `clock`, with property-local time columns."""
    clock = clock or world.meta.now
    sessions = world["web_sessions"]
    seen = sessions[sessions["ga_tracked"] & (sessions["ga_processed_at"] <= pd.Timestamp(clock)).fillna(False)]
    seen = seen.copy()
    local = seen["started_at"].dt.tz_convert(world.meta.property_time_zone)
    seen["day"] = local.dt.date
    seen["date_hour"] = local.dt.strftime("%Y%m%d%H")
    seen["source_medium"] = seen["source"].astype(str) + " / " + seen["medium"].astype(str)
    return seen


def ga_transactions(world: World, clock: dt.datetime | None = None) -> pd.DataFrame:
    """Tracked orders placed in processed sessions, with the session's attributes."""
    sessions = ga_sessions(world, clock).set_index("session_id")
    orders = world["orders"]
    orders = orders[orders["ga_tracked"] & orders["ga_session_id"].isin(sessions.index)].copy()
    local = orders["placed_at"].dt.tz_convert(world.meta.property_time_zone)
    orders["day"] = local.dt.date
    orders["date_hour"] = local.dt.strftime("%Y%m%d%H")
    for column in ("device_category", "channel_group", "is_new_user", "campaign", "source_medium"):
        orders[column] = sessions.loc[orders["ga_session_id"].astype("int64"), column].to_numpy()
    return orders


def ga_events(world: World, table: str, clock: dt.datetime | None = None) -> pd.DataFrame:
    """Rows of an event table (site_searches, key_events) of processed sessions, with their local day."""
    sessions = ga_sessions(world, clock)
    events = world[table]
    events = events[events["session_id"].isin(sessions["session_id"])].copy()
    events["day"] = events["occurred_at"].dt.tz_convert(world.meta.property_time_zone).dt.date
    return events


def period_of(days: pd.Series, grain: str) -> pd.Series:
    stamps = pd.to_datetime(days)
    if grain == "day":
        start = stamps
    elif grain == "week":
        start = stamps - pd.to_timedelta(stamps.dt.weekday, unit="D")
    elif grain == "month":
        start = stamps.dt.to_period("M").dt.start_time
    else:
        start = stamps.dt.to_period("Q").dt.start_time
    return start.dt.date
