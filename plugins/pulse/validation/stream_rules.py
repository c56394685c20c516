"""What each stream's contract cannot say, written by hand: allowed values, plausible ranges,
orderings, which timestamps may lie in the future and which dates may not. `pulse validation
suites --write` turns these and the contracts into `expectations/<source>.<stream>.json`.

Value sets are the source's own documented enums (a value outside them means the source changed,
or a record is corrupt); ranges are wide business bounds (a B2B wholesaler's order is not
negative and not ten million euros), not statistics of the sandbox.
"""

from __future__ import annotations

from pulse.validation.suites import StreamRules, at_least, between, matches, not_before, one_of

MAX_AMOUNT = 10_000_000  # EUR: no order, quote, deal or invoice of this business comes near it

# HubSpot's lifecycle stages and original-source enum
# (https://knowledge.hubspot.com/contacts/use-lifecycle-stages, hs_analytics_source property)
HUBSPOT_LIFECYCLE_STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
                            "customer", "evangelist", "other")
HUBSPOT_ANALYTICS_SOURCES = ("ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
                             "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL", "AI_REFERRALS")
# the default sales pipeline's stages
HUBSPOT_DEAL_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
                       "contractsent", "closedwon", "closedlost")

# Zendesk ticket fields (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/);
# the incremental export also returns deleted tickets
ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed", "deleted")
ZENDESK_TYPES = ("question", "incident", "problem", "task")
ZENDESK_PRIORITIES = ("low", "normal", "high", "urgent")
ZENDESK_DURATIONS = ("reply_time", "first_resolution_time", "full_resolution_time", "agent_wait_time",
                     "requester_wait_time", "on_hold_time")
MAX_MINUTES = 10 * 366 * 24 * 60  # no ticket stays open ten years

# Aircall call object (https://developer.aircall.io/api-references/#call)
AIRCALL_STATUSES = ("initial", "answered", "done")
AIRCALL_MISSED_REASONS = ("out_of_opening_hours", "short_abandoned", "abandoned_in_ivr", "abandoned_in_classic",
                          "no_available_agent", "agents_did_not_answer")
MAX_CALL_SECONDS = 24 * 3600

# EasyPost tracker statuses (https://docs.easypost.com/docs/trackers#tracking-statuses)
EASYPOST_STATUSES = ("unknown", "pre_transit", "in_transit", "out_for_delivery", "delivered", "available_for_pickup",
                     "return_to_sender", "failure", "cancelled", "error")

# GA4 Data API dimension values (https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema)
GA4_DEVICE_CATEGORIES = ("desktop", "mobile", "tablet", "smart tv", "(not set)")
GA4_CHANNEL_GROUPS = ("Affiliates", "Audio", "Cross-network", "Direct", "Display", "Email", "Mobile Push Notifications",
                      "Organic Search", "Organic Shopping", "Organic Social", "Organic Video", "Paid Other",
                      "Paid Search", "Paid Shopping", "Paid Social", "Paid Video", "Referral", "SMS", "Unassigned",
                      "(not set)")
GA4_NEW_VS_RETURNING = ("new", "returning", "(not set)")
GA4_GRAINS = ("day", "week", "month", "quarter")
GA4_METADATA = (matches("currency_code", r"^[A-Z]{3}$"),)  # ISO 4217
GA4_DAYS = ("date",)  # a report day is a day that happened (in the property's time zone)
GA4_REVENUE = (-MAX_AMOUNT, MAX_AMOUNT)  # purchase revenue is net of refunds: a day can be negative

# the shop's own vocabularies (the ERP's enums) and the carriers the business ships with
SHOP_CHANNELS = ("web", "sales_rep", "phone", "email")
SHOP_PAYMENT_METHODS = ("invoice", "ideal", "credit_card", "paypal", "direct_debit")
SHOP_ORDER_STATUSES = ("placed", "shipped", "delivered", "cancelled")
SHOP_CART_STATUSES = ("open", "ordered", "abandoned")
SHOP_QUOTE_OUTCOMES = ("accepted", "rejected", "expired")
SHOP_SEGMENTS = ("wholesale", "installer", "retail_chain", "public_sector")
CARRIERS = ("PostNL", "DHL", "UPS", "DPD")
EMAIL = r"^[^@\s]+@[^@\s]+$"
COUNTRY = r"^[A-Z]{2}$"  # ISO 3166-1 alpha-2

RULES: dict[str, StreamRules] = {
    "hubspot.contacts": StreamRules(
        rules=(
            one_of("lifecyclestage", HUBSPOT_LIFECYCLE_STAGES),
            one_of("hs_analytics_source", HUBSPOT_ANALYTICS_SOURCES),
            matches("hs_persona", r"^persona_\d+$", notes="HubSpot's internal persona values"),
            between("id", 1), between("hubspot_owner_id", 1), between("pulse_customer_id", 1),
            not_before("lastmodifieddate", "createdate"),
        ),
    ),
    "hubspot.deals": StreamRules(
        rules=(
            one_of("dealstage", HUBSPOT_DEAL_STAGES),
            between("amount", 0, MAX_AMOUNT),
            between("id", 1), between("hubspot_owner_id", 1), between("pulse_quote_id", 1),
            not_before("hs_lastmodifieddate", "createdate"),
        ),
        future_timestamps=("closedate",),
        notes="closedate is the expected close date of an open deal: it may lie in the future.",
    ),
    "zendesk.tickets": StreamRules(
        rules=(
            one_of("status", ZENDESK_STATUSES), one_of("type", ZENDESK_TYPES), one_of("priority", ZENDESK_PRIORITIES),
            between("id", 1), between("order_id", 1), between("customer_id", 1),
            not_before("updated_at", "created_at"),
        ),
    ),
    "zendesk.ticket_metrics": StreamRules(
        rules=(
            between("replies", 0, 10_000), between("reopens", 0, 10_000),
            *(between(f"{duration}_{hours}_minutes", 0, MAX_MINUTES)
              for duration in ZENDESK_DURATIONS for hours in ("calendar", "business")),
            not_before("solved_at", "created_at"), not_before("updated_at", "created_at"),
        ),
    ),
    "aircall.calls": StreamRules(
        rules=(
            one_of("direction", ("inbound", "outbound")), one_of("status", AIRCALL_STATUSES),
            one_of("missed_call_reason", AIRCALL_MISSED_REASONS), between("duration", 0, MAX_CALL_SECONDS),
            not_before("answered_at", "started_at"), not_before("ended_at", "started_at"),
            not_before("ended_at", "answered_at"),
        ),
    ),
    "easypost.trackers": StreamRules(
        rules=(
            one_of("status", EASYPOST_STATUSES), one_of("mode", ("test", "production")),
            matches("id", r"^trk_\w+$", notes="EasyPost object ids carry their type prefix"),
            not_before("updated_at", "created_at"),
        ),
        future_timestamps=("est_delivery_date",),
        notes="est_delivery_date is the carrier's estimate: it lies in the future while the parcel travels.",
    ),
    "easypost.tracking_details": StreamRules(
        rules=(one_of("status", EASYPOST_STATUSES), between("seq", 0, 10_000), matches("tracker_id", r"^trk_\w+$")),
    ),
    "easypost.tracker_estimates": StreamRules(
        rules=(matches("tracker_id", r"^trk_\w+$"),),
        future_timestamps=("est_delivery_date",),
    ),
    "ga4.traffic": StreamRules(
        rules=(
            one_of("device_category", GA4_DEVICE_CATEGORIES), one_of("channel_group", GA4_CHANNEL_GROUPS),
            one_of("new_vs_returning", GA4_NEW_VS_RETURNING), matches("date_hour", r"^\d{10}$"),
            between("sessions", 0), between("engaged_sessions", 0), between("screen_page_views", 0),
            between("average_session_duration", 0), between("user_engagement_duration", 0),
            between("bounce_rate", 0, 1), between("transactions", 0), between("purchase_revenue", *GA4_REVENUE),
            between("key_events", 0), at_least("sessions", "engaged_sessions"), *GA4_METADATA,
        ),
        past_dates=GA4_DAYS,
    ),
    "ga4.users": StreamRules(
        rules=(
            one_of("grain", GA4_GRAINS), one_of("device_category", (*GA4_DEVICE_CATEGORIES, "all")),
            between("total_users", 0), between("new_users", 0), between("active_users", 0),
            at_least("total_users", "new_users"), at_least("range_end", "period_start"), *GA4_METADATA,
        ),
        past_dates=("period_start", "range_end"),
    ),
    "ga4.campaigns": StreamRules(
        rules=(between("sessions", 0), between("engaged_sessions", 0), between("transactions", 0),
               between("purchase_revenue", *GA4_REVENUE), at_least("sessions", "engaged_sessions"), *GA4_METADATA),
        past_dates=GA4_DAYS,
    ),
    "ga4.google_ads": StreamRules(
        rules=(between("advertiser_ad_cost", 0, MAX_AMOUNT), between("advertiser_ad_impressions", 0),
               between("advertiser_ad_clicks", 0), at_least("advertiser_ad_impressions", "advertiser_ad_clicks"),
               *GA4_METADATA),
        past_dates=GA4_DAYS,
    ),
    "ga4.site_search": StreamRules(rules=(between("event_count", 0), *GA4_METADATA), past_dates=GA4_DAYS),
    "ga4.exit_pages": StreamRules(rules=(between("event_count", 0), *GA4_METADATA), past_dates=GA4_DAYS),
    "ga4.key_events": StreamRules(rules=(between("key_events", 0), *GA4_METADATA), past_dates=GA4_DAYS),
    "carrier_files.events": StreamRules(
        rules=(one_of("status", EASYPOST_STATUSES, notes="carrier codes are mapped to EasyPost's statuses"),
               one_of("carrier", CARRIERS)),
    ),
    "ad_spend.daily": StreamRules(
        rules=(one_of("platform", ("linkedin", "microsoft_ads")), between("impressions", 0), between("clicks", 0),
               at_least("impressions", "clicks"), between("spend", 0, MAX_AMOUNT), matches("currency", r"^[A-Z]{3}$")),
        past_dates=("date",),
    ),
    "nps.responses": StreamRules(
        rules=(between("response_id", 1), between("customer_id", 1),
               between("score", 0, 10, notes="NPS answers are 0-10")),
    ),
    "site_speed.samples": StreamRules(
        rules=(between("sample_id", 1), one_of("device", ("desktop", "mobile", "tablet")),
               between("load_time_ms", 0, 600_000, notes="a page load over ten minutes is a measuring error")),
    ),
    "shop.resellers": StreamRules(rules=(between("id", 1),)),
    "shop.sales_agents": StreamRules(rules=(between("id", 1), matches("email", EMAIL), between("hubspot_owner_id", 1))),
    "shop.catalogs": StreamRules(rules=(between("id", 1), one_of("kind", ("public", "customer")))),
    "shop.products": StreamRules(
        rules=(between("id", 1), between("list_price", 0, MAX_AMOUNT), between("unit_cost", 0, MAX_AMOUNT)),
    ),
    "shop.customers": StreamRules(
        rules=(between("id", 1), one_of("segment", SHOP_SEGMENTS), matches("country", COUNTRY),
               between("credit_limit", 0, MAX_AMOUNT)),
    ),
    "shop.buyers": StreamRules(rules=(between("id", 1), between("customer_id", 1), matches("email", EMAIL))),
    "shop.orders": StreamRules(
        rules=(
            between("id", 1), one_of("channel", SHOP_CHANNELS), one_of("payment_method", SHOP_PAYMENT_METHODS),
            one_of("status", SHOP_ORDER_STATUSES), between("revenue", 0, MAX_AMOUNT), between("cost", 0, MAX_AMOUNT),
            not_before("cancelled_at", "placed_at"),
        ),
    ),
    "shop.order_lines": StreamRules(
        rules=(
            between("id", 1), between("quantity", 1, 1_000_000), between("unit_list_price", 0, MAX_AMOUNT),
            between("unit_price", 0, MAX_AMOUNT), between("unit_cost", 0, MAX_AMOUNT),
        ),
    ),
    "shop.carts": StreamRules(
        rules=(
            between("id", 1), one_of("status", SHOP_CART_STATUSES), between("value", 0, MAX_AMOUNT),
            between("item_count", 0, 100_000), not_before("ordered_at", "created_at"),
            not_before("abandoned_at", "created_at"),
        ),
    ),
    "shop.quotes": StreamRules(
        rules=(
            between("id", 1), one_of("outcome", SHOP_QUOTE_OUTCOMES), between("list_amount", 0, MAX_AMOUNT),
            between("quoted_amount", 0, MAX_AMOUNT), between("discount_amount", -MAX_AMOUNT, MAX_AMOUNT),
            not_before("first_action_at", "requested_at"), not_before("issued_at", "requested_at"),
            not_before("decided_at", "issued_at"),
        ),
    ),
    "shop.invoices": StreamRules(
        rules=(between("id", 1), between("amount", 0, MAX_AMOUNT), not_before("paid_at", "issued_at")),
    ),
    "shop.disputes": StreamRules(
        rules=(between("id", 1), one_of("kind", ("return", "claim")),
               one_of("reason", ("damaged", "wrong_item", "late", "not_delivered", "quality"))),
    ),
    "shop.shipments": StreamRules(
        rules=(between("id", 1), one_of("carrier", CARRIERS), not_before("delivered_at", "shipped_at")),
    ),
}
