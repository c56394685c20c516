"""Chart definitions: Superset 6.1 form data (`params`) and a saved query context per chart.

The form data is what the dashboard renders; Superset's frontend builds its queries from it plus
the dashboard's native filters. The saved query context is what `GET /api/v1/chart/{id}/data/`
and CSV reports run, so every chart carries one, built here from the same filters with the
dashboards' default filter values (grain `day`, or the KPI's finest grain; every slice `all`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pulse.superset.assets.datasets import DATE, Dataset
from pulse.superset.assets.ids import asset_uuid
from pulse.superset.bundle import EXPORT_VERSION, slug

NO_TIME_FILTER = "No filter"
# Replaced by the dataset's id when Superset imports the chart (update_chart_config_dataset).
DATASOURCE_PLACEHOLDER = {"id": 0, "type": "table"}


def simple_filter(column: str, operator: str, value: Any) -> dict[str, Any]:
    return {"clause": "WHERE", "comparator": value, "expressionType": "SIMPLE", "operator": operator,
            "subject": column}


def time_filter(column: str) -> dict[str, Any]:
    return simple_filter(column, "TEMPORAL_RANGE", NO_TIME_FILTER)


def _query_filter(adhoc: dict[str, Any]) -> dict[str, Any]:
    return {"col": adhoc["subject"], "op": adhoc["operator"], "val": adhoc["comparator"]}


def _timestamp_format(dataset: Dataset, columns: list[str]) -> str:
    """Dates without a time of day when every temporal column shown is a date."""
    temporal = [dataset.column(name) for name in columns if dataset.has_column(name)]
    temporal = [column for column in temporal if column.is_dttm or column.type == DATE]
    return "%Y-%m-%d" if all(column.type == DATE for column in temporal) else "%Y-%m-%d %H:%M"


def axis_column(column: str, time_grain: str = "P1D") -> dict[str, Any]:
    return {"columnType": "BASE_AXIS", "expressionType": "SQL", "label": column, "sqlExpression": column,
            "timeGrain": time_grain}


@dataclass
class Chart:
    key: str  # stable name; the uuid derives from it
    title: str
    dataset: Dataset
    params: dict[str, Any]
    query: dict[str, Any]  # the query object of the saved query context (filters added on build)
    default_filters: list[dict[str, Any]] = field(default_factory=list)  # dashboard defaults, as adhoc filters
    kpi_ids: tuple[str, ...] = ()
    width: int = 4
    height: int = 50
    # dashboard filter columns this chart must not receive (it groups by them, or fixes them)
    unfiltered_columns: frozenset[str] = frozenset()
    description: str | None = None

    def __post_init__(self) -> None:
        self.params.setdefault("annotation_layers", [])  # Superset's import adds it: commit it too

    @property
    def viz_type(self) -> str:
        return self.params["viz_type"]

    @property
    def uuid(self) -> str:
        return asset_uuid("chart", self.key)

    @property
    def file_name(self) -> str:
        return f"charts/{slug(self.key)}.yaml"

    def query_context(self) -> dict[str, Any]:
        adhoc = [*self.params.get("adhoc_filters", []), *self.default_filters]
        query = {
            "annotation_layers": [], "applied_time_extras": {}, "custom_form_data": {}, "custom_params": {},
            "extras": {"having": "", "where": "", **({"time_grain_sqla": self.params["time_grain_sqla"]}
                                                    if "time_grain_sqla" in self.params else {})},
            "filters": [_query_filter(item) for item in adhoc],
            "order_desc": True, "row_limit": self.params.get("row_limit", 10000), "series_limit": 0,
            "time_offsets": [], "url_params": {},
            **self.query,
        }
        return {
            "datasource": dict(DATASOURCE_PLACEHOLDER),
            "force": False,
            # Superset's frontend saves the whole form data here; the API needs only these.
            "form_data": {"datasource": "0__table", "viz_type": self.viz_type},
            "queries": [query],
            "result_format": "json",
            "result_type": "full",
        }

    def to_yaml(self) -> dict[str, Any]:
        return {
            "cache_timeout": None, "certification_details": None, "certified_by": None,
            "dataset_uuid": self.dataset.uuid, "description": self.description, "params": self.params,
            "query_context": dump_query_context(self.query_context()), "slice_name": self.title,
            "uuid": self.uuid, "version": EXPORT_VERSION, "viz_type": self.viz_type,
        }


def dump_query_context(query_context: dict[str, Any]) -> str:
    """The committed text of a query context: indented, sorted JSON (readable in diffs)."""
    return json.dumps(query_context, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- builders per visualisation ------------------------------------------------------------------
def timeseries(key: str, title: str, dataset: Dataset, metrics: list[str], *, filters: list[dict[str, Any]],
               default_filters: list[dict[str, Any]], y_format: str, bar: bool = False, stack: bool = False,
               groupby: str | None = None, time_column: str | None = None, **chart: Any) -> Chart:
    time_column = time_column or dataset.main_dttm_col
    viz = "echarts_timeseries_bar" if bar else "echarts_timeseries_line"
    params = {
        "adhoc_filters": [time_filter(time_column), *filters], "annotation_layers": [],
        "color_scheme": "supersetColors", "comparison_type": "values", "extra_form_data": {},
        "groupby": [groupby] if groupby else [], "metrics": metrics,
        "only_total": True, "order_desc": True, "rich_tooltip": True, "row_limit": 10000,
        "show_legend": bool(groupby or len(metrics) > 1), "legendOrientation": "top", "legendType": "scroll",
        "stack": "Stack" if stack else None, "time_grain_sqla": "P1D", "tooltipTimeFormat": "smart_date",
        "truncate_metric": True, "viz_type": viz, "x_axis": time_column, "x_axis_sort_asc": True,
        "x_axis_time_format": "smart_date", "y_axis_format": y_format, "zoomable": False,
    }
    if groupby:
        params["limit"] = 12  # series shown: the largest twelve slice values
    query = {
        "columns": [axis_column(time_column), *([groupby] if groupby else [])],
        "metrics": metrics, "orderby": [[metrics[0], False]], "series_columns": [groupby] if groupby else [],
    }
    return Chart(key, title, dataset, params, query, default_filters, **chart)


def big_number_trend(key: str, title: str, dataset: Dataset, metric: str, *, filters: list[dict[str, Any]],
                     default_filters: list[dict[str, Any]], y_format: str, **chart: Any) -> Chart:
    time_column = dataset.main_dttm_col
    params = {
        "adhoc_filters": [time_filter(time_column), *filters], "color_picker": {"a": 1, "b": 135, "g": 122, "r": 0},
        "compare_lag": 1, "compare_suffix": "vs previous period", "extra_form_data": {}, "header_font_size": 0.4,
        "metric": metric, "rolling_type": "None", "show_timestamp": True, "show_trend_line": True,
        "start_y_axis_at_zero": False, "subheader_font_size": 0.15, "time_format": "smart_date",
        "time_grain_sqla": "P1D", "viz_type": "big_number", "x_axis": time_column, "y_axis_format": y_format,
    }
    query = {"columns": [axis_column(time_column)], "metrics": [metric], "orderby": [], "series_columns": []}
    return Chart(key, title, dataset, params, query, default_filters, **chart)


def table(key: str, title: str, dataset: Dataset, columns: list[str], *, order_by: list[tuple[str, bool]],
          filters: list[dict[str, Any]], default_filters: list[dict[str, Any]] | None = None,
          column_formats: dict[str, str] | None = None, labels: dict[str, str] | None = None,
          render_html: bool = False, row_limit: int = 1000, **chart: Any) -> Chart:
    """A raw-records table (no aggregation). `render_html` shows HTML cells (sanitized) as HTML."""
    time_filters = [time_filter(dataset.main_dttm_col)] if dataset.main_dttm_col else []
    config: dict[str, dict[str, Any]] = {}
    for name, fmt in (column_formats or {}).items():
        config.setdefault(name, {})["d3NumberFormat"] = fmt
    for name, label in (labels or {}).items():
        config.setdefault(name, {})["customColumnName"] = label
    params = {
        "adhoc_filters": [*time_filters, *filters], "all_columns": columns, "allow_render_html": render_html,
        "column_config": config,
        "conditional_formatting": [], "extra_form_data": {}, "include_search": True,
        "order_by_cols": [json.dumps([name, ascending]) for name, ascending in order_by], "page_length": 20,
        "query_mode": "raw", "row_limit": row_limit, "server_pagination": False, "show_cell_bars": False,
        "table_timestamp_format": _timestamp_format(dataset, columns), "viz_type": "table",
    }
    # no `metrics` key: with metrics (even none) Superset groups by every column
    query = {"columns": columns, "orderby": [[name, ascending] for name, ascending in order_by]}
    return Chart(key, title, dataset, params, query, list(default_filters or []), **chart)


def aggregate_table(key: str, title: str, dataset: Dataset, groupby: list[str], metrics: list[str], *,
                    filters: list[dict[str, Any]], **chart: Any) -> Chart:
    time_filters = [time_filter(dataset.main_dttm_col)] if dataset.main_dttm_col else []
    params = {
        "adhoc_filters": [*time_filters, *filters], "conditional_formatting": [], "extra_form_data": {},
        "groupby": groupby, "include_search": True, "metrics": metrics, "order_desc": True, "page_length": 20,
        "query_mode": "aggregate", "row_limit": 1000, "server_pagination": False, "show_cell_bars": True,
        "table_timestamp_format": "smart_date", "viz_type": "table",
    }
    query = {"columns": groupby, "metrics": metrics, "orderby": [[metrics[0], False]]}
    return Chart(key, title, dataset, params, query, [], **chart)


def heatmap(key: str, title: str, dataset: Dataset, x: str, y: str, metric: str, *,
            filters: list[dict[str, Any]], default_filters: list[dict[str, Any]], **chart: Any) -> Chart:
    params = {
        "adhoc_filters": [time_filter(dataset.main_dttm_col), *filters], "bottom_margin": "auto",
        "extra_form_data": {}, "groupby": y, "left_margin": "auto", "legend_type": "continuous",
        "linear_color_scheme": "blue_white_yellow", "metric": metric, "normalize_across": "heatmap",
        "row_limit": 10000, "show_legend": True, "show_percentage": False, "show_values": False,
        "sort_x_axis": "alpha_asc", "sort_y_axis": "alpha_asc", "value_bounds": [None, None],
        "viz_type": "heatmap_v2", "x_axis": x, "xscale_interval": -1, "y_axis_format": "SMART_NUMBER",
        "yscale_interval": -1,
    }
    query = {"columns": [x, y], "metrics": [metric], "orderby": [[metric, False]]}
    return Chart(key, title, dataset, params, query, default_filters, **chart)
