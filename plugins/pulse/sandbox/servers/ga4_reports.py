"""`runReport` of the sandbox GA4 property: request checks with GA4's error messages, date ranges,
dimension and metric filters, aggregation per fact, ordering, limit/offset paging, and values
formatted as GA4 formats them (every value a string; dates `YYYYMMDD`, hours `YYYYMMDDHH`).

Request bodies arrive as the official client's REST transport writes them: proto3 JSON with
camelCase names, 64-bit integers as strings and enums as numbers (`$alt=json;enum-encoding=int`);
hand-written requests use enum names. Both are accepted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from pulse.sandbox.servers.ga4_facts import DAY, OTHER, Facts
from pulse.sandbox.servers.ga4_schema import (
    ADS,
    DATE_RANGE,
    DEFAULT_LIMIT,
    DIMENSIONS,
    EVENTS,
    MAX_DATE_RANGES,
    MAX_DIMENSIONS,
    MAX_LIMIT,
    MAX_METRICS,
    METRICS,
    SESSIONS,
    TRANSACTIONS,
    USER_METRICS,
)

SCHEMA_PAGE = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
EARLIEST_DATE = dt.date(2015, 8, 14)  # GA4 refuses dates before this

MATCH_TYPES = {1: "EXACT", 2: "BEGINS_WITH", 3: "ENDS_WITH", 4: "CONTAINS", 5: "FULL_REGEXP", 6: "PARTIAL_REGEXP"}
OPERATIONS = {1: "EQUAL", 2: "LESS_THAN", 3: "LESS_THAN_OR_EQUAL", 4: "GREATER_THAN", 5: "GREATER_THAN_OR_EQUAL"}
ORDER_TYPES = {1: "ALPHANUMERIC", 2: "CASE_INSENSITIVE_ALPHANUMERIC", 3: "NUMERIC"}


class ApiError(Exception):
    """An error answer in Google's JSON error shape."""

    def __init__(self, code: int, status: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code, self.status, self.message, self.headers = code, status, message, headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


@dataclass(frozen=True)
class Thresholds:
    """Google signals on: rows with fewer users than `min_users` are withheld from reports
    that count users, and such reports say they are subject to thresholding."""

    google_signals: bool = False
    min_users: int = 10


@dataclass(frozen=True)
class Report:
    """A computed report, ordered, before paging."""

    table: pd.DataFrame  # dimension columns, then metric values (money in cents)
    dimensions: list[str]
    metrics: list[str]
    metadata: dict[str, Any]
    rows_scanned: int  # records read, for the quota's token cost
    thresholded: bool

    def page(self, offset: int, limit: int) -> dict[str, Any]:
        """The response body for rows offset..offset+limit (without propertyQuota: the server adds it)."""
        response: dict[str, Any] = {
            "dimensionHeaders": [{"name": name} for name in self.dimensions],
            "metricHeaders": [{"name": name, "type": METRICS[name].type} for name in self.metrics],
        }
        rows = _format_rows(self.table.iloc[offset: offset + limit], self.dimensions, self.metrics)
        if rows:
            response["rows"] = rows
        if len(self.table):
            response["rowCount"] = len(self.table)  # proto3 JSON leaves out zero values
        response["metadata"] = dict(self.metadata)
        response["kind"] = "analyticsData#runReport"
        return response


@dataclass(frozen=True)
class _DateRange:
    start: int  # YYYYMMDD
    end: int
    name: str


def paging(body: dict[str, Any]) -> tuple[int, int]:
    """offset and limit of a request (the API's default limit is 10,000 rows)."""
    offset, limit = _integer(body.get("offset"), "offset", 0), _integer(body.get("limit"), "limit", DEFAULT_LIMIT)
    if limit < 0 or offset < 0:
        raise invalid("limit and offset must be positive.")
    if limit > MAX_LIMIT:
        raise invalid(f"limit must be at most {MAX_LIMIT}.")
    return offset, limit or DEFAULT_LIMIT


def report_key(body: dict[str, Any]) -> str:
    """What makes two requests the same report, whatever page they ask for."""
    ignored = {"offset", "limit", "returnPropertyQuota", "property"}
    return json.dumps({k: v for k, v in body.items() if k not in ignored}, sort_keys=True)


def compute_report(facts: Facts, body: dict[str, Any], *, today: dt.date, currency: str,
                   thresholds: Thresholds = Thresholds()) -> Report:
    dimensions = _names(body.get("dimensions"), "dimension")
    metrics = _names(body.get("metrics"), "metric")
    _check_request(body, dimensions, metrics, currency)
    ranges = _date_ranges(body.get("dateRanges"), today)
    by_range = len(ranges) > 1 or DATE_RANGE in dimensions
    if len(ranges) > 1 and DATE_RANGE not in dimensions:
        dimensions = [*dimensions, DATE_RANGE]  # GA4 adds the range's name to every row
    plain = [d for d in dimensions if d != DATE_RANGE]

    dimension_filter = body.get("dimensionFilter")
    filter_fields = _filter_fields(dimension_filter)
    for field in filter_fields:
        if field not in DIMENSIONS:
            raise invalid(f"Field {field} is not a valid dimension. For a list of valid dimensions and metrics, "
                          f"see {SCHEMA_PAGE} ")
    needed = sorted({METRICS[m].fact for m in metrics})
    for fact in needed:
        for field in [*plain, *filter_fields]:
            if fact not in DIMENSIONS[field].facts:
                raise invalid(
                    f"Please remove {field} to make the request compatible. The request's dimensions & metrics "
                    f"are incompatible. To learn more, see https://ga-dev-tools.web.app/ga4/dimensions-metrics-explorer/"
                )

    keys = [*plain, *([DATE_RANGE] if by_range else [])]
    scanned = 0
    tables = []
    for fact in needed:
        frame = facts[fact]
        if dimension_filter:
            frame = frame[_mask(frame, dimension_filter)]
        parts = []
        for date_range in ranges:
            within = frame[(frame[DAY] >= date_range.start) & (frame[DAY] <= date_range.end)]
            scanned += len(within)
            part = _aggregate(fact, within, plain, metrics)
            if by_range:
                part[DATE_RANGE] = date_range.name
            parts.append(part)
        tables.append(pd.concat(parts, ignore_index=True))
    table = reduce(lambda left, right: left.merge(right, on=keys, how="outer") if keys else
                   pd.concat([left, right], axis=1), tables)
    values = _metric_values(table, metrics)
    if not _flag(body.get("keepEmptyRows")):
        keep = (values[metrics] != 0).any(axis=1)
        table, values = table[keep.to_numpy()], values[keep.to_numpy()]

    thresholded = thresholds.google_signals and bool(USER_METRICS & set(metrics))
    if thresholded:
        users = [m for m in metrics if m in USER_METRICS]
        keep = (values[users] >= thresholds.min_users).all(axis=1).to_numpy()
        table, values = table[keep], values[keep]
    if body.get("metricFilter"):
        for field in _filter_fields(body["metricFilter"]):
            if field not in metrics:
                raise invalid(f"Field {field} in metricFilter must be one of the request's metrics.")
        keep = _mask(values, body["metricFilter"]).to_numpy()
        table, values = table[keep], values[keep]

    result = pd.concat([table[keys].reset_index(drop=True), values.reset_index(drop=True)], axis=1)
    result = _order(result, body.get("orderBys") or [], keys, metrics)
    metadata: dict[str, Any] = {"currencyCode": currency, "timeZone": facts.time_zone}
    if thresholded:
        metadata["subjectToThresholding"] = True
    if plain and (result[plain] == OTHER).any(axis=None):
        metadata["dataLossFromOtherRow"] = True
    return Report(result, keys, metrics, metadata, scanned, thresholded)


# --- request checks ----------------------------------------------------------------------------
def _names(items: Any, kind: str) -> list[str]:
    names = [item.get("name", "") for item in items or []]
    catalogue = DIMENSIONS if kind == "dimension" else METRICS
    for name in names:
        if name not in catalogue and not (kind == "dimension" and name == DATE_RANGE):
            raise invalid(f"Field {name} is not a valid {kind}. For a list of valid dimensions and metrics, "
                          f"see {SCHEMA_PAGE} ")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise invalid(f"Duplicate {kind} names: {duplicated[0]}.")
    return names


def _check_request(body: dict[str, Any], dimensions: list[str], metrics: list[str], currency: str) -> None:
    if not metrics:
        raise invalid("A report must request at least one metric.")
    if len(dimensions) > MAX_DIMENSIONS:
        raise invalid(f"Requests are limited to {MAX_DIMENSIONS} dimensions.")
    if len(metrics) > MAX_METRICS:
        raise invalid(f"Requests are limited to {MAX_METRICS} metrics.")
    for unsupported in ("cohortSpec", "comparisons", "metricAggregations"):
        if body.get(unsupported):
            raise invalid(f"{unsupported} is not served by the Pulse sandbox property.")
    if body.get("currencyCode") and body["currencyCode"] != currency:
        raise invalid(f"The sandbox property reports in {currency} only.")


def _date_ranges(items: Any, today: dt.date) -> list[_DateRange]:
    items = items or []
    if not items:
        raise invalid("Must specify at least one date range.")
    if len(items) > MAX_DATE_RANGES:
        raise invalid(f"Requests are limited to {MAX_DATE_RANGES} date ranges.")
    ranges = []
    for index, item in enumerate(items):
        start = _resolve_date(item.get("startDate", ""), today)
        end = _resolve_date(item.get("endDate", ""), today)
        if start > end:
            raise invalid(f"Invalid date range: the start date {start} is after the end date {end}.")
        name = item.get("name") or f"date_range_{index}"
        if item.get("name") and re.match(r"^(date_range_|RESERVED_)", item["name"]):
            raise invalid(f"Date range name {item['name']} cannot begin with date_range_ or RESERVED_.")
        ranges.append(_DateRange(_as_int(start), _as_int(end), name))
    return ranges


def _resolve_date(text: str, today: dt.date) -> dt.date:
    """`YYYY-MM-DD`, `today`, `yesterday` or `NdaysAgo`, the relative ones in the property's time zone."""
    if text == "today":
        day = today
    elif text == "yesterday":
        day = today - dt.timedelta(days=1)
    elif match := re.fullmatch(r"(\d+)daysAgo", text):
        day = today - dt.timedelta(days=int(match.group(1)))
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError as error:
            raise invalid(f"Invalid date {text}: {error}.") from error
    else:
        raise invalid(f"Invalid date {text!r}: use YYYY-MM-DD, NdaysAgo, yesterday, or today.")
    if day < EARLIEST_DATE:
        raise invalid(f"Date {day} is before {EARLIEST_DATE}, the earliest date GA4 reports on.")
    return day


def _as_int(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _integer(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise invalid(f"Invalid value for {name}: {value!r}.") from error


def _flag(value: Any) -> bool:
    return value is True or value == "true"


# --- filters -----------------------------------------------------------------------------------
def _filter_fields(expression: dict[str, Any] | None) -> list[str]:
    if not expression:
        return []
    if "filter" in expression:
        return [expression["filter"].get("fieldName", "")]
    if "notExpression" in expression:
        return _filter_fields(expression["notExpression"])
    group = expression.get("andGroup") or expression.get("orGroup") or {}
    return [field for item in group.get("expressions", []) for field in _filter_fields(item)]


def _mask(frame: pd.DataFrame, expression: dict[str, Any]) -> pd.Series:
    if "andGroup" in expression:
        masks = [_mask(frame, item) for item in expression["andGroup"].get("expressions", [])]
        return reduce(lambda a, b: a & b, masks, pd.Series(True, index=frame.index))
    if "orGroup" in expression:
        masks = [_mask(frame, item) for item in expression["orGroup"].get("expressions", [])]
        return reduce(lambda a, b: a | b, masks, pd.Series(False, index=frame.index))
    if "notExpression" in expression:
        return ~_mask(frame, expression["notExpression"])
    if "filter" not in expression:
        raise invalid("A filter expression needs one of andGroup, orGroup, notExpression or filter.")
    spec = expression["filter"]
    values = frame[spec["fieldName"]]
    if "stringFilter" in spec:
        return _per_value(values, lambda texts: _string_match(texts, spec["stringFilter"]))
    if "inListFilter" in spec:
        listed = spec["inListFilter"].get("values", [])
        if spec["inListFilter"].get("caseSensitive"):
            return _per_value(values, lambda texts: texts.isin(listed))
        lowered = [value.lower() for value in listed]
        return _per_value(values, lambda texts: texts.str.lower().isin(lowered))
    if "emptyFilter" in spec:
        return _per_value(values, lambda texts: texts.isin(["", "(not set)"]))
    if "numericFilter" in spec:
        operation = _enum(spec["numericFilter"].get("operation"), OPERATIONS, "operation")
        bound = _number(spec["numericFilter"].get("value", {}))
        compare = {"EQUAL": np.equal, "LESS_THAN": np.less, "LESS_THAN_OR_EQUAL": np.less_equal,
                   "GREATER_THAN": np.greater, "GREATER_THAN_OR_EQUAL": np.greater_equal}[operation]
        return _per_value(values, lambda texts: pd.Series(compare(_numbers(texts), bound), index=texts.index))
    if "betweenFilter" in spec:
        low, high = _number(spec["betweenFilter"].get("fromValue", {})), _number(spec["betweenFilter"].get("toValue", {}))
        return _per_value(values, lambda texts: (_numbers(texts) >= low) & (_numbers(texts) <= high))
    raise invalid(f"Filter on {spec['fieldName']} needs stringFilter, inListFilter, numericFilter, betweenFilter "
                  f"or emptyFilter.")


def _per_value(values: pd.Series, test) -> pd.Series:
    """`test` (on a Series of strings) applied to a column; on a categorical, once per category."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = pd.Series(np.asarray(values.cat.categories, dtype=object)).astype(str)
        hits = np.asarray(test(categories), dtype=bool)
        codes = values.cat.codes.to_numpy()
        return pd.Series(np.where(codes >= 0, hits[codes], False), index=values.index)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.Series(np.asarray(test(values.astype(str)), dtype=bool), index=values.index)
    return pd.Series(np.asarray(test(values.astype(object).astype(str)), dtype=bool), index=values.index)


def _numbers(texts: pd.Series) -> pd.Series:
    return pd.to_numeric(texts, errors="coerce").fillna(np.nan).astype("float64")


def _string_match(values: pd.Series, spec: dict[str, Any]) -> pd.Series:
    match_type = _enum(spec.get("matchType", "EXACT"), MATCH_TYPES, "matchType")
    value = spec.get("value", "")
    sensitive = bool(spec.get("caseSensitive"))
    if not sensitive and match_type not in {"FULL_REGEXP", "PARTIAL_REGEXP"}:
        values, value = values.str.lower(), value.lower()
    if match_type == "EXACT":
        return values == value
    if match_type == "BEGINS_WITH":
        return values.str.startswith(value)
    if match_type == "ENDS_WITH":
        return values.str.endswith(value)
    if match_type == "CONTAINS":
        return values.str.contains(value, regex=False)
    flags = 0 if sensitive else re.IGNORECASE
    try:
        pattern = re.compile(value, flags)
    except re.error as error:
        raise invalid(f"Invalid regular expression {value!r}: {error}.") from error
    if match_type == "FULL_REGEXP":
        return values.map(lambda v: pattern.fullmatch(v) is not None).astype(bool)
    return values.map(lambda v: pattern.search(v) is not None).astype(bool)


def _enum(value: Any, names: dict[int, str], what: str) -> str:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        value = names.get(int(value), "")
    if value not in names.values():
        raise invalid(f"Invalid {what}: {value!r}.")
    return value


def _number(value: dict[str, Any]) -> float:
    if "int64Value" in value:
        return float(int(value["int64Value"]))
    if "doubleValue" in value:
        return float(value["doubleValue"])
    raise invalid("A numeric filter needs int64Value or doubleValue.")


# --- aggregation -------------------------------------------------------------------------------
def _aggregate(fact: str, frame: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """One row per key combination: the fact's additive sums, and the distinct user counts asked for."""
    if not keys:
        frame = frame.assign(_all=0)
        keys = ["_all"]
    grouped = frame.groupby(keys, sort=False, observed=True)
    columns: dict[str, pd.Series] = {}
    if fact == SESSIONS:
        columns["sessions"] = grouped.size()
        columns["engagedSessions"] = grouped["_engaged"].sum()
        columns["screenPageViews"] = grouped["_page_views"].sum()
        columns["_duration"] = grouped["_duration"].sum()
        columns["userEngagementDuration"] = grouped["_engagement"].sum()
        for metric, subset in (("totalUsers", None), ("newUsers", "_new"), ("activeUsers", "_active")):
            if metric in metrics:
                users = frame if subset is None else frame[frame[subset]]
                columns[metric] = users.groupby(keys, sort=False, observed=True)["_user"].nunique()
    elif fact == EVENTS:
        columns["eventCount"] = grouped.size()
        columns["keyEvents"] = grouped["_key"].sum()
    elif fact == TRANSACTIONS:
        columns["transactions"] = grouped.size()
        columns["purchaseRevenue"] = grouped["_cents"].sum()
    elif fact == ADS:
        columns["advertiserAdCost"] = grouped["_cost_cents"].sum()
        columns["advertiserAdImpressions"] = grouped["_impressions"].sum()
        columns["advertiserAdClicks"] = grouped["_clicks"].sum()
    index = columns[next(iter(columns))].index
    table = pd.DataFrame({name: series.reindex(index, fill_value=0) for name, series in columns.items()})
    table = table.reset_index()
    for key in keys:  # plain strings from here on: aggregated tables are small, and merge across facts
        table[key] = table[key].astype(object).astype(str)
    return table.drop(columns=["_all"]) if "_all" in table.columns else table


def _metric_values(table: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """The requested metrics in GA4's units (money still in cents)."""
    def column(name: str) -> pd.Series:
        return table[name].fillna(0) if name in table.columns else pd.Series(0, index=table.index)

    values = {}
    for metric in metrics:
        if metric == "bounceRate":
            sessions = column("sessions").astype("float64")
            values[metric] = np.where(sessions > 0, (sessions - column("engagedSessions")) / sessions.where(sessions > 0, 1), 0.0)
        elif metric == "averageSessionDuration":
            sessions = column("sessions").astype("float64")
            values[metric] = np.where(sessions > 0, column("_duration") / sessions.where(sessions > 0, 1), 0.0)
        else:
            values[metric] = column(metric).astype("int64").to_numpy()
    return pd.DataFrame(values, index=table.index)


def _order(result: pd.DataFrame, order_bys: list[dict[str, Any]], keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """orderBys first, then every dimension ascending, so pages never overlap."""
    sort_columns, ascending, temporary = [], [], {}
    for number, order in enumerate(order_bys):
        name = f"_order{number}"
        if "metric" in order:
            metric = order["metric"].get("metricName", "")
            if metric not in metrics:
                raise invalid(f"orderBys metric {metric} must be one of the request's metrics.")
            temporary[name] = result[metric]
        elif "dimension" in order:
            dimension = order["dimension"].get("dimensionName", "")
            if dimension not in keys:
                raise invalid(f"orderBys dimension {dimension} must be one of the request's dimensions.")
            order_type = _enum(order["dimension"].get("orderType", "ALPHANUMERIC"), ORDER_TYPES, "orderType")
            values = result[dimension].astype(str)
            if order_type == "CASE_INSENSITIVE_ALPHANUMERIC":
                values = values.str.lower()
            elif order_type == "NUMERIC":
                values = pd.to_numeric(values, errors="coerce")
            temporary[name] = values
        else:
            raise invalid("An orderBy needs a metric or a dimension.")
        sort_columns.append(name)
        ascending.append(not _flag(order.get("desc")))
    if not sort_columns and not keys:
        return result
    ordered = result.assign(**temporary) if temporary else result
    ordered = ordered.sort_values([*sort_columns, *keys], ascending=[*ascending, *[True] * len(keys)], kind="stable")
    return ordered.drop(columns=list(temporary)).reset_index(drop=True)


# --- formatting --------------------------------------------------------------------------------
def _format_rows(page: pd.DataFrame, keys: list[str], metrics: list[str]) -> list[dict[str, Any]]:
    dimension_values = [page[key].astype(str).tolist() for key in keys]
    metric_values = [_format_metric(page[metric], METRICS[metric].type, metric) for metric in metrics]
    rows = []
    for position in range(len(page)):
        rows.append({
            "dimensionValues": [{"value": values[position]} for values in dimension_values],
            "metricValues": [{"value": values[position]} for values in metric_values],
        })
    return rows


def _format_metric(values: pd.Series, metric_type: str, name: str) -> list[str]:
    if metric_type == "TYPE_CURRENCY":  # held in cents: exact
        return [_money(int(cents)) for cents in values]
    if metric_type == "TYPE_FLOAT" or name == "averageSessionDuration":
        return [repr(float(value)) if value % 1 else str(int(value)) for value in values]
    return [str(int(value)) for value in values]


def _money(cents: int) -> str:
    text = f"{cents / 100:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
