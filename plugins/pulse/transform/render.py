"""Rendering models with Jinja: `ref()`, `source()`, `config()`, `affected()`, the project's macros
(`sql/macros/*.sql`, available in every model) and the values models may read (`dialect`,
`var(...)`, the KPI registry).

A table kept by key is rendered twice: for a full build, and for an incremental one, where
`source()` is the raw rows loaded since the last refresh and `affected('column')` keeps only the
rows of the keys being rewritten (`true` in a full build). `affected()` is a hint for the
database, placed where it cannot push the key down by itself (an aggregate over an input): the
refresh restricts the model's result to those keys in any case.

Dialect differences are handled in one place only: macros in `sql/macros/dialect.sql` that branch
on `dialect` (`duckdb` or `postgres`). Models never test the dialect themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from pulse.kpi.registry import Registry
from pulse.transform import parts, scratch
from pulse.transform.project import KPI_VALUES, Model, ProjectError

# Tables the runner builds from Python before any model runs, addressable with ref()
SEEDS = {
    "calendar_days": "staging.calendar_days",
    "kpi_registry": "kpi.kpi_registry",
    "kpi_sources": "kpi.kpi_sources",
}
KPI_VALUES_TABLE = "kpi_values"
# Tables describing the current refresh (written by the runner before the KPI layer runs)
SCOPE_TABLES = {
    "refresh_days": "meta.kpi_refresh_days",
    "refresh_periods": "meta.kpi_refresh_periods",
    "refresh_day_periods": "meta.kpi_refresh_day_periods",
    "window_periods": "meta.kpi_window_periods",
}


class Renderer:
    def __init__(self, sql_dir: Path, models: Mapping[str, Model], dialect: str, variables: Mapping[str, Any],
                 registry: Registry):
        self.models = models
        self.dialect = dialect
        self.variables = dict(variables)
        self.registry = registry
        self._model: Model | None = None
        self._incremental = False
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(sql_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            extensions=["jinja2.ext.do"],
        )
        self.env.globals.update(
            dialect=dialect,
            ref=self._ref,
            source=self._source,
            config=self._config,
            affected=self._affected,
            var=self._var,
            scope=self._scope,
            kpi=self._kpi,
            slice_null_label=self._slice_null_label,
            raise_error=self._raise,
            registry=registry,
            part=self._part,
            period_part=self._period_part,
            measure=parts.measure,
        )
        # A macro resolves the names it uses when its file is loaded, so files are loaded again
        # until every macro sees the others (one pass more than the longest chain across files).
        files = sorted((sql_dir / "macros").glob("*.sql"))
        for _ in range(len(files) + 1):
            for path in files:
                module = self.env.get_template(f"macros/{path.name}").make_module()
                for name in dir(module):
                    if not name.startswith("_"):
                        self.env.globals[name] = getattr(module, name)

    def render(self, model: Model, *, incremental: bool = False) -> str:
        self._model, self._incremental = model, incremental
        model.parts.clear()
        try:
            return self.env.from_string(model.sql).render().strip().rstrip(";")
        except jinja2.TemplateError as error:
            raise ProjectError(f"{model.path}: {error}") from error
        except ProjectError as error:
            raise ProjectError(f"{model.path}: {error}") from error
        finally:
            self._model, self._incremental = None, False

    # --- functions models call -----------------------------------------------------------------
    def _current(self) -> Model:
        if self._model is None:
            raise ProjectError("ref(), source() and config() are only available while rendering a model")
        return self._model

    def _ref(self, name: str) -> str:
        if name in SEEDS:
            self._current().seeds.add(name)
            return SEEDS[name]
        if name == KPI_VALUES_TABLE:
            # the long table is written by every model in kpi/values/: reading it waits for all of them
            self._current().refs.update(n for n, m in self.models.items() if m.materialization == KPI_VALUES)
            return "kpi.kpi_values"
        if name not in self.models:
            raise ProjectError(f"ref({name!r}) names no model")
        self._current().refs.add(name)
        self._current().relations[name] = self.models[name].relation
        return self.models[name].relation

    def _part(self, relation: str, day: str | None = None, **options: Any) -> dict[str, Any]:
        """parts.part, refusing to date records by a fact's attribute date: those dates are left out
        of the fact's changed days, so such a KPI would miss late changes."""
        for model in self.models.values():
            if model.relation == relation and day in (model.config.get("attribute_dates") or ()):
                raise ProjectError(f"part of {relation}: {day!r} is an attribute date of {model.name} "
                                   "(config attribute_dates), not a day that dates its records")
        return self._uses(parts.part(relation, day, **options))

    def _period_part(self, relation: str, **options: Any) -> dict[str, Any]:
        return self._uses(parts.period_part(relation, **options))

    def _uses(self, part: dict[str, Any]) -> dict[str, Any]:
        """A KPI model keeps the parts it reads: the columns they name are what it depends on."""
        self._current().parts.append(part)
        return part

    def _source(self, source: str, stream: str) -> str:
        self._current().sources.add((source, stream))
        table = f"raw.{source}__{stream}"
        return scratch.changes(table) if self._incremental else table

    def _affected(self, column: str, expression: str | None = None) -> str:
        model = self._current()
        key = model.config.get("key") or ()
        key = [k.strip() for k in key.split(",")] if isinstance(key, str) else list(key)
        if column not in key:
            raise ProjectError(f"affected({column!r}): {column!r} is not a key column of {model.name} ({key})")
        if not self._incremental:
            return "true"
        return f"{expression or column} in (select {column} from {scratch.affected(model.name)})"

    def _config(self, **options: Any) -> str:
        self._current().config.update(options)
        return ""

    def _var(self, name: str) -> Any:
        if name not in self.variables:
            raise ProjectError(f"var({name!r}) is not defined; known: {sorted(self.variables)}")
        return self.variables[name]

    def _scope(self, name: str) -> str:
        if name not in SCOPE_TABLES:
            raise ProjectError(f"scope({name!r}) is not a refresh scope table; known: {sorted(SCOPE_TABLES)}")
        return SCOPE_TABLES[name]

    def _kpi(self, kpi_id: str | None = None):
        kpi_id = kpi_id or self._current().name
        if kpi_id not in self.registry:
            raise ProjectError(f"KPI {kpi_id!r} is not in kpis.yml")
        return self.registry.get(kpi_id)

    def _slice_null_label(self, slice_name: str) -> str:
        if slice_name not in self.registry.slices:
            raise ProjectError(f"slice {slice_name!r} is not declared in kpis.yml")
        return self.registry.slices[slice_name].null_label

    @staticmethod
    def _raise(message: str) -> None:
        raise ProjectError(message)
