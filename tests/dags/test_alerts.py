"""Emails to the data team, read back from a local SMTP sink: a task that fails for good (and not
its retry), and a source that has not landed by its expected time (once, not every hour). Each
names the DAG, the task, the interval and the log link.

Budget: four short DAG runs (about a minute)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from dags.airflow_harness import BASE_URL, no_retries, run_dag, serve_sandbox, table, use_pipeline
from pulse.mailsink import MailSink
from pulse.sandbox.servers.base import Faults
from sandbox.fixtures.sandbox_runs import small_world

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

ZONE = ZoneInfo("Europe/Amsterdam")
TEAM = ["oncall@pulse.test", "data@pulse.test"]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with serve_sandbox(small_world(), tmp_path_factory.mktemp("sandbox"), only=("aircall",)) as running:
        yield running


@pytest.fixture
def mail(tmp_path):
    with MailSink(tmp_path / "mail") as sink:
        yield sink


@pytest.fixture
def warehouse(airflow_db, sandbox, mail, monkeypatch, tmp_path):
    return use_pipeline(monkeypatch, tmp_path / "data", sandbox, PULSE_SMTP_PORT=str(mail.port),
                        PULSE_DATA_TEAM_EMAILS=f'["{TEAM[0]}", "{TEAM[1]}"]', PULSE_MAIL_FROM="pulse@pulse.test")


def local(moment: dt.datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M %Z")


def text_of(message) -> str:
    return message.get_body(preferencelist=("html", "plain")).get_content()


def test_a_task_that_fails_for_good_emails_the_data_team_once_naming_dag_task_interval_and_log(
        sandbox, mail, warehouse):
    from pulse.orchestration.extract_dag import build_extract_dag

    dag = build_extract_dag("aircall")
    for task in dag.tasks:  # one quick retry instead of minutes of back-off
        task.retries, task.retry_delay, task.retry_exponential_backoff = 1, dt.timedelta(seconds=1), 0
    sandbox.servers["aircall"].faults.server_errors = 10_000
    try:
        run = run_dag(dag)
    finally:
        sandbox.servers["aircall"].faults = Faults()

    assert run.states["calls.extract"] == "failed"
    assert run.states["calls.validate"] == run.states["calls.load"] == "upstream_failed"
    messages = mail.messages()
    assert len(messages) == 1, [m["Subject"] for m in messages]  # the retry sent nothing
    message, body = messages[0], text_of(messages[0])
    assert "extract_aircall" in message["Subject"] and "calls.extract" in message["Subject"]
    assert sorted(message["X-Envelope-To"].split(", ")) == sorted(TEAM)
    assert message["From"] == "pulse@pulse.test"
    interval = f"{local(run.logical_date - dt.timedelta(hours=1))} .. {local(run.logical_date)}"
    assert interval in message["Subject"] and interval in body
    log_link = f"{BASE_URL}/dags/extract_aircall/runs/{quote(run.run_id)}/tasks/calls.extract?try_number=2"
    assert f'href="{log_link}"' in body
    assert run.run_id in body and "500" in body  # the error the source gave

    recorded = table(warehouse, "select status, failed_tasks, rows_landed from meta.pipeline_runs")
    assert recorded.to_dict("records") == [
        {"status": "failed", "failed_tasks": "calls.extract, calls.load, calls.validate", "rows_landed": 0}]


def test_a_source_late_past_its_expected_time_emails_the_data_team_once(sandbox, mail, warehouse):
    from pulse.orchestration.extract_dag import build_extract_dag
    from pulse.orchestration.freshness_dag import build_freshness_dag

    extract, freshness = build_extract_dag("aircall"), build_freshness_dag()
    no_retries(extract)
    no_retries(freshness)
    landed = run_dag(extract)
    assert landed.succeeded, landed.states
    loaded_at = table(warehouse, "select max(updated_at) as t from meta.landing_batches")["t"].iloc[0]

    on_time = run_dag(freshness, logical_date=loaded_at + dt.timedelta(hours=2, minutes=50))
    assert on_time.succeeded and mail.messages() == []  # aircall may go 3 hours without landing

    late = run_dag(freshness, logical_date=loaded_at + dt.timedelta(hours=4))
    assert late.succeeded, late.states
    messages = mail.messages()
    assert len(messages) == 1
    message, body = messages[0], text_of(messages[0])
    assert "late" in message["Subject"] and "extract_aircall" in message["Subject"]
    assert sorted(message["X-Envelope-To"].split(", ")) == sorted(TEAM)
    assert "calls.load" in body and "aircall.calls" in body
    assert f"{local(landed.logical_date - dt.timedelta(hours=1))} .. {local(landed.logical_date)}" in body
    assert local(loaded_at) in body and local(loaded_at + dt.timedelta(hours=3)) in body  # landed, expected by
    assert f'href="{BASE_URL}/dags/extract_aircall/runs/{quote(landed.run_id, safe="")}/tasks/calls.load"' in body

    state = table(warehouse, "select source, stream, stale, alerted_at from meta.source_freshness")
    stale = state[state["stale"]]
    assert stale[["source", "stream"]].values.tolist() == [["aircall", "calls"]]  # the others are new: not late yet
    assert stale["alerted_at"].notna().all()

    still_late = run_dag(freshness, logical_date=loaded_at + dt.timedelta(hours=5))
    assert still_late.succeeded and len(mail.messages()) == 1  # told once, not every hour
