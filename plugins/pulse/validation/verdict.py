"""The outcome of validating one stream's records in one landing batch, and where it is kept
between the validate and load tasks (`data/validated/<batch_id>/`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pulse.settings import get_settings

# one row per offending value: the record's position in the batch, the rule it broke, the column
# and value at fault, and the whole record as received (JSON)
QUARANTINE_COLUMNS = ["_row", "rule", "column", "bad_value", "record"]


@dataclass
class Verdict:
    batch_id: str
    source: str
    stream: str
    suite: str
    evaluated_rows: int
    batch_failures: list[str] = field(default_factory=list)  # rules that stop the whole batch
    results: list[dict[str, Any]] = field(default_factory=list)  # per-rule summary (for meta.validation_results)
    data_docs_path: str | None = None  # the result's page, relative to the Data Docs folder
    failed_rows: int = 0  # distinct rows quarantined
    expectations: int = 0  # expectations and contract checks evaluated
    failed_expectations: int = 0
    run_seconds: float | None = None  # the whole validation of this stream's records
    gx_seconds: float | None = None  # of which GX itself
    data_docs_seconds: float | None = None  # storing the result and rebuilding its Data Docs page
    volume: str | None = None  # what the volume guard compared the batch with

    @property
    def success(self) -> bool:
        return not self.batch_failures


def validated_dir(batch_id: str) -> Path:
    return get_settings().data_dir / "validated" / batch_id


def save(verdict: Verdict, valid_rows: pa.Table, quarantined: pd.DataFrame) -> Path:
    directory = validated_dir(verdict.batch_id)
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(valid_rows, directory / f"{verdict.stream}.rows.parquet")
    quarantined = quarantined.reindex(columns=QUARANTINE_COLUMNS).astype({"_row": "int64"})
    for column in ("rule", "column", "bad_value", "record"):
        quarantined[column] = quarantined[column].astype("object").where(quarantined[column].notna(), None)
    pq.write_table(pa.Table.from_pandas(quarantined, preserve_index=False), directory / f"{verdict.stream}.quarantine.parquet")
    (directory / f"{verdict.stream}.verdict.json").write_text(json.dumps(asdict(verdict), indent=2, default=str))
    return directory


def load(batch_id: str, stream: str) -> tuple[Verdict, pa.Table, pd.DataFrame] | None:
    directory = validated_dir(batch_id)
    verdict_path = directory / f"{stream}.verdict.json"
    if not verdict_path.exists():
        return None
    verdict = Verdict(**json.loads(verdict_path.read_text()))
    rows = pq.read_table(directory / f"{stream}.rows.parquet")
    quarantined = pq.read_table(directory / f"{stream}.quarantine.parquet").to_pandas()
    return verdict, rows, quarantined
