"""Reliability tests run Pulse's real DAGs with `dag.test()`: Airflow is configured here the way
tests/dags/conftest.py does it (the same throw-away AIRFLOW_HOME from `dags.airflow_harness`), before
any test module imports Airflow; the metadata database is migrated once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dags.airflow_harness import AIRFLOW_ENV, AIRFLOW_HOME

if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(AIRFLOW_HOME):
    raise pytest.UsageError("tests/reliability must configure Airflow before anything imports it")
os.environ.update(AIRFLOW_ENV)


@pytest.fixture(scope="session")
def airflow_metadata():
    """The migrated metadata database with the `warehouse` pool (a no-op when tests/dags did it first)."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    env = {**os.environ, **AIRFLOW_ENV, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command in (["db", "migrate"], ["pools", "set", "warehouse", "1", "warehouse writers"]):
        done = subprocess.run([airflow, *command], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"airflow {' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    yield AIRFLOW_HOME
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
