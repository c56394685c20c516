"""A dashboard-like reader for the publication test, run in its own process: it queries the KPI
layer in a loop and records what it saw, until told to stop.

Each look is ONE statement (one snapshot, as a Superset chart query is): the latest refresh, and
whether every KPI table has the row count that refresh recorded, whether the summary's day is that
refresh's last day and whether the summary's values are those of kpi_values. Any mix of two
refreshes breaks one of these.

usage: serving_reader.py <duckdb-file | postgresql-url> <stop-file> <results.json> <kpi table>...
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def statement(tables: list[str]) -> str:
    """The look, with a named column per check (a Superset virtual dataset runs it too)."""
    counts = " union all ".join(f"select '{table}' as table_name, count(*) as row_count from {table}"
                                for table in tables)
    return f"""
with latest as (
    select refresh_id, through from meta.kpi_refreshes where status = 'success' order by finished_at desc limit 1
),
expected as (
    select table_name, row_count from meta.kpi_refresh_tables
    where refresh_id = (select refresh_id from latest) and table_name in ({", ".join(f"'{t}'" for t in tables)})
),
actual as ({counts}),
wrong_counts as (
    select count(*) as tables from expected full outer join actual on actual.table_name = expected.table_name
    where expected.row_count is distinct from actual.row_count
),
wrong_summary as (
    select count(*) as summary_rows from kpi.kpi_summary as summary
    left join kpi.kpi_values as kpi_values
        on kpi_values.kpi_id = summary.kpi_id and kpi_values.grain = summary.grain
        and kpi_values.period_start = summary.period_start and kpi_values.slice_name = 'all'
    where summary.value is distinct from kpi_values.value
)
select
    (select refresh_id from latest) as refresh_id,
    (select tables from wrong_counts) as wrong_tables,
    (select summary_rows from wrong_summary) as wrong_summary_rows,
    case when (select max(refreshed_through) from kpi.kpi_summary) = (select through from latest)
        then 1 else 0 end as summary_of_latest_refresh
"""


def connect(target: str):
    if target.startswith("postgresql"):
        import psycopg

        return psycopg.connect(target.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    import duckdb

    return duckdb.connect(target, read_only=True)


def main() -> None:
    target, stop, results, tables = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:]
    sql = statement(tables)
    looks, errors = [], []
    while not stop.exists():
        try:
            # a fresh connection per look, as a dashboard opening the serving file does
            connection = connect(target)
            try:
                row = connection.execute(sql).fetchone()
            finally:
                connection.close()
            looks.append({"refresh_id": row[0], "wrong_counts": int(row[1]), "wrong_summary": int(row[2]),
                          "summary_of_latest_refresh": bool(row[3])})
        except Exception as error:  # every error is a finding
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.02)
    results.write_text(json.dumps({"looks": looks, "errors": errors}))


if __name__ == "__main__":
    main()
