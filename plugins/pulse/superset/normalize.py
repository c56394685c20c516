"""Turn Superset's export into the committed form of the bundle.

Superset's export names files after titles and database ids (`charts/Revenue_12.yaml`) and
writes the ids of this Superset into the content: dataset ids in chart params and query
contexts, chart ids in dashboard layouts and filter scopes. Those differ between instances, so
they are replaced by what the committed files hold: uuid-derived chart numbers, the placeholder
dataset reference, and each object's committed file name (new objects get one from their title).
Lists Superset returns in no particular order (dataset columns and metrics) are sorted.
"""

from __future__ import annotations

import json
from typing import Any

from pulse.superset.assets.charts import DATASOURCE_PLACEHOLDER, dump_query_context
from pulse.superset.assets.ids import chart_number
from pulse.superset.bundle import EXPORT_VERSION, METADATA_FILE, Bundle, load_yaml, slug

INSTANCE_PARAMS = ("datasource", "slice_id", "dashboards", "url_params")


def normalize_export(files: dict[str, str], committed: Bundle) -> Bundle:
    """The committed form of an export (`files`: path -> YAML text, as in the export ZIP)."""
    documents = {name: load_yaml(text, name) for name, text in files.items() if name.endswith(".yaml")}
    bundle: Bundle = {METADATA_FILE: {"type": "assets", "version": EXPORT_VERSION}}
    paths_by_uuid = {document.get("uuid"): name for name, document in committed.items() if isinstance(document, dict)}
    taken: set[str] = set()
    for name, document in sorted(documents.items()):
        if name == METADATA_FILE:
            continue
        folder = name.split("/", 1)[0]
        if folder == "charts":
            document = _chart(document)
        elif folder == "dashboards":
            document = _dashboard(document)
        elif folder == "datasets":
            document = _dataset(document)
        path = paths_by_uuid.get(document.get("uuid")) or _new_path(folder, name, document, taken)
        taken.add(path)
        bundle[path] = document
    return bundle


def _new_path(folder: str, exported_name: str, document: dict[str, Any], taken: set[str]) -> str:
    title = document.get("slice_name") or document.get("dashboard_title") or document.get("table_name") \
        or document.get("database_name") or document["uuid"]
    # datasets/<database>/ keeps its database folder, named the way the generator names it
    directory = "/".join([folder, *(slug(part) for part in exported_name.split("/")[1:-1])])
    path = f"{directory}/{slug(title)}.yaml"
    if path in taken:
        path = f"{directory}/{slug(title)}_{document['uuid'][:8]}.yaml"
    return path


def _dataset(document: dict[str, Any]) -> dict[str, Any]:
    document["columns"] = sorted(document.get("columns") or [], key=lambda column: column["column_name"])
    document["metrics"] = sorted(document.get("metrics") or [], key=lambda metric: metric["metric_name"])
    return document


def _chart(document: dict[str, Any]) -> dict[str, Any]:
    params = document.get("params") or {}
    for key in INSTANCE_PARAMS:
        params.pop(key, None)
    text = document.get("query_context")
    if text:
        query_context = json.loads(text)
        query_context["datasource"] = dict(DATASOURCE_PLACEHOLDER)
        form_data = query_context.get("form_data")
        if isinstance(form_data, dict):
            form_data["datasource"] = "0__table"
            for key in ("slice_id", "dashboards", "url_params"):
                form_data.pop(key, None)
        for query in query_context.get("queries", []):
            if "datasource" in query:
                query["datasource"] = dict(DATASOURCE_PLACEHOLDER)
        document["query_context"] = dump_query_context(query_context)
    return document


def _dashboard(document: dict[str, Any]) -> dict[str, Any]:
    position = document.get("position") or {}
    numbers: dict[int, int] = {}
    for component in position.values():
        if isinstance(component, dict) and component.get("type") == "CHART" and "uuid" in component.get("meta", {}):
            meta = component["meta"]
            number = chart_number(meta["uuid"])
            if "chartId" in meta:
                numbers[meta["chartId"]] = number
            meta["chartId"] = number

    def renumber(ids: list[Any]) -> list[int]:
        return sorted(numbers.get(int(item), int(item)) for item in ids)

    metadata = document.get("metadata") or {}
    metadata.pop("positions", None)
    for native_filter in metadata.get("native_filter_configuration", []):
        scope = native_filter.get("scope") or {}
        if "excluded" in scope:
            scope["excluded"] = renumber(scope["excluded"])
        if "chartsInScope" in native_filter:
            native_filter["chartsInScope"] = renumber(native_filter["chartsInScope"])
    if "timed_refresh_immune_slices" in metadata:
        metadata["timed_refresh_immune_slices"] = renumber(metadata["timed_refresh_immune_slices"])
    for key in ("expanded_slices", "filter_scopes"):
        if isinstance(metadata.get(key), dict):
            metadata[key] = {str(numbers.get(int(k), int(k))): v for k, v in metadata[key].items()}
    configuration = metadata.get("chart_configuration")
    if isinstance(configuration, dict):
        renumbered = {}
        for key, item in configuration.items():
            number = numbers.get(int(key), int(key))
            if isinstance(item, dict):
                item["id"] = number
                cross = item.get("crossFilters") or {}
                if "chartsInScope" in cross:
                    cross["chartsInScope"] = renumber(cross["chartsInScope"])
                if isinstance(cross.get("scope"), dict) and "excluded" in cross["scope"]:
                    cross["scope"]["excluded"] = renumber(cross["scope"]["excluded"])
            renumbered[str(number)] = item
        metadata["chart_configuration"] = renumbered
    global_configuration = metadata.get("global_chart_configuration")
    if isinstance(global_configuration, dict):
        if "chartsInScope" in global_configuration:
            global_configuration["chartsInScope"] = renumber(global_configuration["chartsInScope"])
        scope = global_configuration.get("scope") or {}
        if "excluded" in scope:
            scope["excluded"] = renumber(scope["excluded"])
    return document
