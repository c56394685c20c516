"""What each stream's contract cannot say, written by hand: allowed values, plausible ranges,
orderings, which timestamps may lie in the future and which dates may not. `pulse validation
suites --write` turns these and the contracts into `expectations/<source>.<stream>.json`.

Value sets are the source's own documented enums (a value outside them means the source changed,
or a record is corrupt); ranges are wide business bounds (a B2B wholesaler's order is not
negative and not ten million euros), not statistics of the sandbox.
"""

from __future__ import annotations

from pulse.validation.suites import StreamRules, between, matches, not_before, one_of

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
}
