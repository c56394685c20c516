"""Test-wide rules. In CI (CI=true) a skipped test is a failed test: nothing may be skipped."""

from __future__ import annotations

import os

import pytest

from dags.airflow_harness import AIRFLOW_ENV
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
