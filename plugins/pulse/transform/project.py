"""The SQL project: models under `sql/<layer>/`, their materialization (decided by folder), their
dependencies (from `ref()` and `source()`) and the order they run in.

A model is one `.sql` file; its name (the file name) is unique across the project and is the
table or view it builds. The folder decides how it is built:

| folder             | schema       | materialization                                               |
|--------------------|--------------|---------------------------------------------------------------|
| `staging/`         | staging      | view                                                          |
| `intermediate/`    | intermediate | table, rebuilt every refresh                                  |
| `marts/` `dim_*`   | marts        | table, rebuilt every refresh                                  |
| `marts/` `fct_*`   | marts        | incremental by business day (`config(day_column=...)`)        |
| `kpi/values/`      | kpi          | the model's rows of `kpi.kpi_values` (model name = KPI id)     |
| `kpi/by_period/`   | kpi          | incremental by period (grain, period_start)                   |
| `kpi/`             | kpi          | table whose rows are replaced every refresh                    |

Subfolders below a layer group models by concept (`intermediate/service/`) and inherit its rule.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass, field
from pathlib import Path

from pulse.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "sql"
LAYERS = ("staging", "intermediate", "marts", "kpi")

VIEW, TABLE, INCREMENTAL_DAYS, KPI_VALUES, INCREMENTAL_PERIODS, REPLACE_ROWS = (
    "view", "table", "incremental_days", "kpi_values", "incremental_periods", "replace_rows",
)


class ProjectError(ValueError):
    """The SQL project is inconsistent; the message names the model and the rule."""


@dataclass
class Model:
    name: str
    layer: str
    folder: str  # path of the model's folder relative to sql/
    path: Path
    config: dict = field(default_factory=dict)
    refs: set[str] = field(default_factory=set)
    sources: set[tuple[str, str]] = field(default_factory=set)
    sql: str = ""

    @property
    def schema(self) -> str:
        return self.layer

    @property
    def relation(self) -> str:
        if self.materialization == KPI_VALUES:
            return "kpi.kpi_values"
        return f"{self.schema}.{self.name}"

    @property
    def materialization(self) -> str:
        if self.layer == "staging":
            return VIEW
        if self.layer == "intermediate":
            return TABLE
        if self.layer == "marts":
            return INCREMENTAL_DAYS if self.name.startswith("fct_") else TABLE
        top = self.folder.split("/")[1] if "/" in self.folder else ""
        if top == "values":
            return KPI_VALUES
        if top == "by_period":
            return INCREMENTAL_PERIODS
        return REPLACE_ROWS


def discover(sql_dir: Path | None = None) -> dict[str, Model]:
    """Every model file under the layer folders, by name."""
    root = Path(sql_dir or SQL_DIR)
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.sql")):
            name = path.stem
            if name in models:
                raise ProjectError(f"model {name!r} is defined twice: {models[name].path} and {path}")
            folder = path.parent.relative_to(root).as_posix()
            model = Model(name=name, layer=layer, folder=folder, path=path, sql=path.read_text(encoding="utf-8"))
            _check_name(model)
            models[name] = model
    return models


def _check_name(model: Model) -> None:
    prefixes = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("fct_", "dim_")}
    wanted = prefixes.get(model.layer)
    if wanted and not model.name.startswith(wanted):
        raise ProjectError(f"{model.path}: models in {model.layer}/ are named {' or '.join(w + '*' for w in wanted)}")


def run_order(models: dict[str, Model]) -> list[Model]:
    """Models in dependency order (after rendering has filled `refs`); layers never point upstream."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for model in models.values():
        for ref in model.refs:
            if ref not in models:
                raise ProjectError(f"{model.path}: ref({ref!r}) names no model")
            if LAYERS.index(models[ref].layer) > LAYERS.index(model.layer):
                raise ProjectError(f"{model.path}: ref({ref!r}) points from {model.layer} up to {models[ref].layer}")
        sorter.add(model.name, *sorted(model.refs))
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError as error:
        raise ProjectError(f"models depend on each other in a cycle: {error.args[1]}") from error
    # stable: layer first, then dependency order, so staging views are all created before tables
    rank = {name: index for index, name in enumerate(order)}
    return sorted((models[name] for name in order), key=lambda m: (LAYERS.index(m.layer), rank[m.name]))
