"""The dashboards, built from the KPI registry: which charts each holds, its layout and native filters.

- `summary`: one tile per summary KPI (value, change against the previous period and against
  target, weather icon, sparkline, link to the KPI's detail dashboard) under a table that lists
  the storms first.
- one detail dashboard per registry `dashboard`: a chart per KPI, slice-filterable, plus the
  dashboard's list tables.
- `data_health` for the data team, `reseller_summary` for resellers (their rows only: RLS).

Chart rules (so a KPI added to kpis.yml gets its chart by regenerating):
- the metric follows the kind (datasets.METRIC_OF_KIND); sums and counts are bars;
- a share, or a KPI whose title names one of its slices ("Revenue by product category"), is
  drawn per value of that slice; any other KPI is drawn for the whole company, and the
  dashboard's slice filters switch it to one slice value;
- a KPI without the day grain is shown at its finest grain and ignores the grain filter.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pulse.kpi.registry import Kpi, Registry
from pulse.superset.assets import charts as viz
from pulse.superset.assets.charts import Chart, simple_filter
from pulse.superset.assets.datasets import (
    DATA_HEALTH,
    METRIC_OF_KIND,
    SUM_METRIC,
    Dataset,
    Datasets,
    reseller_kpi_list,
)
from pulse.superset.assets.ids import asset_uuid, chart_number
from pulse.superset.bundle import EXPORT_VERSION

TIME = "__time"  # native filter key of the date-range filter
DEFAULT_GRAIN = "day"
GRID_WIDTH = 12

# registry `dashboard` -> title and a line for the dashboard header
DETAIL_DASHBOARDS = {
    "acquisition": ("Acquisition & campaigns", "Contacts, leads and customers won; what campaigns cost and bring."),
    "audience": ("Audience & navigation", "Who visits the shop, on what, and how they move through it."),
    "transactions": ("Transactions", "Revenue, margin, orders, carts and the customers who order."),
    "service": ("Service quality", "Site speed, NPS, the phone line and the help desk."),
    "after_sales": ("After-sales & delivery", "Disputes, carriers and deliveries."),
    "catalogues": ("Catalogues", "Revenue and ordering per catalogue, public and customer-specific."),
    "quotes": ("Quotes & sales agents", "Quotes from request to order, per segment and per sales agent."),
    "customers": ("Customers", "Per-customer facts: orders, revenue, buyers, credit limit and usage."),
}
SUMMARY, DATA_HEALTH_SLUG, RESELLER_SUMMARY = "summary", "data_health", "reseller_summary"

UNIT_FORMAT = {"eur": ",.2f", "count": ",d", "ratio": ".1%", "number": ",.2f", "seconds": ",.1f",
               "hours": ",.1f", "days": ",.1f", "score": ".1f"}
UNIT_SUFFIX = {"eur": ("€ ", ""), "ratio": ("", " %"), "seconds": ("", " s"), "hours": ("", " h"),
               "days": ("", " d"), "count": ("", ""), "number": ("", ""), "score": ("", "")}


@dataclass
class NativeFilter:
    name: str
    column: str  # TIME for the date range
    dataset: Dataset | None = None
    default: str | None = None
    description: str = ""

    def to_yaml(self, dashboard: str, charts: list[Chart]) -> dict[str, Any]:
        digest = hashlib.sha1(f"{dashboard}:{self.column}".encode()).hexdigest()[:10]
        excluded = sorted(chart_number(chart.uuid) for chart in charts if self.column not in accepted_filters(chart))
        scope = {"excluded": excluded, "rootPath": ["ROOT_ID"]}
        common = {"cascadeParentIds": [], "description": self.description, "id": f"NATIVE_FILTER-{digest}",
                  "name": self.name, "scope": scope, "tabsInScope": [], "type": "NATIVE_FILTER"}
        if self.column == TIME:
            return {**common, "controlValues": {"enableEmptyFilter": False},
                    "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
                    "filterType": "filter_time", "targets": [{}]}
        assert self.dataset is not None
        mask: dict[str, Any] = {"extraFormData": {}, "filterState": {}, "ownState": {}}
        if self.default is not None:
            mask = {"extraFormData": {"filters": [{"col": self.column, "op": "IN", "val": [self.default]}]},
                    "filterState": {"label": self.default, "value": [self.default]}, "ownState": {}}
        return {**common,
                "controlValues": {"creatable": False, "defaultToFirstItem": False,
                                  "enableEmptyFilter": self.default is not None, "inverseSelection": False,
                                  "multiSelect": False, "searchAllOptions": False, "sortAscending": True},
                "defaultDataMask": mask, "filterType": "filter_select",
                "targets": [{"column": {"name": self.column}, "datasetUuid": self.dataset.uuid}]}


@dataclass
class Dashboard:
    slug: str
    title: str
    header: str  # markdown above the charts
    rows: list[list[Chart]]
    filters: list[NativeFilter] = field(default_factory=list)
    css: str = ""

    @property
    def uuid(self) -> str:
        return asset_uuid("dashboard", self.slug)

    @property
    def file_name(self) -> str:
        return f"dashboards/{self.slug}.yaml"

    @property
    def charts(self) -> list[Chart]:
        return [chart for row in self.rows for chart in row]

    def to_yaml(self) -> dict[str, Any]:
        return {
            "certification_details": None, "certified_by": None, "css": self.css or None,
            "dashboard_title": self.title, "description": None, "metadata": self._metadata(),
            "position": self._position(), "published": True, "slug": self.slug, "theme_uuid": None,
            "uuid": self.uuid, "version": EXPORT_VERSION,
        }

    def _metadata(self) -> dict[str, Any]:
        return {
            "color_scheme": "supersetColors", "cross_filters_enabled": False, "expanded_slices": {},
            "native_filter_configuration": [item.to_yaml(self.slug, self.charts) for item in self.filters],
            "refresh_frequency": 0, "timed_refresh_immune_slices": [],
        }

    def _position(self) -> dict[str, Any]:
        grid_children = ["MARKDOWN-header"]
        position: dict[str, Any] = {
            "DASHBOARD_VERSION_KEY": "v2",
            "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": self.title}, "type": "HEADER"},
            "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
            "MARKDOWN-header": {"children": [], "id": "MARKDOWN-header", "parents": ["ROOT_ID", "GRID_ID"],
                                "type": "MARKDOWN", "meta": {"code": self.header, "height": 12, "width": GRID_WIDTH}},
        }
        for number, row in enumerate(self.rows, start=1):
            row_id = f"ROW-{number:03d}"
            grid_children.append(row_id)
            position[row_id] = {"children": [], "id": row_id, "meta": {"background": "BACKGROUND_TRANSPARENT"},
                                "parents": ["ROOT_ID", "GRID_ID"], "type": "ROW"}
            for chart in row:
                chart_id = f"CHART-{chart.uuid[:8]}"
                position[row_id]["children"].append(chart_id)
                position[chart_id] = {
                    "children": [], "id": chart_id, "parents": ["ROOT_ID", "GRID_ID", row_id], "type": "CHART",
                    "meta": {"chartId": chart_number(chart.uuid), "height": chart.height, "sliceName": chart.title,
                             "uuid": chart.uuid, "width": chart.width},
                }
        position["GRID_ID"] = {"children": grid_children, "id": "GRID_ID", "parents": ["ROOT_ID"], "type": "GRID"}
        return position


def accepted_filters(chart: Chart) -> set[str]:
    """The native-filter columns that apply to `chart`: its dataset has them and it does not fix them."""
    columns = {column.name for column in chart.dataset.columns}
    accepted = {TIME} if chart.dataset.main_dttm_col and chart.viz_type != "handlebars" else set()
    if chart.dataset.name != "kpi_values_by_slice":
        columns &= {"grain"}  # list tables share slice-like column names but have no `all` rows
    return (accepted | columns) - chart.unfiltered_columns


def _rows(charts: list[Chart]) -> list[list[Chart]]:
    rows: list[list[Chart]] = []
    for chart in charts:
        if rows and sum(item.width for item in rows[-1]) + chart.width <= GRID_WIDTH:
            rows[-1].append(chart)
        else:
            rows.append([chart])
    return rows


def _in(column: str, value: str) -> dict[str, Any]:
    return simple_filter(column, "IN", [value])


# --- KPI charts ------------------------------------------------------------------------------------
def breakdown_slice(kpi: Kpi) -> str | None:
    """The slice a KPI is drawn per value of: a share's slice, or a slice its title names."""
    if kpi.kind == "share":
        return kpi.slices[0]
    title = kpi.title.lower()
    for name in kpi.slices:
        if all(word[:6] in title for word in name.split("_")):
            return name
    return None


def kpi_chart(kpi: Kpi, datasets: Datasets) -> Chart:
    dataset = datasets["kpi_values_by_slice"]
    metric = METRIC_OF_KIND[kpi.kind]
    by = breakdown_slice(kpi)
    grain = DEFAULT_GRAIN if DEFAULT_GRAIN in kpi.grains else kpi.grains[0]
    fixed_grain = grain != DEFAULT_GRAIN
    filters = [simple_filter("kpi_id", "==", kpi.id)]
    if fixed_grain:
        filters.append(simple_filter("grain", "==", grain))
    if by:
        filters.append(simple_filter(by, "!=", "all"))
    defaults = [] if fixed_grain else [_in("grain", DEFAULT_GRAIN)]
    defaults += [_in(name, "all") for name in kpi.slices if name != by]
    title = kpi.title + (f" (per {grain})" if fixed_grain else "")
    additive = metric == SUM_METRIC
    return viz.timeseries(
        f"kpi_{kpi.id}", title, dataset, [metric], filters=filters, default_filters=defaults,
        y_format=UNIT_FORMAT[kpi.unit], bar=additive or kpi.kind == "share", stack=(by is not None and additive)
        or kpi.kind == "share", groupby=by, kpi_ids=(kpi.id,), description=kpi.definition,
        unfiltered_columns=frozenset({by} if by else set()) | ({"grain"} if fixed_grain else set()),
    )


def list_charts(kpis: list[Kpi], datasets: Datasets) -> list[Chart]:
    """One chart per list table on the dashboard (K1-K7 share one table: customer_facts)."""
    tables: dict[str, list[Kpi]] = {}
    for kpi in kpis:
        tables.setdefault(kpi.table, []).append(kpi)
    built = []
    for table_name, members in tables.items():
        dataset = datasets[table_name]
        ids = tuple(kpi.id for kpi in members)
        columns = list(dict.fromkeys(column for kpi in members for column in kpi.columns))
        title = members[0].title if len(members) == 1 else DATASET_TITLES.get(table_name, table_name)
        grain_defaults = [_in("grain", DEFAULT_GRAIN)] if dataset.has_column("grain") else []
        if table_name == "order_heatmap":
            built.append(viz.heatmap(f"list_{table_name}", title, dataset, "hour", "iso_weekday", "total_orders",
                                     filters=[], default_filters=grain_defaults, kpi_ids=ids, width=GRID_WIDTH,
                                     description=members[0].definition))
            continue
        shown = [column for column in columns if column != "grain"]
        if dataset.has_column("rank"):
            order = [("period_start", False), ("rank", True)]
        elif dataset.main_dttm_col:
            order = [(dataset.main_dttm_col, False)]
        else:
            order = [(shown[1] if len(shown) > 1 else shown[0], True)]
        formats = {"credit_usage_rate": ".1%"} if "credit_usage_rate" in shown else {}
        built.append(viz.table(f"list_{table_name}", title, dataset, shown, order_by=order, filters=[],
                               default_filters=grain_defaults, column_formats=formats, kpi_ids=ids,
                               width=GRID_WIDTH, height=60, description=members[0].definition))
    return built


DATASET_TITLES = {"customer_facts": "Customers: orders, revenue, buyers and credit usage"}


def slice_filters(kpis: list[Kpi], registry: Registry, dataset: Dataset) -> list[NativeFilter]:
    names = sorted({name for kpi in kpis for name in kpi.slices})
    return [NativeFilter(name.replace("_", " ").capitalize(), name, dataset, "all",
                         f"{registry.slices[name].definition} 'all': the whole company. One slice at a time.")
            for name in names]


def detail_dashboard(slug: str, registry: Registry, datasets: Datasets) -> Dashboard:
    title, purpose = DETAIL_DASHBOARDS[slug]
    kpis = [kpi for kpi in registry if kpi.dashboard == slug]
    periodic = [kpi for kpi in kpis if not kpi.is_list]
    charts = [kpi_chart(kpi, datasets) for kpi in periodic] + list_charts([k for k in kpis if k.is_list], datasets)
    dataset = datasets["kpi_values_by_slice"]
    header = (f"**{title}.** {purpose} Filters: date range, grain (day, ISO week, month, quarter) and one "
              f"slice value at a time. [Back to the daily summary](/superset/dashboard/{SUMMARY}/)")
    filters = [NativeFilter("Date range", TIME),
               NativeFilter("Grain", "grain", dataset, DEFAULT_GRAIN, "Period length of every chart."),
               *slice_filters(periodic, registry, dataset)]
    return Dashboard(slug, title, header, _rows(charts), filters)


# --- the daily summary ------------------------------------------------------------------------------
def _fixed_grain(kpi: Kpi) -> str | None:
    """The grain a KPI without the day grain is shown at (NPS: month); None when it has days."""
    if DEFAULT_GRAIN in kpi.grains:
        return None
    return kpi.grains[0]


def summary_dashboard(registry: Registry, datasets: Datasets) -> Dashboard:
    summary = registry.summary()
    board = viz.table(
        "summary_board", "Today at a glance", datasets["summary_board"],
        ["weather", "kpi", "value_label", "change", "vs_target", "trend", "period_start", "kpi_grain", "stale"],
        order_by=[("status_rank", True), ("title", True)], filters=[],
        default_filters=[_in("grain", DEFAULT_GRAIN)], column_formats={"change": "+.1%", "vs_target": "+.1%"},
        labels={"weather": " ", "kpi": "KPI", "value_label": "Value", "change": "vs previous period",
                "vs_target": "vs target", "trend": "Last 14 periods", "period_start": "Period",
                "kpi_grain": "Per", "stale": "Stale"},
        render_html=True, kpi_ids=tuple(kpi.id for kpi in summary), width=GRID_WIDTH, height=88,
        description="Storms first. A KPI without the chosen grain (NPS is monthly) shows its next coarser one.",
    )
    tiles = []
    for kpi in summary:
        fixed = _fixed_grain(kpi)
        filters = [simple_filter("kpi_id", "==", kpi.id)] + ([simple_filter("grain", "==", fixed)] if fixed else [])
        tiles.append(viz.big_number_trend(
            f"tile_{kpi.id}", kpi.title + (f" (per {fixed})" if fixed else ""), datasets["summary_history"],
            METRIC_OF_KIND[kpi.kind], filters=filters, default_filters=[] if fixed else [_in("grain", DEFAULT_GRAIN)],
            y_format=UNIT_FORMAT[kpi.unit], kpi_ids=(kpi.id,), width=3, height=30, description=kpi.definition,
            unfiltered_columns=frozenset({"grain"} if fixed else set()),
        ))
    links = " · ".join(f"[{title}](/superset/dashboard/{slug}/)" for slug, (title, _) in DETAIL_DASHBOARDS.items())
    header = ("**Daily summary.** The 20 KPIs that say how the business is doing, latest complete period: "
              "☀ on track, ☁ worth a look, ⚡ needs action today (storms first). A KPI's name opens its detail "
              f"dashboard; the grain filter switches to week or month. Detail: {links}.")
    grain = NativeFilter("Grain", "grain", datasets["summary_board"], DEFAULT_GRAIN, "day, week or month.")
    return Dashboard(SUMMARY, "Daily summary", header, [[board], *_rows(tiles)], [grain])


# --- reseller summary ---------------------------------------------------------------------------------
def reseller_dashboard(registry: Registry, datasets: Datasets) -> Dashboard:
    dataset = datasets["reseller_kpis"]
    tiles = []
    for kpi in reseller_kpi_list(registry):
        if not kpi.summary:
            continue
        fixed = _fixed_grain(kpi)
        filters = [simple_filter("kpi_id", "==", kpi.id)] + ([simple_filter("grain", "==", fixed)] if fixed else [])
        tiles.append(viz.big_number_trend(
            f"reseller_{kpi.id}", kpi.title + (f" (per {fixed})" if fixed else ""), dataset, METRIC_OF_KIND[kpi.kind],
            filters=filters, default_filters=[] if fixed else [_in("grain", DEFAULT_GRAIN)],
            y_format=UNIT_FORMAT[kpi.unit], kpi_ids=(kpi.id,), height=40,
            unfiltered_columns=frozenset({"grain"} if fixed else set()), description=kpi.definition,
        ))
    tables = [
        viz.table("reseller_top_customers", "Your customers in the top 10", datasets["top_customers"],
                  ["period_start", "rank", "customer_name", "revenue"], order_by=[("period_start", False), ("rank", True)],
                  filters=[], default_filters=[_in("grain", DEFAULT_GRAIN)], width=GRID_WIDTH, height=50),
        viz.table("reseller_customers", "Your customers", datasets["customer_facts"],
                  ["customer_name", "segment", "orders_since_registration", "revenue_since_registration",
                   "days_since_last_order", "credit_limit", "credit_used", "credit_usage_rate"],
                  order_by=[("revenue_since_registration", False)], filters=[],
                  column_formats={"credit_usage_rate": ".1%"}, width=GRID_WIDTH, height=50),
    ]
    header = ("**Your summary.** Your own customers' figures: latest period, change against the one before and "
              "the trend.")
    filters = [NativeFilter("Date range", TIME),
               NativeFilter("Grain", "grain", dataset, DEFAULT_GRAIN, "Period length of every chart.")]
    return Dashboard(RESELLER_SUMMARY, "Reseller summary", header, [*_rows(tiles), *([t] for t in tables)], filters)


# --- data health ----------------------------------------------------------------------------------------
def data_health_dashboard() -> Dashboard:
    d = DATA_HEALTH
    charts = [
        viz.table("health_freshness", "Freshness per source", d["source_freshness"],
                  ["source", "stream", "schedule", "last_loaded_at", "data_until", "lag_hours", "max_lag_hours",
                   "stale", "stale_since"],
                  order_by=[("stale", False), ("lag_hours", False)], filters=[],
                  column_formats={"lag_hours": ",.1f", "max_lag_hours": ",.1f"}, width=GRID_WIDTH, height=40),
        viz.timeseries("health_rows", "Rows loaded and quarantined per day", d["landing_batches"],
                       ["total_rows_loaded", "total_rows_quarantined"], filters=[], default_filters=[],
                       y_format=",d", bar=True, width=6),
        viz.aggregate_table("health_quarantine", "Quarantined rows by rule", d["quarantined_rows"],
                            ["source", "stream", "rule"], ["quarantined_row_count"], filters=[], width=6),
        viz.table("health_validation", "Validation results", d["validation_results"],
                  ["validated_at", "source", "stream", "suite", "success", "evaluated_rows", "failed_rows",
                   "failed_expectations"], order_by=[("validated_at", False)], filters=[], width=GRID_WIDTH),
        viz.table("health_reconciliation", "Reconciliation", d["reconciliation_results"],
                  ["day", "check_name", "expected", "observed", "ratio", "band_low", "band_high", "success", "note"],
                  order_by=[("day", False), ("check_name", True)], filters=[],
                  column_formats={"ratio": ".3f", "band_low": ".3f", "band_high": ".3f"}, width=GRID_WIDTH),
        viz.timeseries("health_run_durations", "Run duration per DAG (seconds)", d["pipeline_runs"],
                       ["avg_duration_seconds"], filters=[], default_filters=[], y_format=",.0f", groupby="dag_id",
                       width=6),
        viz.timeseries("health_kpi_refreshes", "KPI refresh duration (seconds)", d["kpi_refreshes"],
                       ["avg_duration_seconds"], filters=[], default_filters=[], y_format=",.0f", width=6),
        viz.table("health_batches", "Landing batches", d["landing_batches"],
                  ["extracted_at", "source", "stream", "status", "record_count", "rows_loaded", "rows_quarantined",
                   "error"], order_by=[("extracted_at", False)], filters=[], width=GRID_WIDTH),
    ]
    header = ("**Data health.** Is every source fresh, did every batch load, what was quarantined and why, do the "
              "sources agree, how long do runs take. Validation details: "
              "[Great Expectations Data Docs](${PULSE_DATA_DOCS_URL}).")
    return Dashboard(DATA_HEALTH_SLUG, "Data health", header, _rows(charts), [NativeFilter("Date range", TIME)])


def all_dashboards(registry: Registry, datasets: Datasets) -> list[Dashboard]:
    return [summary_dashboard(registry, datasets),
            *(detail_dashboard(slug, registry, datasets) for slug in DETAIL_DASHBOARDS),
            data_health_dashboard(), reseller_dashboard(registry, datasets)]

