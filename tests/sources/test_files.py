"""File drops in general, on the NPS feed (`;`, UTF-8 with BOM) and the DPD carrier layout (`,`):
each file once by checksum, landing byte for byte, and every file-level bad input failing with
an error that names source, stream, file, row and rule. Budget: about 30 s."""

from __future__ import annotations

import gzip

import pytest

from pulse.pipeline import steps
from pulse.sources.carrier_files import CarrierFilesSource
from pulse.sources.files import FileFormatError, read_csv
from pulse.sources.nps import NpsSource
from pulse.sources.streams import ContractError
from pulse.warehouse.connection import Warehouse
from support.file_drops import extract, feed, load, run, use_data_dir
from support.services import temporary_postgres_database

NPS_HEADER = "Response ID;Submitted at;Customer number;Score;Comment\r\n"
GOOD = (NPS_HEADER + "1;2026-03-02 10:00:00+01:00;7;9;Prima\r\n"
        "2;2026-03-02 11:30:00+01:00;8;3;\"=cmd|' /C calc'!A0\"\r\n"
        "3;2026-03-03 09:15:00+01:00;9;10;\"'; drop table raw.nps__responses; --\"\r\n")
STREAM, LAYOUT = NpsSource.streams[0], NpsSource.layouts[0]
DPD_STREAM, DPD_LAYOUT = CarrierFilesSource.streams[0], CarrierFilesSource.layouts[1]
COMMENT = "Très bien \u2013 €"  # the en dash and the euro sign are 0x96 and 0x80 in Windows-1252
ONE_ROW = NPS_HEADER + f"1;2026-03-02 10:00:00+01:00;7;9;{COMMENT}\r\n"


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    use_data_dir(monkeypatch, tmp_path / "data")
    return Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")


@pytest.fixture
def drops(tmp_path):
    (tmp_path / "drops" / "nps").mkdir(parents=True)
    return tmp_path / "drops"


def drop(drops, name: str, data: bytes, feed_name: str = "nps"):
    path = drops / feed_name / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def rows_of(data: bytes, name: str = "nps_responses_2026-03.csv"):
    return read_csv(STREAM, name, data, LAYOUT)


# --- reading ------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoded, encoding", [
    (ONE_ROW.encode("utf-8"), "utf-8"),
    ("\ufeff".encode() + ONE_ROW.encode("utf-8"),
     "utf-8-sig"),
    (ONE_ROW.encode("cp1252"), "cp1252"),
])
def test_utf8_with_and_without_bom_and_windows_1252_read_the_same_text(encoded, encoding):
    read = rows_of(encoded)
    assert read.encoding == encoding and read.delimiter == ";"
    assert read.rows.to_dict("records") == [{"Response ID": "1", "Submitted at": "2026-03-02 10:00:00+01:00",
                                            "Customer number": "7", "Score": "9", "Comment": COMMENT}]


def test_values_stay_text_exactly_as_written():
    read = rows_of(GOOD.encode())
    assert list(read.rows["Comment"]) == ["Prima", "=cmd|' /C calc'!A0", "'; drop table raw.nps__responses; --"]
    assert read.lines == [2, 3, 4]


def test_comma_is_detected_from_the_header_and_a_header_only_file_has_no_rows():
    header = "parcelno,scan_datetime,scan_code,scan_text,predicted_delivery\n"
    read = read_csv(DPD_STREAM, "DPD_scans_2026-03-02.csv", header.encode(), DPD_LAYOUT)
    assert read.delimiter == "," and read.rows.empty and list(read.rows.columns) == list(DPD_LAYOUT.columns)


BAD_FILES = {
    "truncated gzip": ("nps_responses_2026-03.csv.gz", gzip.compress(GOOD.encode())[:-12], "gzip", None),
    "empty file": ("nps_responses_2026-03.csv", b"", "empty_file", None),
    "tab-separated": ("nps_responses_2026-03.csv", GOOD.replace(";", "\t").encode(), "delimiter", None),
    "UTF-16": ("nps_responses_2026-03.csv", GOOD.encode("utf-16"), "encoding", None),
    "undecodable bytes": ("nps_responses_2026-03.csv", GOOD.encode() + b"4;x;1;1;\x81\xe9\x9d\r\n", "encoding", None),
    "missing column": ("nps_responses_2026-03.csv", GOOD.replace(";Score", ";Rating").encode(), "missing_column",
                       "column 'Score'"),
    "ragged row": ("nps_responses_2026-03.csv", (GOOD + "4;2026-03-04 10:00:00+01:00;7;9\r\n").encode(),
                   "field_count", "row 4 (line 5)"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_fails_naming_source_stream_file_row_and_rule_and_stays_in_landing(case, warehouse, drops):
    name, data, rule, where = BAD_FILES[case]
    if name.endswith(".gz"):
        name = name.replace(".csv.gz", ".csv")  # the layout's pattern; gzip is recognised by its magic bytes
    drop(drops, name, data)
    source = feed("nps", drops, warehouse)
    batch = extract(source, warehouse)
    assert [f.name for f in batch.manifest.files] == [name]
    assert batch.read_bytes(name) == data  # landed byte for byte
    with pytest.raises((FileFormatError, steps.BatchRejected, ContractError)) as failure:
        load(source, warehouse, batch)
    message = str(failure.value)
    assert f"nps.responses, file '{name}'" in message and f": {rule}: " in message
    if where:
        assert where in message
    with warehouse.connect() as c:
        assert not c.table_exists("raw.nps__responses")
        assert c.scalar("select count(*) from meta.landed_files") == 0
    assert extract(source, warehouse).manifest.files[0].name == name  # still waiting to be loaded


# --- each file once -----------------------------------------------------------------------------
@pytest.fixture(params=["duckdb", "postgres"])
def any_warehouse(request, monkeypatch, tmp_path):
    use_data_dir(monkeypatch, tmp_path / "data")
    if request.param == "duckdb":
        yield Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")
    else:
        with temporary_postgres_database() as url:
            yield Warehouse(url)


def test_a_resent_file_is_skipped_and_a_corrected_one_replaces_its_rows(any_warehouse, drops):
    warehouse = any_warehouse
    source = feed("nps", drops, warehouse)
    drop(drops, "nps_responses_2026-03.csv", GOOD.encode())
    _, loaded = run(source, warehouse)
    assert loaded.rows_loaded == {"responses": 3}

    drop(drops, "nps_responses_2026-03.csv", GOOD.encode())  # re-sent, same bytes
    drop(drops, "nps_responses_2026-03 (1).csv", GOOD.encode())  # and again under another name
    batch, loaded = run(source, warehouse)
    assert batch.manifest.files == [] and loaded.rows_loaded == {"responses": 0}
    assert sorted(batch.manifest.metadata["skipped_as_loaded"]) == ["nps_responses_2026-03 (1).csv",
                                                                     "nps_responses_2026-03.csv"]

    corrected = GOOD.replace("7;9;Prima", "7;10;Prima, gecorrigeerd") + "4;2026-03-04 10:00:00+01:00;1;6;new\r\n"
    drop(drops, "nps_responses_2026-03.csv", corrected.encode())
    batch, loaded = run(source, warehouse)
    assert [f.name for f in batch.manifest.files] == ["nps_responses_2026-03.csv"]
    assert loaded.rows_loaded == {"responses": 4}
    with warehouse.connect() as c:
        assert c.fetchall("select response_id, score, comment from raw.nps__responses order by 1") == [
            (1, 10, "Prima, gecorrigeerd"), (2, 3, "=cmd|' /C calc'!A0"),
            (3, 10, "'; drop table raw.nps__responses; --"), (4, 6, "new")]
        assert c.scalar("select count(*) from meta.landed_files") == 2  # both versions' checksums


def test_files_of_no_layout_and_files_still_being_written_are_left_alone(warehouse, drops):
    drop(drops, "README.txt", b"not an export")
    drop(drops, ".nps_responses_2026-04.csv.part", GOOD.encode())
    drop(drops, "nps_responses_2026-03.csv", GOOD.encode())
    batch = extract(feed("nps", drops, warehouse), warehouse)
    assert [f.name for f in batch.manifest.files] == ["nps_responses_2026-03.csv"]
    assert batch.manifest.files[0].meta["original_name"] == "nps_responses_2026-03.csv"
    assert batch.manifest.metadata["ignored"] == ["README.txt"]


def test_a_timestamp_without_offset_is_quarantined_and_the_other_rows_load(warehouse, drops):
    naive = GOOD + "4;2026-03-04 10:00:00;1;6;no offset\r\n"
    drop(drops, "nps_responses_2026-03.csv", naive.encode())
    _, loaded = run(feed("nps", drops, warehouse), warehouse)
    assert loaded.rows_loaded == {"responses": 3} and loaded.rows_quarantined == {"responses": 1}
    with warehouse.connect() as c:
        rule, column, value, record = c.fetchone("select rule, column_name, bad_value, record from quarantine.rows")
    assert (rule, column, value) == ("type:timestamp", "submitted_at", "2026-03-04 10:00:00")
    assert '"source_file": "nps_responses_2026-03.csv"' in record and '"source_row": 4' in record


def test_a_header_only_file_loads_no_rows_and_counts_as_loaded(warehouse, drops):
    drop(drops, "nps_responses_2026-02.csv", ("\ufeff" + NPS_HEADER).encode())
    batch, loaded = run(feed("nps", drops, warehouse), warehouse)
    assert [f.name for f in batch.manifest.files] == ["nps_responses_2026-02.csv"]
    assert loaded.rows_loaded == {"responses": 0}
    assert extract(feed("nps", drops, warehouse), warehouse).manifest.files == []
