"""`refresh_kpis()`: build the KPI layer from the raw tables, all or nothing.

One refresh renders every model, then in ONE transaction: rebuilds the business calendar and the
registry table; brings the staging, intermediate and mart tables up to date (a daily refresh
rewrites only the rows that the raw rows loaded since the previous refresh reach, model by model:
`pulse.transform.materialize`); works out the refresh scope from the days whose fact rows
changed; rebuilds the KPI tables for the periods in scope; and records itself in
`meta.kpi_refreshes`. On PostgreSQL that transaction is the publication: readers see the old KPI
layer or the new one, never a mix. On DuckDB readers use the serving copy
(`pulse.warehouse.publish`), made after the refresh commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import Registry, load_registry
from pulse.settings import Settings, get_settings
from pulse.sources import find_stream
from pulse.transform import changes, scratch, seeds
from pulse.transform.materialize import ALL_COLUMNS, Built, build, ensure_kpi_values
from pulse.transform.parts import columns_read
from pulse.transform.project import (
    INCREMENTAL_PERIODS,
    KEYED,
    KPI_VALUES,
    REPLACE_ROWS,
    SQL_DIR,
    Model,
    ProjectError,
    discover,
    run_order,
)
from pulse.transform.render import Renderer
from pulse.transform.scope import Scope, full_scope, incremental_scope, write_scope
from pulse.warehouse.connection import Connection, Warehouse
from pulse.warehouse.loader import ensure_raw_table
from pulse.warehouse.meta import ensure_meta

log = logging.getLogger(__name__)

REFRESHES_DDL = """
    refresh_id text not null primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null,
    mode text,
    through date,
    window_start date,
    days_rebuilt integer,
    periods_rebuilt integer,
    models_run integer,
    duration_seconds double precision,
    kpi_values_rows bigint,
    error text
"""
MODELS_DDL = "model text not null primary key, sql_hash text not null"
REFRESH_LOCK = 7_301_786  # PostgreSQL advisory lock held by a refresh's transaction
REFRESH_TABLES_DDL = """
    refresh_id text not null,
    table_name text not null,
    row_count bigint not null,
    primary key (refresh_id, table_name)
"""


# The summary's weather: a change worse than this (relative) clouds a KPI on target and storms one
# without a target.
SUMMARY_TOLERANCE = 0.05


@dataclass(frozen=True)
class RefreshResult:
    refresh_id: str
    mode: str  # full | incremental
    through: dt.date
    window_start: dt.date
    days_rebuilt: tuple[dt.date, ...]
    periods_rebuilt: dict[str, int]  # grain -> periods rebuilt
    models_run: tuple[str, ...]
    duration_seconds: float
    row_counts: dict[str, int] = field(default_factory=dict)  # kpi table -> rows after the refresh


def default_through(settings: Settings | None = None) -> dt.date:
    """The last complete business day: yesterday in the business time zone."""
    settings = settings or get_settings()
    return dt.datetime.now(settings.tz).date() - dt.timedelta(days=1)


def refresh_kpis(*, warehouse: Warehouse | None = None, full: bool = False, through: dt.date | None = None,
                 sql_dir: Path | None = None, settings: Settings | None = None,
                 registry: Registry | None = None) -> RefreshResult:
    settings = settings or get_settings()
    warehouse = warehouse or Warehouse.from_settings()
    registry = registry or load_registry()
    through = through or default_through(settings)
    calendar = BusinessCalendar.from_settings(settings)
    models = discover(sql_dir)
    renderer = Renderer(
        sql_dir or SQL_DIR, models, warehouse.dialect, _variables(settings, through), registry,
    )
    rendered = {name: renderer.render(model) for name, model in models.items()}
    order = run_order(models)
    incremental_sql = {model.name: renderer.render(model, incremental=True) for model in order
                       if model.materialization == KEYED}

    refresh_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC)
    with warehouse.connect() as connection:
        if connection.dialect == "postgres":
            # joins on computed business days get row estimates far too high, and PostgreSQL then
            # spends seconds JIT-compiling queries that run in milliseconds
            connection.execute("set jit = off")
        ensure_meta(connection)
        connection.execute(f"create table if not exists meta.kpi_refreshes ({REFRESHES_DDL})")
        connection.execute(f"create table if not exists meta.kpi_refresh_tables ({REFRESH_TABLES_DDL})")
        try:
            with connection.transaction():
                result = _run(connection, models, order, rendered, incremental_sql, refresh_id=refresh_id, full=full,
                              through=through,
                              calendar=calendar, registry=registry, settings=settings, started=started,
                              started_at=started_at)
        except Exception as error:
            connection.execute(
                "insert into meta.kpi_refreshes (refresh_id, started_at, finished_at, status, through, "
                "duration_seconds, error) values (:id, :started, :finished, 'failed', :through, :seconds, :error)",
                {"id": refresh_id, "started": started_at, "finished": dt.datetime.now(dt.UTC), "through": through,
                 "seconds": time.monotonic() - started, "error": f"{type(error).__name__}: {error}"[:4000]},
            )
            raise
    log.info("KPI refresh %s (%s through %s): %d days, %s periods, %d models in %.1fs", result.refresh_id,
             result.mode, result.through, len(result.days_rebuilt), result.periods_rebuilt, len(result.models_run),
             result.duration_seconds)
    return result


def _run(connection: Connection, models: dict[str, Model], order: list[Model], rendered: dict[str, str],
         incremental_sql: dict[str, str], *, refresh_id: str, full: bool, through: dt.date,
         calendar: BusinessCalendar, registry: Registry, settings: Settings, started: float,
         started_at: dt.datetime) -> RefreshResult:
    if connection.dialect == "postgres":
        # one refresh at a time: two would delete and insert the same KPI rows
        connection.execute(f"select pg_advisory_xact_lock({REFRESH_LOCK})")
    previous = _previous_refresh(connection)
    changed_models, removed_models = _model_changes(connection, order, rendered)
    upstream = [model for model in order if model.layer != "kpi"]
    incremental = (not full and previous is not None and previous[0] <= through and not changed_models
                   and all(connection.table_exists(model.relation) for model in upstream))
    _ensure_sources(connection, order)
    changed_inputs: dict[str, int] = changes.pending(connection)
    if incremental:
        changed_inputs["calendar_days"] = seeds.build_calendar(connection, calendar, through, delta=True)
    else:
        seeds.build_calendar(connection, calendar, through)
    seeds.build_registry(connection, registry)
    seeds.build_kpi_sources(connection, registry)

    built: dict[str, Built] = {}
    for model in upstream:
        built[model.name] = _build(connection, model, rendered[model.name], full=not incremental,
                                   incremental_sql=incremental_sql[model.name], changed_inputs=changed_inputs)
        changed_inputs[model.name] = built[model.name].delta_rows

    window_start = _window_start(connection, upstream, through)
    fact_days = {m.name: built[m.name].changed_columns for m in upstream if m.config.get("day_column")}
    if incremental:
        base = incremental_scope(
            through=through, window_start=window_start, lookback_days=settings.kpi_lookback_days,
            previous_through=previous[0], previous_window_start=previous[1], changed_days=(),
        )
        scope = replace(base, days=base.days | frozenset(day for days in fact_days.values() for day in days
                                                         if day <= through))
    else:
        base = scope = full_scope(window_start, through)
    write_scope(connection, scope)

    ensure_kpi_values(connection)
    kpi_models = [model for model in order if model.layer == "kpi"]
    value_ids = [model.name for model in kpi_models if model.materialization == KPI_VALUES]
    if scope.full or removed_models:  # otherwise no KPI can have lost its model: no scan of every row
        _drop_orphan_values(connection, value_ids)
    written = scope
    for model, own in _kpi_scopes(kpi_models, base, scope, fact_days, registry):
        if own is not None and own != written:
            write_scope(connection, own, window=False)
            written = own
        built[model.name] = _build(connection, model, rendered[model.name], full=scope.full,
                                   incremental_sql=incremental_sql.get(model.name), changed_inputs=changed_inputs)
        changed_inputs[model.name] = built[model.name].delta_rows
    if written != scope:  # the scope tables describe the whole refresh
        write_scope(connection, scope, window=False)

    changes.take_in(connection, refresh_id)
    _drop_scratch(connection, changed_inputs)
    values_rows = None
    if not scope.full and not removed_models and previous is not None:  # no need to count millions of rows
        values_rows = _recorded_rows(connection, previous[2], "kpi.kpi_values")
        values_rows = None if values_rows is None else values_rows + sum(
            built[name].rows_added for name in value_ids)
    row_counts = _kpi_row_counts(connection, values_rows)
    periods = scope.periods()
    per_grain = {grain: sum(1 for g, _ in periods if g == grain) for grain in ("day", "week", "month", "quarter")}
    result = RefreshResult(
        refresh_id=refresh_id, mode="full" if scope.full else "incremental", through=through,
        window_start=window_start, days_rebuilt=tuple(sorted(scope.days)), periods_rebuilt=per_grain,
        models_run=tuple(model.name for model in order), duration_seconds=time.monotonic() - started,
        row_counts=row_counts,
    )
    _record(connection, result, started_at, scope)
    _record_model_versions(connection, order, rendered)
    return result


def _kpi_scopes(kpi_models: list[Model], base: Scope, scope: Scope,
                fact_days: dict[str, Mapping[dt.date, frozenset[str]]],
                registry: Registry) -> list[tuple[Model, Scope | None]]:
    """The KPI models in the order to build them, each with the scope to write before it (None:
    the one written stands). A KPI's rows are rebuilt for the periods of the days every KPI
    rebuilds (`base`: lookback, new days, window changes) and of the days on which what it reads
    of its facts changed (`fact_days`: the changed columns per day of each fact): a late change to
    shipments rebuilds last quarter's delivery KPIs, not its revenue, and a customer's first web
    order rewrites its old orders for the retention KPI only. The models built per period come
    first, grouped by scope; the as-of tables after them, on the whole refresh's scope."""
    if scope.full:
        return [(model, None) for model in kpi_models]
    periodic = [model for model in kpi_models if model.materialization in (KPI_VALUES, INCREMENTAL_PERIODS)]
    by_days: dict[frozenset[dt.date], list[Model]] = {}
    for model in periodic:
        days = set(base.days)
        for ref in model.refs & set(fact_days):
            read = _columns_read(model, ref, registry)
            days |= {day for day, columns in fact_days[ref].items()
                     if read is None or ALL_COLUMNS in columns or columns & read}
        by_days.setdefault(frozenset(day for day in days if day <= scope.through), []).append(model)
    ordered: list[tuple[Model, Scope | None]] = []
    for days, models in by_days.items():
        ordered += [(model, replace(scope, days=days) if index == 0 else None) for index, model in enumerate(models)]
    rest = [model for model in kpi_models if model not in periodic]
    ordered += [(model, scope if index == 0 else None) for index, model in enumerate(rest)]
    return ordered


def _columns_read(model: Model, fact: str, registry: Registry) -> set[str] | None:
    """The columns of `fact` a KPI model reads: those its parts name, or for a list per period
    those its `config(reads={fact: ...})` names; None (every column) when it does not say."""
    relation = model.relations.get(fact)
    if model.materialization == INCREMENTAL_PERIODS:
        reads = (model.config.get("reads") or {}).get(fact)
        return {name.strip() for name in reads.split(",")} if reads else None
    if model.materialization != KPI_VALUES or model.name not in registry:
        return None
    slices = list(registry.get(model.name).slices)
    return set().union(*(columns_read(p, slices) for p in model.parts if p["relation"] == relation))


def _drop_scratch(connection: Connection, changed_inputs: dict[str, int]) -> None:
    """The refresh's temporary tables (they would go with the session; a caller may keep it)."""
    changes.drop(connection, {name: rows for name, rows in changed_inputs.items() if name.startswith("raw.")})
    for name in changed_inputs:
        if not name.startswith("raw."):
            connection.execute(f"drop table if exists {scratch.delta(name)}")


def _build(connection: Connection, model: Model, sql: str, *, full: bool, incremental_sql: str | None = None,
           changed_inputs: dict[str, int] | None = None) -> Built:
    started = time.monotonic()
    try:
        return build(connection, model, sql, full=full, incremental_sql=incremental_sql, changed_inputs=changed_inputs)
    except ProjectError:
        raise
    except Exception as error:
        raise ProjectError(f"model {model.name} ({model.path}) failed: {type(error).__name__}: {error}") from error
    finally:
        log.debug("model %s built in %.3fs", model.name, time.monotonic() - started)


def _ensure_sources(connection: Connection, order: list[Model]) -> None:
    """Every raw table a staging model reads exists (empty until its source first loads), with the
    columns of the stream's contract."""
    for model in order:
        for source, stream_name in sorted(model.sources):
            if connection.table_exists(f"raw.{source}__{stream_name}"):
                continue  # importing a connector for its contract costs seconds
            try:
                stream = find_stream(f"{source}.{stream_name}")
            except KeyError as error:
                raise ProjectError(f"{model.path}: source({source!r}, {stream_name!r}) is not a declared stream "
                                   f"({error})") from error
            ensure_raw_table(connection, stream)


def _window_start(connection: Connection, upstream: list[Model], through: dt.date) -> dt.date:
    """First business day of the KPI window: the earliest stored day of the facts that mark the
    start of the business's activity (`config(window=true)`: orders, web sessions), or `through`
    when there is none yet. Older history (customers registered years ago) is still counted in the
    periods it belongs to; the window only decides which periods get a row."""
    firsts = []
    for model in upstream:
        if model.config.get("window"):
            first = connection.scalar(f"select min({model.config['day_column']}) from {model.relation}")
            if first is not None:
                firsts.append(first if isinstance(first, dt.date) else dt.date.fromisoformat(str(first)[:10]))
    return min([*firsts, through])


def _previous_refresh(connection: Connection) -> tuple[dt.date, dt.date, str] | None:
    row = connection.fetchone(
        "select through, window_start, refresh_id from meta.kpi_refreshes where status = 'success' "
        "order by finished_at desc limit 1"
    )
    if row is None or not connection.table_exists("kpi.kpi_values"):
        return None
    return row[0], row[1], row[2]


def _model_versions(order: list[Model], rendered: dict[str, str]) -> dict[str, str]:
    """A hash of the SQL of each model a refresh keeps rather than rebuilds: a new or changed one
    (a deploy) needs every row, not those the new raw rows reach, so the refresh is a full one.
    The as-of tables of `kpi/` are rebuilt every time and read `var('through')`: not kept."""
    return {model.name: hashlib.sha256(rendered[model.name].encode()).hexdigest() for model in order
            if model.materialization != REPLACE_ROWS}


def _model_changes(connection: Connection, order: list[Model],
                   rendered: dict[str, str]) -> tuple[list[str], list[str]]:
    """The models new or changed since the previous refresh, and those it had that are gone."""
    connection.execute(f"create table if not exists meta.kpi_models ({MODELS_DDL})")
    stored = dict(connection.fetchall("select model, sql_hash from meta.kpi_models"))
    versions = _model_versions(order, rendered)
    return (sorted(name for name, digest in versions.items() if stored.get(name) != digest),
            sorted(set(stored) - set(versions)))


def _record_model_versions(connection: Connection, order: list[Model], rendered: dict[str, str]) -> None:
    connection.execute("delete from meta.kpi_models")
    for name, digest in sorted(_model_versions(order, rendered).items()):
        connection.execute("insert into meta.kpi_models (model, sql_hash) values (:model, :digest)",
                           {"model": name, "digest": digest})


def _drop_orphan_values(connection: Connection, kpi_ids: list[str]) -> None:
    """Rows of KPIs whose model is gone (renamed or removed) do not linger."""
    if not kpi_ids:
        connection.execute("delete from kpi.kpi_values")
        return
    listed = ", ".join(f"'{kpi_id}'" for kpi_id in kpi_ids)
    connection.execute(f"delete from kpi.kpi_values where kpi_id not in ({listed})")


def _kpi_row_counts(connection: Connection, values_rows: int | None) -> dict[str, int]:
    """Rows of every KPI table; `values_rows`: those of kpi.kpi_values when known (the previous
    refresh's count and what this one inserted and deleted)."""
    tables = connection.fetchall(
        "select table_name from information_schema.tables where table_schema = 'kpi' order by table_name"
    )
    return {f"kpi.{name}": values_rows if name == "kpi_values" and values_rows is not None
            else int(connection.scalar(f"select count(*) from kpi.{name}")) for (name,) in tables}


def _recorded_rows(connection: Connection, refresh_id: str, table: str) -> int | None:
    return connection.scalar("select row_count from meta.kpi_refresh_tables where refresh_id = :id and table_name = :table",
                             {"id": refresh_id, "table": table})


def _record(connection: Connection, result: RefreshResult, started_at: dt.datetime, scope: Scope) -> None:
    connection.execute(
        "insert into meta.kpi_refreshes (refresh_id, started_at, finished_at, status, mode, through, window_start, "
        "days_rebuilt, periods_rebuilt, models_run, duration_seconds, kpi_values_rows) values (:id, :started, "
        ":finished, 'success', :mode, :through, :window_start, :days, :periods, :models, :seconds, :rows)",
        {"id": result.refresh_id, "started": started_at, "finished": dt.datetime.now(dt.UTC), "mode": result.mode,
         "through": result.through, "window_start": result.window_start, "days": len(scope.days),
         "periods": sum(result.periods_rebuilt.values()), "models": len(result.models_run),
         "seconds": result.duration_seconds, "rows": result.row_counts.get("kpi.kpi_values", 0)},
    )
    for table, rows in sorted(result.row_counts.items()):
        connection.execute(
            "insert into meta.kpi_refresh_tables (refresh_id, table_name, row_count) values (:id, :table, :rows)",
            {"id": result.refresh_id, "table": table, "rows": rows},
        )


def _variables(settings: Settings, through: dt.date) -> dict:
    return {
        "business_timezone": settings.business_timezone,
        "phone_sla_seconds": settings.phone_sla_seconds,
        "ticket_sla_hours": settings.ticket_sla_hours,
        "through": through.isoformat(),
        "summary_tolerance": SUMMARY_TOLERANCE,
    }
