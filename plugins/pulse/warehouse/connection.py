"""The warehouse: one SQLAlchemy-style URL, DuckDB (the embedded default) or PostgreSQL.

Both are driven through their native drivers (duckdb, psycopg 3) because the bulk paths we need
(DuckDB reading Arrow, PostgreSQL COPY) are driver features. SQL is written once with `:name`
parameters; `Connection` translates them per dialect.

DuckDB takes one writer process at a time and a writer's file cannot even be opened read-only by
another process, so every pipeline connection to a DuckDB warehouse holds an exclusive file lock
(`<file>.lock`) for as long as it is open; other tasks wait for it. Readers outside the pipeline
(Superset) use the published serving copy instead (`pulse.warehouse.publish`).
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import make_url

from pulse.settings import get_settings

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class WarehouseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Warehouse:
    url: str

    @classmethod
    def from_settings(cls) -> Warehouse:
        return cls(get_settings().warehouse_url_resolved)

    @property
    def dialect(self) -> str:
        backend = make_url(self.url).get_backend_name()
        if backend == "duckdb":
            return "duckdb"
        if backend in {"postgresql", "postgres"}:
            return "postgres"
        raise WarehouseError(f"unsupported warehouse URL {make_url(self.url)!r}: use duckdb:/// or postgresql+psycopg://")

    @property
    def path(self) -> Path:
        """The DuckDB file (DuckDB warehouses only)."""
        database = make_url(self.url).database
        if self.dialect != "duckdb" or not database or database == ":memory:":
            raise WarehouseError(f"{self.url!r} is not a DuckDB file")
        return Path(database)

    @property
    def libpq_url(self) -> str:
        """The PostgreSQL URL as psycopg takes it (no SQLAlchemy driver suffix)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    def display(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def connect(self, *, lock_timeout: float = 1800.0) -> Iterator[Connection]:
        if self.dialect == "duckdb":
            with _duckdb_file_lock(self.path, lock_timeout):
                import duckdb

                self.path.parent.mkdir(parents=True, exist_ok=True)
                native = duckdb.connect(str(self.path))
                try:
                    native.execute("set TimeZone = 'UTC'")
                    yield Connection("duckdb", native)
                finally:
                    native.close()
        else:
            import psycopg

            native = psycopg.connect(self.libpq_url, autocommit=True)
            try:
                native.execute("set time zone 'UTC'")
                native.execute("select set_config('work_mem', %s, false)", (get_settings().postgres_work_mem,))
                yield Connection("postgres", native)
            finally:
                native.close()


class Connection:
    """A warehouse connection. Statements autocommit unless inside `transaction()`."""

    def __init__(self, dialect: str, native: Any):
        self.dialect = dialect
        self.native = native
        self._in_transaction = False

    # --- statements ----------------------------------------------------------------------------
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._run(sql, params)

    def execute_rows(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """A statement that inserts, updates or deletes; returns how many rows it changed."""
        if self.dialect == "duckdb":
            return int(self.native.execute(*self._translate(sql, params)).fetchone()[0])
        with self.native.cursor() as cursor:
            cursor.execute(*self._translate(sql, params))
            return cursor.rowcount

    def executescript(self, sql: str) -> None:
        """Several statements separated by `;` (no parameters)."""
        if self.dialect == "duckdb":
            self.native.execute(sql)
        else:
            with self.native.cursor() as cursor:
                cursor.execute(sql)

    def fetchall(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        if self.dialect == "duckdb":
            return self.native.execute(*self._translate(sql, params)).fetchall()
        with self.native.cursor() as cursor:
            cursor.execute(*self._translate(sql, params))
            return cursor.fetchall()

    def fetchone(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        row = self.fetchone(sql, params)
        return row[0] if row else None

    def fetch_df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        if self.dialect == "duckdb":
            return self.native.execute(*self._translate(sql, params)).df()
        with self.native.cursor() as cursor:
            cursor.execute(*self._translate(sql, params))
            columns = [c.name for c in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)

    def fetch_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        if self.dialect == "duckdb":
            statement, values = (*self._translate(sql, params), None)[:2]
            return self.native.sql(statement, params=values).to_arrow_table()
        return pa.Table.from_pandas(self.fetch_df(sql, params), preserve_index=False)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All or nothing. Nested use joins the outer transaction."""
        if self._in_transaction:
            yield self
            return
        self._in_transaction = True
        try:
            if self.dialect == "duckdb":
                self.native.execute("begin transaction")
                try:
                    yield self
                except BaseException:
                    self.native.execute("rollback")
                    raise
                self.native.execute("commit")
            else:
                with self.native.transaction():
                    yield self
        finally:
            self._in_transaction = False

    # --- catalogue -----------------------------------------------------------------------------
    def table_exists(self, qualified: str) -> bool:
        schema, _, table = qualified.rpartition(".")
        return bool(self.scalar(
            "select count(*) from information_schema.tables where table_schema = :schema and table_name = :table",
            {"schema": schema or self._default_schema(), "table": table},
        ))

    def columns(self, qualified: str) -> dict[str, str]:
        """Column name -> data type, in table order."""
        schema, _, table = qualified.rpartition(".")
        rows = self.fetchall(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = :schema and table_name = :table order by ordinal_position",
            {"schema": schema or self._default_schema(), "table": table},
        )
        return dict(rows)

    def _default_schema(self) -> str:
        return "main" if self.dialect == "duckdb" else "public"

    # --- internals -----------------------------------------------------------------------------
    def _run(self, sql: str, params: Mapping[str, Any] | None) -> None:
        if self.dialect == "duckdb":
            self.native.execute(*self._translate(sql, params))
        else:
            with self.native.cursor() as cursor:
                cursor.execute(*self._translate(sql, params))

    def _translate(self, sql: str, params: Mapping[str, Any] | None) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
        if not params:
            return (sql,)  # type: ignore[return-value]
        if self.dialect == "duckdb":
            return _PARAM.sub(lambda m: f"${m.group(1)}", sql), dict(params)
        escaped = sql.replace("%", "%%")
        return _PARAM.sub(lambda m: f"%({m.group(1)})s", escaped), dict(params)


# --- DuckDB's one-writer rule across processes -------------------------------------------------
# flock() locks belong to an open file description, so two connections in one process would
# deadlock each other: the lock is taken once per process and counted.
_process_locks: dict[Path, tuple[int, int]] = {}
_process_guard = threading.RLock()


@contextmanager
def _duckdb_file_lock(path: Path, timeout: float) -> Iterator[None]:
    lock_path = Path(f"{path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with _process_guard:
        if lock_path in _process_locks:
            descriptor, count = _process_locks[lock_path]
            _process_locks[lock_path] = (descriptor, count + 1)
        else:
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        os.close(descriptor)
                        raise WarehouseError(
                            f"the DuckDB warehouse {path} stayed locked by another process for {timeout:.0f}s"
                        ) from None
                    time.sleep(0.2)
            _process_locks[lock_path] = (descriptor, 1)
    try:
        yield
    finally:
        with _process_guard:
            descriptor, count = _process_locks[lock_path]
            if count == 1:
                del _process_locks[lock_path]
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                os.close(descriptor)
            else:
                _process_locks[lock_path] = (descriptor, count - 1)
