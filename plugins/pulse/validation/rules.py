"""Validate one stream's records of one landing batch against the stream's GX suite, and turn the
result into what the load step needs: the rows to quarantine (rule, column, offending value,
record as received) and the batch-level failures that block the whole batch.

Two checks come from the stream contract rather than from GX: a value that does not fit its
declared type (`type:<type>`, found by `conform`) and a field missing from the records (the
schema rule, when `conform` refuses the batch).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from typing import Any

import pandas as pd
import pyarrow as pa

from pulse.landing import LandingBatch
from pulse.settings import get_settings
from pulse.sources.streams import ROW_NUMBER, Conformed, ContractError, Stream
from pulse.validation import engine, suites, volume
from pulse.validation.verdict import QUARANTINE_COLUMNS, Verdict
from pulse.warehouse.connection import Connection

log = logging.getLogger(__name__)


def validate_stream(
    stream: Stream, conformed: Conformed, records: pd.DataFrame, batch: LandingBatch,
    connection: Connection | None = None,
) -> tuple[Verdict, pd.DataFrame]:
    """The verdict and the quarantined rows (QUARANTINE_COLUMNS) of one stream in one batch."""
    started = time.perf_counter()
    table = conformed.table
    guard = volume.guard(connection, stream, batch, table.num_rows)
    run = engine.run(suites.load(stream), gx_frame(stream, table), _parameters(batch, guard), batch_id=batch.batch_id)

    verdict = Verdict(batch_id=batch.batch_id, source=stream.source, stream=stream.name, suite=stream.key,
                      evaluated_rows=table.num_rows, data_docs_path=run.docs_path)
    judge = _Judge(f"{stream.key} batch {batch.batch_id}", table.num_rows, verdict)
    judge.contract_types(stream, conformed.problems)
    for outcome in run.outcomes:
        judge.expectation(outcome, guard)

    quarantined = pd.DataFrame(judge.problems, columns=["_row", "rule", "column", "bad_value"])
    quarantined = quarantined.drop_duplicates().sort_values(["_row", "rule", "column"], kind="stable")
    verdict.failed_rows = int(quarantined["_row"].nunique())
    verdict.expectations = len(verdict.results)
    verdict.failed_expectations = sum(1 for r in verdict.results if not r["success"])
    verdict.gx_seconds = round(run.seconds, 4)
    verdict.data_docs_seconds = round(run.docs_seconds, 4)
    verdict.run_seconds = round(time.perf_counter() - started, 4)
    verdict.volume = guard.describe()
    if verdict.batch_failures:
        log.warning("%s: batch blocked: %s", judge.where, " | ".join(verdict.batch_failures))
    return verdict, _with_records(quarantined, records)


class _Judge:
    """Turns check results into quarantined values and batch failures for one stream's batch."""

    def __init__(self, where: str, rows: int, verdict: Verdict):
        self.where, self.rows, self.verdict = where, rows, verdict
        self.problems: list[dict[str, Any]] = []

    def systemic(self, failed: int) -> bool:
        """A row rule failing for most of a sizeable batch means the source changed, not a few rows."""
        settings = get_settings()
        return (failed / max(self.rows, 1) > settings.validation_systemic_share
                and self.rows >= settings.validation_systemic_min_rows)

    def contract_types(self, stream: Stream, type_problems: pd.DataFrame) -> None:
        """The contract's type check (`conform`): one problem per value that did not fit its type."""
        failing = set()
        for (column, rule), group in type_problems.groupby(["column", "rule"], sort=True) if len(type_problems) else []:
            failing.add(column)
            failed = int(group["_row"].nunique())
            self.verdict.results.append({"rule": rule, "level": suites.ROW, "expectation": "contract",
                                         "column": column, "success": False, "unexpected_count": failed})
            if self.systemic(failed):
                self.verdict.batch_failures.append(
                    f"type_change: {self.where}: column {column!r}: {failed} of {self.rows} rows "
                    f"({failed / self.rows:.0%}) are not {rule.removeprefix('type:')} (e.g. "
                    f"{_sample(group['bad_value'])}); the source changed the field's type")
            self.problems += [{"_row": int(r), "rule": rule, "column": column, "bad_value": v}
                              for r, v in zip(group["_row"], group["bad_value"], strict=True)]
        self.verdict.results += [{"rule": f"type:{f.type}", "level": suites.ROW, "expectation": "contract",
                                  "column": f.name, "success": True, "unexpected_count": 0}
                                 for f in stream.fields if f.name not in failing]

    def expectation(self, outcome: engine.Outcome, guard: volume.VolumeGuard) -> None:
        self.verdict.results.append(_summary(outcome))
        if outcome.success:
            return
        if outcome.error:  # nothing loads unchecked
            self.verdict.batch_failures.append(
                f"{outcome.rule}: {self.where}: {outcome.expectation} on {outcome.column!r} could not be "
                f"evaluated: {outcome.error}")
        elif outcome.level == suites.BATCH:
            self.verdict.batch_failures.append(_batch_message(outcome, self.where, guard))
        else:
            failed = len({row for row, _ in outcome.unexpected}) or outcome.unexpected_count
            if self.systemic(failed):
                self.verdict.batch_failures.append(
                    f"{outcome.rule}: {self.where}: {failed} of {self.rows} rows ({failed / self.rows:.0%}) fail "
                    f"{outcome.expectation} on {outcome.column!r} (e.g. {_sample(v for _, v in outcome.unexpected)});"
                    f" too many to quarantine: the source changed")
            self.problems += [{"_row": row, "rule": outcome.rule, "column": outcome.column, "bad_value": _show(value)}
                              for row, value in outcome.unexpected]


def validate_unconformable(stream: Stream, records: pd.DataFrame | None, batch: LandingBatch,
                           error: ContractError) -> Verdict:
    """A batch that cannot become the stream's records: its payload cannot be read (`records` is
    None: a broken file, whose error names the file-level rule) or its records lack contract
    fields (the suite's schema rule, run on the records as parsed, says which). The whole batch
    is blocked."""
    started = time.perf_counter()
    rule = getattr(error, "rule", None) or "schema"
    verdict = Verdict(batch.batch_id, stream.source, stream.name, stream.key,
                      0 if records is None else len(records))
    if records is None:
        verdict.results.append({"rule": rule, "level": suites.BATCH, "expectation": "parse", "column": None,
                                "success": False, "unexpected_count": 0, "error": str(error)})
    else:
        suite = suites.load(stream)
        schema = {**suite, "expectations": [e for e in suite["expectations"]
                                            if e["type"] == "expect_table_columns_to_match_set"]}
        frame = records if ROW_NUMBER in records.columns else records.assign(**{ROW_NUMBER: range(len(records))})
        run = engine.run(schema, frame.reset_index(drop=True), batch_id=batch.batch_id)
        verdict.results += [_summary(outcome) for outcome in run.outcomes]
        verdict.data_docs_path = run.docs_path
        verdict.gx_seconds = round(run.seconds, 4)
    verdict.batch_failures.append(f"{rule}: {stream.key} batch {batch.batch_id}: {error}")
    verdict.expectations = len(verdict.results)
    verdict.failed_expectations = max(1, sum(1 for r in verdict.results if not r["success"]))
    verdict.run_seconds = round(time.perf_counter() - started, 4)
    log.warning("%s: batch %s blocked: %s", stream.key, batch.batch_id, error)
    return verdict


# --- the frame GX validates ---------------------------------------------------------------------
def gx_frame(stream: Stream, table: pa.Table) -> pd.DataFrame:
    """The conformed records with the dtypes the suites' type expectations name (`suites.GX_TYPES`):
    nullable integers and booleans, money as float (ranges only), UTC timestamps, dates as
    midnight datetimes (so GX compares them with ISO date parameters)."""
    columns: dict[str, Any] = {}
    for f in stream.fields:
        array = table[f.name]
        if f.type == "int":
            columns[f.name] = array.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        elif f.type in {"float", "money"}:
            columns[f.name] = array.cast(pa.float64()).to_pandas()
        elif f.type == "bool":
            columns[f.name] = array.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
        elif f.type == "timestamp":
            columns[f.name] = array.to_pandas().astype("datetime64[ns, UTC]")
        elif f.type == "date":
            columns[f.name] = pd.to_datetime(array.cast(pa.timestamp("s")).to_pandas()).astype("datetime64[ns]")
        else:
            columns[f.name] = array.to_pandas().astype("str").where(array.is_valid().to_pandas(), None)
    columns[ROW_NUMBER] = table[ROW_NUMBER].to_pandas()
    return pd.DataFrame(columns)


def _parameters(batch: LandingBatch, guard: volume.VolumeGuard) -> dict[str, Any]:
    settings = get_settings()
    extracted_at = dt.datetime.fromisoformat(batch.manifest.extracted_at)
    latest = extracted_at + dt.timedelta(minutes=settings.validation_future_tolerance_minutes)
    # a day is "today" somewhere on earth up to 14 hours ahead of UTC; GX compares a date column
    # (midnight datetimes, see gx_frame) with a datetime, not with a date
    latest_day = dt.datetime.combine((extracted_at + dt.timedelta(hours=14)).date(), dt.time())
    return {
        suites.LATEST_TIMESTAMP: latest.isoformat(),
        suites.LATEST_DATE: latest_day.isoformat(),
        suites.VOLUME_MIN_ROWS: guard.volume_min_rows,
        suites.NONEMPTY_MIN_ROWS: guard.nonempty_min_rows,
    }


# --- messages ----------------------------------------------------------------------------------
def _summary(outcome: engine.Outcome) -> dict[str, Any]:
    summary = {"rule": outcome.rule, "level": outcome.level, "expectation": outcome.expectation,
               "column": outcome.column, "success": outcome.success, "unexpected_count": outcome.unexpected_count}
    if outcome.observed is not None:
        summary["observed"] = outcome.observed
    if outcome.error:
        summary["error"] = outcome.error
    return json.loads(json.dumps(summary, default=str))


def _batch_message(outcome: engine.Outcome, where: str, guard: volume.VolumeGuard) -> str:
    rule = outcome.rule
    if rule == "primary_key_unique":
        by_key: dict[str, list[int]] = defaultdict(list)
        for row, value in outcome.unexpected:
            by_key[_show(value)].append(row)
        examples = "; ".join(f"{key} at rows {rows[:5]}" for key, rows in list(by_key.items())[:3])
        return (f"primary_key_unique: {where}: {outcome.unexpected_count} rows share a primary key "
                f"({outcome.column}): {examples}")
    if rule in {"volume_collapse", "empty_batch"}:
        return f"{rule}: {where}: {outcome.observed} records; {guard.describe()}"
    if rule == "schema":
        return f"schema: {where}: {outcome.expectation} on {outcome.column!r} failed (observed {outcome.observed!r})"
    examples = _sample(v for _, v in outcome.unexpected)
    return (f"{rule}: {where}: {outcome.unexpected_count} rows fail {outcome.expectation} on {outcome.column!r}"
            f"{f' (e.g. {examples})' if examples else ''}")


def _show(value: Any) -> str | None:
    if value is None or (not isinstance(value, dict | list) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dict):
        return json.dumps({k: _show(v) for k, v in value.items()}, sort_keys=True)
    return str(value)[:500]


def _sample(values: Any, limit: int = 3) -> str:
    seen: list[str] = []
    for value in values:
        shown = _show(value)
        if shown is not None and shown not in seen:
            seen.append(shown)
        if len(seen) >= limit:
            break
    return ", ".join(repr(v) for v in seen)


def _with_records(quarantined: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Attach each quarantined row's record as received, so nothing about it is lost."""
    if quarantined.empty:
        return quarantined.reindex(columns=QUARANTINE_COLUMNS)
    by_row = records.set_index(ROW_NUMBER) if ROW_NUMBER in records.columns else records
    as_json = {}
    for row in quarantined["_row"].unique():
        try:
            as_json[row] = json.dumps(by_row.loc[row].to_dict(), default=str, sort_keys=True)
        except KeyError:
            as_json[row] = None
    quarantined = quarantined.copy()
    quarantined["record"] = quarantined["_row"].map(as_json)
    return quarantined.reindex(columns=QUARANTINE_COLUMNS).reset_index(drop=True)
