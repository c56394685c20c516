"""The committed bundle and the code around it, without a running Superset (fast)."""

from __future__ import annotations

import copy
import json
import random

import pytest
import yaml

from pulse.kpi.registry import load_registry
from pulse.superset.access import BundleError, load_access, sql_literal
from pulse.superset.assets.dashboards import breakdown_slice
from pulse.superset.assets.datasets import Datasets
from pulse.superset.assets.generate import build
from pulse.superset.assets.ids import chart_number
from pulse.superset.bundle import ASSETS_DIR, METADATA_FILE, dump_yaml, read_bundle
from pulse.superset.client import rison
from pulse.superset.environment import URI_PLACEHOLDER, DeployEnvironment
from pulse.superset.normalize import normalize_export
from support.kpi_warehouse import build_kpi_warehouse, make_fixture, read_fixture

REGISTRY = load_registry()
COMMITTED = read_bundle(ASSETS_DIR)


def _of(folder: str) -> dict[str, dict]:
    return {name: doc for name, doc in COMMITTED.items() if name.startswith(f"{folder}/")}


def _chart_uuids(dashboard: dict) -> set[str]:
    return {item["meta"]["uuid"] for item in dashboard["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"}


def test_every_registry_kpi_is_on_a_dashboard():
    """Read from the committed YAML: a KPI chart filters its kpi_id; a list KPI shows its table."""
    on_dashboards = set().union(*(_chart_uuids(doc) for doc in _of("dashboards").values()))
    tables = {doc["uuid"]: doc["table_name"] for doc in _of("datasets").values()}
    shown: set[str] = set()
    for chart in _of("charts").values():
        if chart["uuid"] not in on_dashboards:
            continue
        for item in chart["params"].get("adhoc_filters", []):
            if item["subject"] == "kpi_id" and item["operator"] == "==":
                shown.add(item["comparator"])
        table = tables[chart["dataset_uuid"]]
        shown |= {kpi.id for kpi in REGISTRY.lists() if kpi.table == table}
    missing = sorted({kpi.id for kpi in REGISTRY} - shown)
    assert not missing, f"KPIs on no dashboard (run `pulse superset generate`): {missing}"


def test_the_summary_holds_the_20_summary_kpis_and_links_every_detail_dashboard():
    summary = _of("dashboards")["dashboards/summary.yaml"]
    charts = _of("charts")
    tiles = {item["comparator"] for name, chart in charts.items() if chart["uuid"] in _chart_uuids(summary)
             for item in chart["params"]["adhoc_filters"] if item["subject"] == "kpi_id"}
    assert tiles == {kpi.id for kpi in REGISTRY.summary()}
    header = summary["position"]["MARKDOWN-header"]["meta"]["code"]
    for dashboard in {kpi.dashboard for kpi in REGISTRY}:
        assert f"/superset/dashboard/{dashboard}/" in header
        assert f"dashboards/{dashboard}.yaml" in COMMITTED


def test_the_bundle_is_linked_by_uuid_and_every_file_is_canonical():
    uuids = [doc["uuid"] for name, doc in COMMITTED.items() if name != METADATA_FILE]
    assert len(uuids) == len(set(uuids))
    databases = {doc["uuid"] for doc in _of("databases").values()}
    datasets = {doc["uuid"] for doc in _of("datasets").values()}
    charts = {doc["uuid"] for doc in _of("charts").values()}
    assert all(doc["database_uuid"] in databases for doc in _of("datasets").values())
    assert all(doc["dataset_uuid"] in datasets for doc in _of("charts").values())
    for name, dashboard in _of("dashboards").items():
        assert _chart_uuids(dashboard) <= charts, name
        for native_filter in dashboard["metadata"]["native_filter_configuration"]:
            for target in native_filter["targets"]:
                assert target.get("datasetUuid", next(iter(datasets))) in datasets, name
    for name in COMMITTED:
        assert (ASSETS_DIR / name).read_text() == dump_yaml(yaml.safe_load((ASSETS_DIR / name).read_text())), name
    assert _of("databases")["databases/pulse_warehouse.yaml"]["sqlalchemy_uri"] == URI_PLACEHOLDER


def test_every_chart_carries_a_query_context_that_applies_its_own_filters():
    for name, chart in _of("charts").items():
        context = json.loads(chart["query_context"])
        (query,) = context["queries"]
        filters = {(item["col"], item["op"], json.dumps(item["val"])) for item in query["filters"]}
        own = {(item["subject"], item["operator"], json.dumps(item["comparator"]))
               for item in chart["params"]["adhoc_filters"]}
        assert own <= filters, name
        assert context["form_data"]["viz_type"] == chart["viz_type"], name


def test_kpi_charts_pick_one_row_per_period_by_default():
    """Default filters of a KPI chart name every slice of its KPI (else slice rows would be summed
    into the total), and each dashboard has a native filter for every slice of its KPIs."""
    _, dashboards = build(REGISTRY)
    for dashboard in dashboards:
        filter_columns = {item.column for item in dashboard.filters}
        for chart in dashboard.charts:
            if chart.dataset.name != "kpi_values_by_slice":
                continue
            kpi = REGISTRY.get(chart.kpi_ids[0])
            defaults = {item["subject"] for item in chart.default_filters}
            grouped = set(chart.params.get("groupby") or [])
            assert set(kpi.slices) - grouped <= defaults, chart.key
            assert set(kpi.slices) <= filter_columns, f"{dashboard.slug} lacks a filter for {kpi.id}'s slices"


def test_a_kpi_is_drawn_per_slice_when_it_is_a_share_or_its_title_names_the_slice():
    expected = {"revenue_by_category": "category", "payment_method_share": "payment_method",
                "carrier_revenue": "carrier", "agent_quote_acceptance_rate": "sales_agent",
                "catalog_revenue": "catalog", "revenue": None, "late_delivery_rate": None,
                "sessions_per_visitor": None, "tickets_created": None}
    assert {kpi_id: breakdown_slice(REGISTRY.get(kpi_id)) for kpi_id in expected} == expected


# --- deployment environment ---------------------------------------------------------------------
def test_render_puts_the_connection_in_and_strip_takes_it_out():
    environment = DeployEnvironment.for_warehouse("postgresql+psycopg://pulse:s3cr3t@db.internal:5432/pulse",
                                                  data_docs_url="https://docs.example/gx/")
    rendered, passwords = environment.render(COMMITTED)
    database = rendered["databases/pulse_warehouse.yaml"]
    assert database["sqlalchemy_uri"] == "postgresql+psycopg2://pulse:XXXXXXXXXX@db.internal:5432/pulse"
    assert passwords == {"databases/pulse_warehouse.yaml": "s3cr3t"}
    assert database["extra"]["engine_params"]["connect_args"]["options"] == "-c default_transaction_read_only=on"
    assert "s3cr3t" not in "".join(dump_yaml(doc) for doc in rendered.values())
    assert "https://docs.example/gx/" in rendered["dashboards/data_health.yaml"]["position"]["MARKDOWN-header"][
        "meta"]["code"]
    assert environment.strip(rendered) == COMMITTED
    duckdb = DeployEnvironment.for_warehouse("duckdb:////srv/pulse/serving/pulse.duckdb", data_docs_url="x")
    rendered, passwords = duckdb.render(COMMITTED)
    assert rendered["databases/pulse_warehouse.yaml"]["sqlalchemy_uri"] == "duckdb:////srv/pulse/serving/pulse.duckdb"
    assert rendered["databases/pulse_warehouse.yaml"]["extra"]["engine_params"]["connect_args"] == {
        "read_only": True, "config": {"enable_external_access": False}}
    assert passwords == {}


def test_normalize_turns_an_instances_export_back_into_the_committed_files():
    """A simulated export: instance ids everywhere, Superset's own file names, shuffled columns."""
    rng = random.Random(3)
    real_ids = {doc["uuid"]: rng.randint(1, 9999) for doc in _of("charts").values()}
    files = {"metadata.yaml": "version: 1.0.0\ntype: assets\ntimestamp: '2026-01-01T00:00:00+00:00'\n"}
    for name, original in COMMITTED.items():
        if name == METADATA_FILE:
            continue
        doc = copy.deepcopy(original)
        folder = name.split("/")[0]
        if folder == "charts":
            doc["params"].update(datasource="42__table", slice_id=real_ids[doc["uuid"]], dashboards=[7])
            context = json.loads(doc["query_context"])
            context["datasource"] = {"id": 42, "type": "table"}
            context["form_data"]["datasource"] = "42__table"
            doc["query_context"] = json.dumps(context)
            name = f"charts/{doc['slice_name'].replace(' ', '_')}_{real_ids[doc['uuid']]}.yaml"
        elif folder == "datasets":
            rng.shuffle(doc["columns"])
            name = name.replace(".yaml", "_17.yaml").replace("pulse_warehouse", "Pulse_warehouse")
        elif folder == "dashboards":
            numbers = {}
            for item in doc["position"].values():
                if isinstance(item, dict) and item.get("type") == "CHART":
                    numbers[item["meta"]["chartId"]] = real_ids[item["meta"]["uuid"]]
                    item["meta"]["chartId"] = real_ids[item["meta"]["uuid"]]
            for native_filter in doc["metadata"]["native_filter_configuration"]:
                native_filter["scope"]["excluded"] = [numbers[n] for n in native_filter["scope"]["excluded"]]
                native_filter["chartsInScope"] = sorted(numbers.values())
            name = f"dashboards/{doc['dashboard_title'].replace(' ', '_')}_3.yaml"
        files[name] = yaml.safe_dump(doc)
    normalized = normalize_export(files, COMMITTED)
    for document in normalized.values():
        for native_filter in (document.get("metadata") or {}).get("native_filter_configuration", []):
            assert native_filter.pop("chartsInScope") == sorted(
                chart_number(uuid) for uuid in _chart_uuids(document))
    assert normalized == COMMITTED


def test_sql_literal_and_rison():
    assert sql_literal("O'Hara'); drop table x; --") == "'O''Hara''); drop table x; --'"
    assert rison({"filters": [{"col": "name", "opr": "eq", "value": "it's 100!"}], "page": 0, "flag": True}) == \
        "(filters:!((col:name,opr:eq,value:'it!'s 100!!')),page:0,flag:!t)"


def test_reseller_names_that_superset_cannot_hold_are_refused(tmp_path):
    root = tmp_path / "assets"
    (root / "roles").mkdir(parents=True)
    (root / "rls").mkdir()
    (root / "roles" / "roles.yml").write_text((ASSETS_DIR / "roles" / "roles.yml").read_text())
    document = yaml.safe_load((ASSETS_DIR / "rls" / "resellers.yml").read_text())
    for bad, rule in (("x" * 60, "64 characters"), ("Tab\there", "control characters")):
        (root / "rls" / "resellers.yml").write_text(yaml.safe_dump({**document, "resellers": [{"name": bad}]}))
        with pytest.raises(BundleError, match=rule):
            load_access(root)
    assert {role.name for role in load_access(ASSETS_DIR).roles} == {
        "Pulse executive", "Pulse team", "Pulse reseller", "Pulse data team"}


# --- the virtual datasets' SQL, on the fixture warehouse ------------------------------------------
@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_virtual_datasets_run_on_both_engines_and_the_board_shows_the_summary(engine, tmp_path):
    from pulse.warehouse.connection import Warehouse
    from support.services import temporary_postgres_database

    fixture = make_fixture()
    datasets = Datasets.for_registry(REGISTRY)
    board_sql = datasets["summary_board"].sql
    context = temporary_postgres_database() if engine == "postgres" else None
    url = context.__enter__() if context else f"duckdb:///{tmp_path / 'pulse.duckdb'}"
    try:
        build_kpi_warehouse(url, fixture)
        back = read_fixture(url)  # what the end-to-end tests use on the real pipeline's output
        assert (len(back.rows), len(back.summary), back.resellers) == (
            len(fixture.rows), len(fixture.summary), tuple(sorted(fixture.resellers)))
        with Warehouse(url).connect() as connection:
            for dataset in datasets:
                if dataset.sql:
                    columns = [column.name for column in dataset.columns]
                    connection.fetchall(f"select {', '.join(columns)} from ({dataset.sql}) as virtual_table limit 1")
            board = connection.fetchall(f"select grain, kpi_id, kpi_grain, value, weather from ({board_sql}) as b")
    finally:
        if context:
            context.__exit__(None, None, None)
    for grain in ("day", "week", "month"):
        shown = {kpi_id: (kpi_grain, value) for board_grain, kpi_id, kpi_grain, value, _ in board if board_grain == grain}
        assert set(shown) == {kpi.id for kpi in REGISTRY.summary()}, grain
        for item in fixture.summary:
            if item["grain"] == shown[item["kpi_id"]][0]:
                assert shown[item["kpi_id"]][1] == pytest.approx(item["value"], rel=1e-12)
