"""Extract -> validate -> load on a toy source, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pulse import landing
from pulse.pipeline import steps
from pulse.warehouse.hashing import table_hash

GOOD = [
    {"order_id": 1, "customer": "Acme", "amount": "10.50", "placed_at": "2026-01-05T09:00:00Z", "paid": True,
     "day": "2026-01-05", "lines": [2, 3]},
    {"order_id": 2, "customer": "Bolt; drop table raw.x; --", "amount": 99.99,
     "placed_at": "2026-01-05T10:00:00+01:00", "paid": False, "day": "2026-01-05", "lines": [1]},
    {"order_id": 3, "customer": "", "amount": "0", "placed_at": "2026-01-06T00:00:00Z", "paid": None,
     "day": "2026-01-06", "lines": []},
]


def run(warehouse, **kwargs):
    outcome = steps.extract("toy", "orders", warehouse=warehouse, **kwargs)
    steps.validate(outcome.batch_id, warehouse=warehouse)
    return outcome, steps.load(outcome.batch_id, warehouse=warehouse)


def test_a_batch_lands_validates_and_merges_with_its_fed_stream(toy, warehouse):
    toy.records = GOOD
    outcome, loaded = run(warehouse)
    assert loaded.rows_loaded == {"orders": 3, "lines": 3}
    with warehouse.connect() as connection:
        rows = connection.fetchall("select order_id, customer, amount, placed_at, paid from raw.toy__orders order by 1")
        state = steps.read_state(connection, toy.stream("orders"))
        status = connection.scalar("select status from meta.landing_batches where batch_id = :b", {"b": outcome.batch_id})
    assert [str(r[2]) for r in rows] == ["10.50", "99.99", "0.00"]
    assert rows[1][1] == "Bolt; drop table raw.x; --"
    assert rows[2][1] == "" and rows[2][4] is None  # empty string is not null; null stays null
    assert rows[1][3] == dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert state == {"cursor": "2026-01-06T00:00:00Z"}
    assert status == "loaded"


def test_rerun_is_idempotent_and_revisions_replace_rows(toy, warehouse):
    toy.records = GOOD
    run(warehouse)
    with warehouse.connect() as connection:
        first = table_hash(connection, "raw.toy__orders")
    run(warehouse)
    with warehouse.connect() as connection:
        assert table_hash(connection, "raw.toy__orders") == first
    toy.records = [{**GOOD[0], "amount": "11.00"}]
    run(warehouse)
    with warehouse.connect() as connection:
        assert table_hash(connection, "raw.toy__orders") != first
        assert str(connection.scalar("select amount from raw.toy__orders where order_id = 1")) == "11.00"
        assert connection.scalar("select count(*) from raw.toy__orders") == 3


def test_bad_values_are_quarantined_with_their_reason_and_the_rest_loads(toy, warehouse):
    toy.records = [*GOOD, {"order_id": 4, "customer": "X", "amount": "twelve", "placed_at": "2026-01-06T08:00:00",
                           "paid": True, "day": "2026-01-06"}, {"order_id": None, "customer": "Y", "amount": 1,
                           "placed_at": "2026-01-06T08:00:00Z", "paid": True, "day": "2026-01-06"}]
    _, loaded = run(warehouse)
    assert loaded.rows_loaded["orders"] == 3 and loaded.rows_quarantined["orders"] == 2
    with warehouse.connect() as connection:
        quarantined = connection.fetchall(
            "select row_number, rule, column_name, bad_value, record from quarantine.rows order by row_number, rule")
    assert [(r[0], r[1], r[2], r[3]) for r in quarantined] == [
        (3, "type:money", "amount", "twelve"),
        (3, "type:timestamp", "placed_at", "2026-01-06T08:00:00"),  # no offset: refused, not guessed
        (4, "primary_key_not_null", "order_id", None),
    ]
    assert json.loads(quarantined[0][4])["customer"] == "X"


def test_duplicate_keys_block_the_whole_batch_and_landing_keeps_it(toy, warehouse):
    toy.records = [*GOOD, {**GOOD[0], "amount": "1.00"}]
    outcome = steps.extract("toy", "orders", warehouse=warehouse)
    steps.validate(outcome.batch_id, warehouse=warehouse)
    with pytest.raises(steps.BatchRejected, match=r"toy\.orders.*primary_key_unique"):
        steps.load(outcome.batch_id, warehouse=warehouse)
    with warehouse.connect() as connection:
        assert not connection.table_exists("raw.toy__orders")
        assert steps.read_state(connection, toy.stream("orders")) == {}
        assert connection.scalar("select status from meta.landing_batches") == "blocked"
    assert landing.open_batch(outcome.batch_id).manifest.record_count == 4


def test_a_missing_field_names_source_stream_and_field(toy, warehouse):
    toy.records = [{k: v for k, v in GOOD[0].items() if k != "amount"} | {"amount_eur": "1"}]
    outcome = steps.extract("toy", "orders", warehouse=warehouse)
    steps.validate(outcome.batch_id, warehouse=warehouse)
    with pytest.raises(steps.BatchRejected, match=r"toy\.orders, field 'amount'.*missing"):
        steps.load(outcome.batch_id, warehouse=warehouse)


def test_an_interrupted_extraction_is_kept_incomplete_and_never_loaded(toy, warehouse):
    toy.records, toy.fail_after_pages = GOOD, 1
    with pytest.raises(ConnectionError):
        steps.extract("toy", "orders", warehouse=warehouse)
    [batch] = list(landing.list_batches("toy", "orders"))
    assert not batch.manifest.complete and "truncated" in batch.manifest.error
    assert [f.name for f in batch.manifest.files] == ["page-0000.json"]
    with pytest.raises(steps.BatchRejected, match="incomplete"):
        steps.validate(batch.batch_id, warehouse=warehouse)
    with warehouse.connect() as connection:
        assert connection.scalar("select status from meta.landing_batches") == "incomplete"


def test_replay_rebuilds_raw_from_landing_alone(toy, warehouse):
    toy.records = GOOD
    outcome, _ = run(warehouse)
    with warehouse.connect() as connection:
        before = table_hash(connection, "raw.toy__orders")
        connection.execute("delete from raw.toy__orders")
    toy.records = []  # the source has nothing now: replay must not ask it
    steps.replay(outcome.batch_id, warehouse=warehouse)
    with warehouse.connect() as connection:
        assert table_hash(connection, "raw.toy__orders") == before


def test_a_backfill_of_older_data_never_moves_the_cursor_back(toy, warehouse):
    toy.records = GOOD
    run(warehouse)
    toy.records = [{**GOOD[0], "placed_at": "2025-12-01T00:00:00Z", "order_id": 9}]
    run(warehouse, start=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    with warehouse.connect() as connection:
        assert steps.read_state(connection, toy.stream("orders")) == {"cursor": "2026-01-06T00:00:00Z"}
