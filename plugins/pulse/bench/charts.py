"""The SQL each Superset chart of `superset_assets/` sends to the warehouse.

A chart's `query_context` (columns, saved metrics, filters, order, row limit, time grain) over its
dataset (a table, or a virtual dataset's SQL as a subquery) becomes the statement Superset's
SQLAlchemy query builder writes for it:

    select <date_trunc(grain, axis)> as <axis>, <columns>, <metric expression> as <metric>
    from (<dataset sql>) as virtual_table
    where <filters> group by <columns> order by <order> limit <row_limit>

Only the shapes the bundle uses are supported (saved metrics; filters `==`, `!=`, `IN`, `NOT IN`,
`TEMPORAL_RANGE` "No filter"; no series limit); anything else raises, naming the chart, so a new
kind of chart cannot be measured with the wrong query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pulse.superset.bundle import ASSETS_DIR

# Superset's time-grain expressions (identical in its DuckDB and PostgreSQL engine specs)
TIME_GRAINS = {"P1D": "day", "P1W": "week", "P1M": "month", "P3M": "quarter", "P1Y": "year"}
SUMMARY_DASHBOARD = "summary.yaml"


class ChartError(ValueError):
    pass


@dataclass(frozen=True)
class Chart:
    name: str  # file name without .yaml
    title: str
    dashboard: str  # dashboard file name
    sql: str
    kpi_id: str | None  # the KPI a chart of one KPI filters on
    grains: tuple[str, ...]  # the `grain` values it filters on


def charts(root: Path = ASSETS_DIR) -> list[Chart]:
    """Every chart placed on a dashboard, with its SQL, in dashboard then chart order."""
    datasets = {d["uuid"]: d for d in _yaml_files(root / "datasets")}
    by_uuid = {c["uuid"]: (path.stem, c) for path, c in _named_yaml_files(root / "charts")}
    found = []
    for path, dashboard in _named_yaml_files(root / "dashboards"):
        for node in dashboard.get("position", {}).values():
            if not isinstance(node, dict) or node.get("type") != "CHART":
                continue
            name, chart = by_uuid[node["meta"]["uuid"]]
            found.append(_chart(name, chart, path.name, datasets[chart["dataset_uuid"]]))
    return found


def _chart(name: str, chart: dict[str, Any], dashboard: str, dataset: dict[str, Any]) -> Chart:
    context = json.loads(chart["query_context"])
    if len(context["queries"]) != 1:
        raise ChartError(f"{name}: {len(context['queries'])} queries; the bench measures charts of one query")
    query = context["queries"][0]
    metrics = {m["metric_name"]: m["expression"] for m in dataset.get("metrics") or []}
    source = f"({dataset['sql'].strip()}) as virtual_table" if dataset.get("sql") else \
        f"{dataset['schema']}.{dataset['table_name']}"
    if query.get("series_limit"):
        raise ChartError(f"{name}: a series limit is not supported by the bench's query builder")

    selected, grouped = [], []
    for column in query.get("columns") or []:
        if isinstance(column, str):
            selected.append(column)
            grouped.append(column)
            continue
        expression = column["sqlExpression"]
        grain = column.get("timeGrain") or query["extras"].get("time_grain_sqla")
        if grain:
            if grain not in TIME_GRAINS:
                raise ChartError(f"{name}: time grain {grain!r} is not supported")
            expression = f"date_trunc('{TIME_GRAINS[grain]}', {expression})"
        selected.append(f"{expression} as {column['label']}")
        grouped.append(expression)
    chosen_metrics = query.get("metrics") or []
    for metric in chosen_metrics:
        if not isinstance(metric, str) or metric not in metrics:
            raise ChartError(f"{name}: metric {metric!r} is not a saved metric of its dataset")
        selected.append(f"{metrics[metric]} as {metric}")

    conditions, kpi_id, grains = [], None, ()
    for condition in query.get("filters") or []:
        clause = _filter(name, condition)
        if clause:
            conditions.append(clause)
        if condition["col"] == "kpi_id" and condition["op"] == "==":
            kpi_id = condition["val"]
        if condition["col"] == "grain" and condition["op"] in ("IN", "=="):
            grains = tuple(condition["val"]) if condition["op"] == "IN" else (condition["val"],)
    if query["extras"].get("where"):
        conditions.append(f"({query['extras']['where']})")
    if query["extras"].get("having"):
        raise ChartError(f"{name}: HAVING is not supported")

    order = []
    for key, ascending in query.get("orderby") or []:
        if not isinstance(key, str):
            raise ChartError(f"{name}: order by {key!r} is not supported")
        order.append(f"{key} {'asc' if ascending else 'desc'}")

    sql = f"select {', '.join(selected)}\nfrom {source}"
    if conditions:
        sql += "\nwhere " + " and ".join(conditions)
    if chosen_metrics and grouped:
        sql += "\ngroup by " + ", ".join(grouped)
    if order:
        sql += "\norder by " + ", ".join(order)
    sql += f"\nlimit {int(query['row_limit'])}"
    return Chart(name, chart["slice_name"], dashboard, sql, kpi_id, grains)


def _filter(name: str, condition: dict[str, Any]) -> str | None:
    column, op, value = condition["col"], condition["op"], condition.get("val")
    if op == "TEMPORAL_RANGE":
        if value != "No filter":
            raise ChartError(f"{name}: time range {value!r} is not supported")
        return None
    if op in ("==", "!="):
        return f"{column} {'=' if op == '==' else '!='} {_literal(value)}"
    if op in ("IN", "NOT IN"):
        return f"{column} {op.lower()} ({', '.join(_literal(v) for v in value)})"
    raise ChartError(f"{name}: filter operator {op!r} is not supported")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _yaml_files(folder: Path) -> list[dict[str, Any]]:
    return [document for _, document in _named_yaml_files(folder)]


def _named_yaml_files(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in sorted(folder.rglob("*.yaml"))]
