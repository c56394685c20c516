"""Daily campaign spend, impressions and clicks of the ad platforms whose costs GA4 does not import
(Google Ads comes from GA4): LinkedIn and Microsoft Advertising, as their scheduled exports drop
them in `PULSE_DROPS_DIR/ad_spend/`. Amounts are in the account currency (kept per row).

LinkedIn Campaign Manager `linkedin_campaign_performance_YYYY-MM-DD.csv`: UTF-8, `,`, up to ten
report lines above the header ("Campaign Performance Report (in UTC)", report start and end, ...);
columns "Start Date (in UTC)" (M/D/YYYY), "Campaign Name", "Campaign ID", "Currency",
"Total Spent", "Impressions", "Clicks". LinkedIn's days are UTC days, as the export says; they are
stored as the platform's dates, like Microsoft's.

Microsoft Advertising campaign performance report `CampaignPerformance_YYYYMMDD.csv`: UTF-8 with
BOM, every field quoted, report lines above the header (name, time, account time zone, ...) and a
copyright line below the data; columns TimePeriod (YYYY-MM-DD, in the account's time zone),
CampaignName, CampaignId, Impressions, Clicks, Spend, CurrencyCode.
"""

from __future__ import annotations

import pandas as pd

from pulse.sources.files import FileDropSource, Layout, dates
from pulse.sources.streams import Field, Stream

DAILY = Stream(
    "ad_spend", "daily", ("date", "platform", "campaign"),
    (Field("date", "date"), Field("platform", "str", doc="linkedin | microsoft_ads"), Field("campaign", "str"),
     Field("campaign_id", "str"), Field("impressions", "int"), Field("clicks", "int"), Field("spend", "money"),
     Field("currency", "str"), Field("source_file", "str")),
    mode="files",
)


def _linkedin(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "date": dates(rows["Start Date (in UTC)"], "%m/%d/%Y"), "platform": "linkedin",
        "campaign": rows["Campaign Name"], "campaign_id": rows["Campaign ID"], "impressions": rows["Impressions"],
        "clicks": rows["Clicks"], "spend": rows["Total Spent"], "currency": rows["Currency"],
    })


def _microsoft(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "date": rows["TimePeriod"], "platform": "microsoft_ads", "campaign": rows["CampaignName"],
        "campaign_id": rows["CampaignId"], "impressions": rows["Impressions"], "clicks": rows["Clicks"],
        "spend": rows["Spend"], "currency": rows["CurrencyCode"],
    })


class AdSpendSource(FileDropSource):
    name = "ad_spend"
    streams = (DAILY,)
    layouts = (
        Layout("LinkedIn campaign performance", "linkedin_campaign_performance_*.csv",
               ("Start Date (in UTC)", "Campaign Name", "Campaign ID", "Currency", "Total Spent", "Impressions",
                "Clicks"), _linkedin, preamble_lines=10),
        Layout("Microsoft Advertising campaign performance", "CampaignPerformance_*.csv",
               ("TimePeriod", "CampaignName", "CampaignId", "Impressions", "Clicks", "Spend", "CurrencyCode"),
               _microsoft, preamble_lines=10, footer_prefixes=("©",)),
    )
