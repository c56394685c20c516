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

from pulse.sandbox.servers.ga4_schema import ADS, EVENTS, HIGH_CARDINALITY, SESSIONS, TRANSACTIONS
from pulse.sandbox.world_io import World

NOT_SET = "(not set)"
OTHER = "(other)"
SEARCH_PAGE = "/search"  # view_search_results fires on the search results page

# columns every fact carries besides its dimensions: the property-local day as an int YYYYMMDD
DAY = "_day"


@dataclass(frozen=True)
class Facts:
    """Record sets by fact name (see ga4_schema). Columns: `_day`, the dimensions the fact
    supports (strings), and the fact's own `_`-prefixed values."""

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


def _time_dimensions(moments: pd.Series, tz: ZoneInfo) -> dict[str, pd.Series]:
    local = pd.Series(pd.DatetimeIndex(moments).tz_convert(tz))
    day = (local.dt.year * 10_000 + local.dt.month * 100 + local.dt.day).astype("int64")
    iso = local.dt.isocalendar()
    return {
        DAY: day,
        "date": day.astype(str),
        "dateHour": (day * 100 + local.dt.hour).astype("int64").astype(str),
        "isoYearIsoWeek": (iso["year"].astype("int64") * 100 + iso["week"].astype("int64")).astype(str),
        "yearMonth": (local.dt.year * 100 + local.dt.month).astype("int64").astype(str),
    }


def _date_dimensions(days: pd.Series) -> dict[str, pd.Series]:
    stamps = pd.to_datetime(days)
    day = (stamps.dt.year * 10_000 + stamps.dt.month * 100 + stamps.dt.day).astype("int64")
    iso = stamps.dt.isocalendar()
    return {
        DAY: day,
        "date": day.astype(str),
        "isoYearIsoWeek": (iso["year"].astype("int64") * 100 + iso["week"].astype("int64")).astype(str),
        "yearMonth": (stamps.dt.year * 100 + stamps.dt.month).astype("int64").astype(str),
    }


def _text(values: pd.Series, missing: str = NOT_SET) -> pd.Series:
    return values.astype("string").fillna(missing).astype(str)


def _session_dimensions(sessions: pd.DataFrame) -> pd.DataFrame:
    """The session-scoped dimensions, one row per visible session, indexed by session_id."""
    source = _text(sessions["source"], "(direct)")
    medium = _text(sessions["medium"], "(none)")
    return pd.DataFrame({
        "deviceCategory": _text(sessions["device_category"]),
        "sessionDefaultChannelGroup": _text(sessions["channel_group"], "Unassigned"),
        "newVsReturning": np.where(sessions["is_new_user"].to_numpy(dtype=bool), "new", "returning"),
        "sessionCampaignName": _text(sessions["campaign"]),
        "sessionSourceMedium": source + " / " + medium,
        "sessionGoogleAdsCampaignName": _text(sessions["google_ads_campaign"]),
        "landingPage": _text(sessions["landing_page"]),
    }).set_index(sessions["session_id"].to_numpy())


def _sessions_fact(sessions: pd.DataFrame, session_dims: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    engaged = sessions["engaged"].to_numpy(dtype=bool)
    new = sessions["is_new_user"].to_numpy(dtype=bool)
    return pd.DataFrame({
        **_time_dimensions(sessions["started_at"], tz),
        **{name: values.to_numpy() for name, values in session_dims.items()},
        "_user": sessions["user_pseudo_id"].astype(str).to_numpy(),
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
    search_terms = _text(searches["search_term"])
    # (session, moment, event name, page path, search term, key event?)
    parts = [
        (sessions["session_id"], sessions["started_at"], "session_start", _text(sessions["landing_page"]), NOT_SET,
         False),
        (new["session_id"], new["started_at"], "first_visit", _text(new["landing_page"]), NOT_SET, False),
        (searches["session_id"], searches["occurred_at"], "view_search_results", SEARCH_PAGE, search_terms, False),
        (key_events["session_id"], key_events["occurred_at"], _text(key_events["event_name"]), NOT_SET, NOT_SET,
         True),
        (sessions["session_id"], ended, "page_exit", _text(sessions["exit_page"]), NOT_SET, False),
        (orders["ga_session_id"], orders["placed_at"], "purchase", NOT_SET, NOT_SET, False),
    ]
    frames = []
    for session_id, occurred, name, page, term, is_key in parts:
        n = len(session_id)
        frames.append(pd.DataFrame({
            "_session": session_id.to_numpy(dtype="int64"),
            "_at": pd.DatetimeIndex(occurred).tz_convert("UTC"),
            "eventName": _column(name, n), "pagePath": _column(page, n), "searchTerm": _column(term, n),
            "_key": np.full(n, is_key),
        }))
    events = pd.concat(frames, ignore_index=True)
    dims = session_dims.loc[events["_session"].to_numpy()].reset_index(drop=True)
    return pd.DataFrame({
        **_time_dimensions(events["_at"], tz),
        **{name: values.to_numpy() for name, values in dims.items()},
        "eventName": events["eventName"].astype(str).to_numpy(),
        "pagePath": events["pagePath"].astype(str).to_numpy(),
        "searchTerm": events["searchTerm"].astype(str).to_numpy(),
        "_key": events["_key"].to_numpy(dtype=bool),
    })


def _column(value: pd.Series | str, n: int) -> np.ndarray:
    return value.to_numpy(dtype=object) if isinstance(value, pd.Series) else np.full(n, value, dtype=object)


def _tracked_orders(world: World, sessions: pd.DataFrame) -> pd.DataFrame:
    orders = world["orders"]
    tracked = orders["ga_tracked"].to_numpy(dtype=bool) & orders["ga_session_id"].isin(sessions["session_id"]).to_numpy()
    return orders[tracked].reset_index(drop=True)


def _transactions_fact(world: World, sessions: pd.DataFrame, session_dims: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    orders = _tracked_orders(world, sessions)
    dims = session_dims.loc[orders["ga_session_id"].to_numpy(dtype="int64")].reset_index(drop=True)
    return pd.DataFrame({
        **_time_dimensions(orders["placed_at"], tz),
        **{name: values.to_numpy() for name, values in dims.items()},
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
        "sessionCampaignName": campaign.to_numpy(),
        "sessionGoogleAdsCampaignName": campaign.to_numpy(),
        "_cost_cents": np.round(ads["spend"].to_numpy(dtype="float64") * 100).astype("int64"),
        "_impressions": ads["impressions"].to_numpy(dtype="int64"),
        "_clicks": ads["clicks"].to_numpy(dtype="int64"),
    })


def _fold_rare_values(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """GA4 keeps at most `limit` values of a high-cardinality dimension per day; the rarest
    ones are reported together as "(other)"."""
    for dimension in HIGH_CARDINALITY:
        if dimension not in frame.columns or frame.empty:
            continue
        if frame.groupby(DAY)[dimension].nunique().max() <= limit:
            continue
        counts = frame.groupby([DAY, dimension]).size().rename("n").reset_index()
        counts = counts.sort_values([DAY, "n", dimension], ascending=[True, False, True], kind="stable")
        counts["rank"] = counts.groupby(DAY).cumcount()
        rare = counts[counts["rank"] >= limit].set_index([DAY, dimension]).index
        fold = pd.MultiIndex.from_arrays([frame[DAY], frame[dimension]]).isin(rare)
        frame = frame.assign(**{dimension: np.where(fold, OTHER, frame[dimension].to_numpy())})
    return frame
