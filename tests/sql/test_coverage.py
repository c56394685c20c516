"""Every registry KPI has SQL: a model in sql/kpi/values/ named like each periodic KPI, and the
table of each list KPI in sql/kpi/; no SQL names a KPI the registry does not have."""

from __future__ import annotations

from pulse.kpi.registry import load_registry
from pulse.transform.project import INCREMENTAL_PERIODS, KPI_VALUES, REPLACE_ROWS, discover

REGISTRY = load_registry()


def test_every_periodic_kpi_has_a_values_model():
    models = {name for name, model in discover().items() if model.materialization == KPI_VALUES}
    missing = sorted(kpi.id for kpi in REGISTRY.periodic() if kpi.id not in models)
    assert not missing, f"registry KPIs without sql/kpi/values/<id>.sql: {missing}"
    unknown = sorted(models - {kpi.id for kpi in REGISTRY})
    assert not unknown, f"sql/kpi/values models that are not registry KPIs: {unknown}"


def test_every_list_kpi_has_its_table():
    models = discover()
    for kpi in REGISTRY.lists():
        model = models.get(kpi.table)
        assert model is not None, f"list KPI {kpi.id}: no model builds kpi.{kpi.table}"
        wanted = INCREMENTAL_PERIODS if kpi.grains else REPLACE_ROWS
        assert model.materialization == wanted, f"kpi.{kpi.table} is per period exactly when {kpi.id} has grains"
