"""Row-level rules quarantine, batch-level rules block, on a toy shop stream run through the real
pipeline steps. Budget: ~30 s (GX import once, ~1 s per batch)."""

from __future__ import annotations

import json

from pulse import landing
from pulse.pipeline import steps
from validation.conftest import order, run_batch


def quarantine(warehouse):
    with warehouse.connect() as connection:
        rows = connection.fetchall(
            "select stream, row_number, rule, column_name, bad_value, record from quarantine.rows "
            "order by stream, row_number, rule")
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows], [json.loads(r[5]) for r in rows]


def loaded_ids(warehouse):
    with warehouse.connect() as connection:
        return [r[0] for r in connection.fetchall("select order_id from raw.toyshop__orders order by 1")]


def test_clean_batch_loads_whole_and_its_result_is_stored(toyshop, warehouse):
    _, outcome = run_batch(warehouse, [order(i) for i in range(1, 21)])
    assert outcome.rows_loaded == {"orders": 20, "lines": 40}
    assert outcome.rows_quarantined == {"orders": 0, "lines": 0}
    with warehouse.connect() as connection:
        results = connection.fetchall(
            "select stream, suite, success, evaluated_rows, failed_rows, expectations, failed_expectations, "
            "run_seconds, details from meta.validation_results order by stream")
    assert [r[:5] for r in results] == [("lines", "toyshop.lines", True, 40, 0), ("orders", "toyshop.orders", True, 20, 0)]
    for row in results:
        details = json.loads(row[8])
        assert row[5] == len(details) and row[6] == 0 and row[7] > 0
        assert {d["level"] for d in details} == {"row", "batch"}


def test_bad_rows_are_quarantined_by_their_rule_and_the_rest_loads(toyshop, warehouse):
    records = [order(i) for i in range(1, 21)]
    records[2] = order(3, status="lost_in_space")
    records[4] = order(5, amount="-12.00")
    records[6] = order(7, placed_at="2199-01-01T00:00:00Z", shipped_at=None)
    records[8] = order(9, shipped_at="2026-03-01T00:00:00Z")  # shipped before it was placed
    records[10] = order(11, order_id=None, lines=[])
    records[12] = order(13, lines=[5, 0])  # a line of quantity 0
    records[14] = order(15, note="'; drop table raw.toyshop__orders; --")  # text is data, not a problem
    _, outcome = run_batch(warehouse, records)

    # lines are numbered in the order they come, order after order
    zero_line = [q for r in records for q in r["lines"]].index(0)
    expected = [
        ("lines", zero_line, "range", "quantity", "0"),
        ("orders", 2, "allowed_values", "status", "lost_in_space"),
        ("orders", 4, "range", "amount", "-12"),
        ("orders", 6, "not_in_future", "placed_at", "2199-01-01T00:00:00+00:00"),
        ("orders", 8, "order", "shipped_at,placed_at"),
        ("orders", 10, "primary_key_not_null", "order_id", None),
    ]
    found, records_kept = quarantine(warehouse)
    assert [f[:4] if f[2] == "order" else f for f in found] == expected
    assert "2026-03-01" in found[4][4]  # the pair of values at fault
    assert records_kept[1]["status"] == "lost_in_space"  # the record as received is kept whole
    assert outcome.rows_quarantined == {"orders": 5, "lines": 1}
    assert loaded_ids(warehouse) == [i for i in range(1, 21) if i not in {3, 5, 7, 9, 11}]


def test_duplicate_keys_block_the_batch_naming_source_stream_batch_and_rule(toyshop, warehouse):
    records = [order(i) for i in range(1, 6)] + [order(2, amount="99.00")]
    batch_id, rejected = run_batch(warehouse, records)
    assert isinstance(rejected, steps.BatchRejected)
    message = str(rejected)
    assert "toyshop.orders" in message and batch_id in message and "primary_key_unique" in message
    assert "rows [1, 5]" in message  # both rows sharing key 2
    with warehouse.connect() as connection:
        assert not connection.table_exists("raw.toyshop__orders")
        status, error = connection.fetchone("select status, error from meta.landing_batches")
    assert status == "blocked" and "primary_key_unique" in error
    assert landing.open_batch(batch_id).manifest.record_count == 6  # nothing of the batch is lost


def test_a_rule_failing_for_most_rows_blocks_instead_of_quarantining(toyshop, duckdb_warehouse):
    records = [order(i, status="SHIPPED") for i in range(1, 16)] + [order(i) for i in range(16, 21)]
    _, rejected = run_batch(duckdb_warehouse, records)
    assert isinstance(rejected, steps.BatchRejected)
    assert "allowed_values" in str(rejected) and "15 of 20 rows (75%)" in str(rejected)


def test_a_type_change_affecting_most_rows_blocks_the_batch(toyshop, duckdb_warehouse):
    records = [order(i, amount=f"EUR {i}") for i in range(1, 13)] + [order(i) for i in range(13, 21)]
    _, rejected = run_batch(duckdb_warehouse, records)
    assert "type_change" in str(rejected) and "'amount'" in str(rejected) and "EUR 1" in str(rejected)


def test_a_dropped_column_blocks_the_batch_and_names_the_field(toyshop, duckdb_warehouse):
    records = [{k: v for k, v in order(i).items() if k != "amount"} for i in range(1, 6)]
    _, rejected = run_batch(duckdb_warehouse, records)
    assert "schema" in str(rejected) and "field 'amount'" in str(rejected)


def test_volume_guard_compares_with_the_streams_recent_batches(toyshop, duckdb_warehouse, monkeypatch):
    # no history yet: a small batch is fine
    _, first = run_batch(duckdb_warehouse, [order(i) for i in range(1, 4)])
    assert first.rows_loaded["orders"] == 3
    for round_ in range(3):
        run_batch(duckdb_warehouse, [order(1000 * round_ + i) for i in range(1, 101)])
    # history: 3, 100, 100, 100 records on this weekday; median 100; a batch of 5 is a collapse
    _, collapsed = run_batch(duckdb_warehouse, [order(i) for i in range(5001, 5006)])
    assert isinstance(collapsed, steps.BatchRejected)
    assert "volume_collapse" in str(collapsed) and "5 records" in str(collapsed)
    _, empty = run_batch(duckdb_warehouse, [])
    assert "empty_batch" in str(empty)
    _, normal = run_batch(duckdb_warehouse, [order(i) for i in range(6001, 6061)])
    assert normal.rows_loaded["orders"] == 60
