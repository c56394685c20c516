"""Superset datasets on the KPI layer and the data-health tables (docs/data-contracts.md §4-§5).

`kpi_values_by_slice` is the one dataset every KPI chart reads: kpi.kpi_values with one column
per registry slice, holding the slice value on that slice's rows and `all` elsewhere. A
dashboard's slice filters (default `all`) then pick exactly one row per period: the whole
company, or one value of one slice. Its metrics are ratio-safe: a ratio over several rows is
sum(numerator) / sum(denominator), never a mean of ratios; distinct counts and medians are
only read at their own grain (one row per period), through the `grain` filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from pulse.kpi.registry import Kpi, Registry
from pulse.superset.assets.ids import asset_uuid
from pulse.superset.bundle import EXPORT_VERSION, slug

DATE, TEXT, FLOAT, INT, BOOL = "DATE", "VARCHAR", "DOUBLE", "BIGINT", "BOOLEAN"
MONEY = "DECIMAL(18,2)"
TIMESTAMP = "TIMESTAMP WITH TIME ZONE"

# metric per KPI kind (registry kinds)
RATIO_METRIC, SUM_METRIC, VALUE_METRIC = "kpi_ratio", "kpi_sum", "kpi_value"
METRIC_OF_KIND = {
    "ratio": RATIO_METRIC, "share": RATIO_METRIC, "average": RATIO_METRIC,
    "sum": SUM_METRIC, "count": SUM_METRIC,
    "distinct": VALUE_METRIC, "median": VALUE_METRIC, "min": VALUE_METRIC, "max": VALUE_METRIC,
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    is_dttm: bool = False
    expression: str | None = None
    description: str | None = None
    verbose_name: str | None = None

    def to_yaml(self) -> dict[str, Any]:
        return {
            "advanced_data_type": None, "column_name": self.name, "datetime_format": None,
            "description": self.description, "expression": self.expression, "extra": None,
            "filterable": True, "groupby": True, "is_active": True, "is_dttm": self.is_dttm,
            "python_date_format": None, "type": self.type, "verbose_name": self.verbose_name,
        }


@dataclass(frozen=True)
class Metric:
    name: str
    expression: str
    description: str | None = None
    verbose_name: str | None = None

    def to_yaml(self) -> dict[str, Any]:
        return {
            "currency": None, "d3format": None, "description": self.description,
            "expression": self.expression, "extra": None, "metric_name": self.name, "metric_type": None,
            "verbose_name": self.verbose_name, "warning_text": None,
        }


@dataclass(frozen=True)
class Dataset:
    name: str  # Superset's table_name: the physical table, or the virtual dataset's name
    schema: str
    columns: tuple[Column, ...]
    description: str
    sql: str | None = None  # virtual dataset when set
    main_dttm_col: str | None = None
    metrics: tuple[Metric, ...] = ()
    # columns that hold a reseller's name: row-level security for resellers filters on them
    reseller_column: str | None = None

    @property
    def uuid(self) -> str:
        return asset_uuid("dataset", self.name)

    @property
    def file_name(self) -> str:
        from pulse.superset.environment import WAREHOUSE_DATABASE_NAME

        return f"datasets/{slug(WAREHOUSE_DATABASE_NAME)}/{self.name}.yaml"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"dataset {self.name} has no column {name!r}")

    def has_column(self, name: str) -> bool:
        return any(column.name == name for column in self.columns)

    def to_yaml(self, database_uuid: str) -> dict[str, Any]:
        return {
            "always_filter_main_dttm": False, "cache_timeout": None, "catalog": None,
            "columns": [column.to_yaml() for column in sorted(self.columns, key=lambda c: c.name)],
            "currency_code_column": None, "database_uuid": database_uuid, "default_endpoint": None,
            "description": self.description, "extra": None, "fetch_values_predicate": None,
            "filter_select_enabled": True, "folders": None, "main_dttm_col": self.main_dttm_col,
            "metrics": [metric.to_yaml() for metric in sorted(self.metrics, key=lambda m: m.name)],
            "normalize_columns": False, "offset": 0, "params": None, "schema": self.schema,
            "sql": self.sql, "table_name": self.name, "template_params": None, "uuid": self.uuid,
            "version": EXPORT_VERSION,
        }


def _sql(name: str) -> str:
    return resources.files("pulse.superset.assets").joinpath("sql", name).read_text(encoding="utf-8")


KPI_METRICS = (
    Metric(RATIO_METRIC, "sum(numerator) / nullif(sum(denominator), 0)",
           "Ratio, share or average KPIs: summed numerators over summed denominators."),
    Metric(SUM_METRIC, "sum(value)", "Sum and count KPIs: additive over periods and slice values."),
    Metric(VALUE_METRIC, "max(value)",
           "Distinct counts, medians, min and max: not additive, read one row per period at its own grain."),
)
KPI_VALUE_COLUMNS = (
    Column("period_start", DATE, is_dttm=True, description="First business day of the period."),
    Column("grain", TEXT, description="day, week (ISO), month or quarter."),
    Column("kpi_id", TEXT, description="KPI id from kpis.yml."),
    Column("slice_name", TEXT), Column("slice_value", TEXT),
    Column("numerator", FLOAT), Column("denominator", FLOAT), Column("value", FLOAT),
)


def kpi_values_by_slice(registry: Registry) -> Dataset:
    slice_names = sorted(registry.slices)
    slice_columns = "".join(
        f",\n    case when slice_name = '{name}' then slice_value else 'all' end as {name}" for name in slice_names
    )
    sql = (
        "-- kpi.kpi_values with one column per slice: the slice value on that slice's rows, 'all' elsewhere.\n"
        "select\n    period_start,\n    grain,\n    kpi_id,\n    slice_name,\n    slice_value,\n"
        f"    numerator,\n    denominator,\n    value{slice_columns}\nfrom kpi.kpi_values\n"
    )
    columns = KPI_VALUE_COLUMNS + tuple(
        Column(name, TEXT, description=registry.slices[name].definition, verbose_name=name.replace("_", " ").capitalize())
        for name in slice_names
    )
    return Dataset(
        "kpi_values_by_slice", "kpi", columns, sql=sql, main_dttm_col="period_start", metrics=KPI_METRICS,
        description="Every KPI, grain and slice (kpi.kpi_values). Filter one grain and, per slice column, "
                    "'all' or one value: the dashboards' native filters do.",
    )


def reseller_kpis(registry: Registry) -> Dataset:
    """A reseller's own KPI rows: the reseller slice of every KPI that has one. Confidential KPIs
    never have a reseller slice (the registry refuses it), and are excluded here as well."""
    ids = ", ".join(f"'{kpi.id}'" for kpi in reseller_kpi_list(registry))
    sql = (
        "-- The reseller slice of the KPIs resellers may see (kpis.yml: reseller slice, not confidential).\n"
        "select\n    period_start,\n    grain,\n    kpi_id,\n    slice_value as reseller,\n"
        "    numerator,\n    denominator,\n    value\nfrom kpi.kpi_values\n"
        f"where slice_name = 'reseller'\n    and kpi_id in ({ids})\n"
    )
    columns = (
        Column("period_start", DATE, is_dttm=True), Column("grain", TEXT), Column("kpi_id", TEXT),
        Column("reseller", TEXT), Column("numerator", FLOAT), Column("denominator", FLOAT), Column("value", FLOAT),
    )
    return Dataset("reseller_kpis", "kpi", columns, sql=sql, main_dttm_col="period_start", metrics=KPI_METRICS,
                   reseller_column="reseller",
                   description="KPI rows per reseller, for the reseller summary (row-level security by reseller).")


def reseller_kpi_list(registry: Registry) -> list[Kpi]:
    return [kpi for kpi in registry.periodic() if "reseller" in kpi.slices and not kpi.confidential]


_SUMMARY_COLUMNS = (
    Column("kpi_id", TEXT), Column("grain", TEXT), Column("period_start", DATE, is_dttm=True),
    Column("value", FLOAT), Column("previous_value", FLOAT), Column("change", FLOAT),
    Column("target", FLOAT), Column("vs_target", FLOAT), Column("better", TEXT), Column("status", TEXT),
    Column("stale", BOOL), Column("title", TEXT), Column("unit", TEXT), Column("dashboard", TEXT),
)
KPI_SUMMARY = Dataset(
    "kpi_summary", "kpi", _SUMMARY_COLUMNS, main_dttm_col="period_start",
    description="The 20 summary KPIs for the latest complete day, week and month (kpi.kpi_summary).",
)
SUMMARY_BOARD = Dataset(
    "summary_board", "kpi",
    (*_SUMMARY_COLUMNS, Column("kpi_grain", TEXT, description="The KPI's grain on this row (NPS: month)."),
     Column("weather", TEXT, description="☀ sun, ☁ cloud, ⚡ storm."),
     Column("status_rank", INT, description="Storms first, then clouds, then sun."),
     Column("kpi", TEXT, description="The KPI's title, linked to its detail dashboard (HTML)."),
     Column("value_label", TEXT, description="The value as text in its unit."),
     Column("trend", TEXT, description="Sparkline of the last 14 periods.")),
    sql=_sql("summary_board.sql"),
    description="kpi.kpi_summary as the summary board shows it: weather, link, value in its unit, sparkline.",
)
SUMMARY_HISTORY = Dataset(
    "summary_history", "kpi",
    (Column("period_start", DATE, is_dttm=True), Column("grain", TEXT), Column("kpi_id", TEXT),
     Column("numerator", FLOAT), Column("denominator", FLOAT), Column("value", FLOAT),
     Column("periods_back", INT)),
    sql=_sql("summary_history.sql"), main_dttm_col="period_start", metrics=KPI_METRICS,
    description="The last 30 periods of each summary KPI, up to the period the summary reports.",
)

# --- list tables (kpi schema) -----------------------------------------------------------------
_PERIOD = (Column("period_start", DATE, is_dttm=True), Column("grain", TEXT), Column("rank", INT))
LIST_TABLES = {
    dataset.name: dataset for dataset in (
        Dataset("top_search_terms", "kpi", (*_PERIOD, Column("search_term", TEXT), Column("searches", INT)),
                main_dttm_col="period_start", description="Top 10 site-search terms per period (KPI 20)."),
        Dataset("top_exit_pages", "kpi", (*_PERIOD, Column("page_path", TEXT), Column("exits", INT)),
                main_dttm_col="period_start", description="Top 10 exit pages per period (KPI 21)."),
        Dataset("top_customers", "kpi",
                (*_PERIOD, Column("customer_id", INT), Column("customer_name", TEXT), Column("reseller", TEXT),
                 Column("revenue", MONEY)),
                main_dttm_col="period_start", reseller_column="reseller",
                description="Top 10 customers by revenue per period (KPI 24)."),
        Dataset("order_heatmap", "kpi",
                (Column("period_start", DATE, is_dttm=True), Column("grain", TEXT), Column("iso_weekday", INT),
                 Column("hour", INT), Column("orders", INT)),
                metrics=(Metric("total_orders", "sum(orders)"),), main_dttm_col="period_start", description="Orders by weekday and hour per period (KPI 36)."),
        Dataset("quote_list", "kpi",
                (Column("quote_id", INT), Column("customer_name", TEXT), Column("reseller", TEXT),
                 Column("sales_agent", TEXT), Column("requested_at", TIMESTAMP, is_dttm=True), Column("status", TEXT),
                 Column("list_amount", MONEY), Column("quoted_amount", MONEY), Column("discount_amount", MONEY),
                 Column("ordered_at", TIMESTAMP, is_dttm=True)),
                main_dttm_col="requested_at", reseller_column="reseller",
                description="Every quote with its deal stage (Q6)."),
        Dataset("customer_facts", "kpi",
                (Column("customer_id", INT), Column("customer_name", TEXT), Column("segment", TEXT),
                 Column("reseller", TEXT), Column("registered_at", TIMESTAMP, is_dttm=True),
                 Column("orders_since_registration", INT), Column("products_since_registration", INT),
                 Column("revenue_since_registration", MONEY), Column("buyer_accounts", INT),
                 Column("days_since_last_order", FLOAT), Column("avg_days_between_orders", FLOAT),
                 Column("credit_limit", MONEY), Column("credit_used", MONEY), Column("credit_usage_rate", FLOAT)),
                reseller_column="reseller", description="One row per customer company (K1-K7)."),
    )
}

# --- data health (meta and quarantine schemas) --------------------------------------------------
DATA_HEALTH = {
    dataset.name: dataset for dataset in (
        Dataset("landing_batches", "meta",
                (Column("batch_id", TEXT), Column("source", TEXT), Column("stream", TEXT),
                 Column("extracted_at", TIMESTAMP, is_dttm=True), Column("status", TEXT),
                 Column("record_count", INT), Column("rows_loaded", INT), Column("rows_quarantined", INT),
                 Column("error", TEXT)),
                metrics=(Metric("total_rows_loaded", "sum(rows_loaded)"), Metric("total_rows_quarantined", "sum(rows_quarantined)"),
                         Metric("batches", "count(*)")),
                main_dttm_col="extracted_at", description="Every landing batch and what became of its rows."),
        Dataset("validation_results", "meta",
                (Column("batch_id", TEXT), Column("source", TEXT), Column("stream", TEXT), Column("suite", TEXT),
                 Column("success", BOOL), Column("evaluated_rows", INT), Column("failed_rows", INT),
                 Column("expectations", INT), Column("failed_expectations", INT), Column("run_seconds", FLOAT),
                 Column("validated_at", TIMESTAMP, is_dttm=True)),
                main_dttm_col="validated_at", description="Great Expectations results per batch."),
        Dataset("quarantined_rows", "quarantine",
                (Column("source", TEXT), Column("stream", TEXT), Column("batch_id", TEXT), Column("row_number", INT),
                 Column("rule", TEXT), Column("column_name", TEXT), Column("bad_value", TEXT),
                 Column("quarantined_at", TIMESTAMP, is_dttm=True)),
                sql="select source, stream, batch_id, row_number, rule, column_name, bad_value, quarantined_at\n"
                    "from quarantine.rows\n",
                metrics=(Metric("quarantined_row_count", "count(*)"),),
                main_dttm_col="quarantined_at", description="Rows held back by validation, with the rule they broke."),
        Dataset("reconciliation_results", "meta",
                (Column("day", DATE, is_dttm=True), Column("check_name", TEXT), Column("expected", FLOAT),
                 Column("observed", FLOAT), Column("ratio", FLOAT), Column("band_low", FLOAT),
                 Column("band_high", FLOAT), Column("success", BOOL), Column("note", TEXT),
                 Column("checked_at", TIMESTAMP)),
                main_dttm_col="day", description="Cross-source reconciliation per check and business day."),
        Dataset("pipeline_runs", "meta",
                (Column("run_id", TEXT), Column("dag_id", TEXT), Column("source", TEXT), Column("run_type", TEXT),
                 Column("interval_start", TIMESTAMP), Column("interval_end", TIMESTAMP), Column("status", TEXT),
                 Column("started_at", TIMESTAMP, is_dttm=True), Column("finished_at", TIMESTAMP),
                 Column("duration_seconds", FLOAT), Column("rows_landed", INT), Column("rows_quarantined", INT),
                 Column("failed_tasks", TEXT)),
                metrics=(Metric("avg_duration_seconds", "avg(duration_seconds)"),),
                main_dttm_col="started_at", description="Every DAG run: status, duration, rows landed and quarantined."),
        Dataset("source_freshness", "meta",
                (Column("source", TEXT), Column("stream", TEXT), Column("extracted_by", TEXT),
                 Column("last_loaded_at", TIMESTAMP), Column("data_until", TIMESTAMP), Column("schedule", TEXT),
                 Column("lag_hours", FLOAT), Column("max_lag_hours", FLOAT), Column("stale", BOOL),
                 Column("stale_since", TIMESTAMP), Column("checked_at", TIMESTAMP)),
                description="How fresh each stream is now, and whether it is late (one row per stream)."),
        Dataset("kpi_refreshes", "meta",
                (Column("refresh_id", TEXT), Column("started_at", TIMESTAMP, is_dttm=True),
                 Column("finished_at", TIMESTAMP), Column("status", TEXT), Column("mode", TEXT),
                 Column("through", DATE), Column("days_rebuilt", INT), Column("duration_seconds", FLOAT),
                 Column("kpi_values_rows", INT), Column("error", TEXT)),
                metrics=(Metric("avg_duration_seconds", "avg(duration_seconds)"),),
                main_dttm_col="started_at", description="Every KPI-layer refresh and publication."),
    )
}


@dataclass(frozen=True)
class Datasets:
    """All datasets of the bundle, by name."""

    by_name: dict[str, Dataset] = field(default_factory=dict)

    @classmethod
    def for_registry(cls, registry: Registry) -> Datasets:
        every = [kpi_values_by_slice(registry), reseller_kpis(registry), KPI_SUMMARY, SUMMARY_BOARD, SUMMARY_HISTORY,
                 *LIST_TABLES.values(), *DATA_HEALTH.values()]
        return cls({dataset.name: dataset for dataset in every})

    def __getitem__(self, name: str) -> Dataset:
        return self.by_name[name]

    def __iter__(self):
        return iter(self.by_name.values())
