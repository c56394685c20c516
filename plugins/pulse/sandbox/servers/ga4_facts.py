"""What the sandbox GA4 property knows as of a clock, as four record sets ("facts") with every
dimension precomputed, so a report is a filter and a group-by.

GA4 sees only sessions it tracked (`ga_tracked`: consent given, tag working) and only once it has
processed them (`ga_processed_at` at or before the clock): recent days keep growing for about three
days, which is why connectors re-extract a lookback window. Events belong to such sessions. A
transaction is a tracked order placed in such a session, dated by the order and attributed to the
session's traffic source and device. Ad cost comes from the Google Ads link (ad_daily rows of
platform google_ads), a day's figures once that day has begun in the property's time zone.

Days, hours, weeks and months are those of the property's reporting time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from pulse.sandbox.servers.ga4_schema import ADS, EVENTS, HIGH_CARDINALITY, SESSIONS, TRANSACTIONS
from pulse.sandbox.world_io import World

NOT_SET = "(not set)"
OTHER = "(other)"
SEARCH_PAGE = "/search"  # view_search_results fires on the search results page

# columns every fact carries besides its dimensions: the property-local day as an int YYYYMMDD
DAY = "_day"


@dataclass(frozen=True)
class Facts:
    """Record sets by fact name (see ga4_schema). Columns: `_day` (int YYYYMMDD), the dimensions
    the fact supports (categoricals of strings: a year of events is a million rows, and grouping
    or filtering codes is what keeps a report fast) and the fact's own `_`-prefixed values."""

    frames: dict[str, pd.DataFrame]
    time_zone: str

    def __getitem__(self, fact: str) -> pd.DataFrame:
        return self.frames[fact]


def build_facts(world: World, clock: dt.datetime, *, cardinality_limit: int) -> Facts:
    tz = ZoneInfo(world.meta.property_time_zone)
    sessions = _visible_sessions(world, clock)
    session_dims = _session_dimensions(sessions)
    frames = {
        SESSIONS: _sessions_fact(sessions, session_dims, tz),
        EVENTS: _events_fact(world, sessions, session_dims, tz),
        TRANSACTIONS: _transactions_fact(world, sessions, session_dims, tz),
        ADS: _ads_fact(world, clock, tz),
    }
    frames = {name: _fold_rare_values(frame, cardinality_limit) for name, frame in frames.items()}
    return Facts(frames, str(tz))


def _visible_sessions(world: World, clock: dt.datetime) -> pd.DataFrame:
    sessions = world["web_sessions"]
    processed = sessions["ga_processed_at"]
    visible = sessions["ga_tracked"].to_numpy(dtype=bool) & processed.notna().to_numpy() & (
        processed <= pd.Timestamp(clock)).fillna(False).to_numpy(dtype=bool)
    return sessions[visible].reset_index(drop=True)


def _labels(values: np.ndarray) -> pd.Categorical:
    """Integer keys (days, hours, weeks) as a categorical of their decimal strings."""
    uniques, codes = np.unique(values, return_inverse=True)
    return pd.Categorical.from_codes(codes.astype("int64"), categories=pd.Index(uniques.astype(str), dtype=object))


def _time_dimensions(moments: pd.Series, tz: ZoneInfo) -> dict[str, object]:
    local = pd.DatetimeIndex(moments).tz_convert(tz)
    day = (local.year * 10_000 + local.month * 100 + local.day).to_numpy(dtype="int64")
    iso = local.isocalendar()
    return {
        DAY: day,
        "date": _labels(day),
        "dateHour": _labels(day * 100 + local.hour.to_numpy(dtype="int64")),
        "isoYearIsoWeek": _labels(iso["year"].to_numpy(dtype="int64") * 100 + iso["week"].to_numpy(dtype="int64")),
        "yearMonth": _labels((local.year * 100 + local.month).to_numpy(dtype="int64")),
    }


def _date_dimensions(days: pd.Series) -> dict[str, object]:
    stamps = pd.DatetimeIndex(pd.to_datetime(days))
    day = (stamps.year * 10_000 + stamps.month * 100 + stamps.day).to_numpy(dtype="int64")
    iso = stamps.isocalendar()
    return {
        DAY: day,
        "date": _labels(day),
        "isoYearIsoWeek": _labels(iso["year"].to_numpy(dtype="int64") * 100 + iso["week"].to_numpy(dtype="int64")),
        "yearMonth": _labels((stamps.year * 100 + stamps.month).to_numpy(dtype="int64")),
    }


def _categorical(values: np.ndarray) -> pd.Categorical:
    """Strings as a categorical whose categories are plain Python strings (one dtype for all, so
    parts can be combined)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return pd.Categorical.from_codes(codes, categories=pd.Index(np.asarray(uniques, dtype=object), dtype=object))


def _text(values: pd.Series, missing: str = NOT_SET) -> pd.Categorical:
    present = values.notna().to_numpy()
    return _categorical(np.where(present, values.astype(object).to_numpy(), missing))


def _constant(value: str, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, dtype="int64"), categories=pd.Index([value], dtype=object))


def _session_dimensions(sessions: pd.DataFrame) -> pd.DataFrame:
    """The session-scoped dimensions, one row per visible session (categoricals)."""
    source = np.where(sessions["source"].notna(), sessions["source"].astype(object), "(direct)")
    medium = np.where(sessions["medium"].notna(), sessions["medium"].astype(object), "(none)")
    return pd.DataFrame({
        "deviceCategory": _text(sessions["device_category"]),
        "sessionDefaultChannelGroup": _text(sessions["channel_group"], "Unassigned"),
        "newVsReturning": _categorical(np.where(sessions["is_new_user"].to_numpy(dtype=bool), "new", "returning")),
        "sessionCampaignName": _text(sessions["campaign"]),
        "sessionSourceMedium": _categorical((pd.Series(source, dtype=object) + " / "
                                             + pd.Series(medium, dtype=object)).to_numpy(dtype=object)),
        "sessionGoogleAdsCampaignName": _text(sessions["google_ads_campaign"]),
        "landingPage": _text(sessions["landing_page"]),
    })


def _take(dimensions: pd.DataFrame, positions: np.ndarray) -> dict[str, pd.Categorical]:
    """The session dimensions of each record, by the records' session positions."""
    return {name: pd.Categorical.from_codes(column.cat.codes.to_numpy()[positions], categories=column.cat.categories)
            for name, column in dimensions.items()}


def _positions(sessions: pd.DataFrame, session_ids: pd.Series) -> np.ndarray:
    return pd.Index(sessions["session_id"].to_numpy()).get_indexer(session_ids.to_numpy(dtype="int64"))


def _sessions_fact(sessions: pd.DataFrame, session_dims: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    engaged = sessions["engaged"].to_numpy(dtype=bool)
    new = sessions["is_new_user"].to_numpy(dtype=bool)
    return pd.DataFrame({
        **_time_dimensions(sessions["started_at"], tz),
        **_take(session_dims, np.arange(len(sessions))),
        "_user": pd.factorize(sessions["user_pseudo_id"].astype(object).to_numpy())[0],
        "_new": new,
        "_engaged": engaged,
        # GA4 active users: users with an engaged session or a first visit
        "_active": engaged | new,
        "_page_views": sessions["page_views"].to_numpy(dtype="int64"),
        "_duration": sessions["duration_seconds"].to_numpy(dtype="int64"),
        "_engagement": sessions["engagement_seconds"].to_numpy(dtype="int64"),
    })


def _events_fact(world: World, sessions: pd.DataFrame, session_dims: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """The events the world records: session_start, first_visit, view_search_results, the key
    events, page_exit (fired on pagehide with the exit page's path) and purchase."""
    visible = sessions["session_id"]
    searches = world["site_searches"]
    searches = searches[searches["session_id"].isin(visible)]
    key_events = world["key_events"]
    key_events = key_events[key_events["session_id"].isin(visible)]
    orders = _tracked_orders(world, sessions)
    new = sessions[sessions["is_new_user"].to_numpy(dtype=bool)]
    ended = sessions["started_at"] + pd.to_timedelta(sessions["duration_seconds"].to_numpy(dtype="int64"), unit="s")
    n_searches, n_keys = len(searches), len(key_events)
    # (session ids, moments, event name, page path, search term, key event?)
    parts = [
        (sessions["session_id"], sessions["started_at"], _constant("session_start", len(sessions)),
         _text(sessions["landing_page"]), _constant(NOT_SET, len(sessions)), False),
        (new["session_id"], new["started_at"], _constant("first_visit", len(new)), _text(new["landing_page"]),
         _constant(NOT_SET, len(new)), False),
        (searches["session_id"], searches["occurred_at"], _constant("view_search_results", n_searches),
         _constant(SEARCH_PAGE, n_searches), _text(searches["search_term"]), False),
        (key_events["session_id"], key_events["occurred_at"], _text(key_events["event_name"]),
         _constant(NOT_SET, n_keys), _constant(NOT_SET, n_keys), True),
        (sessions["session_id"], ended, _constant("page_exit", len(sessions)), _text(sessions["exit_page"]),
         _constant(NOT_SET, len(sessions)), False),
        (orders["ga_session_id"], orders["placed_at"], _constant("purchase", len(orders)),
         _constant(NOT_SET, len(orders)), _constant(NOT_SET, len(orders)), False),
    ]
    session_ids = pd.concat([pd.Series(part[0].to_numpy(dtype="int64")) for part in parts], ignore_index=True)
    moments = pd.Series(pd.to_datetime(np.concatenate([
        pd.DatetimeIndex(part[1]).tz_convert("UTC").as_unit("us").asi8 for part in parts
    ]), unit="us", utc=True))
    return pd.DataFrame({
        **_time_dimensions(moments, tz),
        **_take(session_dims, _positions(sessions, session_ids)),
        "eventName": union_categoricals([part[2] for part in parts]),
        "pagePath": union_categoricals([part[3] for part in parts]),
        "searchTerm": union_categoricals([part[4] for part in parts]),
        "_key": np.concatenate([np.full(len(part[0]), part[5]) for part in parts]),
    })


def _tracked_orders(world: World, sessions: pd.DataFrame) -> pd.DataFrame:
    orders = world["orders"]
    tracked = orders["ga_tracked"].to_numpy(dtype=bool) & orders["ga_session_id"].isin(sessions["session_id"]).to_numpy()
    return orders[tracked].reset_index(drop=True)


def _transactions_fact(world: World, sessions: pd.DataFrame, session_dims: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    orders = _tracked_orders(world, sessions)
    return pd.DataFrame({
        **_time_dimensions(orders["placed_at"], tz),
        **_take(session_dims, _positions(sessions, orders["ga_session_id"])),
        "_cents": np.round(orders["revenue"].to_numpy(dtype="float64") * 100).astype("int64"),
    })


def _ads_fact(world: World, clock: dt.datetime, tz: ZoneInfo) -> pd.DataFrame:
    ads = world["ad_daily"]
    today = clock.astimezone(tz).date()
    ads = ads[(ads["platform"] == "google_ads").to_numpy(dtype=bool)
              & (pd.to_datetime(ads["date"]) <= pd.Timestamp(today)).to_numpy(dtype=bool)].reset_index(drop=True)
    campaign = _text(ads["campaign"])
    return pd.DataFrame({
        **_date_dimensions(ads["date"]),
        "sessionCampaignName": campaign,
        "sessionGoogleAdsCampaignName": campaign,
        "_cost_cents": np.round(ads["spend"].to_numpy(dtype="float64") * 100).astype("int64"),
        "_impressions": ads["impressions"].to_numpy(dtype="int64"),
        "_clicks": ads["clicks"].to_numpy(dtype="int64"),
    })


def _fold_rare_values(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """GA4 keeps at most `limit` values of a high-cardinality dimension per day; the rarest
    ones (fewest records, then last alphabetically) are reported together as "(other)"."""
    for dimension in HIGH_CARDINALITY:
        if dimension not in frame.columns or frame.empty:
            continue
        column = frame[dimension]
        categories = column.cat.categories
        codes = column.cat.codes.to_numpy().astype("int64")
        keys, inverse, counts = np.unique(frame[DAY].to_numpy() * len(categories) + codes, return_inverse=True,
                                          return_counts=True)
        days, values = keys // len(categories), keys % len(categories)
        alphabetical = np.argsort(np.argsort(np.asarray(categories, dtype=str)))
        order = np.lexsort((alphabetical[values], -counts, days))
        first_of_day = np.r_[0, np.flatnonzero(np.diff(days[order])) + 1]
        rank = np.arange(len(order)) - np.repeat(first_of_day, np.diff(np.r_[first_of_day, len(order)]))
        rare = np.zeros(len(keys), dtype=bool)
        rare[order] = rank >= limit
        fold = rare[inverse]
        if not fold.any():
            continue
        if OTHER not in categories:
            column = column.cat.add_categories([OTHER])
        codes = column.cat.codes.to_numpy().copy()
        codes[fold] = list(column.cat.categories).index(OTHER)
        frame = frame.assign(**{dimension: pd.Categorical.from_codes(codes, categories=column.cat.categories)})
    return frame
