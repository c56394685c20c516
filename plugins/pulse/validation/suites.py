"""Expectation suites: one GX suite per stream, stored as `expectations/<source>.<stream>.json` in
GX's own suite format (`ExpectationSuite(**json)` loads it).

A suite is generated from the stream's contract (schema, keys, timestamps, volume) plus the
stream's hand-written rules (`pulse.validation.stream_rules`) by `pulse validation suites
--write`, then kept in the repo: the validate task reads the file, reviewers read the diff, and a
test fails when a file no longer matches its contract and rules.

Every expectation carries `meta.level` and `meta.rule`:
- `row`: failing rows go to quarantine with the rule, the column and the offending value; the
  rest of the batch loads. A row rule that fails for most of a batch is systemic (an API that
  changed an enum, a column whose type changed) and blocks the batch instead.
- `batch`: a failure blocks the whole batch (schema drift, key no longer unique, volume collapse).

Values known only at run time are GX suite parameters (`{"$PARAMETER": name}`): the latest
plausible timestamp and date (the batch's extraction time plus a tolerance) and the volume
thresholds drawn from the stream's recent history.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulse.settings import get_settings
from pulse.sources.streams import Stream

log = logging.getLogger(__name__)

ROW, BATCH = "row", "batch"

# suite parameters, filled in per batch by pulse.validation.rules
LATEST_TIMESTAMP = "latest_timestamp"
LATEST_DATE = "latest_date"
VOLUME_MIN_ROWS = "volume_min_rows"
NONEMPTY_MIN_ROWS = "nonempty_min_rows"

# the dtype each contract type has in the frame GX validates (`rules.gx_frame`), as GX's
# expect_column_values_to_be_of_type names it
GX_TYPES = {
    "int": "int64", "float": "float64", "money": "float64", "str": "str", "json": "str",
    "bool": "bool", "timestamp": "Timestamp", "date": "datetime64",
}


@dataclass(frozen=True)
class Rule:
    """One hand-written expectation of a stream: a GX expectation type, its arguments, whether it
    quarantines rows or blocks the batch, and the rule name shown in quarantine and errors."""

    expectation: str
    kwargs: dict[str, Any]
    level: str = ROW
    rule: str = ""
    notes: str = ""

    @property
    def columns(self) -> list[str]:
        names = [self.kwargs[k] for k in ("column", "column_A", "column_B") if k in self.kwargs]
        return names + list(self.kwargs.get("column_list", []))


@dataclass(frozen=True)
class StreamRules:
    """What a stream's contract cannot say: value sets, ranges, orderings, and which timestamps
    may lie in the future (a promised delivery) or which dates may not (an event's day)."""

    rules: tuple[Rule, ...] = ()
    future_timestamps: tuple[str, ...] = ()  # timestamps legitimately after the extraction
    past_dates: tuple[str, ...] = ()  # dates that name a day something happened: not after today
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# --- rule helpers, for pulse.validation.stream_rules --------------------------------------------
def one_of(column: str, values: list[Any] | tuple[Any, ...], *, level: str = ROW, notes: str = "") -> Rule:
    return Rule("expect_column_values_to_be_in_set", {"column": column, "value_set": list(values)},
                level, "allowed_values", notes)


def between(column: str, minimum: float | None = None, maximum: float | None = None, *, level: str = ROW,
            notes: str = "") -> Rule:
    kwargs: dict[str, Any] = {"column": column}
    if minimum is not None:
        kwargs["min_value"] = minimum
    if maximum is not None:
        kwargs["max_value"] = maximum
    return Rule("expect_column_values_to_be_between", kwargs, level, "range", notes)


def not_before(later: str, earlier: str, *, notes: str = "") -> Rule:
    """`later` is on or after `earlier` wherever both are known (answered after started...)."""
    return Rule("expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": later, "column_B": earlier, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                ROW, "order", notes)


def at_least(larger: str, smaller: str, *, notes: str = "") -> Rule:
    """`larger` >= `smaller` wherever both are known (sessions >= engaged sessions...)."""
    return Rule("expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": larger, "column_B": smaller, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                ROW, "consistency", notes)


def matches(column: str, regex: str, *, notes: str = "") -> Rule:
    return Rule("expect_column_values_to_match_regex", {"column": column, "regex": regex}, ROW, "format", notes)


def not_null(column: str, *, notes: str = "") -> Rule:
    return Rule("expect_column_values_to_not_be_null", {"column": column}, ROW, "not_null", notes)


def unique(column: str, *, notes: str = "") -> Rule:
    return Rule("expect_column_values_to_be_unique", {"column": column}, BATCH, "unique", notes)


# --- generation --------------------------------------------------------------------------------
def suites_dir() -> Path:
    return get_settings().home / "expectations"


def suite_path(stream_key: str) -> Path:
    return suites_dir() / f"{stream_key}.json"


def _expectation(kind: str, kwargs: dict[str, Any], level: str, rule: str, notes: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"level": level, "rule": rule}
    if notes:
        meta["notes"] = notes
    return {"type": kind, "kwargs": kwargs, "meta": meta}


def build_suite(stream: Stream, rules: StreamRules | None = None) -> dict[str, Any]:
    """The suite of `stream`: the contract's expectations, then the stream's own rules."""
    rules = rules or StreamRules()
    names = stream.field_names
    for rule in rules.rules:
        unknown = [c for c in rule.columns if c not in names]
        if unknown:
            raise ValueError(f"{stream.key}: rule {rule.rule or rule.expectation} names unknown column(s) {unknown}")
    for name in (*rules.future_timestamps, *rules.past_dates):
        if name not in names:
            raise ValueError(f"{stream.key}: {name!r} is not a field of the stream")

    expectations = [
        _expectation("expect_table_columns_to_match_set", {"column_set": names, "exact_match": False}, BATCH, "schema",
                     "every contract field is present (extra fields are allowed and dropped)"),
    ]
    expectations += [
        _expectation("expect_column_values_to_be_of_type", {"column": f.name, "type_": GX_TYPES[f.type]}, BATCH,
                     "schema", f"contract type {f.type}")
        for f in stream.fields
    ]
    key = list(stream.primary_key)
    if len(key) == 1:
        expectations.append(_expectation("expect_column_values_to_be_unique", {"column": key[0]}, BATCH,
                                         "primary_key_unique"))
    else:
        expectations.append(_expectation("expect_compound_columns_to_be_unique", {"column_list": key}, BATCH,
                                         "primary_key_unique"))
    expectations += [
        _expectation("expect_column_values_to_not_be_null", {"column": column}, ROW, "primary_key_not_null")
        for column in key
    ]
    expectations += [
        _expectation("expect_column_values_to_not_be_null", {"column": f.name}, ROW, "not_null")
        for f in stream.fields if not f.nullable and f.name not in key
    ]
    expectations += [
        _expectation("expect_column_values_to_be_between",
                     {"column": f.name, "max_value": {"$PARAMETER": LATEST_TIMESTAMP}}, ROW, "not_in_future")
        for f in stream.fields if f.type == "timestamp" and f.name not in rules.future_timestamps
    ]
    expectations += [
        _expectation("expect_column_values_to_be_between",
                     {"column": name, "max_value": {"$PARAMETER": LATEST_DATE}}, ROW, "not_in_future")
        for name in rules.past_dates
    ]
    expectations += [_expectation(r.expectation, r.kwargs, r.level, r.rule or r.expectation, r.notes)
                     for r in rules.rules]
    expectations += [
        _expectation("expect_table_row_count_to_be_between", {"min_value": {"$PARAMETER": NONEMPTY_MIN_ROWS}},
                     BATCH, "empty_batch", "the stream's recent batches all had records: an empty one is suspect"),
        _expectation("expect_table_row_count_to_be_between", {"min_value": {"$PARAMETER": VOLUME_MIN_ROWS}},
                     BATCH, "volume_collapse", "far fewer records than the stream's recent batches"),
    ]
    meta: dict[str, Any] = {"stream": stream.key, "raw_table": stream.raw_table,
                            "primary_key": key, "generated_by": "pulse validation suites --write"}
    if rules.notes:
        meta["notes"] = rules.notes
    return {"name": stream.key, "expectations": expectations, "meta": meta}


def rules_for(stream: Stream) -> StreamRules:
    from pulse.validation.stream_rules import RULES

    return RULES.get(stream.key, StreamRules())


def generate(stream: Stream) -> dict[str, Any]:
    return build_suite(stream, rules_for(stream))


def render(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def load(stream: Stream) -> dict[str, Any]:
    """The stream's suite as stored; a stream without a file (a test's toy source) gets the suite
    its contract and rules generate."""
    path = suite_path(stream.key)
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    log.info("%s: no %s; validating with the suite its contract generates", stream.key, path.name)
    return generate(stream)


def stored_suite_names() -> list[str]:
    return sorted(path.name.removesuffix(".json") for path in suites_dir().glob("*.json"))


def out_of_date(streams: list[Stream]) -> list[str]:
    """Problems between the suite files and the streams: a missing, stale or orphan file."""
    problems = []
    by_key = {stream.key: stream for stream in streams}
    for stream in streams:
        path = suite_path(stream.key)
        if not path.is_file():
            problems.append(f"{stream.key}: no suite file {path.name}")
        elif path.read_text(encoding="utf-8") != render(generate(stream)):
            problems.append(f"{stream.key}: {path.name} differs from its contract and rules")
    problems += [f"{name}: suite file names no stream" for name in stored_suite_names() if name not in by_key]
    return problems


def write(streams: list[Stream]) -> list[Path]:
    """(Re)write the suite file of every stream whose file is missing or differs."""
    suites_dir().mkdir(parents=True, exist_ok=True)
    written = []
    for stream in streams:
        path, text = suite_path(stream.key), render(generate(stream))
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written

