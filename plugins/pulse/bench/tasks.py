"""Pulse's pipeline tasks run the way an Airflow worker runs them: each task in a process of its
own, forked from a lean parent, so that its wall time includes importing what it needs and its
peak memory (the child's maximum resident set) is that task's alone.

The tasks call the same functions as the DAGs' tasks (`pulse.orchestration.extract_dag`: per
stream extract -> validate -> load; `pulse.orchestration.kpi_dag`: mark_freshness -> refresh ->
reconcile -> publish), one after another: the wall time of a run is an upper bound of what Airflow
takes, which overlaps extractions of different sources. The bench's clock is the sandbox's, so
"now" in freshness and "yesterday" in the refresh are the sandbox company's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pulse.sources import SOURCES, source_class


class TaskFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class TaskRun:
    task: str  # `<dag>.<task group>.<task>` as in Airflow, e.g. extract_shop.orders.load
    seconds: float
    peak_rss_bytes: int
    result: Any


@dataclass
class PipelineRun:
    tasks: list[TaskRun] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(task.seconds for task in self.tasks)

    @property
    def largest(self) -> TaskRun:
        return max(self.tasks, key=lambda task: task.peak_rss_bytes)

    @property
    def slowest(self) -> TaskRun:
        return max(self.tasks, key=lambda task: task.seconds)

    def batches(self) -> list[tuple[str, str]]:
        """(source, batch_id) of every batch the run loaded, in load order."""
        return [(task.result["source"], task.result["batch_id"]) for task in self.tasks
                if task.task.endswith(".load")]

    def as_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "largest_task": self.largest.task,
                "largest_task_peak_rss_bytes": self.largest.peak_rss_bytes, "slowest_task": self.slowest.task,
                "slowest_task_seconds": self.slowest.seconds, "tasks": [asdict(task) for task in self.tasks]}


def in_child(name: str, function: Callable[..., Any], *args: Any) -> TaskRun:
    """Run `function(*args)` in a forked child; its return value must be JSON."""
    reader, writer = os.pipe()
    began = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the task process
        os.close(reader)
        code = 0
        try:
            payload = {"result": function(*args)}
        except BaseException:
            payload, code = {"error": traceback.format_exc()}, 1
        with os.fdopen(writer, "w") as channel:
            channel.write(json.dumps(payload, default=str))
        os._exit(code)
    os.close(writer)
    with os.fdopen(reader) as channel:
        answer = channel.read()
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - began
    payload = json.loads(answer) if answer else {"error": f"the task process died (wait status {status})"}
    if "error" in payload:
        raise TaskFailed(f"{name} failed:\n{payload['error']}")
    return TaskRun(name, seconds, usage.ru_maxrss * 1024, payload["result"])


# What each kind of task imports before it works; `preload()` imports them all in the parent, so
# forked tasks skip it (history loads and quick runs, where import time is not what is measured),
# and `startup()` measures what it costs a fresh task process.
TASK_IMPORTS = {
    "extract": ("pulse.pipeline.steps", "airflow.sdk", "dlt", "pulse.sources.http"),
    "validate": ("pulse.pipeline.steps", "great_expectations", "pulse.validation"),
    "load": ("pulse.pipeline.steps",),
    "refresh": ("pulse.transform", "pulse.warehouse.publish"),
}


def preload() -> None:
    import importlib

    for modules in TASK_IMPORTS.values():
        for module in modules:
            importlib.import_module(module)


def startup() -> dict[str, float]:
    """Seconds a fresh interpreter spends importing what each kind of task imports (a task
    process of Airflow pays it before its work)."""
    import subprocess
    import sys

    seconds = {}
    for kind, modules in TASK_IMPORTS.items():
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", "; ".join(f"import {module}" for module in modules)],
                              capture_output=True, text=True, check=False)
        seconds[kind] = time.perf_counter() - began
        if done.returncode:
            raise TaskFailed(f"importing {', '.join(modules)} in a fresh interpreter failed:\n{done.stderr[-3000:]}")
    return seconds


# --- the tasks ---------------------------------------------------------------------------------
def extract(source: str, stream: str, end: str) -> dict[str, Any]:
    from pulse.pipeline import steps

    outcome = steps.extract(source, stream, end=dt.datetime.fromisoformat(end))
    return {"source": source, "batch_id": outcome.batch_id, "records": outcome.record_count}


def validate(source: str, batch_id: str) -> dict[str, Any]:
    from pulse.pipeline import steps

    verdicts = steps.validate(batch_id)
    return {"source": source, "batch_id": batch_id,
            "failed_rows": sum(v.failed_rows for v in verdicts),
            "batch_failures": [failure for v in verdicts for failure in v.batch_failures]}


def load(source: str, batch_id: str) -> dict[str, Any]:
    from pulse.pipeline import steps

    outcome = steps.load(batch_id)
    return {"source": source, "batch_id": batch_id, "rows_loaded": outcome.rows_loaded,
            "rows_quarantined": outcome.rows_quarantined}


def mark_freshness(now: str) -> dict[str, Any]:
    from pulse.orchestration import freshness
    from pulse.warehouse.connection import Warehouse

    with Warehouse.from_settings().connect() as connection:
        rows = freshness.check(connection, dt.datetime.fromisoformat(now))
    return {"streams": len(rows), "stale": sorted(row.key for row in rows if row.stale)}


def refresh(through: str, full: bool) -> dict[str, Any]:
    from pulse.transform import refresh_kpis

    began = time.perf_counter()
    result = refresh_kpis(full=full, through=dt.date.fromisoformat(through))
    return {"mode": result.mode, "days_rebuilt": len(result.days_rebuilt), "periods_rebuilt": result.periods_rebuilt,
            "seconds": time.perf_counter() - began, "kpi_values_rows": result.row_counts.get("kpi.kpi_values", 0)}


def reconcile(through: str) -> dict[str, Any]:
    from pulse.validation import reconcile as reconciliation

    outcome = reconciliation.run(end=dt.date.fromisoformat(through))
    return {"checked": len(outcome.results), "failures": len(outcome.failures())}


def publish() -> str | None:
    from pulse.warehouse.publish import publish as publish_serving_copy

    published = publish_serving_copy()
    return str(published) if published else None


# --- the DAGs ----------------------------------------------------------------------------------
def extract_all(end: dt.datetime, run: PipelineRun, progress: Callable[[str], None],
                sources: tuple[str, ...] | None = None) -> None:
    """Every extract DAG (or those of `sources`) once: per stream extract, validate, load (a stream
    whose batch is blocked by validation fails the bench: the sandbox has no faults switched on)."""
    for source in sources or SOURCES:
        for stream in source_class(source).extracted_streams():
            prefix = f"extract_{source}.{stream.name}"
            extracted = in_child(f"{prefix}.extract", extract, source, stream.name, end.isoformat())
            batch_id = extracted.result["batch_id"]
            checked = in_child(f"{prefix}.validate", validate, source, batch_id)
            loaded = in_child(f"{prefix}.load", load, source, batch_id)
            run.tasks += [extracted, checked, loaded]
            progress(f"  {prefix}: {extracted.result['records']} records, "
                     f"{extracted.seconds + checked.seconds + loaded.seconds:.1f}s")


def kpi_build(now: dt.datetime, through: dt.date, run: PipelineRun, *, full: bool = False) -> None:
    run.tasks += [
        in_child("kpi_build.mark_freshness", mark_freshness, now.isoformat()),
        in_child("kpi_build.refresh", refresh, through.isoformat(), full),
        in_child("kpi_build.reconcile", reconcile, through.isoformat()),
        in_child("kpi_build.publish", publish),
    ]
