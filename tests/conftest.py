"""Test-wide rules. In CI (CI=true) a skipped test is a failed test: nothing may be skipped."""

from __future__ import annotations

import os

import pytest

from support.services import IN_CI

# Data Docs pages cost seconds per validated batch; tests/validation/test_datadocs.py turns them on
os.environ.setdefault("PULSE_DATA_DOCS_ENABLED", "false")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped tests are failures in CI: {report.longrepr}"
