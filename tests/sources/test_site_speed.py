"""The gzipped RUM export from the sandbox drops, compared with the world's page-load samples.
Budget: about 5 s."""

from __future__ import annotations

import pandas as pd
import pytest

from pulse.sandbox.drops import write_drops
from pulse.warehouse.connection import Warehouse
from support.file_drops import AFTER_EVERYTHING, feed, run, use_data_dir
from support.tiny_world import END, TZ, tiny_world


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    use_data_dir(monkeypatch, tmp_path / "data")
    return Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")


def test_every_sample_loads_with_its_utc_time_and_load_time(warehouse, tmp_path):
    world = tiny_world()
    write_drops(world, tmp_path / "drops", AFTER_EVERYTHING)
    batch, loaded = run(feed("site_speed", tmp_path / "drops", warehouse), warehouse)

    samples = world["speed_samples"]
    delivered = samples[samples["measured_at"].dt.tz_convert(TZ).dt.date <= END]
    assert {f.media_type for f in batch.manifest.files} == {"application/gzip"}
    assert loaded.rows_loaded == {"samples": len(delivered)} and loaded.rows_quarantined == {"samples": 0}
    with warehouse.connect() as c:
        got = c.fetch_df("select sample_id, measured_at, url, page_type, device, load_time_ms from raw.site_speed__samples")
    got = got.sort_values("sample_id", ignore_index=True)
    expected = delivered.sort_values("sample_id", ignore_index=True)
    assert list(got["sample_id"]) == list(expected["sample_id"])
    assert int(got["load_time_ms"].sum()) == int(expected["load_time_ms"].sum())
    # the export has millisecond precision, truncated
    assert [pd.Timestamp(t) for t in got["measured_at"]] == list(expected["measured_at"].dt.floor("ms"))
    assert list(got["url"]) == list(expected["url"])  # "/search?q=kabel,3x2" keeps its comma
