"""Stream declarations: every stream of every source is declared once, here in shape and in
`pulse.sources.<source>` in substance (name, primary key, cursor, lookback, schema contract).

The schema contract is what the raw table holds. `conform()` turns parsed records into an Arrow
table of exactly those columns and types; a missing or renamed field is a `ContractError` for the
whole batch, a value that does not fit its type is a row problem (the validation step quarantines
the row with its reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pandas as pd
import pyarrow as pa

# field types of the schema contracts, their Arrow types and their SQL types per dialect
FIELD_TYPES = ("int", "float", "money", "str", "bool", "timestamp", "date", "json")

ARROW_TYPES: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "money": pa.decimal128(18, 2),
    "str": pa.string(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}

SQL_TYPES: dict[str, dict[str, str]] = {
    "duckdb": {
        "int": "bigint", "float": "double", "money": "decimal(18,2)", "str": "varchar",
        "bool": "boolean", "timestamp": "timestamptz", "date": "date", "json": "varchar",
    },
    "postgres": {
        "int": "bigint", "float": "double precision", "money": "numeric(18,2)", "str": "text",
        "bool": "boolean", "timestamp": "timestamptz", "date": "date", "json": "text",
    },
}

ROW_NUMBER = "_row"  # position of a record in its landing batch, 0-based; kept through validation


class ContractError(ValueError):
    """A batch does not match its stream's schema contract (a field missing or renamed)."""

    def __init__(self, stream: Stream, message: str, *, field_name: str | None = None, row: int | None = None):
        self.source, self.stream, self.field_name, self.row = stream.source, stream.name, field_name, row
        where = f"{stream.key}"
        if field_name:
            where += f", field {field_name!r}"
        if row is not None:
            where += f", row {row}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nullable: bool = True
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type!r}; use one of {FIELD_TYPES}")


@dataclass(frozen=True)
class Stream:
    """One stream of a source. `cursor` is the field incremental extraction resumes from (None for
    full extracts and file drops); `lookback` re-extracts that much before the saved cursor,
    for records the source revises after the fact."""

    source: str
    name: str
    primary_key: tuple[str, ...]
    fields: tuple[Field, ...]
    cursor: str | None = None
    lookback: dt.timedelta = dt.timedelta(0)
    mode: str = "incremental"  # incremental | full | files
    doc: str = ""
    extracted_with: str | None = None  # another stream of the source whose batches carry this one's records

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.key}: duplicate field names")
        missing = [key for key in self.primary_key if key not in names]
        if missing:
            raise ValueError(f"{self.key}: primary key {missing} not among the fields")
        if self.cursor and self.cursor not in names:
            raise ValueError(f"{self.key}: cursor {self.cursor!r} not among the fields")
        if self.mode not in {"incremental", "full", "files"}:
            raise ValueError(f"{self.key}: unknown mode {self.mode!r}")

    @property
    def key(self) -> str:
        return f"{self.source}.{self.name}"

    @property
    def raw_table(self) -> str:
        return f"raw.{self.source}__{self.name}"

    @property
    def asset_uri(self) -> str:
        return f"pulse://raw/{self.source}/{self.name}"

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, ARROW_TYPES[f.type]) for f in self.fields])


@dataclass
class Conformed:
    """Records in contract shape. `table` has the contract's columns plus `_row`; `problems` lists
    values that did not fit their type (one row per value: _row, column, rule, bad_value); those
    cells are null in `table`."""

    table: pa.Table
    problems: pd.DataFrame


PROBLEM_COLUMNS = ["_row", "column", "rule", "bad_value"]


def conform(stream: Stream, records: pd.DataFrame | Iterable[Mapping], *, rows: Iterable[int] | None = None) -> Conformed:
    """Cast parsed records to the stream's contract. Extra fields are dropped (sources add fields
    all the time); a missing field fails the batch, naming it."""
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame.from_records(list(records))
    frame = frame.reset_index(drop=True)
    row_numbers = np.arange(len(frame)) if rows is None else np.asarray(list(rows), dtype="int64")
    if ROW_NUMBER in frame.columns and rows is None:
        row_numbers = frame[ROW_NUMBER].to_numpy(dtype="int64")
    if len(frame) and len(row_numbers) != len(frame):
        raise ValueError(f"{stream.key}: {len(row_numbers)} row numbers for {len(frame)} records")
    missing = [name for name in stream.field_names if name not in frame.columns]
    if missing and len(frame):
        raise ContractError(
            stream,
            f"field(s) {missing} missing from the source's records (renamed or dropped upstream?); "
            f"fields received: {sorted(map(str, frame.columns))}",
            field_name=missing[0],
        )
    arrays, problems = [], []
    for f in stream.fields:
        values = frame[f.name] if f.name in frame.columns else pd.Series([None] * len(frame), dtype="object")
        array, bad = _cast(values, f)
        arrays.append(array)
        if bad.any():
            offenders = values[bad]
            problems.append(pd.DataFrame({
                "_row": row_numbers[bad.to_numpy()],
                "column": f.name,
                "rule": f"type:{f.type}",
                "bad_value": offenders.map(_show).to_numpy(),
            }))
    arrays.append(pa.array(row_numbers, type=pa.int64()))
    schema = stream.arrow_schema().append(pa.field(ROW_NUMBER, pa.int64()))
    table = pa.Table.from_arrays(arrays, schema=schema)
    problem_frame = (
        pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    return Conformed(table, problem_frame)


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text[:500]


def _null(values: pd.Series) -> pd.Series:
    """Missing values: None/NaN/NaT and empty strings (CSV and JSON sources write both)."""
    empty = values.map(lambda v: isinstance(v, str) and v.strip() == "").astype(bool)
    return values.isna().astype(bool) | empty


def _cast(values: pd.Series, f: Field) -> tuple[pa.Array, pd.Series]:
    """The Arrow array of `values` as `f.type`, and a mask of values that could not be cast."""
    kind = f.type
    # an empty string is a value for text fields and a missing value for every other type
    null = values.map(_is_missing).astype(bool) if kind in {"str", "json"} else _null(values)
    if kind in {"str", "json"}:
        import json

        def text(value: object) -> str:
            if isinstance(value, str):
                return value
            if kind == "json":
                return json.dumps(value, sort_keys=True, default=str)
            return str(value)

        converted = [None if is_null else text(value) for value, is_null in zip(values, null, strict=True)]
        return pa.array(converted, type=pa.string()), pd.Series(False, index=values.index)
    if kind in {"int", "float"}:
        numbers = pd.to_numeric(values.where(~null, None).map(_strip), errors="coerce").astype("float64")
        bad = numbers.isna() & ~null
        if kind == "int":
            bad |= numbers.notna() & ((numbers != np.floor(numbers.fillna(0))) | (numbers.abs() >= 2**63))
            ints = numbers.where(~bad).astype("Int64")
            return pa.array(ints, type=pa.int64(), from_pandas=True), bad
        bad |= numbers.abs() > 1e300
        return pa.array(numbers.where(~bad), type=pa.float64(), from_pandas=True), bad
    if kind == "money":
        decimals, bad = [], []
        for value, is_null in zip(values, null, strict=True):
            if is_null:
                decimals.append(None)
                bad.append(False)
                continue
            try:
                amount = Decimal(str(_strip(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                if not amount.is_finite() or abs(amount) >= Decimal(10) ** 16:
                    raise InvalidOperation
                decimals.append(amount)
                bad.append(False)
            except (InvalidOperation, ValueError):
                decimals.append(None)
                bad.append(True)
        return pa.array(decimals, type=pa.decimal128(18, 2)), pd.Series(bad, index=values.index)
    if kind == "bool":
        mapping = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
        converted = values.map(lambda v: bool(v) if isinstance(v, bool | np.bool_) else mapping.get(str(v).strip().lower()))
        bad = converted.isna() & ~null
        return pa.array(converted.where(~bad & ~null, None).tolist(), type=pa.bool_()), bad
    if kind == "timestamp":
        moments, bad = _timestamps(values, null)
        return pa.array(moments, type=pa.timestamp("us", tz="UTC"), from_pandas=True), bad
    if kind == "date":
        days, bad = _dates(values, null)
        return pa.array(days, type=pa.date32(), from_pandas=True), bad
    raise AssertionError(kind)


# Outside this range a timestamp is a data error, not a business event (and PostgreSQL and
# DuckDB disagree on what they can store).
_EARLIEST, _LATEST = pd.Timestamp("1900-01-01", tz="UTC"), pd.Timestamp("2200-01-01", tz="UTC")
_HAS_OFFSET = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"


def _timestamps(values: pd.Series, null: pd.Series) -> tuple[pd.Series, pd.Series]:
    """UTC timestamps and a mask of bad values. A time-zone-naive value is refused: a source
    that sends local times without an offset makes every duration and day boundary a guess.
    Numbers are Unix epoch seconds."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC")
        bad = pd.Series(False, index=values.index)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
        bad = ~null
    else:
        present = values.where(~null, None)
        numeric = present.map(lambda v: isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool))
        as_text = present.map(lambda v: v.isoformat() if isinstance(v, dt.datetime) else v)
        text = as_text.where(~numeric & ~null).astype("string").str.strip()
        parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
        naive = ~text.str.contains(_HAS_OFFSET, regex=True).fillna(False).astype(bool)
        bad = (~null & ~numeric) & (parsed.isna() | naive)
        if numeric.any():
            epochs = pd.to_numeric(present.where(numeric), errors="coerce")
            in_range = epochs.abs() < 7e9
            parsed = parsed.where(~numeric, pd.to_datetime(epochs.where(in_range), unit="s", utc=True))
            bad |= numeric & ~in_range
    parsed = parsed.astype("datetime64[us, UTC]")
    out_of_range = parsed.notna() & ((parsed < _EARLIEST) | (parsed >= _LATEST))
    bad = (bad | out_of_range) & ~null
    return parsed.where(~bad), bad


def _dates(values: pd.Series, null: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as ISO `YYYY-MM-DD` (or GA4's `YYYYMMDD`); a datetime is not a date."""
    present = values.where(~null, None)
    is_datetime = present.map(lambda v: isinstance(v, dt.datetime | pd.Timestamp))
    text = present.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v).astype("string").str.strip()
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    compact = parsed.isna() & text.str.fullmatch(r"\d{8}").fillna(False).astype(bool)
    parsed = parsed.where(~compact, pd.to_datetime(text.where(compact), format="%Y%m%d", errors="coerce"))
    in_range = (parsed >= pd.Timestamp("1900-01-01")) & (parsed < pd.Timestamp("2200-01-01"))
    bad = ~null & (parsed.isna() | ~in_range.fillna(False) | is_datetime)
    days = parsed.where(~bad).dt.date
    return days.where(~bad & ~null, None), bad


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value
