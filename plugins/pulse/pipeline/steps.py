"""The three steps every stream goes through, each its own Airflow task:

- `extract`: source -> a landing batch (as received) + its row in meta.landing_batches;
- `validate`: landing batch -> parsed, typed, checked records in `data/validated/<batch_id>/`;
- `load`: validated records -> raw (merged by key), quarantine, extraction state and batch
  status, in one transaction: a batch is loaded whole or not at all.

`replay` runs validate + load on a batch already landed, without calling any source.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from pulse import landing
from pulse.sources import source_class
from pulse.sources.base import Source
from pulse.sources.streams import ROW_NUMBER, Stream, conform
from pulse.validation import validate_stream, validate_unconformable
from pulse.validation import verdict as verdicts
from pulse.warehouse.connection import Connection, Warehouse
from pulse.warehouse.loader import append, merge
from pulse.warehouse.meta import BLOCKED, INCOMPLETE, LANDED, LOADED, ensure_meta

log = logging.getLogger(__name__)


class BatchRejected(RuntimeError):
    """A batch that must not load: incomplete extraction or a batch-level validation failure."""


@dataclass(frozen=True)
class ExtractOutcome:
    batch_id: str
    source: str
    stream: str
    record_count: int | None


@dataclass(frozen=True)
class LoadOutcome:
    batch_id: str
    rows_loaded: dict[str, int]
    rows_quarantined: dict[str, int]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- extract -----------------------------------------------------------------------------------
def extract(
    source_name: str, stream_name: str, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
    source: Source | None = None, warehouse: Warehouse | None = None,
) -> ExtractOutcome:
    warehouse = warehouse or Warehouse.from_settings()
    source = source or source_class(source_name)()
    stream = source.stream(stream_name)
    with warehouse.connect() as connection:
        ensure_meta(connection)
        state = read_state(connection, stream)
    end = min(end or _now(), _now())
    request = source.plan(stream, state, end, start)
    writer = landing.BatchWriter(source.name, stream.name, request.as_manifest())
    try:
        with writer:
            writer.manifest.state_after = source.extract(stream, request, writer)
    finally:
        with warehouse.connect() as connection:
            _record_batch(connection, landing.open_batch(writer.batch_id))
    log.info("%s: landed batch %s (%s records)", stream.key, writer.batch_id, writer.manifest.record_count)
    return ExtractOutcome(writer.batch_id, source.name, stream.name, writer.manifest.record_count)


def read_state(connection: Connection, stream: Stream) -> dict[str, Any]:
    row = connection.fetchone(
        "select state from meta.extract_state where source = :source and stream = :stream",
        {"source": stream.source, "stream": stream.name},
    )
    return json.loads(row[0]) if row else {}


def _record_batch(connection: Connection, batch: landing.LandingBatch) -> None:
    manifest = batch.manifest
    request = manifest.request
    with connection.transaction():
        connection.execute("delete from meta.landing_batches where batch_id = :batch_id", {"batch_id": manifest.batch_id})
        connection.execute(
            """
            insert into meta.landing_batches (batch_id, source, stream, extracted_at, window_start, window_end,
                complete, record_count, file_count, bytes, path, status, error, updated_at)
            values (:batch_id, :source, :stream, :extracted_at, :window_start, :window_end, :complete,
                :record_count, :file_count, :bytes, :path, :status, :error, :updated_at)
            """,
            {
                "batch_id": manifest.batch_id, "source": manifest.source, "stream": manifest.stream,
                "extracted_at": dt.datetime.fromisoformat(manifest.extracted_at),
                "window_start": dt.datetime.fromisoformat(request["start"]) if request.get("start") else None,
                "window_end": dt.datetime.fromisoformat(request["end"]) if request.get("end") else None,
                "complete": manifest.complete, "record_count": manifest.record_count,
                "file_count": len(manifest.files), "bytes": sum(f.bytes for f in manifest.files),
                "path": str(batch.path), "status": LANDED if manifest.complete else INCOMPLETE,
                "error": manifest.error, "updated_at": _now(),
            },
        )


# --- validate ----------------------------------------------------------------------------------
def validate(batch_id: str, *, source: Source | None = None, warehouse: Warehouse | None = None) -> list[verdicts.Verdict]:
    """Validate every stream the batch feeds; returns their verdicts (a failed verdict does not
    raise here: `load` records it and refuses the batch)."""
    batch = landing.open_batch(batch_id)
    if not batch.manifest.complete:
        raise BatchRejected(
            f"{batch.manifest.source}.{batch.manifest.stream}: batch {batch_id} is incomplete "
            f"({batch.manifest.error}); it stays in landing and is never loaded"
        )
    batch.verify()
    source = source or source_class(batch.manifest.source)()
    primary = source.stream(batch.manifest.stream)
    warehouse = warehouse or Warehouse.from_settings()
    results = []
    with warehouse.connect() as connection:
        ensure_meta(connection)
        for stream in source.fed_by(primary):
            results.append(_validate_stream(source, stream, batch, connection))
    return results


def _validate_stream(source: Source, stream: Stream, batch: landing.LandingBatch, connection: Connection) -> verdicts.Verdict:
    from pulse.sources.streams import ContractError

    records = None
    try:
        parsed = source.parse(stream, batch)
        records = parsed if isinstance(parsed, pd.DataFrame) else pd.DataFrame.from_records(list(parsed))
        if ROW_NUMBER not in records.columns:
            records = records.assign(**{ROW_NUMBER: range(len(records))})
        conformed = conform(stream, records)
    except ContractError as error:  # a payload that cannot be read (a broken file) or lacks contract fields
        verdict = validate_unconformable(stream, records, batch, error)
        verdicts.save(verdict, stream.arrow_schema().empty_table(), pd.DataFrame(columns=verdicts.QUARANTINE_COLUMNS))
        return verdict
    verdict, quarantined = validate_stream(stream, conformed, records, batch, connection)
    bad_rows = set(quarantined["_row"].astype("int64")) if len(quarantined) else set()
    keep = [row not in bad_rows for row in conformed.table[ROW_NUMBER].to_pylist()]
    valid = conformed.table.filter(pa.array(keep, type=pa.bool_())) if bad_rows else conformed.table
    verdicts.save(verdict, valid, quarantined)
    return verdict


# --- load --------------------------------------------------------------------------------------
def load(batch_id: str, *, source: Source | None = None, warehouse: Warehouse | None = None) -> LoadOutcome:
    batch = landing.open_batch(batch_id)
    source = source or source_class(batch.manifest.source)()
    primary = source.stream(batch.manifest.stream)
    warehouse = warehouse or Warehouse.from_settings()
    fed = source.fed_by(primary)
    stored = {stream.name: verdicts.load(batch_id, stream.name) for stream in fed}
    if any(value is None for value in stored.values()):
        validate(batch_id, source=source, warehouse=warehouse)
        stored = {stream.name: verdicts.load(batch_id, stream.name) for stream in fed}
    failures = [f"{v.suite}: {failure}" for v, _, _ in stored.values() for failure in v.batch_failures]

    loaded, quarantined_counts = {}, {}
    with warehouse.connect() as connection:
        ensure_meta(connection)
        with connection.transaction():
            for stream in fed:
                verdict, rows, quarantined = stored[stream.name]
                _record_validation(connection, verdict)
                _quarantine(connection, stream, batch_id, quarantined)
                quarantined_counts[stream.name] = int(quarantined["_row"].nunique()) if len(quarantined) else 0
                loaded[stream.name] = 0 if failures else merge(connection, stream, rows, batch_id)
            if not failures:
                _save_state(connection, primary, batch)
                _record_files(connection, primary, batch)
            connection.execute(
                "update meta.landing_batches set status = :status, rows_loaded = :loaded, "
                "rows_quarantined = :quarantined, error = :error, updated_at = :now where batch_id = :batch_id",
                {"status": BLOCKED if failures else LOADED, "loaded": sum(loaded.values()),
                 "quarantined": sum(quarantined_counts.values()), "error": "; ".join(failures) or None,
                 "now": _now(), "batch_id": batch_id},
            )
    if failures:
        raise BatchRejected(
            f"{primary.key}: batch {batch_id} blocked by validation; nothing of it was loaded, it stays in "
            f"landing. " + " | ".join(failures)
        )
    return LoadOutcome(batch_id, loaded, quarantined_counts)


def replay(batch_id: str, *, warehouse: Warehouse | None = None) -> LoadOutcome:
    """Rebuild raw from a landed batch, without calling the source."""
    batch = landing.open_batch(batch_id)
    source = source_class(batch.manifest.source)(connection=None)
    validate(batch_id, source=source, warehouse=warehouse)
    return load(batch_id, source=source, warehouse=warehouse)


def _record_validation(connection: Connection, verdict: verdicts.Verdict) -> None:
    connection.execute(
        "delete from meta.validation_results where batch_id = :batch_id and stream = :stream",
        {"batch_id": verdict.batch_id, "stream": verdict.stream},
    )
    connection.execute(
        """
        insert into meta.validation_results (batch_id, source, stream, suite, success, evaluated_rows,
            failed_rows, expectations, failed_expectations, batch_failures, details, data_docs_path, run_seconds,
            validated_at)
        values (:batch_id, :source, :stream, :suite, :success, :evaluated, :failed_rows, :expectations,
            :failed_expectations, :batch_failures, :details, :docs, :run_seconds, :now)
        """,
        {
            "batch_id": verdict.batch_id, "source": verdict.source, "stream": verdict.stream,
            "suite": verdict.suite, "success": verdict.success, "evaluated": verdict.evaluated_rows,
            "failed_rows": verdict.failed_rows, "expectations": verdict.expectations,
            "failed_expectations": verdict.failed_expectations,
            "batch_failures": json.dumps(verdict.batch_failures), "details": json.dumps(verdict.results, default=str),
            "docs": verdict.data_docs_path, "run_seconds": verdict.run_seconds, "now": _now(),
        },
    )


def _quarantine(connection: Connection, stream: Stream, batch_id: str, quarantined: pd.DataFrame) -> None:
    connection.execute(
        "delete from quarantine.rows where batch_id = :batch_id and stream = :stream",
        {"batch_id": batch_id, "stream": stream.name},
    )
    if quarantined.empty:
        return
    rows = pa.table({
        "source": pa.array([stream.source] * len(quarantined), pa.string()),
        "stream": pa.array([stream.name] * len(quarantined), pa.string()),
        "batch_id": pa.array([batch_id] * len(quarantined), pa.string()),
        "row_number": pa.array(quarantined["_row"].astype("int64").tolist(), pa.int64()),
        "rule": pa.array(quarantined["rule"].tolist(), pa.string()),
        "column_name": pa.array(_texts(quarantined["column"]), pa.string()),
        "bad_value": pa.array(_texts(quarantined["bad_value"]), pa.string()),
        "record": pa.array(_texts(quarantined["record"]), pa.string()),
        "quarantined_at": pa.array([_now()] * len(quarantined), pa.timestamp("us", tz="UTC")),
    })
    append(connection, "quarantine.rows", rows)


def _texts(values: pd.Series) -> list[str | None]:
    return [None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value) for value in values]


def _save_state(connection: Connection, stream: Stream, batch: landing.LandingBatch) -> None:
    state_after = batch.manifest.state_after
    if state_after is None:
        return
    current = read_state(connection, stream)
    if _cursor(current) and _cursor(state_after) and _cursor(state_after) < _cursor(current):
        return  # a backfill of older data never moves the cursor back
    connection.execute(
        "delete from meta.extract_state where source = :source and stream = :stream",
        {"source": stream.source, "stream": stream.name},
    )
    connection.execute(
        "insert into meta.extract_state (source, stream, state, batch_id, updated_at) "
        "values (:source, :stream, :state, :batch_id, :now)",
        {"source": stream.source, "stream": stream.name, "state": json.dumps(state_after, sort_keys=True, default=str),
         "batch_id": batch.batch_id, "now": _now()},
    )


def _cursor(state: dict[str, Any]) -> dt.datetime | None:
    value = state.get("cursor") if state else None
    return dt.datetime.fromisoformat(value) if value else None


def _record_files(connection: Connection, stream: Stream, batch: landing.LandingBatch) -> None:
    """File drops: each file's checksum, so a re-sent file is recognised and not loaded twice."""
    if stream.mode != "files":
        return
    for landed in batch.manifest.files:
        connection.execute(
            "delete from meta.landed_files where source = :source and stream = :stream and sha256 = :sha256",
            {"source": stream.source, "stream": stream.name, "sha256": landed.sha256},
        )
        connection.execute(
            "insert into meta.landed_files (source, stream, sha256, file_name, batch_id, loaded_at) "
            "values (:source, :stream, :sha256, :name, :batch_id, :now)",
            {"source": stream.source, "stream": stream.name, "sha256": landed.sha256,
             "name": landed.meta.get("original_name", landed.name), "batch_id": batch.batch_id, "now": _now()},
        )
