"""The dimensions and metrics the sandbox GA4 property serves, as `getMetadata` lists them, and
which record set ("fact") each one is computed from.

A report may mix metrics of several facts (sessions and transactions per campaign, say); every
requested dimension and every filtered field must then exist on each of those facts, otherwise
the request is incompatible, as GA4 answers for such combinations. Descriptions follow GA4's API
schema page (developers.google.com/analytics/devguides/reporting/data/v1/api-schema).
"""

from __future__ import annotations

from dataclasses import dataclass

SESSIONS, EVENTS, TRANSACTIONS, ADS = "sessions", "events", "transactions", "ads"
FACTS = (SESSIONS, EVENTS, TRANSACTIONS, ADS)


@dataclass(frozen=True)
class Dimension:
    api_name: str
    ui_name: str
    category: str
    description: str
    facts: tuple[str, ...]


@dataclass(frozen=True)
class Metric:
    api_name: str
    ui_name: str
    category: str
    description: str
    type: str  # GA4 MetricType name
    fact: str
    expression: str = ""


_TIME = (SESSIONS, EVENTS, TRANSACTIONS, ADS)
_SESSION_SCOPED = (SESSIONS, EVENTS, TRANSACTIONS)

DIMENSIONS: dict[str, Dimension] = {d.api_name: d for d in (
    Dimension("date", "Date", "Time", "The date of the event, formatted as YYYYMMDD.", _TIME),
    Dimension("dateHour", "Date + hour (YYYYMMDDHH)", "Time",
              "The combined values of date and hour formatted as YYYYMMDDHH.", _SESSION_SCOPED),
    Dimension("isoYearIsoWeek", "ISO week of ISO year", "Time",
              "The combined values of isoWeek and isoYear. Example values include 201652 & 201701.", _TIME),
    Dimension("yearMonth", "Year month", "Time",
              "The combined values of year and month. Example values include 202212 or 202301.", _TIME),
    Dimension("deviceCategory", "Device category", "Platform / Device",
              "The type of device: Desktop, Tablet, or Mobile.", _SESSION_SCOPED),
    Dimension("sessionDefaultChannelGroup", "Session default channel group", "Traffic Source",
              "The session's default channel group is based primarily on source and medium.", _SESSION_SCOPED),
    Dimension("newVsReturning", "New / returning", "User",
              "New users have 0 previous sessions, and returning users have 1 or more previous sessions.",
              _SESSION_SCOPED),
    Dimension("sessionCampaignName", "Session campaign", "Traffic Source",
              "The marketing campaign name for a session.", (*_SESSION_SCOPED, ADS)),
    Dimension("sessionSourceMedium", "Session source / medium", "Traffic Source",
              "The combined values of the dimensions sessionSource and sessionMedium.", _SESSION_SCOPED),
    Dimension("sessionGoogleAdsCampaignName", "Session Google Ads campaign", "Traffic Source",
              "The Campaign name for this Google Ads Campaign.", (*_SESSION_SCOPED, ADS)),
    Dimension("landingPage", "Landing page", "Page / Screen",
              "The page path associated with the first pageview in a session.", _SESSION_SCOPED),
    Dimension("eventName", "Event name", "Event", "The name of the event.", (EVENTS,)),
    Dimension("searchTerm", "Search term", "Page / Screen",
              "The term searched by the user (view_search_results events).", (EVENTS,)),
    Dimension("pagePath", "Page path", "Page / Screen",
              "The portion of the URL between the hostname and query string for web pages.", (EVENTS,)),
)}

# the `dateRange` dimension exists only in responses to requests with several date ranges
DATE_RANGE = "dateRange"

METRICS: dict[str, Metric] = {m.api_name: m for m in (
    Metric("sessions", "Sessions", "Session", "The number of sessions that began on your site.",
           "TYPE_INTEGER", SESSIONS),
    Metric("engagedSessions", "Engaged sessions", "Session",
           "The number of sessions that lasted longer than 10 seconds, or had a key event, or had 2 or more "
           "screen views.", "TYPE_INTEGER", SESSIONS),
    Metric("bounceRate", "Bounce rate", "Session",
           "The percentage of sessions that were not engaged ((Sessions Minus Engaged sessions) divided by "
           "Sessions), returned as a fraction.", "TYPE_FLOAT", SESSIONS, "1 - engagedSessions / sessions"),
    Metric("screenPageViews", "Views", "Page / Screen",
           "The number of app screens or web pages your users viewed.", "TYPE_INTEGER", SESSIONS),
    Metric("averageSessionDuration", "Average session duration", "Session",
           "The average duration (in seconds) of users' sessions.", "TYPE_SECONDS", SESSIONS),
    Metric("userEngagementDuration", "User engagement", "User",
           "The total amount of time (in seconds) your website or app was in the foreground of users' devices.",
           "TYPE_SECONDS", SESSIONS),
    Metric("totalUsers", "Total users", "User",
           "The number of distinct users who have logged at least one event.", "TYPE_INTEGER", SESSIONS),
    Metric("newUsers", "New users", "User",
           "The number of users who interacted with your site for the first time (first_visit).",
           "TYPE_INTEGER", SESSIONS),
    Metric("activeUsers", "Active users", "User",
           "The number of distinct users who had an engaged session or a first visit.", "TYPE_INTEGER", SESSIONS),
    Metric("transactions", "Transactions", "Ecommerce",
           "The count of transaction events with purchase revenue.", "TYPE_INTEGER", TRANSACTIONS),
    Metric("purchaseRevenue", "Purchase revenue", "Revenue",
           "The sum of revenue from purchases minus refunded transaction revenue.", "TYPE_CURRENCY", TRANSACTIONS),
    Metric("eventCount", "Event count", "Event", "The count of events.", "TYPE_INTEGER", EVENTS),
    Metric("keyEvents", "Key events", "Event",
           "The count of key events (events marked as key events in the property).", "TYPE_INTEGER", EVENTS),
    Metric("advertiserAdCost", "Ads cost", "Advertising",
           "The total amount you paid for your advertisements (Google Ads link).", "TYPE_CURRENCY", ADS),
    Metric("advertiserAdImpressions", "Ads impressions", "Advertising",
           "The total number of impressions (Google Ads link).", "TYPE_INTEGER", ADS),
    Metric("advertiserAdClicks", "Ads clicks", "Advertising",
           "Total number of times users have clicked on an ad to reach the property (Google Ads link).",
           "TYPE_INTEGER", ADS),
)}

# metrics that count distinct users: never additive, and subject to thresholding with Google signals
USER_METRICS = frozenset({"totalUsers", "newUsers", "activeUsers"})

# dimensions whose rare values GA4 folds into an "(other)" row once a day has too many of them
HIGH_CARDINALITY = ("pagePath", "searchTerm", "landingPage", "sessionCampaignName", "sessionSourceMedium")

MAX_DIMENSIONS, MAX_METRICS, MAX_DATE_RANGES, MAX_BATCH_REQUESTS = 9, 10, 4, 5
DEFAULT_LIMIT, MAX_LIMIT = 10_000, 250_000


def metadata(property_id: str) -> dict:
    """The body of `GET /v1beta/properties/{id}/metadata`."""
    return {
        "name": f"properties/{property_id}/metadata",
        "dimensions": [
            {"apiName": d.api_name, "uiName": d.ui_name, "description": d.description, "category": d.category}
            for d in DIMENSIONS.values()
        ],
        "metrics": [
            {"apiName": m.api_name, "uiName": m.ui_name, "description": m.description, "type": m.type,
             "category": m.category, **({"expression": m.expression} if m.expression else {})}
            for m in METRICS.values()
        ],
    }
