"""Emails to the data team (`PULSE_DATA_TEAM_EMAILS`) through Airflow's SMTP provider.

Two kinds, both naming the DAG, the task, the interval and the log link:
- a task failed for good (retries exhausted, or a failure retrying cannot fix): the
  `on_failure_callback` of every task (`failure_notifier()`); retries send nothing;
- a source has not landed by its expected time: sent by the `source_freshness` DAG
  (`send_lateness_mail()`), once per source when it turns late.

The SMTP connection is `pulse_smtp` when Airflow defines it (secrets backend), else it is built
from the `PULSE_SMTP_*` settings (`pulse.orchestration.connections`).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from pulse.orchestration.connections import SMTP_CONN_ID, smtp_connection
from pulse.settings import get_settings

if TYPE_CHECKING:
    from pulse.orchestration.freshness import StreamFreshness

FAILURE_SUBJECT = "[Pulse] failed: {{ ti.dag_id }} / {{ ti.task_id }} ({{ run_interval }})"
FAILURE_BODY = """\
<p>A task of the Pulse pipeline failed after its last try.</p>
<table>
<tr><td>DAG</td><td>{{ ti.dag_id }}</td></tr>
<tr><td>Task</td><td>{{ ti.task_id }}</td></tr>
<tr><td>Run</td><td>{{ ti.run_id }}</td></tr>
<tr><td>Interval</td><td>{{ run_interval }}</td></tr>
<tr><td>Try</td><td>{{ ti.try_number }}</td></tr>
<tr><td>Error</td><td><pre>{{ exception_text | e }}</pre></td></tr>
<tr><td>Log</td><td><a href="{{ ti.log_url }}">{{ ti.log_url }}</a></td></tr>
</table>
<p>Runbook: docs/operations.md in the Pulse repository.</p>
"""


class _SettingsSmtpHook(SmtpHook):
    @classmethod
    def get_connection(cls, conn_id: str):
        from airflow.exceptions import AirflowNotFoundException

        try:
            return super().get_connection(conn_id)
        except AirflowNotFoundException:
            return smtp_connection(get_settings(), conn_id)


class DataTeamNotifier(SmtpNotifier):
    """`SmtpNotifier` to the data team over `pulse_smtp`, or SMTP from the settings."""

    def __init__(self, *, subject: str, html_content: str, to: Sequence[str] | None = None, **kwargs: Any):
        settings = get_settings()
        super().__init__(to=list(to or settings.data_team_emails), from_email=settings.mail_from,
                         subject=subject, html_content=html_content, smtp_conn_id=SMTP_CONN_ID, **kwargs)

    @cached_property
    def hook(self) -> SmtpHook:
        return _SettingsSmtpHook(smtp_conn_id=self.smtp_conn_id, auth_type=self.auth_type)

    def __call__(self, *args) -> None:
        # Rendering writes the rendered text into the notifier's own fields; tasks that fail in one
        # process (`dag.test`) share the instance, so each call renders a fresh copy.
        SmtpNotifier.__call__(copy.copy(self), *args)

    def _update_context(self, context):
        context = super()._update_context(context)
        context["run_interval"] = run_interval(context)
        error = context.get("exception")
        context["exception_text"] = f"{type(error).__name__}: {error}" if error else "(no exception recorded)"
        return context


def failure_notifier() -> DataTeamNotifier:
    return DataTeamNotifier(subject=FAILURE_SUBJECT, html_content=FAILURE_BODY)


def run_interval(context) -> str:
    """The interval a run covers: its backfill window when it has one, else its data interval."""
    params = context.get("params") or {}
    if params.get("start"):
        return f"backfill {params['start']} .. {params.get('end') or 'now'}"
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:
        return f"run {context['ti'].run_id}"
    return f"{_stamp(start)} .. {_stamp(end)}"


def _stamp(moment: dt.datetime) -> str:
    zone = get_settings().tz
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def airflow_url(*parts: str) -> str:
    """A page of the Airflow UI, under `[api] base_url`."""
    from airflow.sdk import conf

    base = conf.get("api", "base_url", fallback="http://localhost:8080/").rstrip("/")
    return "/".join([base, *(quote(part, safe="") for part in parts)])


def lateness_mail(source: str, dag_id: str, late: list[StreamFreshness], last_run: dict[str, Any] | None,
                  checked_at: dt.datetime) -> tuple[str, str]:
    """Subject and HTML of the email saying `source` has not landed by its expected time."""
    rows = []
    for stream in late:
        task_id = f"{stream.extracted_by}.load"
        link = (airflow_url("dags", dag_id, "runs", last_run["run_id"], "tasks", task_id) if last_run
                else airflow_url("dags", dag_id))
        landed = _stamp(stream.last_loaded_at) if stream.last_loaded_at else "never"
        rows.append(
            f"<tr><td>{html.escape(stream.key)}</td><td>{html.escape(task_id)}</td><td>{landed}</td>"
            f"<td>{_stamp(stream.expected_by)}</td><td><a href=\"{html.escape(link)}\">{html.escape(link)}</a></td></tr>"
        )
    interval = (f"{_stamp(last_run['interval_start'])} .. {_stamp(last_run['interval_end'])} "
                f"({last_run['status']})" if last_run and last_run.get("interval_start") and last_run.get("interval_end")
                else "no recorded run")
    subject = f"[Pulse] late: {dag_id} has not landed {source} data since {_oldest(late)}"
    body = f"""\
<p>Source <b>{html.escape(source)}</b> has not landed by its expected time (checked {_stamp(checked_at)}).
Its KPIs are marked stale on the dashboards until it lands again.</p>
<table>
<tr><td>DAG</td><td>{html.escape(dag_id)}</td></tr>
<tr><td>Last run interval</td><td>{html.escape(interval)}</td></tr>
</table>
<table>
<tr><th>Stream</th><th>Task</th><th>Last landed</th><th>Expected by</th><th>Log</th></tr>
{chr(10).join(rows)}
</table>
<p>Runbook: docs/operations.md ("A source is late") in the Pulse repository.</p>
"""
    return subject, body


def _oldest(late: list[StreamFreshness]) -> str:
    landed = [stream.last_loaded_at for stream in late if stream.last_loaded_at]
    return _stamp(min(landed)) if len(landed) == len(late) else "ever"


def send_lateness_mail(context, subject: str, body: str) -> None:
    DataTeamNotifier(subject=subject, html_content=body).notify(context)
