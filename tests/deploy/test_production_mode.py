"""Production mode of the entry-point scripts (PULSE_ENV=production: docker-compose.yml, `make up`).

The scripts never invent a secret in production: a missing one stops the service with its name.
Connection URLs are built from .env's parts. Superset itself refuses a missing or published
SECRET_KEY and local SQLite metadata. Budget: ~5 s for the shell checks, plus two Superset
starts that fail (45-75 s each on this shared machine) for the refusals.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from pulse.settings import REPO_ROOT
from support.superset import free_port, require_superset

SCRIPTS = REPO_ROOT / "scripts"
REQUIRED_AIRFLOW = ["AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY",
                    "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_DB_PASSWORD", "PULSE_WAREHOUSE_DB_PASSWORD"]
REQUIRED_SUPERSET = ["SUPERSET_SECRET_KEY", "SUPERSET_DB_PASSWORD"]


def _clean_environment(tmp_path: Path, env_file: Path, **extra: str) -> dict[str, str]:
    """The process environment without any Pulse, Airflow, Superset or SMTP setting of the caller."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PULSE_", "AIRFLOW", "SUPERSET_", "SMTP_", "POSTGRES_"))}
    env.update(PULSE_ENV_FILE=str(env_file), PULSE_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source {SCRIPTS}/lib/env.sh; {script}"],
                          env=env, capture_output=True, text=True, timeout=60)


def _env_file(tmp_path: Path, lines: dict[str, str] | None = None) -> Path:
    path = tmp_path / "production.env"
    path.write_text("".join(f"{key}={value}\n" for key, value in (lines or {}).items()))
    return path


def _generated(tmp_path: Path) -> dict[str, str]:
    """scripts/production-env.sh's output, as a dict."""
    text = subprocess.run([str(SCRIPTS / "production-env.sh")], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("function, required", [("pulse_airflow_env", REQUIRED_AIRFLOW),
                                                 ("pulse_superset_env", REQUIRED_SUPERSET)])
def test_production_refuses_to_start_without_its_secrets_and_names_them(tmp_path, function, required):
    env = _clean_environment(tmp_path, _env_file(tmp_path, {"PULSE_ENV": "production"}))
    result = _bash(f"{function}; echo started", env)
    assert result.returncode == 1
    assert "started" not in result.stdout
    named = re.search(r"refusing to start, (.*) not set", result.stderr).group(1).split()
    assert named == required
    assert not any((tmp_path / "data" / "secrets").iterdir()), "production generated a secret"


def test_the_demo_generates_its_secrets_once(tmp_path):
    env = _clean_environment(tmp_path, _env_file(tmp_path))
    first = _bash('pulse_superset_env; echo "$SUPERSET_SECRET_KEY"', env)
    second = _bash('pulse_superset_env; echo "$SUPERSET_SECRET_KEY"', env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 32


def test_the_environment_wins_over_the_env_file_which_wins_over_the_defaults(tmp_path):
    """As in Compose (`environment:` over `env_file:`) and pydantic-settings (variables over .env)."""
    # a loopback address other than the default: the demo refuses any other (scripts/lib/env.sh)
    env_file = _env_file(tmp_path, {"SUPERSET_HOST": "'localhost'  # quoted, with a comment",
                                    "SUPERSET_PORT": "9001"})
    env = _clean_environment(tmp_path, env_file, SUPERSET_PORT="9002")
    result = _bash('pulse_superset_env; echo "$SUPERSET_HOST $SUPERSET_PORT $SUPERSET_WEBDRIVER_BASEURL"', env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["localhost", "9002", "http://localhost:9002/"]


def test_generated_production_secrets_are_fresh_url_safe_and_well_formed(tmp_path):
    one, two = _generated(tmp_path), _generated(tmp_path)
    assert one["PULSE_ENV"] == "production"
    secrets = {key: value for key, value in one.items() if key != "PULSE_ENV"}
    assert set(REQUIRED_AIRFLOW + REQUIRED_SUPERSET) <= set(secrets)
    assert len(set(secrets.values())) == len(secrets), "two settings share a secret"
    assert not set(secrets.values()) & set(two.values()), "secrets repeat between runs"
    for key, value in secrets.items():
        assert re.fullmatch(r"[A-Za-z0-9_=-]{32,}", value), key
    assert len(base64.urlsafe_b64decode(one["AIRFLOW__CORE__FERNET_KEY"])) == 32  # what Fernet requires


def test_production_builds_every_connection_url_from_the_env_file(tmp_path):
    settings = _generated(tmp_path)
    env = _clean_environment(tmp_path, _env_file(tmp_path, {**settings, "PULSE_POSTGRES_HOST": "db.internal",
                                                            "PULSE_POSTGRES_PORT": "6543",
                                                            "PULSE_REDIS_HOST": "cache.internal"}))
    result = _bash("pulse_airflow_env; pulse_superset_env; env", env)
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    pg = "db.internal:6543"
    assert seen["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert seen["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == \
        f"postgresql+psycopg2://airflow:{settings['AIRFLOW_DB_PASSWORD']}@{pg}/pulse_airflow"
    assert seen["AIRFLOW__CELERY__RESULT_BACKEND"] == \
        f"db+postgresql://airflow:{settings['AIRFLOW_DB_PASSWORD']}@{pg}/pulse_airflow"
    assert seen["AIRFLOW__CELERY__BROKER_URL"] == "redis://cache.internal:6379/0"
    assert seen["PULSE_WAREHOUSE_URL"] == \
        f"postgresql+psycopg://pulse:{settings['PULSE_WAREHOUSE_DB_PASSWORD']}@{pg}/pulse_warehouse"
    assert seen["SUPERSET_DATABASE_URI"] == \
        f"postgresql+psycopg2://superset:{settings['SUPERSET_DB_PASSWORD']}@{pg}/pulse_superset"
    assert seen["SUPERSET_REDIS_URL"] == "redis://cache.internal:6379/1"
    passwords = json.loads(Path(seen["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())
    assert passwords == {"admin": settings["AIRFLOW_ADMIN_PASSWORD"]}
    # the auth manager's password file is the only file production writes there
    assert sorted(path.name for path in (tmp_path / "data" / "secrets").iterdir()) == ["airflow_passwords.json"]


def test_production_refuses_an_airflow_open_to_everyone(tmp_path):
    settings = {**_generated(tmp_path), "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "true"}
    result = _bash("pulse_airflow_env", _clean_environment(tmp_path, _env_file(tmp_path, settings)))
    assert result.returncode == 1
    assert "ALL_ADMINS" in result.stderr


def test_make_up_refuses_an_env_file_that_is_not_production(tmp_path):
    env = _clean_environment(tmp_path, _env_file(tmp_path, {"PULSE_ENV": "demo"}))
    result = subprocess.run([str(SCRIPTS / "up.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "PULSE_ENV=production" in result.stderr
    assert not (tmp_path / "data" / "run").exists() or not any((tmp_path / "data" / "run").iterdir())


@pytest.mark.superset
@pytest.mark.parametrize("case, change, refusal", [
    ("published default key", {"SUPERSET_SECRET_KEY": "thisISaSECRET_1234"}, "SUPERSET_SECRET_KEY is missing"),
    ("SQLite metadata", {"SUPERSET_DATABASE_URI": "sqlite:////nonexistent/superset.db"}, "on PostgreSQL"),
])
def test_superset_refuses_to_start_in_production(tmp_path, case, change, refusal):
    """Through the real entry point: gunicorn halts instead of serving (or respawning workers)."""
    require_superset()
    settings = {**_generated(tmp_path), **change}
    env = _clean_environment(tmp_path, _env_file(tmp_path, settings), SUPERSET_PORT=str(free_port()),
                             SUPERSET_WEB_WORKERS="1")
    result = subprocess.run([str(SCRIPTS / "superset-web.sh")], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0, case
    assert "Pulse refuses to start Superset" in result.stdout + result.stderr
    assert refusal in result.stdout + result.stderr
