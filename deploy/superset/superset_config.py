"""Superset configuration for Pulse (loaded through SUPERSET_CONFIG_PATH).

Runs inside the Superset runtime, so it imports nothing from `pulse`. Every value comes from the
environment; the defaults suit the local demo (SQLite metadata, no Redis needed for the web UI).
Production (docker-compose.yml, `make up`) sets the PostgreSQL and Redis variables.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, datetime, timedelta
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from celery.signals import task_prerun
from superset.constants import CHANGE_ME_SECRET_KEY
from superset.tasks.types import FixedExecutor


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _flag(name: str, default: bool) -> bool:
    return _env(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(_env("PULSE_DATA_DIR", str(Path(__file__).resolve().parents[2] / "data")))
(DATA_DIR / "superset").mkdir(parents=True, exist_ok=True)

class RefusedConfiguration(RuntimeError):
    """Raised rather than SystemExit: gunicorn halts when a worker fails to boot with an exception,
    but keeps spawning new workers when one merely exits."""


# --- secrets -------------------------------------------------------------------------------
# Superset signs sessions and encrypts stored database passwords with SECRET_KEY: a missing,
# short or published key is refused rather than warned about.
_KNOWN_DEFAULTS = {
    CHANGE_ME_SECRET_KEY,  # the installed default's value (its name is not the key)
    "CHANGE_ME_SECRET_KEY",
    "thisISaSECRET_1234",
    "TEST_NON_DEV_SECRET",
    "YOUR_OWN_RANDOM_GENERATED_SECRET_KEY",
    "changeme",
}
SECRET_KEY = _env("SUPERSET_SECRET_KEY")
if not SECRET_KEY or SECRET_KEY in _KNOWN_DEFAULTS or len(SECRET_KEY) < 32:
    raise RefusedConfiguration(
        "Pulse refuses to start Superset: SUPERSET_SECRET_KEY is missing, a published default, or "
        "shorter than 32 characters. Generate one with `openssl rand -base64 42` (the demo does this "
        "once into data/secrets/superset_secret_key)."
    )

# --- metadata database -----------------------------------------------------------------------
SQLALCHEMY_DATABASE_URI = _env("SUPERSET_DATABASE_URI", f"sqlite:///{DATA_DIR / 'superset' / 'superset.db'}")
# Production (PULSE_ENV=production: docker-compose.yml, `make up`) runs Celery workers beside the
# web server: they need a shared metadata database and Redis, never a local SQLite file.
_SHARED_BACKENDS = not SQLALCHEMY_DATABASE_URI.startswith("sqlite") and bool(_env("SUPERSET_REDIS_URL"))
if _env("PULSE_ENV") == "production" and not _SHARED_BACKENDS:
    raise RefusedConfiguration(
        "Pulse refuses to start Superset in production mode without SUPERSET_DATABASE_URI on PostgreSQL "
        "and SUPERSET_REDIS_URL (scripts/lib/env.sh builds both from .env)."
    )
# On SQLite metadata (the demo) the action log goes to the process's own log, not the `logs`
# table: a report execution holds SQLite's one write lock from its alert query through its
# screenshot, and every request of that screenshot would wait 5 s on it to write its log row.
if SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
    from superset.utils.log import AbstractEventLogger

    class ProcessLogEventLogger(AbstractEventLogger):
        def log(self, user_id: int | None, action: str, *args: Any, **kwargs: Any) -> None:
            logging.getLogger("superset.events").debug("event %s by user %s: %s", action, user_id, kwargs)

    EVENT_LOGGER = ProcessLogEventLogger()

# SQLite warehouses stay blocked (they expose the server's file system); DuckDB is opened
# read-only with external file access disabled (see superset_assets/databases/).
PREVENT_UNSAFE_DB_CONNECTIONS = True

# --- web server ------------------------------------------------------------------------------
SUPERSET_WEBSERVER_TIMEOUT = int(timedelta(minutes=2).total_seconds())
ENABLE_PROXY_FIX = _flag("SUPERSET_ENABLE_PROXY_FIX", False)
# Content-Security-Policy from Talisman; HTTPS is terminated by a proxy in production.
TALISMAN_ENABLED = _flag("SUPERSET_TALISMAN_ENABLED", True)
SESSION_COOKIE_SECURE = _flag("SUPERSET_SESSION_COOKIE_SECURE", False)
SESSION_COOKIE_SAMESITE = "Lax"

# HTML in table cells (the summary board's links) is sanitized: links stay, scripts go. No
# Handlebars charts: they compile templates with eval, which the Content-Security-Policy forbids.
HTML_SANITIZATION = True

FEATURE_FLAGS = {
    "ALERT_REPORTS": True,
    "DASHBOARD_RBAC": True,  # dashboards carry their own role list
    "ENABLE_TEMPLATE_PROCESSING": False,
    "THUMBNAILS": False,
    "PLAYWRIGHT_REPORTS_AND_THUMBNAILS": False,  # Debian's chromium is driven by Selenium
}

# --- caches and Celery (Redis in production; the demo web UI runs without) ------------------
REDIS_URL = _env("SUPERSET_REDIS_URL")
if REDIS_URL:
    _cache = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL, "CACHE_DEFAULT_TIMEOUT": 300}
    CACHE_CONFIG = {**_cache, "CACHE_KEY_PREFIX": "pulse_superset_"}
    DATA_CACHE_CONFIG = {**_cache, "CACHE_KEY_PREFIX": "pulse_data_"}
    FILTER_STATE_CACHE_CONFIG = {**_cache, "CACHE_KEY_PREFIX": "pulse_filter_"}
    EXPLORE_FORM_DATA_CACHE_CONFIG = {**_cache, "CACHE_KEY_PREFIX": "pulse_explore_"}


# Superset's scheduler works out when beat triggered it from the task's expiry minus this
# (celery/celery#6974), so the beat entry below must expire exactly this long after its tick.
CELERY_BEAT_SCHEDULER_EXPIRES = timedelta(weeks=1)


class CeleryConfig:
    broker_url = _env("SUPERSET_CELERY_BROKER_URL", REDIS_URL or "redis://127.0.0.1:6379/1")
    result_backend = _env("SUPERSET_CELERY_RESULT_BACKEND", REDIS_URL or "redis://127.0.0.1:6379/1")
    # One queue per Superset: two deployments (or a test beside the demo) sharing a Redis must not
    # run each other's report ids against their own metadata.
    task_default_queue = _env("SUPERSET_CELERY_QUEUE", "pulse_superset")
    imports = ("superset.sql_lab", "superset.tasks.scheduler", "superset.tasks.cache")
    worker_prefetch_multiplier = 1
    task_acks_late = False
    beat_schedule = {
        # the reports scheduler looks for due schedules every minute
        "reports.scheduler": {
            "task": "reports.scheduler",
            "schedule": crontab(minute="*", hour="*"),
            "options": {"expires": int(CELERY_BEAT_SCHEDULER_EXPIRES.total_seconds())},
        },
        "reports.prune_log": {"task": "reports.prune_log", "schedule": crontab(minute=0, hour=0)},
    }


CELERY_CONFIG = CeleryConfig


# Celery hands a task its eta as text, and Superset writes that into report_execution_log as it
# is: PostgreSQL casts it, SQLite (the demo's metadata) refuses it (apache/superset#13698).
@task_prerun.connect(weak=False)
def _report_eta_as_datetime(task: Any = None, **_: Any) -> None:
    if task is not None and task.name == "reports.execute" and isinstance(task.request.eta, str):
        eta = datetime.fromisoformat(task.request.eta)
        task.request.eta = eta.astimezone(UTC).replace(tzinfo=None) if eta.tzinfo else eta


# --- Alerts & Reports ----------------------------------------------------------------------
# Schedules and alerts are superset_assets/reports/, applied by `pulse superset sync`; the Celery
# worker (scripts/superset-worker.sh) runs them when beat (scripts/superset-beat.sh) says so.
# Reports render as a fixed service account, whatever user created the schedule.
ALERT_REPORTS_SERVICE_USER = _env("SUPERSET_REPORTS_USER", "pulse_reports")
ALERT_REPORTS_EXECUTORS = [FixedExecutor(ALERT_REPORTS_SERVICE_USER)]
ALERT_REPORTS_NOTIFICATION_DRY_RUN = _flag("SUPERSET_REPORTS_DRY_RUN", False)
ALERT_REPORTS_WORKING_TIME_OUT_KILL = True
EMAIL_REPORTS_SUBJECT_PREFIX = _env("SUPERSET_REPORTS_SUBJECT_PREFIX", "[Pulse]")  # "<prefix> <subject>"
EMAIL_REPORTS_CTA = "Open in Pulse"

# Mail goes where Pulse's own mail goes (PULSE_SMTP_*: the demo's sink, or a real server);
# a non-empty SMTP_<NAME> overrides PULSE_SMTP_<NAME> for Superset alone.
def _smtp(name: str, default: str = "") -> str:
    return _env(f"SMTP_{name}") or _env(f"PULSE_SMTP_{name}", default)


SMTP_HOST = _smtp("HOST", "127.0.0.1")
SMTP_PORT = int(_smtp("PORT", "8025"))
SMTP_STARTTLS = _smtp("STARTTLS", "false").lower() in {"1", "true", "yes", "on"}
SMTP_SSL = _smtp("SSL", "false").lower() in {"1", "true", "yes", "on"}
SMTP_USER = _smtp("USER")
SMTP_PASSWORD = _smtp("PASSWORD")
SMTP_MAIL_FROM = _env("SMTP_MAIL_FROM") or _env("PULSE_MAIL_FROM", "pulse@localhost")
# over TLS, the server's certificate is checked unless SMTP_SSL_SERVER_AUTH=false
SMTP_SSL_SERVER_AUTH = _flag("SMTP_SSL_SERVER_AUTH", SMTP_STARTTLS or SMTP_SSL)

def EMAIL_HEADER_MUTATOR(msg: MIMEMultipart, **header_data: Any) -> MIMEMultipart:
    """A scheduled PNG report also carries its pages as a PDF attachment.

    A Superset schedule has one format: PNG puts the screenshots in the mail body, PDF attaches
    them. The morning summary wants both (read it in the mail, keep or forward the file), so the
    PDF is built here from the same screenshots, into the same mail. Alerts keep their image only.
    """
    if header_data.get("notification_type") != "Report" or header_data.get("notification_format") != "PNG":
        return msg
    images = [part.get_payload(decode=True) for part in msg.walk() if part.get_content_maintype() == "image"]
    if not images:
        return msg
    from superset.utils.pdf import build_pdf_from_screenshots

    title = str(msg["Subject"]).removeprefix(EMAIL_REPORTS_SUBJECT_PREFIX).strip()
    name = (re.sub(r"[^\w .-]+", "", title).strip() or "report") + ".pdf"
    msg.attach(MIMEApplication(build_pdf_from_screenshots(images), "pdf", Name=name,
                               Content_Disposition=f'attachment; filename="{name}"'))
    return msg


# Screenshots: Selenium with Debian's chromium and chromedriver, headless. Without the
# background-networking flags Chromium keeps dialling Google, which this network refuses.
WEBDRIVER_TYPE = "chrome"
WEBDRIVER_OPTION_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]
WEBDRIVER_CONFIGURATION = {
    # Debian's chromedriver finds /usr/bin/chromium by itself; naming the driver keeps Selenium
    # Manager from trying to download one.
    "options": {"capabilities": {}, "preferences": {}},
    "service": {
        "executable_path": _env("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"),
        "log_output": str(DATA_DIR / "logs" / "chromedriver.log"),
        "service_args": [],
        "port": 0,
        "env": {},
    },
}
WEBDRIVER_BASEURL = _env("SUPERSET_WEBDRIVER_BASEURL", "http://127.0.0.1:8088/")
WEBDRIVER_BASEURL_USER_FRIENDLY = _env("SUPERSET_PUBLIC_URL", WEBDRIVER_BASEURL)
WEBDRIVER_WINDOW = {"dashboard": (1600, 2000), "slice": (1600, 1200), "pixel_density": 1}
SCREENSHOT_LOAD_WAIT = 60
SCREENSHOT_SELENIUM_HEADSTART = 3
SCREENSHOT_SELENIUM_ANIMATION_WAIT = 3
EMAIL_PAGE_RENDER_WAIT = 30

# --- logging ---------------------------------------------------------------------------------
LOG_LEVEL = getattr(logging, _env("SUPERSET_LOG_LEVEL", "INFO").upper(), logging.INFO)
