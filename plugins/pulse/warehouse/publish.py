"""Publication of the KPI layer to readers: they only ever see a complete refresh.

DuckDB: a writer's lock keeps every other process out of the warehouse file, even read-only, so
Superset reads a serving copy (`PULSE_DATA_DIR/serving/pulse.duckdb`) holding the schemas `kpi`,
`meta` and `quarantine`. `publish()` writes a new copy beside it and swaps it in with `os.replace`
(atomic on one file system): a reader opening the file gets the old copy or the new one, and a
reader that already has the old one open keeps reading it until it closes.

PostgreSQL: readers use the warehouse itself and the refresh is one transaction, so there is
nothing to publish.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from pulse.settings import get_settings
from pulse.warehouse.connection import Warehouse

log = logging.getLogger(__name__)

SERVED_SCHEMAS = ("kpi", "meta", "quarantine")


def serving_path() -> Path:
    return get_settings().data_dir / "serving" / "pulse.duckdb"


def publish(*, warehouse: Warehouse | None = None, target: Path | None = None) -> Path | None:
    """Copy the served schemas into a new file and swap it in. Returns the serving file (DuckDB) or
    None (PostgreSQL, where the refresh's own transaction published it)."""
    warehouse = warehouse or Warehouse.from_settings()
    if warehouse.dialect == "postgres":
        return None
    target = Path(target or serving_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with warehouse.connect() as connection:
            _remove_stale_staging(target)
            connection.execute(f"attach '{_quoted(staging)}' as serving")
            try:
                for schema in SERVED_SCHEMAS:
                    connection.execute(f"create schema if not exists serving.{schema}")
                    tables = connection.fetchall(
                        "select table_name from information_schema.tables where table_catalog = :catalog "
                        "and table_schema = :schema and table_type = 'BASE TABLE' order by table_name",
                        {"catalog": _catalog(connection), "schema": schema},
                    )
                    for (table,) in tables:
                        connection.execute(
                            f"create table serving.{schema}.{table} as select * from {schema}.{table}"
                        )
                connection.execute("checkpoint serving")
            finally:
                connection.execute("detach serving")
        wal = Path(f"{staging}.wal")
        if wal.exists():
            raise RuntimeError(f"publish: {wal} was left behind; the serving copy would be incomplete")
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        Path(f"{staging}.wal").unlink(missing_ok=True)
        raise
    log.info("published %s", target)
    return target


def _remove_stale_staging(target: Path) -> None:
    """Staging files a killed publication left. Only the holder of the warehouse's write lock
    publishes, so while we hold it every other staging file is stale."""
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):
        log.warning("publish: removing %s, left by an interrupted publication", stale.name)
        stale.unlink(missing_ok=True)


def _catalog(connection) -> str:
    return connection.scalar("select current_database()")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
