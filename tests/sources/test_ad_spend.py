"""LinkedIn and Microsoft Advertising exports from the sandbox drops, compared with the world's
daily ad figures. Budget: about 10 s."""

from __future__ import annotations

import pytest

from pulse.sandbox.drops import write_drops
from pulse.warehouse.connection import Warehouse
from support.file_drops import AFTER_EVERYTHING, feed, run, use_data_dir
from support.tiny_world import END, cents, tiny_world


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    use_data_dir(monkeypatch, tmp_path / "data")
    return Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")


def test_both_platforms_exports_load_with_their_campaign_figures(warehouse, tmp_path):
    world = tiny_world()
    write_drops(world, tmp_path / "drops", AFTER_EVERYTHING)
    _, loaded = run(feed("ad_spend", tmp_path / "drops", warehouse), warehouse)

    ads = world["ad_daily"]
    expected = ads[ads["platform"].isin(["linkedin", "microsoft_ads"]) & (ads["date"] <= END)]
    assert loaded.rows_loaded == {"daily": len(expected)} and loaded.rows_quarantined == {"daily": 0}
    with warehouse.connect() as c:
        for platform, rows in expected.groupby("platform"):
            count, spend, impressions, clicks, first, last = c.fetchone(
                "select count(*), sum(spend) * 100, sum(impressions), sum(clicks), min(date), max(date) "
                "from raw.ad_spend__daily where platform = :p", {"p": platform})
            assert count == len(rows)
            assert int(spend) == cents(rows["spend"])
            assert (int(impressions), int(clicks)) == (int(rows["impressions"].sum()), int(rows["clicks"].sum()))
            assert (first, last) == (rows["date"].min(), rows["date"].max())
        campaigns = {row[0] for row in c.fetchall("select distinct campaign from raw.ad_spend__daily")}
        currencies = {row[0] for row in c.fetchall("select distinct currency from raw.ad_spend__daily")}
    assert campaigns == set(expected["campaign"])  # "Generic; cables" survives its quoting
    assert currencies == {"EUR"}
