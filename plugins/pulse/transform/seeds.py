"""Tables the SQL reads that come from Python, not from a source: the business calendar
(`staging.calendar_days`) and the KPI registry (`kpi.kpi_registry`). Rebuilt every refresh."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import Registry
from pulse.transform import scratch
from pulse.warehouse.connection import Connection
from pulse.warehouse.loader import append

# The calendar covers these whole years around `through`: business durations of moments outside
# it are null (no KPI measures office time that long ago; building each year's holidays costs).
CALENDAR_YEARS_BACK = 10
CALENDAR_YEARS_AHEAD = 2  # promised dates, due dates and estimates lie in the future

CALENDAR_COLUMNS = """
    day date not null primary key,
    iso_weekday integer not null,
    week_start date not null,
    month_start date not null,
    quarter_start date not null,
    is_office_day boolean not null,
    holiday_name text,
    opens_at timestamptz,
    closes_at timestamptz,
    office_seconds double precision not null,
    office_seconds_before double precision not null
"""

# The registry names a KPI's sources by system (kpis.yml `sources`); these are the pipeline's
# source ids behind each (docs/data-contracts.md section 2), for staleness.
SOURCE_IDS = {
    "GA": ("ga4",),
    "ADS": ("ga4", "ad_spend"),
    "CRM": ("hubspot",),
    "SHOP": ("shop",),
    "PHONE": ("aircall",),
    "DESK": ("zendesk",),
    "CARR": ("easypost", "carrier_files"),
    "NPS": ("nps",),
    "SPEED": ("site_speed",),
}

SOURCES_COLUMNS = """
    kpi_id text not null,
    source_code text not null,
    source text not null,
    primary key (kpi_id, source)
"""

REGISTRY_COLUMNS = """
    kpi_id text not null primary key,
    ref text not null,
    title text not null,
    area text not null,
    dashboard text not null,
    kind text not null,
    unit text not null,
    better text not null,
    summary boolean not null,
    confidential boolean not null,
    target_min double precision,
    target_max double precision,
    benchmark text,
    grains text not null,
    slices text not null,
    sources text not null,
    list_table text,
    definition text not null,
    settles_after_days integer not null
"""


def calendar_frame(calendar: BusinessCalendar, through: dt.date) -> pd.DataFrame:
    """One row per day: its periods, its office window in UTC (opening and closing are local wall
    clock times, so the UTC window moves with daylight saving), and the office seconds of every
    earlier day in the table: business seconds between two moments are then a difference of two
    running totals, with no range join."""
    first = dt.date(through.year - CALENDAR_YEARS_BACK, 1, 1)
    last = dt.date(through.year + CALENDAR_YEARS_AHEAD, 12, 31)
    days = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    windows = [calendar.office_window(day) for day in days]
    stamps = pd.Series(pd.to_datetime(days))
    frame = pd.DataFrame({
        "day": days,
        "iso_weekday": stamps.dt.weekday + 1,
        "week_start": (stamps - pd.to_timedelta(stamps.dt.weekday, unit="D")).dt.date,
        "month_start": (stamps - pd.to_timedelta(stamps.dt.day - 1, unit="D")).dt.date,
        "quarter_start": [dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1) for day in days],
        "is_office_day": [window is not None for window in windows],
        "holiday_name": [calendar.holiday_name(day) for day in days],
        "opens_at": pd.to_datetime([window[0] if window else None for window in windows], utc=True),
        "closes_at": pd.to_datetime([window[1] if window else None for window in windows], utc=True),
    })
    length = (frame["closes_at"] - frame["opens_at"]).dt.total_seconds().fillna(0.0)
    frame["office_seconds"] = length
    frame["office_seconds_before"] = length.cumsum() - length
    return frame


def build_calendar(connection: Connection, calendar: BusinessCalendar, through: dt.date, *, delta: bool = False) -> int:
    """Rebuilt only when the calendar's settings or its years changed (building it loads the
    holiday tables, which takes seconds). Returns its row count, or with `delta` the count of its
    rows that changed, kept for the models that read it in `scratch.delta('calendar_days')`."""
    fingerprint = repr((calendar.timezone, calendar.opening, calendar.closing, sorted(calendar.weekdays),
                        calendar.holiday_country, sorted(calendar.extra_holidays),
                        through.year - CALENDAR_YEARS_BACK, through.year + CALENDAR_YEARS_AHEAD, CALENDAR_COLUMNS))
    connection.execute("create table if not exists meta.kpi_calendar (fingerprint text not null)")
    if connection.table_exists("staging.calendar_days") and connection.scalar(
            "select count(*) from meta.kpi_calendar where fingerprint = :fingerprint", {"fingerprint": fingerprint}):
        return 0 if delta else int(connection.scalar("select count(*) from staging.calendar_days"))
    before = "_calendar_before"
    if delta:
        connection.execute(f"create temporary table {before} as select * from staging.calendar_days")
    frame = calendar_frame(calendar, through)
    replace_table(connection, "staging.calendar_days", CALENDAR_COLUMNS, pa.Table.from_pandas(frame, preserve_index=False))
    connection.execute("delete from meta.kpi_calendar")
    connection.execute("insert into meta.kpi_calendar (fingerprint) values (:fingerprint)", {"fingerprint": fingerprint})
    if not delta:
        return len(frame)
    changed = scratch.delta("calendar_days")
    connection.execute(
        f"create temporary table {changed} as "
        f"select 'old' as _change, * from (select * from {before} except select * from staging.calendar_days) as gone "
        f"union all select 'new' as _change, * from (select * from staging.calendar_days except select * from {before}) "
        "as came")
    connection.execute(f"drop table {before}")
    return int(connection.scalar(f"select count(*) from {changed}"))


def registry_frame(registry: Registry) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "kpi_id": kpi.id, "ref": kpi.ref, "title": kpi.title, "area": kpi.area, "dashboard": kpi.dashboard,
            "kind": kpi.kind, "unit": kpi.unit, "better": kpi.better, "summary": kpi.summary,
            "confidential": kpi.confidential,
            "target_min": kpi.target.min if kpi.target else None,
            "target_max": kpi.target.max if kpi.target else None,
            "benchmark": kpi.benchmark, "grains": ",".join(kpi.grains), "slices": ",".join(kpi.slices),
            "sources": ",".join(kpi.sources), "list_table": kpi.table, "definition": kpi.definition,
            "settles_after_days": kpi.settles_after_days,
        }
        for kpi in registry
    ]).astype({"target_min": "float64", "target_max": "float64", "settles_after_days": "int32"})


def build_registry(connection: Connection, registry: Registry) -> int:
    frame = registry_frame(registry)
    replace_table(connection, "kpi.kpi_registry", REGISTRY_COLUMNS, pa.Table.from_pandas(frame, preserve_index=False))
    return len(frame)


def build_kpi_sources(connection: Connection, registry: Registry) -> int:
    # sorted whole: which source code a (kpi, source) keeps must not depend on set order
    rows = sorted({(kpi.id, code, source) for kpi in registry for code in kpi.sources for source in SOURCE_IDS[code]},
                  key=lambda row: (row[0], row[2], row[1]))
    frame = pd.DataFrame(rows, columns=["kpi_id", "source_code", "source"]).drop_duplicates(["kpi_id", "source"])
    replace_table(connection, "kpi.kpi_sources", SOURCES_COLUMNS, pa.Table.from_pandas(frame, preserve_index=False))
    return len(frame)


def replace_table(connection: Connection, table: str, columns: str, rows: pa.Table) -> None:
    """Create the table if needed and replace its rows. An existing table is never dropped, so
    readers of a PostgreSQL warehouse never see it vanish; a column a newer Pulse declares is added."""
    connection.execute(f"create table if not exists {table} ({columns})")
    connection.execute(f"delete from {table}")
    existing = connection.columns(table)
    for definition in _column_definitions(columns):
        if definition.split()[0] not in existing:
            connection.execute(f"alter table {table} add column {definition}")
    append(connection, table, rows)


def _column_definitions(columns: str) -> list[str]:
    """`name type ...` of each column of a create-table body, one per line (constraints left out)."""
    lines = [line.strip().rstrip(",") for line in columns.strip().splitlines()]
    return [line.replace(" primary key", "") for line in lines if line and not line.startswith("primary key")]
