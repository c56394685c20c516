"""The schema of the simulated company: every table the generator writes, column by column.

The generator, the sandbox servers, the shop database, the CSV drops and the oracle all read
the world through these declarations. Timestamps are UTC; `date` columns are business-local
days; money is EUR rounded to cents.
"""

from __future__ import annotations

from dataclasses import dataclass

# column types, as pandas/Arrow understands them
INT = "int64"
NULLABLE_INT = "Int64"
FLOAT = "float64"
MONEY = "float64"  # rounded to cents
BOOL = "bool"
STR = "string"
TS = "timestamp"  # tz-aware UTC, nullable
DATE = "date"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    doc: str = ""

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


def _table(name: str, primary_key: tuple[str, ...], doc: str, *columns: tuple[str, str, str] | tuple[str, str]):
    return Table(name, primary_key, tuple(Column(*column) for column in columns), doc)


TABLES: dict[str, Table] = {
    table.name: table
    for table in [
        _table(
            "resellers", ("reseller_id",), "Resellers/franchisees; each sees only its own customers.",
            ("reseller_id", INT), ("name", STR), ("created_at", TS),
        ),
        _table(
            "sales_agents", ("agent_id",), "Account managers; each is also a HubSpot owner.",
            ("agent_id", INT), ("name", STR), ("email", STR), ("hubspot_owner_id", INT), ("created_at", TS),
        ),
        _table(
            "catalogs", ("catalog_id",), "The public catalogue(s) and customer-specific catalogues.",
            ("catalog_id", INT), ("name", STR), ("kind", STR, "public | customer"),
            ("customer_id", NULLABLE_INT, "owner of a customer-specific catalogue"), ("created_at", TS),
        ),
        _table(
            "products", ("product_id",), "Products; price and cost are the current list values.",
            ("product_id", INT), ("sku", STR), ("name", STR), ("category", STR), ("product_type", STR),
            ("list_price", MONEY), ("unit_cost", MONEY), ("created_at", TS), ("updated_at", TS),
        ),
        _table(
            "customers", ("customer_id",), "Customer companies. A customer is new on its registered_at day.",
            ("customer_id", INT), ("name", STR),
            ("segment", STR, "wholesale | installer | retail_chain | public_sector"),
            ("reseller_id", NULLABLE_INT, "null when served directly"), ("sales_agent_id", INT),
            ("catalog_id", INT, "the catalogue the customer buys from"), ("country", STR),
            ("credit_limit", MONEY), ("registered_at", TS, "shop account created"),
            ("crm_contact_id", NULLABLE_INT, "the HubSpot contact that became this customer"),
            ("created_at", TS), ("updated_at", TS),
        ),
        _table(
            "buyers", ("buyer_id",), "Buyer accounts (people) of a customer company.",
            ("buyer_id", INT), ("customer_id", INT), ("email", STR), ("name", STR),
            ("registered_at", TS), ("created_at", TS), ("updated_at", TS),
        ),
        _table(
            "web_sessions", ("session_id",),
            "Every web session. GA4 sees only ga_tracked sessions, and only once ga_processed_at has passed.",
            ("session_id", INT), ("user_pseudo_id", STR, "GA client id"), ("started_at", TS),
            ("device_category", STR, "desktop | mobile | tablet"),
            ("channel_group", STR, "GA4 default channel group of the session"),
            ("source", STR), ("medium", STR), ("campaign", STR, "'(not set)' when none"),
            ("google_ads_campaign", STR, "null unless the session came from Google Ads"),
            ("is_new_user", BOOL, "first session of this user_pseudo_id"),
            ("engaged", BOOL, "GA4 engaged session"), ("page_views", INT),
            ("duration_seconds", INT), ("engagement_seconds", INT),
            ("landing_page", STR), ("exit_page", STR, "page_path of the page_exit event"),
            ("ga_tracked", BOOL, "consent given and tag working"),
            ("ga_processed_at", TS, "when GA4 has the session in its reports"),
            ("order_id", NULLABLE_INT, "shop order placed in this session"),
            ("buyer_id", NULLABLE_INT, "logged-in buyer, when known"),
        ),
        _table(
            "site_searches", ("search_id",), "view_search_results events.",
            ("search_id", INT), ("session_id", INT), ("occurred_at", TS), ("search_term", STR),
        ),
        _table(
            "key_events", ("event_id",), "GA4 key events (soft conversions).",
            ("event_id", INT), ("session_id", INT), ("occurred_at", TS),
            ("event_name", STR, "whitepaper_download | contact_form | newsletter_signup"),
        ),
        _table(
            "ad_daily", ("date", "platform", "campaign"), "Paid campaigns per business day.",
            ("date", DATE), ("platform", STR, "google_ads | linkedin | microsoft_ads"), ("campaign", STR),
            ("impressions", INT), ("clicks", INT), ("spend", MONEY),
        ),
        _table(
            "crm_contacts", ("contact_id",), "HubSpot contacts. Lifecycle dates are null until reached.",
            ("contact_id", INT), ("email", STR), ("firstname", STR), ("lastname", STR), ("company", STR),
            ("customer_id", NULLABLE_INT, "shop customer this contact became"),
            ("created_at", TS), ("subscriber_at", TS), ("lead_at", TS), ("mql_at", TS), ("sql_at", TS),
            ("opportunity_at", TS), ("customer_at", TS),
            ("persona", STR, "hs_persona; null when no persona matches"),
            ("analytics_source", STR, "hs_analytics_source enum: ORGANIC_SEARCH, PAID_SEARCH, ..."),
            ("utm_campaign", STR, "campaign of the first conversion; null when none"),
            ("owner_id", NULLABLE_INT, "hubspot_owner_id"), ("updated_at", TS, "lastmodifieddate"),
        ),
        _table(
            "crm_deals", ("deal_id",), "HubSpot deals, one per quote; stage follows the quote.",
            ("deal_id", INT), ("quote_id", INT), ("dealname", STR), ("owner_id", INT), ("amount", MONEY),
            ("created_at", TS), ("contractsent_at", TS), ("closedwon_at", TS), ("closedlost_at", TS),
            ("updated_at", TS),
        ),
        _table(
            "carts", ("cart_id",), "Shop carts. Abandoned once 24 h pass without an order.",
            ("cart_id", INT), ("customer_id", INT), ("buyer_id", INT), ("created_at", TS),
            ("status", STR, "open | ordered | abandoned (as of now)"), ("ordered_at", TS),
            ("abandoned_at", TS), ("order_id", NULLABLE_INT), ("item_count", INT), ("value", MONEY),
            ("updated_at", TS),
        ),
        _table(
            "quotes", ("quote_id",), "Quote lifecycle: requested, first action, issued, decided, ordered.",
            ("quote_id", INT), ("customer_id", INT), ("buyer_id", INT), ("sales_agent_id", INT),
            ("requested_at", TS), ("first_action_at", TS), ("issued_at", TS), ("decided_at", TS),
            ("outcome", STR, "accepted | rejected | expired; null while open"), ("ordered_at", TS),
            ("order_id", NULLABLE_INT), ("list_amount", MONEY), ("quoted_amount", MONEY),
            ("discount_amount", MONEY, "list_amount - quoted_amount"), ("deal_id", INT), ("updated_at", TS),
        ),
        _table(
            "orders", ("order_id",), "Orders. Revenue and cost are net of discount, excluding VAT and shipping.",
            ("order_id", INT), ("customer_id", INT), ("buyer_id", INT), ("placed_at", TS),
            ("channel", STR, "web | sales_rep | phone | email; web = placed on the platform"),
            ("catalog_id", INT), ("quote_id", NULLABLE_INT), ("cart_id", NULLABLE_INT),
            ("payment_method", STR, "invoice | ideal | credit_card | paypal | direct_debit"),
            ("status", STR, "placed | shipped | delivered | cancelled (as of now)"), ("cancelled_at", TS),
            ("revenue", MONEY, "sum of quantity * unit_price of its lines"),
            ("cost", MONEY, "sum of quantity * unit_cost of its lines"),
            ("utm_source", STR), ("utm_medium", STR), ("utm_campaign", STR),
            ("ga_session_id", NULLABLE_INT), ("ga_tracked", BOOL, "GA4 recorded the purchase"),
            ("updated_at", TS),
        ),
        _table(
            "order_lines", ("line_id",), "Order lines at the price actually charged.",
            ("line_id", INT), ("order_id", INT), ("product_id", INT), ("quantity", INT),
            ("unit_list_price", MONEY), ("unit_price", MONEY), ("unit_cost", MONEY), ("updated_at", TS),
        ),
        _table(
            "invoices", ("invoice_id",), "Invoices; unpaid ones use the customer's credit.",
            ("invoice_id", INT), ("order_id", INT), ("customer_id", INT), ("amount", MONEY),
            ("issued_at", TS), ("due_date", DATE), ("paid_at", TS), ("updated_at", TS),
        ),
        _table(
            "shipments", ("shipment_id",), "One shipment per shipped order.",
            ("shipment_id", INT), ("order_id", INT), ("carrier", STR, "PostNL | DHL | UPS | DPD"),
            ("tracking_code", STR), ("feed", STR, "easypost | csv: how the carrier reports"),
            ("shipped_at", TS), ("promised_date", DATE, "delivery date promised to the customer at order time"),
            ("first_est_delivery_date", DATE, "the carrier's first estimate"),
            ("est_delivery_date", DATE, "the carrier's latest estimate (moves when delayed)"),
            ("delivered_at", TS), ("updated_at", TS),
        ),
        _table(
            "shipment_events", ("event_id",), "Carrier scans.",
            ("event_id", INT), ("tracking_code", STR), ("occurred_at", TS),
            ("status", STR, "pre_transit | in_transit | out_for_delivery | delivered | failure | return_to_sender"),
            ("message", STR), ("est_delivery_date", DATE, "the carrier's estimate after this scan"),
        ),
        _table(
            "disputes", ("dispute_id",), "After-sales disputes: returns and claims.",
            ("dispute_id", INT), ("order_id", INT), ("kind", STR, "return | claim"),
            ("reason", STR, "damaged | wrong_item | late | not_delivered | quality"),
            ("carrier_related", BOOL), ("created_at", TS), ("zendesk_ticket_id", NULLABLE_INT),
            ("updated_at", TS),
        ),
        _table(
            "calls", ("call_id",), "Phone calls (Aircall).",
            ("call_id", INT), ("direction", STR, "inbound | outbound"), ("started_at", TS),
            ("answered_at", TS), ("ended_at", TS),
            ("missed_call_reason", STR, "Aircall enum; null when answered"),
            ("number_id", INT), ("user_id", NULLABLE_INT, "agent who answered"),
        ),
        _table(
            "tickets", ("ticket_id",), "Helpdesk tickets (Zendesk).",
            ("ticket_id", INT), ("created_at", TS), ("first_reply_at", TS), ("solved_at", TS),
            ("status", STR, "new | open | pending | solved | closed (as of now)"),
            ("type", STR, "question | incident | problem | task"), ("priority", STR), ("channel", STR),
            ("customer_id", NULLABLE_INT), ("order_id", NULLABLE_INT), ("tags", STR, "space-separated"),
            ("replies", INT), ("reopens", INT), ("updated_at", TS),
        ),
        _table(
            "nps_responses", ("response_id",), "Monthly NPS survey answers (0-10).",
            ("response_id", INT), ("submitted_at", TS), ("customer_id", INT), ("score", INT), ("comment", STR),
        ),
        _table(
            "speed_samples", ("sample_id",), "Page-load measurements (RUM export).",
            ("sample_id", INT), ("measured_at", TS), ("url", STR), ("page_type", STR), ("device", STR),
            ("load_time_ms", INT),
        ),
    ]
}
