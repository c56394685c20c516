"""Carrier scan files (PostNL and DPD layouts) from the sandbox drops, compared with the world's
scan events; local-time rules of each layout. Budget: about 15 s."""

from __future__ import annotations

import pandas as pd
import pytest

from pulse.pipeline import steps
from pulse.sandbox.drops import write_drops
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.hashing import table_hash
from support.file_drops import AFTER_EVERYTHING, feed, run, use_data_dir
from support.tiny_world import END, TZ, tiny_world


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    use_data_dir(monkeypatch, tmp_path / "data")
    return Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")


def test_every_scan_of_the_csv_carriers_loads_once_with_its_utc_time(warehouse, tmp_path):
    world = tiny_world()
    write_drops(world, tmp_path / "drops", AFTER_EVERYTHING)
    source = feed("carrier_files", tmp_path / "drops", warehouse)
    batch, loaded = run(source, warehouse)

    scans = world["shipment_events"].merge(world["shipments"][["tracking_code", "carrier", "feed"]], on="tracking_code")
    delivered = scans[(scans["feed"] == "csv") & (scans["occurred_at"].dt.tz_convert(TZ).dt.date <= END)]
    assert loaded.rows_loaded == {"events": len(delivered)} and loaded.rows_quarantined == {"events": 0}
    days = (END - world.meta.start).days + 1
    assert len(batch.manifest.files) == 2 * days  # PostNL and DPD, one file a day
    with warehouse.connect() as c:
        table = c.fetch_df("select tracking_code, carrier, status, event_at, est_delivery_date from raw.carrier_files__events")
        first = table_hash(c, "raw.carrier_files__events")
    # carriers report whole seconds
    expected = {(r.tracking_code, r.carrier, r.status, r.occurred_at.floor("s"), r.est_delivery_date)
                for r in delivered.itertuples()}
    got = {(r.tracking_code, r.carrier, r.status, pd.Timestamp(r.event_at), pd.Timestamp(r.est_delivery_date).date())
           for r in table.itertuples()}
    assert got == expected

    batch_again, loaded_again = run(source, warehouse)  # nothing new: every file is known
    assert batch_again.manifest.files == [] and loaded_again.rows_loaded == {"events": 0}
    steps.replay(batch.batch_id, warehouse=warehouse)
    with warehouse.connect() as c:
        assert table_hash(c, "raw.carrier_files__events") == first


def test_local_times_outside_the_clock_and_unknown_codes_are_quarantined(warehouse, tmp_path):
    postnl = ("Barcode;Datum;Tijd;Statuscode;Status;Verwachte bezorgdatum\r\n"
              "3SP1;28-03-2026;23:10:00;B01;Gesorteerd;30-03-2026\r\n"
              "3SP1;29-03-2026;02:30:00;B01;Nachtsortering;30-03-2026\r\n"  # 02:00-03:00 does not exist that night
              "3SP1;30-03-2026;10:00:00;X99;Onbekend;30-03-2026\r\n"
              "3SP1;30-03-2026;11:00:00;I01;Bezorgd;30-3-26\r\n")
    dpd = ("parcelno,scan_datetime,scan_code,scan_text,predicted_delivery\n"
           "0123,2026-03-30T08:00:00+02:00,13,Delivered,2026-03-30\n"
           "0124,2026-03-30T08:00:00,13,Delivered,2026-03-30\n")
    folder = tmp_path / "drops" / "carrier_files"
    folder.mkdir(parents=True)
    (folder / "PostNL_TrackTrace_20260330.csv").write_bytes(postnl.encode("cp1252"))
    (folder / "DPD_scans_2026-03-30.csv").write_bytes(dpd.encode())
    _, loaded = run(feed("carrier_files", tmp_path / "drops", warehouse), warehouse)
    assert loaded.rows_loaded == {"events": 2}
    with warehouse.connect() as c:
        kept = c.fetchall("select tracking_code, event_at from raw.carrier_files__events order by 1")
        rules = c.fetchall("select row_number, rule, column_name, bad_value from quarantine.rows")
    assert [(code, at.isoformat()) for code, at in kept] == [
        ("0123", "2026-03-30T06:00:00+00:00"), ("3SP1", "2026-03-28T22:10:00+00:00")]
    # rows in batch order: the DPD file, then PostNL's
    assert {row for row, *_ in rules} == {1, 3, 4, 5}
    assert {(1, "type:timestamp", "event_at", "2026-03-30T08:00:00"),  # DPD requires an offset
            (3, "type:timestamp", "event_at", "29-03-2026 02:30:00"),  # in the DST gap: kept as received
            (4, "primary_key_not_null", "status", None),  # code X99 is not in PostNL's spec
            (5, "type:date", "est_delivery_date", "30-3-26")} <= set(rules)
