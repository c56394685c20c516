"""Superset for tests: started from its own runtime (.venv/superset) with the repository's scripts.

`running_superset(data_dir)` runs scripts/superset-init.sh (SQLite metadata under `data_dir`) and
scripts/superset-web.sh (gunicorn) on 127.0.0.1 and a free port, with a fresh SECRET_KEY and
admin password, waits until `/health` answers, and stops the whole process group afterwards.
Initialising takes about a minute (migrations on an empty SQLite file), so the initialised
metadata database is kept as a template between sessions (`_initialise`), and test modules share
one instance per session (tests/superset/conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from pulse.settings import REPO_ROOT
from pulse.superset.client import SupersetClient
from support.services import require

SUPERSET_BIN = REPO_ROOT / ".venv" / "superset" / "bin" / "superset"
START_TIMEOUT = 240.0


def require_superset() -> None:
    require(SUPERSET_BIN.exists(), f"the Superset runtime ({SUPERSET_BIN}; `make runtimes` builds it)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SupersetServer:
    url: str
    data_dir: Path
    admin_user: str
    admin_password: str
    env: dict[str, str]
    started_in: float  # seconds from init to a healthy web server

    def client(self, username: str | None = None, password: str | None = None) -> SupersetClient:
        return SupersetClient(self.url, username or self.admin_user, password or self.admin_password)

    def log_tail(self, lines: int = 60) -> str:
        logs = [self.data_dir / "logs" / "superset-web.log", self.data_dir / "logs" / "superset-init.log"]
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in logs if log.exists()
        )


def superset_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SUPERSET_", "PULSE_"))}
    env.update({
        "PULSE_DATA_DIR": str(data_dir),
        "SUPERSET_SECRET_KEY": secrets.token_urlsafe(48),
        "SUPERSET_ADMIN_USER": "admin",
        "SUPERSET_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "SUPERSET_REPORTS_PASSWORD": secrets.token_urlsafe(16),
        "SUPERSET_HOST": "127.0.0.1",
        "SUPERSET_PORT": str(port),
        "SUPERSET_WEB_WORKERS": "2",
        "SUPERSET_WEB_THREADS": "4",
        "SUPERSET_LOG_LEVEL": "WARNING",
    })
    return env


# What an initialised metadata database depends on: a change to any of these rebuilds the template.
TEMPLATE_INPUTS = ("requirements/superset.lock", "deploy/superset/superset_config.py",
                   "deploy/superset/bootstrap.py", "scripts/superset-init.sh", "scripts/lib/env.sh")


def _template_dir() -> Path:
    digest = hashlib.sha256()
    for name in TEMPLATE_INPUTS:
        digest.update((REPO_ROOT / name).read_bytes())
    return Path(tempfile.gettempdir()) / "pulse-test-cache" / f"superset-metadata-{digest.hexdigest()[:16]}"


def _initialise(data_dir: Path, env: dict[str, str]) -> None:
    """Migrations, roles and accounts, or a copy of the metadata database an earlier run made.

    `superset-init.sh` spends most of a minute migrating an empty SQLite file; its result depends
    only on the files in TEMPLATE_INPUTS, so it is kept (with its test-only admin password) in the
    system temp directory and copied for the next session.
    """
    template = _template_dir()
    database = data_dir / "superset" / "superset.db"
    if (template / "superset.db").exists():
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template / "superset.db", database)
        env.update(json.loads((template / "accounts.json").read_text()))
        return
    init = subprocess.run([str(REPO_ROOT / "scripts" / "superset-init.sh")], env=env, capture_output=True,
                          text=True, timeout=900)
    if init.returncode != 0:
        log = data_dir / "logs" / "superset-init.log"
        raise RuntimeError(f"superset-init.sh failed ({init.returncode}):\n{init.stdout}\n{init.stderr}\n"
                           f"{log.read_text() if log.exists() else ''}")
    if not database.exists():
        raise RuntimeError(f"superset-init.sh did not write {database}: does the repository's .env set "
                           "PULSE_DATA_DIR or SUPERSET_DATABASE_URI? (scripts/lib/env.sh lets .env override "
                           "the environment)")
    staging = template.with_name(f"{template.name}.{os.getpid()}.tmp")
    staging.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(database, staging / "superset.db")
    accounts = {key: env[key] for key in ("SUPERSET_ADMIN_USER", "SUPERSET_ADMIN_PASSWORD", "SUPERSET_REPORTS_PASSWORD")}
    (staging / "accounts.json").write_text(json.dumps(accounts))
    try:
        staging.rename(template)
    except OSError:  # another session stored it first
        shutil.rmtree(staging, ignore_errors=True)
    for stale in template.parent.glob("superset-metadata-*"):
        if stale != template and not stale.name.endswith(".tmp"):
            shutil.rmtree(stale, ignore_errors=True)  # made for inputs that have changed since


@contextmanager
def running_superset(data_dir: Path) -> Iterator[SupersetServer]:
    require_superset()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "logs").mkdir(exist_ok=True)
    port = free_port()
    env = superset_env(data_dir, port)
    started = time.monotonic()
    _initialise(data_dir, env)
    server = SupersetServer(f"http://127.0.0.1:{port}", data_dir, env["SUPERSET_ADMIN_USER"],
                            env["SUPERSET_ADMIN_PASSWORD"], env, 0.0)
    log = (data_dir / "logs" / "superset-web.log").open("ab")
    web = subprocess.Popen([str(REPO_ROOT / "scripts" / "superset-web.sh")], env=env, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if web.poll() is not None:
                raise RuntimeError(f"Superset exited with {web.returncode} while starting:\n{server.log_tail()}")
            try:
                if requests.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Superset did not answer /health within {START_TIMEOUT:.0f}s:\n{server.log_tail()}")
            time.sleep(0.5)
        server.started_in = time.monotonic() - started
        yield server
    finally:
        _stop(web)
        log.close()


def _stop(process: subprocess.Popen) -> None:
    """Stop gunicorn and its workers: the process group started for it (SIGINT: quick shutdown)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
