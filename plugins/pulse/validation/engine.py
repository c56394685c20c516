"""Great Expectations, run in-process on pandas DataFrames.

GX Core 1.24 cannot validate DuckDB through its SQL data source and its Airflow provider cannot
be installed beside Airflow 3.3, so every suite runs on a DataFrame (a landing batch's records,
or a warehouse query for reconciliation) in an ephemeral context, one per process. Results are
kept on disk (`<data>/gx/validations/`) and rendered as Data Docs (`<data>/gx/data_docs/`),
the newest `data_docs_keep_per_suite` per suite.

GX takes seconds to import and logs through the root logger (Airflow's structlog prints it all):
it is imported on first use only, with its loggers quieted, progress bars and usage analytics off.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pulse.settings import get_settings
from pulse.sources.streams import ROW_NUMBER

log = logging.getLogger(__name__)

INDEX_COLUMN = ROW_NUMBER  # the column GX reports failing rows by
DATASOURCE = "pulse"
# result lists GX would store in full; the stored copy keeps its partial (first 20) lists only
_BULKY_RESULT_KEYS = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")
# GX reads every listed result to build the index page, on every build: list the newest only
# (older results keep their pages, which meta.validation_results.data_docs_path links)
INDEX_RESULTS = 200


@dataclass
class Outcome:
    """One expectation's result, in the terms Pulse uses."""

    expectation: str
    kwargs: dict[str, Any]
    level: str
    rule: str
    success: bool
    unexpected_count: int = 0
    element_count: int | None = None
    unexpected: list[tuple[int, Any]] = field(default_factory=list)  # (_row, offending value)
    observed: Any = None
    error: str | None = None

    @property
    def column(self) -> str | None:
        kwargs = self.kwargs
        if "column" in kwargs:
            return kwargs["column"]
        if "column_A" in kwargs:
            return f"{kwargs['column_A']},{kwargs['column_B']}"
        if "column_list" in kwargs:
            return ",".join(kwargs["column_list"])
        return None


@dataclass
class SuiteRun:
    suite: str
    outcomes: list[Outcome]
    seconds: float  # GX validation only
    docs_path: str | None = None  # the result's page, relative to the Data Docs folder
    docs_seconds: float = 0.0


def gx_dir() -> Path:
    return get_settings().data_dir / "gx"


def data_docs_dir() -> Path:
    return gx_dir() / "data_docs"


# --- the context -------------------------------------------------------------------------------
_contexts: dict[Path, Any] = {}


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context",
                 "great_expectations.expectations", "great_expectations.render", "great_expectations.validator",
                 "great_expectations.datasource", "great_expectations.execution_engine"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import great_expectations

    return great_expectations


def context() -> Any:
    """This process's GX context for the current data folder (tests switch folders)."""
    root = gx_dir()
    if root not in _contexts:
        gx = _gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        config.stores[config.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root / "validations")},
        }
        config.data_docs_sites = {
            "pulse": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir())},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_how_to_buttons": False,
                                       "validation_results_limit": INDEX_RESULTS},
            }
        }
        ctx = gx.get_context(mode="ephemeral", project_config=config)
        ctx.data_sources.add_pandas(DATASOURCE)
        _contexts[root] = ctx
    return _contexts[root]


def _batch_definition(ctx: Any, suite_name: str) -> Any:
    datasource = ctx.data_sources.get(DATASOURCE)
    try:
        asset = datasource.get_asset(suite_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(suite_name)
        return asset.add_batch_definition_whole_dataframe("whole batch")
    return asset.get_batch_definition("whole batch")


def _suite(ctx: Any, suite: dict[str, Any]) -> Any:
    from great_expectations.core import ExpectationSuite

    loaded = ExpectationSuite(**suite)
    return ctx.suites.add_or_update(loaded)


# --- validation --------------------------------------------------------------------------------
def run(suite: dict[str, Any], frame: pd.DataFrame, parameters: dict[str, Any] | None = None, *,
        batch_id: str, publish: bool = True) -> SuiteRun:
    """Validate `frame` (which has the `_row` index column) against `suite`; store the result and
    rebuild its Data Docs page unless `publish` is false."""
    ctx = context()
    gx_suite = _suite(ctx, suite)
    started = time.perf_counter()
    batch = _batch_definition(ctx, suite["name"]).get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        gx_suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [INDEX_COLUMN],
                       "return_unexpected_index_query": False},
        expectation_parameters=parameters or {},
    )
    seconds = time.perf_counter() - started
    outcomes = sorted((_outcome(r) for r in result.results), key=lambda o: (o.rule, o.column or "", o.expectation))
    run_ = SuiteRun(suite["name"], outcomes, seconds)
    if publish and get_settings().data_docs_enabled:
        docs_started = time.perf_counter()
        try:
            run_.docs_path = _publish(ctx, result, suite["name"], batch_id)
        except Exception as error:  # Data Docs are a view: never let them stop a load
            log.warning("%s: Data Docs not built for batch %s: %s", suite["name"], batch_id, error)
        run_.docs_seconds = time.perf_counter() - docs_started
    return run_


def _outcome(result: Any) -> Outcome:
    config = result.expectation_config
    meta = config.meta or {}
    details = result.result or {}
    column = config.kwargs.get("column")
    unexpected = []
    for item in details.get("unexpected_index_list") or []:
        row = int(item[INDEX_COLUMN])
        if column is not None:
            value = item.get(column)
        else:
            value = {k: v for k, v in item.items() if k != INDEX_COLUMN}
        unexpected.append((row, value))
    error = None
    info = result.exception_info or {}
    if info.get("raised_exception"):
        error = info.get("exception_message")
    else:
        nested = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
        if nested:
            error = nested[0].get("exception_message")
    return Outcome(
        expectation=config.type, kwargs=dict(config.kwargs), level=meta.get("level", "batch"),
        rule=meta.get("rule", config.type), success=bool(result.success),
        unexpected_count=int(details.get("unexpected_count") or 0), element_count=details.get("element_count"),
        unexpected=unexpected, observed=details.get("observed_value"), error=error,
    )


# --- Data Docs ---------------------------------------------------------------------------------
@contextlib.contextmanager
def _docs_lock() -> Iterator[None]:
    """Validate tasks of different sources run in parallel processes; one builds at a time."""
    gx_dir().mkdir(parents=True, exist_ok=True)
    with (gx_dir() / ".data_docs.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _publish(ctx: Any, result: Any, suite_name: str, batch_id: str) -> str:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    for item in result.results:
        for key in _BULKY_RESULT_KEYS:
            (item.result or {}).pop(key, None)
    run_id = RunIdentifier(run_name=batch_id, run_time=dt.datetime.now(dt.UTC))
    key = ValidationResultIdentifier(ExpectationSuiteIdentifier(suite_name), run_id, batch_id)
    with _docs_lock():
        _register_known_suites(ctx)
        store = ctx.validation_results_store
        store.set(key, result)
        _prune(store, suite_name)
        ctx.build_data_docs(resource_identifiers=[key])
    return "validations/" + "/".join(str(part) for part in key.to_tuple()) + ".html"


def _prune(store: Any, suite_name: str) -> None:
    keep = get_settings().data_docs_keep_per_suite
    mine = [k for k in store.list_keys() if k.expectation_suite_identifier.name == suite_name]
    mine.sort(key=lambda k: k.run_id.run_time)
    for key in mine[: max(0, len(mine) - keep)]:
        store.remove_key(key)


def _register_known_suites(ctx: Any) -> None:
    """The index page lists (and keeps the pages of) the suites in the context's store: every
    stream suite on file and every reconciliation suite, whichever process builds it."""
    from pulse.validation import reconcile, suites

    known = {suite.name for suite in ctx.suites.all()}
    for name in suites.stored_suite_names():
        if name not in known:
            _suite(ctx, json.loads(suites.suite_path(name).read_text(encoding="utf-8")))
    for suite in reconcile.suites():
        if suite["name"] not in known:
            _suite(ctx, suite)


def build_data_docs() -> Path:
    """Rebuild the whole site (index and every stored result's page)."""
    ctx = context()
    with _docs_lock():
        _register_known_suites(ctx)
        ctx.build_data_docs()
    return data_docs_dir() / "index.html"
