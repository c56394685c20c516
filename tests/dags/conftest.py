"""Airflow for the DAG tests: a throw-away AIRFLOW_HOME with SQLite metadata (migrated once per
session), the repository's `dags/` folder, and DAGs run with `dag.test()` in this process.

Airflow reads AIRFLOW_HOME once, when it is first imported, so it is set here, before any test
module is collected; the metadata database is the only thing in it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="pulse-airflow-home-"))
# log links in the emails point here; nothing listens in these tests
BASE_URL = "http://127.0.0.1:18080"

AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__API__BASE_URL": BASE_URL,
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(AIRFLOW_HOME / "logs"),
}
if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(AIRFLOW_HOME):
    raise pytest.UsageError("tests/dags must configure Airflow before anything imports it; run them first")
os.environ.update(AIRFLOW_ENV)


@pytest.fixture(scope="session")
def airflow_db():
    """The migrated metadata database, with the `warehouse` pool the DAGs use."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    env = {**os.environ, **AIRFLOW_ENV, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command in (["db", "migrate"], ["pools", "set", "warehouse", "1", "warehouse writers"]):
        done = subprocess.run([airflow, *command], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"airflow {' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    yield AIRFLOW_HOME
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    """The DAG folder as Airflow's DAG processor loads it."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))
