"""Long-running local services of the demo (sandbox APIs, mail sink, Airflow, Superset).

Each service runs in its own session/process group, logs to `data/logs/<name>.log`, and is
recorded in `data/run/<name>.pid` with its start time, so `make stop` stops exactly what was
started and never a process that merely reused the PID. Airflow's children outlive a killed
parent and ignore SIGTERM once orphaned, so stopping walks the whole tree and group and ends with
SIGKILL for whatever is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click
import psutil

from pulse.settings import get_settings


class ServiceError(RuntimeError):
    pass


@dataclass(frozen=True)
class Running:
    name: str
    pid: int
    started: float
    health: str | None

    def process(self) -> psutil.Process | None:
        try:
            process = psutil.Process(self.pid)
            # a PID reused by another program is not our service
            if abs(process.create_time() - self.started) > 1.0 or process.status() == psutil.STATUS_ZOMBIE:
                return None
            return process
        except psutil.Error:
            return None


class ServiceManager:
    def __init__(self, data_dir: Path | None = None):
        data_dir = data_dir or get_settings().data_dir
        self.run_dir = data_dir / "run"
        self.log_dir = data_dir / "logs"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def _pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def running(self, name: str) -> Running | None:
        path = self._pid_file(name)
        if not path.exists():
            return None
        record = Running(**json.loads(path.read_text()))
        if record.process() is None:
            path.unlink(missing_ok=True)  # stale: the process is gone
            return None
        return record

    def start(
        self, name: str, command: list[str], *, health: str | None = None, timeout: float = 120.0,
        env: dict[str, str] | None = None, cwd: Path | None = None,
    ) -> Running:
        """Start `command` unless it already runs; wait until `health` answers."""
        existing = self.running(name)
        if existing is not None:
            return existing
        log = self.log_file(name).open("ab")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, **(env or {})}, cwd=cwd,
        )
        record = Running(name, process.pid, psutil.Process(process.pid).create_time(), health)
        self._pid_file(name).write_text(json.dumps(record.__dict__))
        try:
            self._wait_healthy(record, process, timeout)
        except ServiceError:
            self.stop(name)
            raise
        return record

    def _wait_healthy(self, record: Running, process: subprocess.Popen, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise ServiceError(
                    f"service {record.name} exited with code {process.returncode}; "
                    f"last lines of {self.log_file(record.name)}:\n{self.tail(record.name)}"
                )
            if record.health is None or _healthy(record.health):
                return
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"service {record.name} did not answer {record.health} within {timeout:.0f}s; "
                    f"last lines of {self.log_file(record.name)}:\n{self.tail(record.name)}"
                )
            time.sleep(0.5)

    def stop(self, name: str, grace: float = 10.0) -> bool:
        """Stop the service's whole process tree and group. Returns whether anything ran."""
        path = self._pid_file(name)
        record = Running(**json.loads(path.read_text())) if path.exists() else None
        process = record.process() if record else None
        path.unlink(missing_ok=True)
        if process is None:
            return False
        members = _tree(process)
        group = os.getpgid(process.pid)
        _signal_all(members, group, signal.SIGTERM)
        _, alive = psutil.wait_procs(members, timeout=grace)
        members = alive + [p for p in _group_members(group) if p not in alive]
        if members:
            _signal_all(members, group, signal.SIGKILL)
            psutil.wait_procs(members, timeout=5)
        return True

    def names(self) -> list[str]:
        return sorted(path.stem for path in self.run_dir.glob("*.pid"))

    def stop_all(self) -> list[str]:
        return [name for name in self.names() if self.stop(name)]

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log_file(name)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return [process]


def _group_members(group: int) -> list[psutil.Process]:
    members = []
    for candidate in psutil.process_iter():
        try:
            if os.getpgid(candidate.pid) == group:
                members.append(candidate)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def _signal_all(members: list[psutil.Process], group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)
    for member in members:
        with contextlib.suppress(psutil.Error):
            member.send_signal(signum)


def _healthy(health: str) -> bool:
    if health.startswith("tcp://"):
        host, _, port = health.removeprefix("tcp://").rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return True
        except OSError:
            return False
    try:
        with urllib.request.urlopen(health, timeout=2) as response:
            return 200 <= response.status < 400
    except (urllib.error.URLError, OSError, ValueError):
        return False


@click.group("services")
def services() -> None:
    """Start, stop and list the demo's long-running services (PID files in data/run)."""


@services.command("start")
@click.argument("name")
@click.argument("command", nargs=-1, required=True)
@click.option("--health", help="URL (http://...) or tcp://host:port that answers once the service is up")
@click.option("--timeout", default=180.0, show_default=True)
def start_command(name: str, command: tuple[str, ...], health: str | None, timeout: float) -> None:
    """Start NAME running COMMAND (after `--`), unless it already runs."""
    manager = ServiceManager()
    was_running = manager.running(name) is not None
    try:
        record = manager.start(name, list(command), health=health, timeout=timeout)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    state = "already running" if was_running else "started"
    click.echo(f"{name}: {state} (pid {record.pid}, log {manager.log_file(name)})")


@services.command("stop")
@click.argument("names", nargs=-1)
def stop_command(names: tuple[str, ...]) -> None:
    """Stop the named services, or every service started from this data dir."""
    manager = ServiceManager()
    for name in names or manager.names():
        click.echo(f"{name}: {'stopped' if manager.stop(name) else 'was not running'}")


@services.command("status")
def status_command() -> None:
    manager = ServiceManager()
    for name in manager.names():
        record = manager.running(name)
        click.echo(f"{name}: {'running, pid ' + str(record.pid) if record else 'not running'}")
