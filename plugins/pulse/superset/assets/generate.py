"""Build the whole import bundle from the KPI registry (`pulse superset generate`).

Regenerating after a change to kpis.yml adds, changes or removes the KPI's chart; uuids are
derived from names, so unchanged objects keep theirs. Changes made in Superset's UI and saved
with `pulse superset export` are overwritten by a regeneration: carry them into this package.
"""

from __future__ import annotations

from typing import Any

from pulse.kpi.registry import Registry, load_registry
from pulse.superset.assets.charts import Chart
from pulse.superset.assets.dashboards import Dashboard, all_dashboards
from pulse.superset.assets.datasets import Datasets
from pulse.superset.assets.ids import asset_uuid, chart_number
from pulse.superset.bundle import EXPORT_VERSION, METADATA_FILE, Bundle, slug
from pulse.superset.environment import URI_PLACEHOLDER, WAREHOUSE_DATABASE_NAME

DATABASE_UUID = asset_uuid("database", WAREHOUSE_DATABASE_NAME)


def database_yaml() -> dict[str, Any]:
    return {
        "allow_csv_upload": False, "allow_ctas": False, "allow_cvas": False, "allow_dml": False,
        "allow_run_async": False, "cache_timeout": None, "configuration_method": "sqlalchemy_form",
        "database_name": WAREHOUSE_DATABASE_NAME, "expose_in_sqllab": True,
        "extra": {"allows_virtual_table_explore": True, "engine_params": {}, "metadata_params": {},
                  "schemas_allowed_for_csv_upload": []},
        "impersonate_user": False, "sqlalchemy_uri": URI_PLACEHOLDER, "uuid": DATABASE_UUID,
        "version": EXPORT_VERSION,
    }


def build(registry: Registry | None = None) -> tuple[Bundle, list[Dashboard]]:
    registry = registry or load_registry()
    datasets = Datasets.for_registry(registry)
    dashboards = all_dashboards(registry, datasets)
    bundle: Bundle = {
        METADATA_FILE: {"type": "assets", "version": EXPORT_VERSION},
        f"databases/{slug(WAREHOUSE_DATABASE_NAME)}.yaml": database_yaml(),
    }
    for dataset in datasets:
        bundle[dataset.file_name] = dataset.to_yaml(DATABASE_UUID)
    charts: dict[str, Chart] = {}
    for dashboard in dashboards:
        for chart in dashboard.charts:
            if charts.setdefault(chart.key, chart) is not chart:
                raise ValueError(f"chart {chart.key!r} is built twice")
        bundle[dashboard.file_name] = dashboard.to_yaml()
    numbers = [chart_number(chart.uuid) for chart in charts.values()]
    if len(set(numbers)) != len(numbers):
        raise ValueError("two charts derive the same chart number: rename one of them")
    for chart in charts.values():
        bundle[chart.file_name] = chart.to_yaml()
    return bundle, dashboards


def generate_bundle(registry: Registry | None = None) -> Bundle:
    return build(registry)[0]
