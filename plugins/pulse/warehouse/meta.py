"""The warehouse's own bookkeeping: landing index, extraction state, quarantine, validation and
pipeline health. One DDL for both dialects; `ensure_meta()` is idempotent and runs before any
pipeline step touches the warehouse."""

from __future__ import annotations

from pulse.warehouse.connection import Connection

SCHEMAS = ("raw", "meta", "quarantine", "staging", "intermediate", "marts", "kpi")
RAW_LOADS = "meta.raw_loads"

# {json} is text on both engines: portable, and nothing queries inside it in SQL.
TABLES = {
    "meta.landing_batches": """
        batch_id text primary key,
        source text not null,
        stream text not null,
        extracted_at timestamptz not null,
        window_start timestamptz,
        window_end timestamptz,
        complete boolean not null,
        record_count bigint,
        file_count integer not null,
        bytes bigint not null,
        path text not null,
        status text not null,
        rows_loaded bigint,
        rows_quarantined bigint,
        error text,
        updated_at timestamptz not null
    """,
    "meta.extract_state": """
        source text not null,
        stream text not null,
        state text not null,
        batch_id text not null,
        updated_at timestamptz not null,
        primary key (source, stream)
    """,
    "meta.landed_files": """
        source text not null,
        stream text not null,
        sha256 text not null,
        file_name text not null,
        batch_id text not null,
        loaded_at timestamptz not null,
        primary key (source, stream, sha256)
    """,
    "quarantine.rows": """
        source text not null,
        stream text not null,
        batch_id text not null,
        row_number bigint not null,
        rule text not null,
        column_name text,
        bad_value text,
        record text,
        quarantined_at timestamptz not null
    """,
    "meta.validation_results": """
        batch_id text not null,
        source text not null,
        stream text not null,
        suite text not null,
        success boolean not null,
        evaluated_rows bigint not null,
        failed_rows bigint not null,
        expectations integer not null,
        failed_expectations integer not null,
        batch_failures text,
        details text,
        data_docs_path text,
        run_seconds double precision,
        validated_at timestamptz not null
    """,
    # one row per reconciliation check and business day; success is null when the day holds too
    # few events to judge (pulse.validation.reconcile)
    "meta.reconciliation_results": """
        day date not null,
        check_name text not null,
        expected double precision,
        observed double precision,
        ratio double precision,
        band_low double precision not null,
        band_high double precision not null,
        success boolean,
        note text,
        checked_at timestamptz not null,
        primary key (day, check_name)
    """,
    # one row per Airflow DAG run, written by its last task (pulse.orchestration.health); the
    # interval is the backfill window of a run given one, else its data interval
    "meta.pipeline_runs": """
        dag_id text not null,
        run_id text not null,
        source text,
        run_type text,
        interval_start timestamptz,
        interval_end timestamptz,
        status text not null,
        started_at timestamptz,
        finished_at timestamptz not null,
        duration_seconds double precision,
        rows_landed bigint not null,
        rows_quarantined bigint not null,
        failed_tasks text,
        primary key (dag_id, run_id)
    """,
    # one row per load that changed rows of a raw table (pulse.warehouse.loader): the rows carry
    # its batch_id and loaded_at; refresh_id names the KPI refresh that took them in, null until
    # then (pulse.transform.changes)
    RAW_LOADS: """
        raw_table text not null,
        batch_id text not null,
        loaded_at timestamptz not null,
        rows_changed bigint not null,
        refresh_id text,
        primary key (raw_table, batch_id, loaded_at)
    """,
    # one row per stream, rewritten by every freshness check (pulse.orchestration.freshness)
    "meta.source_freshness": """
        source text not null,
        stream text not null,
        extracted_by text not null,
        last_batch_id text,
        last_loaded_at timestamptz,
        data_until timestamptz,
        schedule text not null,
        max_lag_hours double precision not null,
        lag_hours double precision,
        stale boolean not null,
        watched_since timestamptz not null,
        stale_since timestamptz,
        alerted_at timestamptz,
        checked_at timestamptz not null,
        primary key (source, stream)
    """,
}

# columns added to a table after it first shipped: warehouses created before get them here
ADDED_COLUMNS = {
    "meta.validation_results": ("run_seconds double precision",),
}

# Batch statuses in meta.landing_batches
LANDED, INCOMPLETE, LOADED, BLOCKED = "landed", "incomplete", "loaded", "blocked"


def ensure_raw_loads(connection: Connection) -> None:
    connection.execute("create schema if not exists meta")
    connection.execute(f"create table if not exists {RAW_LOADS} ({TABLES[RAW_LOADS]})")


def ensure_meta(connection: Connection) -> None:
    for schema in SCHEMAS:
        connection.execute(f"create schema if not exists {schema}")
    for table, columns in TABLES.items():
        connection.execute(f"create table if not exists {table} ({columns})")
    for table, added in ADDED_COLUMNS.items():
        for column in added:
            connection.execute(f"alter table {table} add column if not exists {column}")
