"""Pulse configuration: one settings object, read from the environment and an optional `.env`.

Every setting is `PULSE_<NAME>` in the environment; `.env.example` documents each one. Source
credentials are not here: they are Airflow connections (`AIRFLOW_CONN_PULSE_<SOURCE>`), see
`pulse.sources.connections`.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, computed_field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]

_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PULSE_",
        env_file=REPO_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- where things live -------------------------------------------------------------------
    home: Path = REPO_ROOT
    data_dir: Path = REPO_ROOT / "data"
    warehouse_url: str = ""  # default: a DuckDB file under data_dir (see warehouse_url_resolved)
    # memory one sort or hash of a pipeline session may use before spilling to disk (PostgreSQL
    # warehouse); the server's default, 4MB, makes the loader's and the refresh's joins spill
    postgres_work_mem: str = "256MB"
    drops_dir: Path | None = None  # CSV drops, one folder per feed; default: data_dir / "drops"

    # --- business calendar -------------------------------------------------------------------
    business_timezone: str = "Europe/Amsterdam"
    office_hours: str = "08:30-17:30"  # local time, opening-closing
    office_days: str = "mon,tue,wed,thu,fri"
    holiday_country: str = "NL"  # public holidays (python-holidays country code); empty for none
    extra_holidays: list[dt.date] = Field(default_factory=list)  # company closing days

    # --- service levels and KPI rules --------------------------------------------------------
    phone_sla_seconds: int = 40
    ticket_sla_hours: int = 48
    kpi_lookback_days: int = 7  # days the daily KPI refresh rebuilds
    ga4_lookback_days: int = 3  # GA4 revises data for about 72 hours
    ga4_page_size: int = 10_000  # rows per GA4 report page (limit/offset paging; the API allows 250,000)
    ga4_quota_reserve: float = 0.1  # share of each GA4 property quota a run leaves for dashboards and others
    ga4_quota_wait_seconds: float = 300.0  # pause when an hourly GA4 quota runs low

    # --- dashboards ---------------------------------------------------------------------------
    # Where GX Data Docs are served; the data-health dashboard links there (set at deploy time).
    data_docs_url: str = "http://127.0.0.1:8090/"

    # --- validation (pulse.validation) --------------------------------------------------------
    validation_future_tolerance_minutes: int = 60  # a record stamped later than its extraction + this is refused
    validation_systemic_share: float = 0.5  # a row rule failing more than this share of a batch blocks it
    validation_systemic_min_rows: int = 10  # ... in batches of at least this many records
    volume_history_batches: int = 8  # recent same-weekday batches the volume guard compares a batch with
    volume_min_history: int = 3  # with fewer comparable batches the volume guard is off
    volume_collapse_ratio: float = 0.2  # fewer records than this share of the expected is a volume collapse
    volume_min_expected_rows: int = 20  # below this many expected records a batch is too small to judge
    data_docs_enabled: bool = True  # rebuild the GX Data Docs after each validation
    data_docs_keep_per_suite: int = 30  # newest validation results per suite kept in the Data Docs
    reconcile_days: int = 14  # recent business days each reconciliation run checks
    reconcile_min_count: int = 10  # days with fewer events than this on the expected side are not judged
    reconcile_ga_orders_band: tuple[float, float] = (0.7, 1.1)  # GA transactions / shop web orders
    reconcile_ga_revenue_band: tuple[float, float] = (0.6, 1.15)  # GA purchase revenue / shop web revenue
    reconcile_shipments_band: tuple[float, float] = (0.9, 1.1)  # carrier-reported shipments / shipped orders
    reconcile_weekly_band: tuple[float, float] = (0.3, 3.0)  # tickets, calls / same weekday of previous weeks
    reconcile_weeks: int = 4  # previous weeks the weekly checks compare with

    # --- mail -------------------------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = "pulse@localhost"
    data_team_emails: list[str] = Field(default_factory=lambda: ["data-team@example.com"])
    executive_emails: list[str] = Field(default_factory=lambda: ["executives@example.com"])
    # who gets each detail dashboard's weekly report and its KPI alerts, by dashboard slug
    team_emails: dict[str, list[str]] = Field(default_factory=lambda: {
        team: [f"{team.replace('_', '-')}-team@example.com"]
        for team in ("acquisition", "audience", "transactions", "service", "after_sales", "catalogues", "quotes",
                     "customers")
    })

    # --- source HTTP APIs (pulse.sources.http) -----------------------------------------------
    http_timeout_seconds: float = 30.0  # connect and read timeout of each request
    http_max_attempts: int = 5  # tries per request; 429, 5xx and dropped connections are retried
    http_backoff_seconds: float = 1.0  # exponential back-off multiplier: 1, 2, 4, 8 ... seconds
    http_max_retry_delay_seconds: float = 300.0  # longest wait between tries (a longer Retry-After is cut)

    # --- sandbox (demo and tests) -----------------------------------------------------------
    sandbox_seed: int = 42
    sandbox_scale: float = 1.0
    sandbox_days: int = 120
    sandbox_base_port: int = 8101  # `pulse sandbox serve`: one port per source API from here

    # --- benchmarks (`make bench`, pulse.bench) ----------------------------------------------
    # a PostgreSQL account allowed to create databases: the bench makes its own and drops them
    bench_postgres_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

    @field_validator("office_hours")
    @classmethod
    def _check_office_hours(cls, value: str) -> str:
        opening, closing = (dt.time.fromisoformat(part) for part in value.split("-"))
        if opening >= closing:
            raise ValueError(f"office_hours {value!r}: opening must be before closing")
        return value

    @field_validator("office_days")
    @classmethod
    def _check_office_days(cls, value: str) -> str:
        unknown = {day.strip() for day in value.split(",")} - set(_WEEKDAYS)
        if unknown:
            raise ValueError(f"office_days: unknown day(s) {sorted(unknown)}; use {_WEEKDAYS}")
        return value

    @model_validator(mode="after")
    def _default_drops_dir(self) -> Settings:
        if self.drops_dir is None:
            self.drops_dir = self.data_dir / "drops"
        return self

    @computed_field
    @property
    def warehouse_url_resolved(self) -> str:
        return self.warehouse_url or f"duckdb:///{self.data_dir / 'warehouse' / 'pulse.duckdb'}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.business_timezone)

    @property
    def opening_time(self) -> dt.time:
        return dt.time.fromisoformat(self.office_hours.split("-")[0])

    @property
    def closing_time(self) -> dt.time:
        return dt.time.fromisoformat(self.office_hours.split("-")[1])

    @property
    def office_weekdays(self) -> frozenset[int]:
        """ISO weekday numbers (Monday=1) on which the office is open."""
        return frozenset(_WEEKDAYS.index(day.strip()) + 1 for day in self.office_days.split(","))


@cache
def get_settings() -> Settings:
    return Settings()
