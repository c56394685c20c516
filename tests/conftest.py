"""Test-wide rules. In CI (CI=true) a skipped test is a failed test: nothing may be skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dags.airflow_harness import AIRFLOW_ENV, AIRFLOW_HOME
from support.services import IN_CI

# Airflow reads AIRFLOW_HOME once, when first imported: every test that runs Airflow shares one
# throw-away home, set before any test module is collected
os.environ.update(AIRFLOW_ENV)

# Data Docs pages cost seconds per validated batch; tests/validation/test_datadocs.py turns them on
os.environ.setdefault("PULSE_DATA_DOCS_ENABLED", "false")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped tests are failures in CI: {report.longrepr}"


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's migrated metadata database (SQLite in the throw-away AIRFLOW_HOME), with the
    `warehouse` pool the DAGs use; for the tests that run DAGs with `dag.test()`."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    env = {**os.environ, **AIRFLOW_ENV, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command in (["db", "migrate"], ["pools", "set", "warehouse", "1", "warehouse writers"]):
        done = subprocess.run([airflow, *command], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"airflow {' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    yield AIRFLOW_HOME
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
