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
from pathlib import Path

import pytest

from dags.airflow_harness import AIRFLOW_ENV, AIRFLOW_HOME, REPO

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
