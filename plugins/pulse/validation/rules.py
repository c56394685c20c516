"""The rules every stream obeys whatever its suite says: values fit their declared type, the
primary key is present, and a key occurs once per batch."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pyarrow.compute as pc

from pulse.landing import LandingBatch
from pulse.sources.streams import ROW_NUMBER, Conformed, Stream
from pulse.validation.verdict import QUARANTINE_COLUMNS, Verdict
from pulse.warehouse.connection import Connection


def validate_stream(
    stream: Stream, conformed: Conformed, records: pd.DataFrame, batch: LandingBatch,
    connection: Connection | None = None,
) -> tuple[Verdict, pd.DataFrame]:
    """The verdict and the quarantined rows (QUARANTINE_COLUMNS) of one stream in one batch."""
    table = conformed.table
    verdict = Verdict(
        batch_id=batch.batch_id, source=stream.source, stream=stream.name, suite=stream.key,
        evaluated_rows=table.num_rows,
    )
    problems = [conformed.problems.assign(record=None)]
    key_missing = None
    for key in stream.primary_key:
        missing = pc.is_null(table[key])
        key_missing = missing if key_missing is None else pc.or_(key_missing, missing)
    if key_missing is not None and table.num_rows:
        rows = pc.filter(table[ROW_NUMBER], key_missing).to_pylist()
        problems.append(pd.DataFrame({"_row": rows, "rule": "primary_key_not_null",
                                      "column": ",".join(stream.primary_key), "bad_value": None, "record": None}))
    quarantined = pd.concat([p for p in problems if len(p)], ignore_index=True) if any(len(p) for p in problems) \
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    verdict.results.append({"rule": "types_and_keys", "failed_rows": int(quarantined["_row"].nunique())})

    keys = table.select(list(stream.primary_key)).to_pandas()
    duplicated = keys.duplicated(keep=False) & keys.notna().all(axis=1)
    if duplicated.any():
        sample = keys[duplicated].drop_duplicates().head(5).to_dict("records")
        verdict.batch_failures.append(
            f"primary_key_unique: {int(duplicated.sum())} rows share a primary key {stream.primary_key} "
            f"(e.g. {sample})"
        )
    return verdict, _with_records(quarantined, records)


def _with_records(quarantined: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Attach each quarantined row's record as received, so nothing about it is lost."""
    if quarantined.empty:
        return quarantined.reindex(columns=QUARANTINE_COLUMNS)
    by_row = records.set_index(ROW_NUMBER) if ROW_NUMBER in records.columns else records
    def as_json(row: int) -> Any:
        try:
            return json.dumps(by_row.loc[row].to_dict(), default=str, sort_keys=True)
        except KeyError:
            return None
    quarantined = quarantined.copy()
    quarantined["record"] = quarantined["_row"].map(as_json)
    return quarantined.reindex(columns=QUARANTINE_COLUMNS)
