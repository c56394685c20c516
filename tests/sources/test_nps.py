"""The monthly NPS export from the sandbox drops, compared with the world's answers. Budget: about 5 s."""

from __future__ import annotations

import pandas as pd
import pytest

from pulse.sandbox.drops import write_drops
from pulse.warehouse.connection import Warehouse
from support.file_drops import AFTER_EVERYTHING, feed, run, use_data_dir
from support.tiny_world import TZ, tiny_world


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    use_data_dir(monkeypatch, tmp_path / "data")
    return Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")


def test_the_month_s_answers_load_with_their_comments_as_written(warehouse, tmp_path):
    world = tiny_world()
    write_drops(world, tmp_path / "drops", AFTER_EVERYTHING)
    batch, loaded = run(feed("nps", tmp_path / "drops", warehouse), warehouse)

    answers = world["nps_responses"]
    march = answers[answers["submitted_at"].dt.tz_convert(TZ).dt.strftime("%Y-%m") == "2026-03"]
    assert [f.name for f in batch.manifest.files] == ["nps_responses_2026-03.csv"]
    assert loaded.rows_loaded == {"responses": len(march)}
    with warehouse.connect() as c:
        got = c.fetch_df("select response_id, submitted_at, customer_id, score, comment from raw.nps__responses")
    got = got.sort_values("response_id", ignore_index=True)
    assert list(got["response_id"]) == sorted(march["response_id"])
    assert got["score"].sum() == march["score"].sum()
    assert [pd.Timestamp(t) for t in got["submitted_at"]] == list(march.sort_values("response_id")["submitted_at"])
    # a CSV cannot tell a missing comment from an empty one: both arrive as ""
    assert list(got["comment"]) == [c or "" for c in march.sort_values("response_id")["comment"]]
