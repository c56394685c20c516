"""Alerts & Reports end to end: Superset with its Celery worker and beat on Redis, screenshots in
headless Chromium, mail into the SMTP sink, on a KPI layer the real pipeline built.

One Superset, worker and beat serve the module. A small sandbox world is extracted through the
real connectors (tests/sql/raw_loader.py) and refreshed twice: through the day after the checkout
bug, with every stream made stale (the next morning's alerts judge the bug's day: a KPI's judged
day is the latest office day that has settled, kpi.kpi_judged_periods), and through a normal
office day. `superset_assets/reports/` is deployed by `pulse superset sync`; for a round, a copy of
the files moves the schedules under test to the coming minute (an update in place), beat and the
worker run them, and the mails are read back. What an alert must say is worked out here from the
sandbox oracle, kpis.yml and the business calendar, never from the warehouse. On SQLite metadata
the worker runs one execution at a time (scripts/superset-worker.sh), so a round's screenshots
follow one another. Budget: about 5 minutes (world and extraction 0.3, Superset 0.3, or 1 when its
metadata template is rebuilt, deploy 0.5, reports and alerts round 2.5, normal-day round 1).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from test_reports_sql import OPERATORS, RULES

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import DASHBOARDS, load_registry
from pulse.mailsink import MailSink
from pulse.orchestration import freshness
from pulse.sandbox.generator import generate
from pulse.sandbox.oracle import Oracle
from pulse.settings import REPO_ROOT, get_settings
from pulse.superset.bundle import ASSETS_DIR, dump_yaml
from pulse.superset.environment import DeployEnvironment
from pulse.superset.reports import apply_schedules, exported_schedules, read_schedules
from pulse.superset.sync import sync
from pulse.transform import refresh_kpis
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.publish import publish
from sql.raw_loader import extract_and_load
from support.services import require_chromium, require_redis
from support.superset import SupersetServer, running_superset

pytestmark = [pytest.mark.superset, pytest.mark.redis, pytest.mark.chromium, pytest.mark.slow]

# 50 days ending on a Sunday: the checkout bug (a Monday) has four weeks of history before it
WORLD = {"seed": 1, "days": 50, "scale": 0.25, "end": dt.date(2026, 4, 12)}
TIMEZONE = "Europe/Amsterdam"
VARIABLES = {
    "PULSE_BUSINESS_TIMEZONE": TIMEZONE,
    "PULSE_EXECUTIVE_EMAILS": ["ceo@pulse.test", "cfo@pulse.test"],
    "PULSE_DATA_TEAM_EMAILS": ["data@pulse.test"],
    **{f"PULSE_TEAM_EMAILS.{team}": [f"{team.replace('_', '-')}@teams.pulse.test"] for team in DASHBOARDS},
}
REGISTRY = load_registry()
CALENDAR = BusinessCalendar.from_settings()
SCHEDULES = read_schedules()
ALERTS = {doc["name"]: doc for doc in SCHEDULES.values() if doc["type"] == "alert"}
SUMMARY = "reports/daily_summary.yml"
WEEKLY = "reports/weekly_after_sales.yml"
INCIDENT_ALERTS = ("Cart abandonment rate above target", "Conversion rate drop")  # the checkout bug's own
FINAL_STATES = {"Success", "Not triggered", "Error", "On Grace"}
ROUND_TIMEOUT = 600.0


# --- the KPI layer --------------------------------------------------------------------------------
@dataclass
class KpiLayer:
    world_oracle: Oracle
    warehouse: Warehouse
    serving: Path
    incident_day: dt.date  # the checkout bug's Monday
    incident_through: dt.date  # refreshed through this day, the bug's day is judged
    normal_through: dt.date  # refreshed through this office day, no KPI alert may fire
    built_in: float

    def publish_day(self, day: dt.date, *, stale: bool) -> int:
        """The KPI layer through `day`, served; every stream stale or none. Returns the stale count."""
        now = dt.datetime.now(dt.UTC)
        with self.warehouse.connect() as connection:
            # raw_loader loads without landing-batch bookkeeping, so a stream is as fresh as the
            # moment the freshness check first watched it
            freshness.check(connection, now)
            rows = freshness.check(connection, now + dt.timedelta(days=7)) if stale else []
        refresh_kpis(warehouse=self.warehouse, through=day)
        publish(warehouse=self.warehouse, target=self.serving)
        return sum(row.stale for row in rows)


def judged_day(kpi: str, through: dt.date) -> dt.date:
    """The day an alert on `kpi` judges after a refresh through `through`: the latest office day
    that ended at least the KPI's settles_after_days (kpis.yml) before it."""
    day = through - dt.timedelta(days=REGISTRY.get(kpi).settles_after_days)
    while not CALENDAR.is_office_day(day):
        day -= dt.timedelta(days=1)
    return day


def expected_value(oracle: Oracle, name: str, through: dt.date, stale_streams: int) -> float | None:
    """What an alert's SQL must return after a refresh through `through`: from the oracle and kpis.yml."""
    rule, kpi = RULES[name]
    if rule == "freshness":
        return float(stale_streams)
    day = judged_day(kpi, through)
    value = oracle.value(kpi, "day", day)
    if value is None:
        return None
    target = REGISTRY.get(kpi).target
    if rule == "above":
        return (value - target.max) / target.max
    if rule == "below":
        return (target.min - value) / target.min
    rows = oracle.values(kpi, "day")
    rows = rows[(rows["slice_name"] == "all")
                & rows["period_start"].isin([day - dt.timedelta(weeks=n) for n in range(1, 5)])]
    usual = rows["numerator"].sum() / rows["denominator"].sum()
    return (usual - value) / usual


def fires(name: str, value: float | None) -> bool:
    condition = ALERTS[name]["condition"]
    return value is not None and OPERATORS[condition["op"]](value, condition["threshold"])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_DATA_DIR", str(workdir / "data"))
        get_settings.cache_clear()
        yield workdir
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def kpi_layer(workdir) -> KpiLayer:
    started = time.monotonic()
    world = generate(**WORLD)
    oracle = Oracle(world)
    incident_day = next(incident.start for incident in world.meta.incidents if incident.name == "checkout_bug")
    incident_through = incident_day + dt.timedelta(days=max(REGISTRY.get(kpi).settles_after_days
                                                            for _, kpi in RULES.values() if kpi))
    assert {judged_day(RULES[name][1], incident_through) for name in INCIDENT_ALERTS} == {incident_day}
    # the latest office day through which no KPI alert may fire (the sandbox's base rates sit near
    # several benchmarks, so many days have one alert or another)
    quiet = [day for day in oracle.periods("day") if CALENDAR.is_office_day(day) and day > incident_through
             and not any(fires(name, expected_value(oracle, name, day, 0)) for name in ALERTS)]
    assert quiet, "the sandbox world has no office day without an alert: pick another seed"
    warehouse = Warehouse(f"duckdb:///{workdir / 'warehouse' / 'pulse.duckdb'}")
    extract_and_load(world, warehouse, workdir)
    return KpiLayer(oracle, warehouse, workdir / "serving" / "pulse.duckdb", incident_day, incident_through, quiet[-1],
                    time.monotonic() - started)


# --- Superset, worker and beat -----------------------------------------------------------------------
@dataclass
class Stack:
    server: SupersetServer
    sink: MailSink
    assets: Path  # superset_assets/ as deployed
    environment: DeployEnvironment
    logs: Path
    ids: dict[str, int] = field(default_factory=dict)  # schedule name -> report id
    stale_streams: int = 0

    @property
    def admin(self):
        return self.server.client()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                         for path in (self.logs / "superset-worker.log", self.logs / "superset-beat.log"))


def _start(script: str, env: dict[str, str], logs: Path) -> subprocess.Popen:
    log = (logs / f"{script.removesuffix('.sh')}.log").open("ab")
    return subprocess.Popen([str(REPO_ROOT / "scripts" / script)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """The process group started for it: celery and its pool, chromedriver and chromium."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(workdir, kpi_layer) -> Iterator[Stack]:
    require_redis()
    require_chromium()
    assets = workdir / "superset_assets"
    shutil.copytree(ASSETS_DIR, assets)
    stale = kpi_layer.publish_day(kpi_layer.incident_through, stale=True)
    environment = DeployEnvironment.for_warehouse(f"duckdb:///{kpi_layer.serving}",
                                                  data_docs_url="http://docs.pulse.test/")
    with MailSink(workdir / "mail") as sink, running_superset(workdir / "superset") as server:
        logs = server.data_dir / "logs"
        # a queue of its own: the demo's worker on the same Redis must not take these reports
        env = dict(server.env, SMTP_HOST=sink.host, SMTP_PORT=str(sink.port),
                   SUPERSET_CELERY_QUEUE=f"pulse_test_{uuid.uuid4().hex[:12]}")
        processes = [_start("superset-worker.sh", env, logs), _start("superset-beat.sh", env, logs)]
        try:
            started = time.monotonic()
            report = sync(server.client(), environment, assets, schedule_variables=VARIABLES)
            print(f"\nSuperset {server.started_in:.0f} s, KPI layer {kpi_layer.built_in:.0f} s, "
                  f"sync {time.monotonic() - started:.0f} s ({report.schedules.summary()})")
            stack = Stack(server, sink, assets, environment, logs, stale_streams=stale)
            stack.ids = {row["name"]: row["id"] for row in stack.admin.list("report", columns=["id", "name"])}
            yield stack
        finally:
            for process in processes:
                _stop(process)


# --- rounds: schedules moved to the coming minute ------------------------------------------------------
@dataclass
class Round:
    runs: dict[str, dict]  # schedule name -> its final execution log entry
    mails: list[EmailMessage]
    seconds: float


def _coming_minute(timezone: str) -> str:
    """A crontab for the first whole minute at least 30 s away (applying takes seconds), in the
    schedule's time zone."""
    due = dt.datetime.now(ZoneInfo(timezone)) + dt.timedelta(seconds=90)
    return f"{due.minute} {due.hour} * * *"


def _logs(admin, report_id: int) -> list[dict]:
    """A schedule's execution log, newest first (a run writes `Working`, then its outcome). One
    page is enough: the module runs each schedule a few times."""
    query = {"page": 0, "page_size": 100, "order_column": "start_dttm", "order_direction": "desc"}
    rows = admin.get(f"/api/v1/report/{report_id}/log/", q=query)["result"]
    return sorted(rows, key=lambda log: log["id"], reverse=True)


def run_now(stack: Stack, files: list[str]) -> Round:
    """Move the schedules of `files` to the coming minute (alerts without grace), wait for each
    to finish one run, then put the committed files back."""
    admin = stack.admin
    names = {SCHEDULES[name]["name"] for name in files}
    before = {name: max((log['id'] for log in _logs(admin, stack.ids[name])), default=0) for name in names}
    mails_before = len(stack.sink.messages())
    moved = stack.assets.parent / f"round_{uuid.uuid4().hex[:6]}"
    shutil.copytree(stack.assets, moved)
    crontab = _coming_minute(TIMEZONE)
    for name in files:
        document = {**SCHEDULES[name], "crontab": crontab}
        if document["type"] == "alert":
            document["grace_period"] = 1
        (moved / name).write_text(dump_yaml(document))
    started = time.monotonic()
    changes = apply_schedules(admin, moved, variables=VARIABLES)
    assert sorted(changes.updated) == sorted(f"{SCHEDULES[n]['type']}: {SCHEDULES[n]['name']}" for n in files)
    assert not changes.created, "moving a schedule must update it in place"
    runs: dict[str, dict] = {}
    try:
        while len(runs) < len(names):
            for name in names - set(runs):
                final = [log for log in _logs(admin, stack.ids[name])
                         if log["id"] > before[name] and log["state"] in FINAL_STATES]
                if final:
                    runs[name] = final[0]
            if time.monotonic() - started > ROUND_TIMEOUT:
                raise AssertionError(f"no run of {sorted(names - set(runs))} within {ROUND_TIMEOUT:.0f} s:\n"
                                     f"{stack.log_tail()}")
            time.sleep(3)
    finally:
        restored = apply_schedules(admin, stack.assets, variables=VARIABLES)
        assert len(restored.updated) == len(files) and not restored.created
    return Round(runs, stack.sink.messages()[mails_before:], time.monotonic() - started)


@pytest.fixture(scope="module")
def incident_round(stack) -> Round:
    """The morning reports and every alert, on the checkout-bug day with every stream late."""
    alerts = [name for name, doc in SCHEDULES.items() if doc["type"] == "alert"]
    result = run_now(stack, [SUMMARY, WEEKLY, *alerts])
    print(f"\nreports and alerts round: {result.seconds:.0f} s")
    return result


@pytest.fixture(scope="module")
def normal_round(stack, kpi_layer, incident_round) -> Round:
    kpi_layer.publish_day(kpi_layer.normal_through, stale=False)
    result = run_now(stack, [name for name, doc in SCHEDULES.items() if doc["type"] == "alert"])
    print(f"\nnormal-day alerts round: {result.seconds:.0f} s")
    return result


# --- what a mail must hold -----------------------------------------------------------------------------
def _mail(round_: Round, subject: str) -> EmailMessage:
    found = [mail for mail in round_.mails if mail["Subject"] == f"[Pulse] {subject}"]
    assert found, f"no mail {subject!r}; got {[mail['Subject'] for mail in round_.mails]}"
    return found[0]


def _recipients(mail: EmailMessage) -> list[str]:
    return [address.strip() for address in str(mail["To"]).split(",")]


def _assert_picture(picture, what: str) -> None:
    """Decodes, is at least a small screen wide, and is not blank: grey levels spread over many
    colours (a blank or half-loaded page is one colour, a spinner a handful)."""
    from PIL import Image, ImageStat

    image = picture if isinstance(picture, Image.Image) else Image.open(io.BytesIO(picture))
    image.load()
    rgb = image.convert("RGB")
    spread = ImageStat.Stat(rgb.convert("L")).stddev[0]
    colours = len(rgb.getcolors(maxcolors=1 << 24))
    assert rgb.width >= 1000 and rgb.height >= 400, f"{what}: {rgb.size}"
    assert spread > 5 and colours > 50, f"{what} looks blank: grey spread {spread:.1f}, {colours} colours"


def _inline_images(mail: EmailMessage) -> list[bytes]:
    return [part.get_payload(decode=True) for part in mail.walk()
            if part.get_content_maintype() == "image" and part.get("Content-Disposition", "").startswith("inline")]


def _pdf_pages(mail: EmailMessage) -> list:
    from pypdf import PdfReader

    attachments = [part for part in mail.walk() if (part.get_filename() or "").endswith(".pdf")]
    assert len(attachments) == 1, f"{mail['Subject']}: {len(attachments)} PDF attachments"
    reader = PdfReader(io.BytesIO(attachments[0].get_payload(decode=True)))
    assert len(reader.pages) >= 1
    return list(reader.pages)


# --- tests ----------------------------------------------------------------------------------------------
def test_applying_the_schedules_twice_leaves_one_of_each(stack, tmp_path):
    admin = stack.admin

    def inventory() -> dict[tuple[str, str], int]:
        return {(row["type"], row["name"]): row["id"] for row in admin.list("report", columns=["id", "name", "type"])}

    before = inventory()
    assert sorted(before) == sorted((doc["type"].title(), doc["name"]) for doc in SCHEDULES.values())
    again = apply_schedules(admin, stack.assets, variables=VARIABLES)
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], len(SCHEDULES))
    assert inventory() == before

    # a changed file updates its schedule in place; a removed one stays until --prune
    changed = tmp_path / "superset_assets"
    shutil.copytree(stack.assets, changed)
    quotes = changed / "reports" / "weekly_quotes.yml"
    document = yaml.safe_load(quotes.read_text())
    quotes.write_text(dump_yaml({**document, "crontab": "45 6 * * 1"}))
    assert apply_schedules(admin, changed, variables=VARIABLES).updated == [f"report: {document['name']}"]
    assert inventory() == before
    assert admin.get(f"/api/v1/report/{before[('Report', document['name'])]}")["result"]["crontab"] == "45 6 * * 1"
    quotes.unlink()
    assert apply_schedules(admin, changed, variables=VARIABLES).pruned == []
    assert apply_schedules(admin, changed, variables=VARIABLES, prune=True).pruned == [f"report: {document['name']}"]
    assert set(inventory()) == set(before) - {("Report", document["name"])}

    restored = apply_schedules(admin, stack.assets, variables=VARIABLES)
    assert restored.created == [f"report: {document['name']}"]
    stack.ids = {name: number for (_, name), number in inventory().items()}
    # export after deploy writes the committed files back
    assert exported_schedules(admin, stack.assets, variables=VARIABLES) == SCHEDULES


def test_the_daily_summary_arrives_with_the_dashboard_in_the_body_and_as_a_pdf(incident_round):
    document = SCHEDULES[SUMMARY]
    assert incident_round.runs[document["name"]]["state"] == "Success"
    mail = _mail(incident_round, document["email_subject"])
    assert _recipients(mail) == VARIABLES["PULSE_EXECUTIVE_EMAILS"]
    (image,) = _inline_images(mail)
    _assert_picture(image, "the summary in the mail body")
    (page,) = _pdf_pages(mail)
    assert len(page.images) == 1  # the same screenshot, as a page


def test_a_weekly_report_arrives_as_a_pdf_for_its_team(incident_round):
    document = SCHEDULES[WEEKLY]
    assert incident_round.runs[document["name"]]["state"] == "Success"
    mail = _mail(incident_round, document["email_subject"])
    assert _recipients(mail) == VARIABLES["PULSE_TEAM_EMAILS.after_sales"]
    assert not _inline_images(mail)
    pages = _pdf_pages(mail)
    assert pages[0].images, "the PDF holds the dashboard's screenshot"
    _assert_picture(pages[0].images[0].image, "the weekly dashboard in the PDF")


def _check_alerts(round_: Round, oracle: Oracle, through: dt.date, stale_streams: int) -> dict[str, bool]:
    fired = {}
    problems = []
    for name, document in ALERTS.items():
        run = round_.runs[name]
        expected = expected_value(oracle, name, through, stale_streams)
        should_fire = fires(name, expected)
        fired[name] = run["state"] == "Success"
        if run["state"] not in ("Success", "Not triggered") or fired[name] != should_fire:
            problems.append(f"{name}: {run['state']} ({run['error_message']}), expected "
                            f"{'a mail' if should_fire else 'quiet'} for value {expected}")
        got = run["value"]
        if (got is None) != (expected is None) or (
                expected is not None and abs(got - expected) > 1e-9 * max(1.0, abs(expected))):
            problems.append(f"{name}: the alert's value is {got}, the oracle's {expected}")
        mails = [mail for mail in round_.mails if mail["Subject"] == f"[Pulse] {document['email_subject']}"]
        if should_fire:
            if not mails:
                problems.append(f"{name}: no mail")
                continue
            team = document["recipients"][0].removeprefix("${").removesuffix("}")
            if _recipients(mails[0]) != VARIABLES[team]:
                problems.append(f"{name}: mail to {mails[0]['To']}, not {VARIABLES[team]}")
            (image,) = _inline_images(mails[0])
            _assert_picture(image, f"{name}'s chart")
        elif mails:
            problems.append(f"{name}: mailed although quiet")
    assert not problems, "\n".join(problems)
    return fired


def test_alerts_fire_on_the_checkout_bug_day(incident_round, kpi_layer, stack):
    fired = _check_alerts(incident_round, kpi_layer.world_oracle, kpi_layer.incident_through, stack.stale_streams)
    # the incident's own alerts, and the freshness alert with every stream late
    assert all(fired[name] for name in INCIDENT_ALERTS)
    assert fired["Data freshness"] and stack.stale_streams > 0


def test_alerts_stay_quiet_on_a_normal_day(normal_round, kpi_layer, stack):
    fired = _check_alerts(normal_round, kpi_layer.world_oracle, kpi_layer.normal_through, 0)
    assert not any(fired.values())
    assert not [mail["Subject"] for mail in normal_round.mails if "Alert" in str(mail["Subject"])]
