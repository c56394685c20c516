"""Run a pipeline step in a child process and kill it with SIGKILL: the crash-safety trials' worker.

Started once per test (`CrashRunner`), it imports the pipeline, then reads one JSON command per
line on stdin and answers one JSON line per command. Each command forks a child that runs the step
(`load`: `pulse.pipeline.steps.load`; `publish`: `refresh_kpis` then `publish`) against the given
warehouse; the child is killed with SIGKILL either by this process after `kill_after` seconds or by
itself at instrumented point number `kill_at`. Forking from a process that has already imported
everything makes a trial cost the step, not the imports (seconds on a loaded machine).

Instrumented points, each appended to the command's `trace` file before it happens (os.write on an
O_APPEND file: a killed child's trace is complete up to its last point):
- `sql` before every statement the step sends through `pulse.warehouse.connection.Connection`;
- `commit-start` / `commit-end` around the commit of an outermost `Connection.transaction()`;
- `replace-start` / `replace-end` around the `os.replace` that swaps the serving copy in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import sys
import time
import traceback

import pulse.pipeline.steps as steps
import pulse.warehouse.connection as warehouse_connection
from pulse.settings import get_settings
from pulse.transform import refresh_kpis
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.publish import publish


class _Trace:
    def __init__(self, path: str, kill_at: int | None):
        self.descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.kill_at = kill_at
        self.points = 0

    def point(self, name: str) -> None:
        self.points += 1
        os.write(self.descriptor, f"{self.points} {name}\n".encode())
        if self.points == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def _instrument(trace: _Trace) -> None:
    connection_class = warehouse_connection.Connection
    for method in ("_run", "fetchall", "fetch_df", "executescript"):
        original = getattr(connection_class, method)

        def traced(self, *args, _original=original, **kwargs):
            trace.point("sql")
            return _original(self, *args, **kwargs)

        setattr(connection_class, method, traced)

    transaction = connection_class.transaction

    @contextlib.contextmanager
    def marked(self):
        outermost = not self._in_transaction
        with transaction(self) as joined:
            yield joined
            if outermost:
                trace.point("commit-start")
        if outermost:
            trace.point("commit-end")

    connection_class.transaction = marked
    replace = os.replace

    def marked_replace(source, target, *args, **kwargs):
        trace.point("replace-start")
        replace(source, target, *args, **kwargs)
        trace.point("replace-end")

    os.replace = marked_replace


def _child(command: dict) -> None:
    os.environ.update(command["env"])
    get_settings.cache_clear()
    _instrument(_Trace(command["trace"], command.get("kill_at")))
    warehouse = Warehouse(command["warehouse"])
    if command["step"] == "load":
        steps.load(command["batch_id"], warehouse=warehouse)
    elif command["step"] == "publish":
        refresh_kpis(warehouse=warehouse, through=dt.date.fromisoformat(command["through"]))
        publish(warehouse=warehouse, target=command.get("serving"))
    else:
        raise ValueError(f"unknown step {command['step']!r}")


def trial(command: dict) -> dict:
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 1
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # stdout carries the answers
        try:
            _child(command)
            code = 0
        except BaseException:
            with open(f"{command['trace']}.error", "w") as handle:
                handle.write(traceback.format_exc())
        finally:
            os._exit(code)
    kill_after = command.get("kill_after")
    status = None
    if kill_after is not None:
        deadline = started + kill_after
        while status is None and time.monotonic() < deadline:
            done, code = os.waitpid(pid, os.WNOHANG)
            status = code if done else None
            if status is None:
                time.sleep(0.002)
        if status is None:
            os.kill(pid, signal.SIGKILL)
    if status is None:
        _, status = os.waitpid(pid, 0)
    return {
        "seconds": time.monotonic() - started,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    }


def main() -> None:
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(trial(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
