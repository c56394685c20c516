"""The SQL runner on small hand-written projects: how models are found, ordered and refused, and
that a refresh is all or nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

import pulse.transform.refresh as refresh_module
from pulse.kpi.registry import Kpi, Registry, Slice
from pulse.sources.streams import Field, Stream, conform
from pulse.transform.project import ProjectError, discover, run_order
from pulse.transform.render import Renderer
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.loader import merge
from pulse.warehouse.meta import ensure_meta

MACROS = Path(__file__).resolve().parents[2] / "sql" / "macros"
ORDERS = Stream("toy", "orders", ("order_id",), (
    Field("order_id", "int"), Field("placed_at", "timestamp"), Field("amount", "money"), Field("channel", "str")))
STAGING = """
{{ config(key='order_id') }}
with source as (select * from {{ source('toy', 'orders') }}),
renamed as (
    select order_id, {{ business_day('placed_at') }} as placed_day, amount, channel as order_channel from source
)
select * from renamed
"""
FACT = ("{{ config(day_column='placed_day', window=true, key='order_id', links={'stg_toy__orders': 'order_id'}) }}\n"
        "select * from {{ ref('stg_toy__orders') }}")
REVENUE = "{{ kpi_values(numerator=part(ref('fct_orders'), 'placed_day', agg='sum', value='amount')) }}"


def project(root: Path, **models: str) -> Path:
    """A project with the real macros; `models` maps `layer/name` to SQL."""
    shutil.copytree(MACROS, root / "macros")
    for path, sql in models.items():
        target = root / f"{path}.sql"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sql)
    return root


def registry() -> Registry:
    def kpi(kpi_id: str, kind: str) -> Kpi:
        return Kpi(id=kpi_id, ref="22", title=kpi_id, area="transactions", dashboard="transactions", kind=kind,
                   unit="eur", better="higher", sources=("SHOP",), definition="toy", grains=("day", "month"),
                   slices=("order_channel",))

    return Registry((kpi("revenue", "sum"), kpi("orders", "count")),
                    {"order_channel": Slice("order_channel", "toy", "(not set)")}, (), {})


def render_all(root: Path, dialect: str = "duckdb") -> dict:
    models = discover(root)
    renderer = Renderer(root, models, dialect, {"business_timezone": "Europe/Amsterdam"}, registry())
    return {name: renderer.render(model) for name, model in models.items()}, models


def test_models_run_in_dependency_order_and_layers(tmp_path):
    root = project(tmp_path, **{"staging/stg_toy__orders": STAGING, "marts/fct_orders": FACT,
                                "kpi/values/revenue": REVENUE})
    _, models = render_all(root)
    assert [model.name for model in run_order(models)] == ["stg_toy__orders", "fct_orders", "revenue"]
    assert models["fct_orders"].config == {"day_column": "placed_day", "window": True, "key": "order_id",
                                           "links": {"stg_toy__orders": "order_id"}}
    assert models["stg_toy__orders"].sources == {("toy", "orders")}
    assert models["revenue"].relation == "kpi.kpi_values"


def test_the_dialect_decides_only_inside_macros(tmp_path):
    root = project(tmp_path, **{"staging/stg_toy__orders": "select {{ median('x') }} from t"})
    duckdb_sql, _ = render_all(root, "duckdb")
    postgres_sql, _ = render_all(root, "postgres")
    assert "median(" in duckdb_sql["stg_toy__orders"]
    assert "percentile_cont(0.5) within group" in postgres_sql["stg_toy__orders"]


@pytest.mark.parametrize(("models", "message"), [
    ({"staging/orders": "select 1"}, "named stg_"),
    ({"marts/fct_a": "select * from {{ ref('fct_b') }}", "marts/fct_b": "select * from {{ ref('fct_a') }}"}, "cycle"),
    ({"staging/stg_a": "select * from {{ ref('fct_b') }}", "marts/fct_b": "select 1"}, "points from staging up"),
    ({"marts/fct_a": "select * from {{ ref('nothing') }}"}, "names no model"),
    ({"staging/stg_a": "select {{ var('unknown') }}"}, "var('unknown')"),
    ({"staging/stg_a": "select 1 as a from {{ source('toy', 'orders') }}"}, "stg_a.sql: a staging model needs"),
    ({"staging/stg_a": "{{ config(key='a') }}select * from {{ source('toy', 'orders') }}",
      "marts/fct_a": "{{ config(key='a', day_column='d') }}select * from {{ ref('stg_a') }}"},
     "fct_a.sql: every input needs a link in config(links=...) saying which rows its changed rows reach; missing: stg_a"),
    ({"staging/stg_a": "{{ config(key='a') }}select * from {{ source('toy', 'orders') }}",
      "intermediate/int_a": "{{ config(key='a', links={'stg_a': 'b'}) }}select * from {{ ref('stg_a') }}"},
     "int_a.sql: no input is linked by the whole key"),
    ({"staging/stg_a": "{{ config(key='a') }}select * from {{ source('toy', 'orders') }}",
      "intermediate/int_a": "{{ config(key='a') }}select * from {{ ref('stg_a') }} where {{ affected('b') }}"},
     "affected('b'): 'b' is not a key column of int_a"),
    ({"marts/fct_orders": "{{ config(day_column='placed_day', attribute_dates=['first_day']) }}select 1",
      "kpi/values/revenue": "{{ kpi_values(numerator=part(ref('fct_orders'), 'first_day', agg='count')) }}"},
     "'first_day' is an attribute date of fct_orders"),
])
def test_an_inconsistent_project_is_refused_with_the_model_named(tmp_path, models, message):
    root = project(tmp_path, **models)
    with pytest.raises(ProjectError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _, found = render_all(root)
        run_order(found)


def toy_warehouse(tmp_path: Path, monkeypatch) -> Warehouse:
    monkeypatch.setattr(refresh_module, "find_stream", lambda key: ORDERS)
    warehouse = Warehouse(f"duckdb:///{tmp_path}/warehouse.duckdb")
    rows = pd.DataFrame({"order_id": [1, 2], "placed_at": ["2026-03-02T10:00:00Z", "2026-03-03T10:00:00Z"],
                         "amount": ["10.00", "5.50"], "channel": ["web", None]})
    with warehouse.connect() as connection:
        ensure_meta(connection)
        merge(connection, ORDERS, conform(ORDERS, rows).table, "batch-1")
    return warehouse


def test_a_new_kpi_gets_every_period_at_the_next_daily_refresh(tmp_path, monkeypatch):
    warehouse = toy_warehouse(tmp_path, monkeypatch)
    models = {"staging/stg_toy__orders": STAGING, "marts/fct_orders": FACT, "kpi/values/revenue": REVENUE}
    through = dt.date(2026, 3, 20)  # both orders are older than the lookback window
    refresh_module.refresh_kpis(warehouse=warehouse, through=through, sql_dir=project(tmp_path / "a", **models),
                                registry=registry())
    models["kpi/values/orders"] = "{{ kpi_values(numerator=part(ref('fct_orders'), 'placed_day')) }}"
    second = refresh_module.refresh_kpis(warehouse=warehouse, through=through,
                                         sql_dir=project(tmp_path / "b", **models), registry=registry())
    assert second.mode == "full"
    with warehouse.connect() as connection:
        counts = connection.fetchall("select period_start, value from kpi.kpi_values where kpi_id = 'orders' "
                                     "and grain = 'day' and slice_name = 'all' and value > 0 order by 1")
    assert counts == [(dt.date(2026, 3, 2), 1.0), (dt.date(2026, 3, 3), 1.0)]
    third = refresh_module.refresh_kpis(warehouse=warehouse, through=through,
                                        sql_dir=project(tmp_path / "c", **models), registry=registry())
    assert third.mode == "incremental"


def test_a_removed_kpi_leaves_no_rows_after_the_next_daily_refresh(tmp_path, monkeypatch):
    warehouse = toy_warehouse(tmp_path, monkeypatch)
    models = {"staging/stg_toy__orders": STAGING, "marts/fct_orders": FACT, "kpi/values/revenue": REVENUE,
              "kpi/values/orders": "{{ kpi_values(numerator=part(ref('fct_orders'), 'placed_day')) }}"}
    through = dt.date(2026, 3, 20)
    refresh_module.refresh_kpis(warehouse=warehouse, through=through, sql_dir=project(tmp_path / "a", **models),
                                registry=registry())
    del models["kpi/values/orders"]
    second = refresh_module.refresh_kpis(warehouse=warehouse, through=through,
                                         sql_dir=project(tmp_path / "b", **models), registry=registry())
    assert second.mode == "incremental"
    with warehouse.connect() as connection:
        assert connection.fetchall("select distinct kpi_id from kpi.kpi_values") == [("revenue",)]


def test_a_failed_refresh_changes_nothing_and_is_recorded(tmp_path, monkeypatch):
    warehouse = toy_warehouse(tmp_path, monkeypatch)
    good = project(tmp_path / "good", **{"staging/stg_toy__orders": STAGING, "marts/fct_orders": FACT,
                                         "kpi/values/revenue": REVENUE})
    first = refresh_module.refresh_kpis(warehouse=warehouse, through=dt.date(2026, 3, 3), sql_dir=good,
                                        registry=registry())
    with warehouse.connect() as connection:
        before = connection.fetch_df("select * from kpi.kpi_values order by grain, period_start, slice_value")
        connection.execute("update raw.toy__orders set amount = 99 where order_id = 1")
    assert before.loc[(before["grain"] == "month") & (before["slice_name"] == "all"), "value"].tolist() == [15.5]

    broken = project(tmp_path / "broken", **{"staging/stg_toy__orders": STAGING, "marts/fct_orders": FACT,
                                             "kpi/values/revenue": REVENUE,
                                             "kpi/kpi_broken": "select no_such_column from {{ ref('fct_orders') }}"})
    with pytest.raises(ProjectError, match="kpi_broken"):
        refresh_module.refresh_kpis(warehouse=warehouse, through=dt.date(2026, 3, 3), sql_dir=broken,
                                    registry=registry())
    with warehouse.connect() as connection:
        after = connection.fetch_df("select * from kpi.kpi_values order by grain, period_start, slice_value")
        fact_amounts = connection.fetchall("select amount from marts.fct_orders order by order_id")
        refreshes = connection.fetchall("select refresh_id, status, error from meta.kpi_refreshes order by started_at")
    pd.testing.assert_frame_equal(before, after)
    assert [float(amount) for (amount,) in fact_amounts] == [10.0, 5.5]
    assert [(row[0] == first.refresh_id, row[1]) for row in refreshes] == [(True, "success"), (False, "failed")]
    assert "no_such_column" in refreshes[1][2]


def test_a_registry_table_from_an_older_pulse_gains_the_new_columns(tmp_path):
    """Upgrades: the seeds are refilled in place (PostgreSQL readers never see them vanish), so a
    column a newer registry declares is added to the existing table."""
    from pulse.kpi.registry import load_registry
    from pulse.transform.seeds import REGISTRY_COLUMNS, build_registry

    older = REGISTRY_COLUMNS.replace(",\n    settles_after_days integer not null", "")
    assert older != REGISTRY_COLUMNS
    warehouse = Warehouse(f"duckdb:///{tmp_path}/warehouse.duckdb")
    registry = load_registry()
    with warehouse.connect() as connection:
        connection.execute("create schema if not exists kpi")
        connection.execute(f"create table kpi.kpi_registry ({older})")
        assert "settles_after_days" not in connection.columns("kpi.kpi_registry")
        assert build_registry(connection, registry) == len(registry)
        settling = dict(connection.fetchall("select kpi_id, settles_after_days from kpi.kpi_registry"))
    assert settling == {kpi.id: kpi.settles_after_days for kpi in registry}
