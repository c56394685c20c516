"""The sandbox CSV drops: which files have arrived by a clock, their bytes, and their formats read
back with plain `csv`/`gzip` (not the connector). Budget: about 10 s."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from zoneinfo import ZoneInfo

import pytest

from pulse.sandbox.drops import DPD_CODES, POSTNL_CODES, write_drops
from support.tiny_world import TZ, tiny_world


@pytest.fixture(scope="module")
def world():
    return tiny_world()


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo(TZ))


def names(paths, feed: str) -> list[str]:
    return sorted(p.name for p in paths if p.parent.name == feed)


def test_only_files_delivered_by_the_clock_are_there(world, tmp_path):
    # Friday 6 March 05:30: carrier files (05:00) up to Thursday, ad exports (06:00) up to Wednesday
    paths = write_drops(world, tmp_path, local(6, 5, 30))
    assert names(paths, "carrier_files") == [
        *(f"DPD_scans_2026-03-0{d}.csv" for d in (2, 3, 4, 5)), *(f"PostNL_TrackTrace_2026030{d}.csv" for d in (2, 3, 4, 5))]
    assert names(paths, "ad_spend") == [
        *(f"CampaignPerformance_2026030{d}.csv" for d in (2, 3, 4)),
        *(f"linkedin_campaign_performance_2026-03-0{d}.csv" for d in (2, 3, 4))]
    assert names(paths, "site_speed") == [f"rum_page_loads_2026-03-0{d}.csv.gz" for d in (2, 3, 4, 5)]
    assert names(paths, "nps") == []  # March's export comes on 1 April
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == \
        sorted(p.relative_to(tmp_path).as_posix() for p in paths)


def test_the_same_clock_gives_the_same_bytes_and_a_later_one_only_adds(world, tmp_path):
    first = {p: p.read_bytes() for p in write_drops(world, tmp_path / "a", local(6, 5, 30))}
    again = {p: p.read_bytes() for p in write_drops(world, tmp_path / "b", local(6, 5, 30))}
    assert [p.relative_to(tmp_path / "b") for p in again] == [p.relative_to(tmp_path / "a") for p in first]
    assert list(again.values()) == list(first.values())
    stamps = {p: p.stat().st_mtime_ns for p in first}
    later = write_drops(world, tmp_path / "a", dt.datetime(2026, 4, 1, 8, tzinfo=dt.UTC))
    assert set(first) < set(later)
    assert all(p.read_bytes() == data and p.stat().st_mtime_ns == stamps[p] for p, data in first.items())


def test_postnl_file_holds_the_day_s_scans_in_dutch_local_time(world, tmp_path):
    write_drops(world, tmp_path, local(6, 5, 30))
    data = (tmp_path / "carrier_files" / "PostNL_TrackTrace_20260303.csv").read_bytes()
    assert b"\r\n" in data and not data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))
    assert rows[0] == ["Barcode", "Datum", "Tijd", "Statuscode", "Status", "Verwachte bezorgdatum"]
    scans = world["shipment_events"].merge(world["shipments"][["tracking_code", "carrier"]], on="tracking_code")
    local_at = scans["occurred_at"].dt.tz_convert(TZ)
    day = scans[(scans["carrier"] == "PostNL") & (local_at.dt.date == dt.date(2026, 3, 3))]
    expected = sorted((r.tracking_code, r.occurred_at.tz_convert(TZ).strftime("%d-%m-%Y %H:%M:%S"),
                       POSTNL_CODES[r.status]) for r in day.itertuples())
    assert sorted((r[0], f"{r[1]} {r[2]}", r[3]) for r in rows[1:]) == expected
    assert expected


def test_dpd_microsoft_nps_and_rum_formats(world, tmp_path):
    write_drops(world, tmp_path, dt.datetime(2026, 4, 1, 8, tzinfo=dt.UTC))
    dpd = list(csv.DictReader(io.StringIO((tmp_path / "carrier_files" / "DPD_scans_2026-03-04.csv").read_text())))
    assert dpd and all(dt.datetime.fromisoformat(r["scan_datetime"]).utcoffset() == dt.timedelta(hours=1) for r in dpd)
    assert {r["scan_code"] for r in dpd} <= set(DPD_CODES.values())

    microsoft = (tmp_path / "ad_spend" / "CampaignPerformance_20260304.csv").read_bytes()
    assert microsoft.startswith(b"\xef\xbb\xbf\"Report Name: Campaign Performance\"")
    lines = microsoft.decode("utf-8-sig").splitlines()
    assert lines[-1].startswith('"\u00a92026 Microsoft Corporation')
    ads = world["ad_daily"]
    day = ads[(ads["platform"] == "microsoft_ads") & (ads["date"] == dt.date(2026, 3, 4))]
    assert f'"Rows: {len(day)}"' in lines

    nps = (tmp_path / "nps" / "nps_responses_2026-03.csv").read_bytes()
    assert nps.startswith(b"\xef\xbb\xbfResponse ID;Submitted at;")
    answers = list(csv.DictReader(io.StringIO(nps.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert "multi\nline" in {a["Comment"] for a in answers}

    rum = (tmp_path / "site_speed" / "rum_page_loads_2026-03-04.csv.gz").read_bytes()
    samples = list(csv.DictReader(io.StringIO(gzip.decompress(rum).decode())))
    assert len(samples) == 5 and all(s["timestamp"].endswith("Z") for s in samples)
