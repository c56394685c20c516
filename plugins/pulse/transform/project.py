"""The SQL project: models under `sql/<layer>/`, their materialization (decided by folder), their
dependencies (from `ref()` and `source()`) and the order they run in.

A model is one `.sql` file; its name (the file name) is unique across the project and is the
table or view it builds. The folder decides how it is built:

| folder             | schema       | materialization                                               |
|--------------------|--------------|---------------------------------------------------------------|
| `staging/`         | staging      | table kept by key: the rows of raw rows loaded since the last refresh are rewritten |
| `intermediate/`    | intermediate | table kept by key (`config(key=..., links=...)`)              |
| `marts/`           | marts        | table kept by key; facts (`fct_*`) also name their business day (`day_column`) |
| `kpi/values/`      | kpi          | the model's rows of `kpi.kpi_values` (model name = KPI id)     |
| `kpi/by_period/`   | kpi          | incremental by period (grain, period_start)                   |
| `kpi/`             | kpi          | table whose rows are replaced every refresh, or kept by key when it names one |

A table kept by key (`pulse.transform.materialize`) names its key and, for every model or seed it
reads, the link by which a changed row of that input reaches its own rows (`links`): an input's
changed rows rewrite only the rows they reach. Staging models read one raw table each and keep
its rows one for one, so they only name their key.

Subfolders below a layer group models by concept (`intermediate/service/`) and inherit its rule.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass, field
from pathlib import Path

from pulse.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "sql"
LAYERS = ("staging", "intermediate", "marts", "kpi")

KEYED, KPI_VALUES, INCREMENTAL_PERIODS, REPLACE_ROWS = ("keyed", "kpi_values", "incremental_periods", "replace_rows")
# Seeds a table kept by key may read: the refresh knows which of their rows changed
LINKABLE_SEEDS = ("calendar_days",)


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
    relations: dict[str, str] = field(default_factory=dict)  # ref name -> the table it names
    sources: set[tuple[str, str]] = field(default_factory=set)
    seeds: set[str] = field(default_factory=set)  # tables from Python it reads (calendar_days, ...)
    parts: list[dict] = field(default_factory=list)  # KPI models: the parts of facts they read
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
        if self.layer in ("staging", "intermediate", "marts"):
            return KEYED
        top = self.folder.split("/")[1] if "/" in self.folder else ""
        if top == "values":
            return KPI_VALUES
        if top == "by_period":
            return INCREMENTAL_PERIODS
        return KEYED if self.config.get("key") else REPLACE_ROWS


@dataclass(frozen=True)
class Link:
    """Rows of the model whose `columns` equal an input row's `input_columns` (column names or
    expressions over the input's columns, such as a constant) depend on that row. With `via`
    (columns written `other_input.column`), the columns are those of another input that holds the
    model's key: the model's rows are those of that input's rows that match."""

    input: str
    columns: tuple[str, ...]
    input_columns: tuple[str, ...]
    via: str | None = None
    reads: tuple[str, ...] = ()  # the input's columns the model reads (empty: all): other changes pass it by


@dataclass(frozen=True)
class Keyed:
    """How a table kept by key is maintained (from its config)."""

    key: tuple[str, ...]
    links: tuple[Link, ...]
    indexes: tuple[tuple[str, ...], ...]  # PostgreSQL: looked up by the links and by models reading it
    day_column: str | None  # facts: the business day a row is stored by
    attribute_dates: tuple[str, ...]  # facts: dates of a row that date no record (left out of changed days)

    def key_links(self) -> tuple[Link, ...]:
        return tuple(link for link in self.links if set(link.columns) == set(self.key) and not link.via)


def keyed(model: Model) -> Keyed:
    """The key, links and indexes of a table kept by key, checked against what the model reads
    (call after rendering, which fills `refs` and `sources`)."""
    config = model.config

    def names(value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value or ())
        return tuple(str(item).strip() for item in items if str(item).strip())

    key = names(config.get("key"))
    if not key:
        raise ProjectError(f"{model.path}: a {model.layer} model needs {{{{ config(key=...) }}}}, the columns "
                           "that identify its rows")
    day_column = config.get("day_column")
    if model.layer == "marts" and model.name.startswith("fct_") and not day_column:
        raise ProjectError(f"{model.path}: a fact needs {{{{ config(day_column='...') }}}}, the business day it is "
                           "stored by")
    links = []
    for name, specs in (config.get("links") or {}).items():
        if name not in model.refs and name not in model.seeds:
            raise ProjectError(f"{model.path}: links names {name!r}, which the model does not ref()")
        reads: tuple[str, ...] = ()
        if isinstance(specs, dict):
            if set(specs) - {"on", "reads"} or "on" not in specs:
                raise ProjectError(f"{model.path}: link to {name!r} is {specs!r}; a dict takes 'on' (the link) and "
                                   "'reads' (the input's columns the model reads)")
            specs, reads = specs["on"], names(specs.get("reads"))
        for spec in [specs] if isinstance(specs, str) else list(specs):
            pairs = [part.split("=", 1) for part in names(spec)]
            if not pairs:
                raise ProjectError(f"{model.path}: link to {name!r} is {spec!r}; write 'column' or "
                                   "'column = input_column', comma-separated")
            columns = tuple(pair[0].strip() for pair in pairs)
            via = {column.rpartition(".")[0] for column in columns}
            if len(via) != 1 or (via != {""} and not via <= model.refs):
                raise ProjectError(f"{model.path}: link to {name!r} is {spec!r}; qualify all its columns or none, "
                                   "by an input the model reads")
            links.append(Link(name, tuple(column.rpartition(".")[2] for column in columns),
                              tuple(pair[-1].strip() for pair in pairs), via.pop() or None, reads))
    result = Keyed(key, tuple(links), tuple(names(index) for index in config.get("indexes") or ()),
                   day_column, names(config.get("attribute_dates")))
    if model.layer == "staging":
        if len(model.sources) != 1 or model.refs or model.seeds or links:
            raise ProjectError(f"{model.path}: a staging model reads one source() and keeps its rows one for one "
                               "(no ref(), no links)")
        return result
    linked = {link.input for link in links}
    unlinked = sorted(name for name in model.refs | model.seeds if name not in linked)
    unknown = sorted(model.seeds - set(LINKABLE_SEEDS))
    if unknown:
        raise ProjectError(f"{model.path}: a {model.layer} model may read only the seeds {list(LINKABLE_SEEDS)}, "
                           f"not {unknown}")
    if model.sources or unlinked:
        raise ProjectError(f"{model.path}: every input needs a link in config(links=...) saying which rows its "
                           f"changed rows reach; missing: {', '.join(unlinked) or 'source() is for staging only'}")
    if not result.key_links():
        raise ProjectError(f"{model.path}: no input is linked by the whole key {list(key)}: the refresh could not "
                           "find the model's new rows")
    return result


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
    """Models in dependency order (after rendering has filled `refs`); layers never point upstream,
    and every table kept by key has a key and links that fit what it reads."""
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
    for model in models.values():
        if model.materialization == KEYED:
            keyed(model)
    # stable: layer first, then dependency order, so staging views are all created before tables
    rank = {name: index for index, name in enumerate(order)}
    return sorted((models[name] for name in order), key=lambda m: (LAYERS.index(m.layer), rank[m.name]))
