"""The words of the simulated company: categories, products, names, pages, traffic sources and
campaigns. Plain data; the generator draws from it."""

from __future__ import annotations

from dataclasses import dataclass

from pulse.sandbox.incidents import MISPRICED_CATEGORY, STRIKING_CARRIER


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    sku_prefix: str
    median_price: float  # list price, EUR
    share: float  # share of the ~400 products
    types: tuple[str, ...]
    brands: tuple[str, ...]


CATEGORIES = (
    Category(MISPRICED_CATEGORY, "power-tools", "PT", 185.0, 0.14,
             ("cordless drill", "angle grinder", "circular saw", "impact driver", "jigsaw", "rotary hammer"),
             ("Makita", "Bosch Professional", "DeWalt", "Metabo")),
    Category("Hand tools", "hand-tools", "HT", 24.0, 0.15,
             ("hammer", "screwdriver set", "combination pliers", "spirit level", "tape measure",
              "utility knife"),
             ("Stanley", "Knipex", "Wera", "Bahco")),
    Category("Fasteners", "fasteners", "FA", 11.0, 0.16,
             ("wood screws", "wall plugs", "hex bolts", "nails", "blind rivets", "chemical anchor"),
             ("Fischer", "Spax", "Würth", "Hilti")),
    Category("Electrical", "electrical", "EL", 38.0, 0.13,
             ("cable reel", "junction box", "wall switch", "LED panel", "circuit breaker",
              "installation cable"),
             ("Hager", "Gira", "Niko", "Philips")),
    Category("Plumbing", "plumbing", "PL", 29.0, 0.12,
             ("press fitting", "ball valve", "mixer tap", "sealing kit", "PE pipe", "siphon"),
             ("Geberit", "Grohe", "Viega", "Bonfix")),
    Category("Safety & workwear", "safety-workwear", "SW", 33.0, 0.11,
             ("work gloves", "safety shoes", "safety helmet", "hi-vis vest", "safety goggles",
              "ear defenders"),
             ("Uvex", "3M", "Mascot", "Snickers")),
    Category("Adhesives & sealants", "adhesives-sealants", "AS", 9.0, 0.10,
             ("silicone sealant", "construction adhesive", "PU foam", "duct tape", "acrylic sealant"),
             ("Den Braven", "Tec7", "Bison", "Soudal")),
    Category("Storage & workshop", "storage-workshop", "ST", 115.0, 0.09,
             ("tool case", "shelving unit", "workbench", "parts organiser", "tool trolley"),
             ("Raaco", "Toolbox Pro", "Sortimo", "Stanley")),
)

# Share of each segment's purchases per category (rows follow CATEGORIES).
SEGMENTS = ("wholesale", "installer", "retail_chain", "public_sector")
SEGMENT_SHARE = (0.35, 0.40, 0.10, 0.15)
SEGMENT_CATEGORY_WEIGHTS = {
    "wholesale": (1.2, 1.0, 1.3, 1.0, 1.0, 0.9, 1.0, 0.8),
    "installer": (1.3, 1.0, 1.4, 1.6, 1.6, 0.9, 1.0, 0.5),
    "retail_chain": (1.0, 1.3, 1.0, 0.9, 0.8, 0.7, 1.2, 1.0),
    "public_sector": (0.7, 0.9, 0.8, 1.0, 0.9, 1.8, 0.6, 1.4),
}
SEGMENT_ACTIVITY = {"wholesale": 2.0, "installer": 0.6, "retail_chain": 3.0, "public_sector": 1.3}
SEGMENT_BUYERS = {"wholesale": (2, 6), "installer": (1, 3), "retail_chain": (3, 10), "public_sector": (2, 5)}
# credit limit range (EUR); installers often pay up front
SEGMENT_CREDIT = {"wholesale": (10_000, 50_000), "installer": (2_500, 10_000),
                  "retail_chain": (25_000, 100_000), "public_sector": (10_000, 40_000)}
SEGMENT_PREPAID_SHARE = {"wholesale": 0.05, "installer": 0.40, "retail_chain": 0.0, "public_sector": 0.0}
SEGMENT_OWN_CATALOG = {"wholesale": 0.15, "installer": 0.03, "retail_chain": 0.6, "public_sector": 0.5}
SEGMENT_NAME_PARTS = {
    "wholesale": ("Groothandel", "Handelsonderneming", "Trading B.V.", "Technische Groothandel"),
    "installer": ("Installatietechniek", "Elektrotechniek", "Loodgietersbedrijf", "Bouw & Onderhoud"),
    "retail_chain": ("Bouwmarkt", "Doe-het-zelf", "Hobby & Bouw", "Klusmarkt"),
    "public_sector": ("Gemeente", "Hogeschool", "Waterschap", "Zorggroep"),
}

COUNTRIES = ("NL", "BE", "DE")
COUNTRY_SHARE = (0.85, 0.12, 0.03)

FIRST_NAMES = (
    "Anna", "Bram", "Chantal", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Ilse", "Jeroen", "Kim", "Lars",
    "Marloes", "Niels", "Olga", "Pieter", "Roos", "Sander", "Tessa", "Ruben", "Vera", "Wouter", "Yara",
    "Bas", "Lotte", "Thijs", "Sanne", "Koen", "Iris", "Joost", "Noor", "Stijn", "Lieke", "Tom", "Maaike",
)
LAST_NAMES = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
    "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
    "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs",
    "de Haan", "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "Schouten",
)
TOWNS = (
    "Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Tilburg", "Groningen", "Almere", "Breda",
    "Nijmegen", "Apeldoorn", "Haarlem", "Arnhem", "Enschede", "Amersfoort", "Zwolle", "Leiden", "Maastricht",
    "Dordrecht", "Zoetermeer", "Deventer", "Antwerpen", "Gent", "Hasselt", "Venlo", "Helmond",
)
RESELLER_NAMES = (
    "BouwPartners Noord", "TechniShop Zuid", "Installatie Service Oost", "VakHandel West",
    "ProTools Benelux", "Randstad Bouwservice", "Brabant Technische Unie", "Limburg Vakgroep",
)

# HubSpot's internal persona values: purchasing manager, installer owner, facility manager
PERSONAS = ("persona_1", "persona_2", "persona_3")
PERSONA_SEGMENT = {"persona_1": "wholesale", "persona_2": "installer", "persona_3": "public_sector"}


@dataclass(frozen=True)
class TrafficSource:
    channel_group: str  # GA4 default channel group
    source: str
    medium: str
    share: float  # of prospect sessions
    buyer_share: float  # of logged-in buyer sessions
    platform: str | None = None  # ad platform whose campaigns bring this traffic
    hubspot_source: str = "OTHER_CAMPAIGNS"  # hs_analytics_source of a contact created here


TRAFFIC_SOURCES = (
    TrafficSource("Organic Search", "google", "organic", 0.348, 0.22, None, "ORGANIC_SEARCH"),
    TrafficSource("Organic Search", "bing", "organic", 0.03, 0.02, None, "ORGANIC_SEARCH"),
    TrafficSource("Organic Search", "duckduckgo", "organic", 0.01, 0.005, None, "ORGANIC_SEARCH"),
    TrafficSource("Direct", "(direct)", "(none)", 0.23, 0.50, None, "DIRECT_TRAFFIC"),
    TrafficSource("Paid Search", "google", "cpc", 0.12, 0.08, "google_ads", "PAID_SEARCH"),
    TrafficSource("Paid Search", "bing", "cpc", 0.02, 0.01, "microsoft_ads", "PAID_SEARCH"),
    TrafficSource("Display", "google", "display", 0.02, 0.005, "google_ads", "OTHER_CAMPAIGNS"),
    TrafficSource("Paid Social", "linkedin", "paid_social", 0.012, 0.002, "linkedin", "PAID_SOCIAL"),
    TrafficSource("Organic Social", "linkedin.com", "referral", 0.02, 0.005, None, "SOCIAL_MEDIA"),
    TrafficSource("Organic Social", "facebook.com", "referral", 0.005, 0.0, None, "SOCIAL_MEDIA"),
    TrafficSource("Referral", "bouwforum.nl", "referral", 0.04, 0.02, None, "REFERRALS"),
    TrafficSource("Referral", "installatievakblad.nl", "referral", 0.03, 0.01, None, "REFERRALS"),
    TrafficSource("Email", "newsletter", "email", 0.06, 0.10, "newsletter", "EMAIL_MARKETING"),
    TrafficSource("Unassigned", "qr", "print", 0.005, 0.005, None, "OFFLINE"),
)


@dataclass(frozen=True)
class Campaign:
    platform: str  # google_ads | microsoft_ads | linkedin
    medium: str  # the traffic source medium that carries it
    name: str
    share: float  # of its traffic source's sessions
    ctr: float  # clicks / impressions
    cpc: float  # EUR per click


CAMPAIGNS = (
    Campaign("google_ads", "cpc", "NL | Brand", 0.30, 0.12, 0.45),
    Campaign("google_ads", "cpc", "NL | Power tools | Generic", 0.25, 0.035, 1.90),
    Campaign("google_ads", "cpc", "NL | Fasteners | Generic", 0.15, 0.04, 1.10),
    Campaign("google_ads", "cpc", "Shopping | All products", 0.30, 0.012, 0.70),
    Campaign("google_ads", "display", "Display | Remarketing", 1.0, 0.004, 0.55),
    Campaign("microsoft_ads", "cpc", "Bing | Brand", 0.5, 0.09, 0.40),
    Campaign("microsoft_ads", "cpc", "Bing | Generic", 0.5, 0.03, 0.95),
    Campaign("linkedin", "paid_social", "LinkedIn | Installers | Whitepaper", 0.6, 0.006, 4.80),
    Campaign("linkedin", "paid_social", "LinkedIn | Procurement | Lead gen", 0.4, 0.005, 5.60),
)
CLICKS_WITHOUT_SESSION = 0.12  # ad clicks that never start a session (bounced before the page loaded)

WHITEPAPERS = ("/whitepapers/sustainable-installation", "/whitepapers/procurement-guide",
               "/whitepapers/tool-maintenance")
# (path, page type, weight as landing page, weight as exit page)
FIXED_PAGES = (
    ("/", "home", 0.22, 0.10),
    ("/login", "account", 0.05, 0.03),
    ("/search", "search", 0.03, 0.08),
    ("/contact", "content", 0.02, 0.05),
    ("/account/orders", "account", 0.01, 0.04),
    ("/cart", "checkout", 0.0, 0.05),
    ("/checkout", "checkout", 0.0, 0.03),
    ("/blog/choosing-a-cordless-drill", "content", 0.03, 0.02),
    ("/blog/fire-safety-regulations", "content", 0.02, 0.015),
    (WHITEPAPERS[0], "content", 0.015, 0.01),
    (WHITEPAPERS[1], "content", 0.015, 0.01),
    (WHITEPAPERS[2], "content", 0.01, 0.01),
)
CATEGORY_PAGE_WEIGHT = (0.20, 0.17)  # all category pages together: landing, exit
PRODUCT_PAGE_WEIGHT = (0.36, 0.37)
PRODUCT_PAGES = 80  # the most popular products have pages that are landed on
CONFIRMATION_PAGE = "/checkout/confirmation"

SEARCH_QUALIFIERS = ("", "18v", "rvs", "set", "4x40", "zwart", "pro", "10 stuks", "m8", "led")

KEY_EVENTS = ("whitepaper_download", "contact_form", "newsletter_signup")

NPS_COMMENTS = {
    "promoter": ("Fast delivery and good service.", "Account manager is always helpful.",
                 "The portal makes reordering easy.", "Reliable partner for years."),
    "passive": ("Prices could be sharper.", "Good, but delivery times vary.",
                "Website search could be better."),
    "detractor": ("Order arrived late again.", "Hard to reach by phone.", "Invoice errors.",
                  "Wrong items delivered."),
}

CARRIERS = (STRIKING_CARRIER, "DHL", "UPS", "DPD")
CARRIER_SHARE = (0.45, 0.30, 0.15, 0.10)
CARRIER_FEED = {STRIKING_CARRIER: "csv", "DHL": "easypost", "UPS": "easypost", "DPD": "csv"}
CARRIER_TRACKING_PREFIX = {STRIKING_CARRIER: "3SPULS", "DHL": "JVGL0", "UPS": "1ZPU", "DPD": "0"}

TICKET_TOPICS = ("order_status", "invoice", "product_info", "account", "delivery", "price_question")
