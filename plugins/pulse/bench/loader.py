"""Loader throughput: an orders table (the `shop.orders` contract: ints, money decimals,
timestamps, text, some nulls) of `rows` rows, loaded these ways on DuckDB and on PostgreSQL:

- `merge_empty`, `merge_existing`, `merge_changed`: Pulse's loader (`pulse.warehouse.loader.merge`,
  by primary key, in a transaction) from the Arrow table in memory: into an empty raw table, into
  one already holding the same rows (a batch delivered again, as a source's lookback window does:
  nothing to change), and into one holding the rows with every row changed (`updated_at` moved);
- `step_empty`, `step_existing`: the whole load step of the pipeline (`pulse.pipeline.steps.load`
  of a validated landing batch: reading its Parquet, the merge, validation results, quarantine,
  cursor and batch status in one transaction), into an empty table and into one holding the rows;
- `bulk` (and on PostgreSQL `bulk_csv`): the engine's own bulk path into an empty table of the
  same columns: DuckDB inserting from the Arrow table; PostgreSQL `COPY ... FROM STDIN` in the
  binary format (fed by pgpq, as Pulse's loader is) and in CSV written by Arrow;
- `to_sql`: `pandas.DataFrame.to_sql` (SQLAlchemy, default method, money as floats as a pandas
  script holds it) appending to an empty table of the same columns. PostgreSQL through psycopg 3 in
  this runtime. DuckDB through duckdb-engine, which only the Superset runtime has (SQLAlchemy 1.4,
  pandas 2, the same DuckDB release); it runs there in a child process and only its `to_sql` call
  is timed. Its row-by-row inserts run at a few hundred rows a second, so it loads the first
  `to_sql_rows` rows only: its rate does not depend on the row count (it is one insert per row).

Every timed step opens its connection and commits, and every path must leave the same table
(row count and sums of ids and money), or the bench fails instead of comparing unequal work.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pulse import landing
from pulse.bench.databases import temporary_database
from pulse.bench.timing import Timing, repeat
from pulse.pipeline import steps
from pulse.settings import REPO_ROOT
from pulse.sources.shop import PARQUET, ShopSource
from pulse.sources.streams import SQL_TYPES, Stream
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.loader import copy_into, merge

STREAM_NAME = "orders"
SUPERSET_PYTHON = REPO_ROOT / ".venv" / "superset" / "bin" / "python"
PULSE = ("merge_empty", "merge_existing", "merge_changed", "step_empty", "step_existing")
BULK = ("bulk", "bulk_csv")  # bulk_csv: PostgreSQL only
CHECK = "select count(*), sum(id), sum(customer_id), sum(revenue), sum(cost) from {table}"


@dataclass(frozen=True)
class LoaderResult:
    engine: str
    rows: int
    to_sql_rows: int
    timings: dict[str, Timing]  # the PULSE cases, the BULK paths, to_sql

    @property
    def fastest_bulk(self) -> str:
        return min((case for case in BULK if case in self.timings), key=lambda case: self.timings[case].median)

    def rows_per_second(self, case: str) -> float:
        rows = self.to_sql_rows if case == "to_sql" else self.rows
        return rows / self.timings[case].median

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine, "rows": self.rows, "to_sql_rows": self.to_sql_rows,
            "cases": {case: {**timing.as_dict(), "rows_per_second": self.rows_per_second(case)}
                      for case, timing in self.timings.items()},
            **{f"{case}_vs_to_sql": self.rows_per_second(case) / self.rows_per_second("to_sql") for case in PULSE},
            "fastest_bulk": self.fastest_bulk,
            **{f"{case}_vs_bulk": self.timings[case].median / self.timings[self.fastest_bulk].median for case in PULSE},
        }


def orders(rows: int, seed: int = 20261125) -> pa.Table:
    """Orders in the contract's types: sequential ids, a year of timestamps, lognormal revenue."""
    stream = ShopSource.stream(STREAM_NAME)
    rng = np.random.default_rng(seed)
    placed = (np.datetime64("2025-01-01T00:00:00", "us")
              + rng.integers(0, 365 * 86_400, rows).astype("timedelta64[s]")).astype("datetime64[us]")
    revenue = np.round(rng.lognormal(6, 1, rows), 2)
    cancelled = rng.random(rows) < 0.03
    money = pa.decimal128(18, 2)

    def timestamps(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        return pa.array(values, type=pa.timestamp("us", tz="UTC"), mask=mask)

    columns = {
        "id": pa.array(np.arange(1, rows + 1)),
        "customer_id": pa.array(rng.integers(1, 30_000, rows)),
        "buyer_id": pa.array(rng.integers(1, 90_000, rows)),
        "placed_at": timestamps(placed),
        "channel": pa.array(rng.choice(["web", "sales_rep", "phone", "email"], rows)),
        "catalog_id": pa.array(rng.integers(1, 300, rows)),
        "quote_id": pa.array(rng.integers(1, 50_000, rows), mask=rng.random(rows) < 0.85),
        "cart_id": pa.array(np.arange(1, rows + 1), mask=rng.random(rows) < 0.3),
        "payment_method": pa.array(rng.choice(["invoice", "ideal", "credit_card", "direct_debit"], rows)),
        "status": pa.array(np.where(cancelled, "cancelled", rng.choice(["placed", "shipped", "delivered"], rows))),
        "cancelled_at": timestamps(placed + np.timedelta64(3_600_000_000, "us"), mask=~cancelled),
        "revenue": pc.cast(pa.array(revenue), money),
        "cost": pc.cast(pa.array(np.round(revenue * 0.7, 2)), money),
        "utm_source": pa.array(rng.choice(["google", "linkedin", "newsletter", ""], rows),
                               mask=rng.random(rows) < 0.4),
        "utm_medium": pa.array(rng.choice(["cpc", "email", "organic"], rows)),
        "utm_campaign": pa.array(rng.choice(["spring-tools", "(not set)", "brand"], rows)),
        "updated_at": timestamps(placed + np.timedelta64(7_200_000_000, "us")),
    }
    return pa.table(columns, schema=stream.arrow_schema())


def measure(rows: int, to_sql_rows: dict[str, int], runs: int, workdir: Path,
            progress: Callable[[str], None] = print) -> list[LoaderResult]:
    """`to_sql_rows`: per engine, how many of the rows `to_sql` loads."""
    source = ShopSource(connection=None)
    stream = source.stream(STREAM_NAME)
    table = orders(rows)
    progress(f"loader: {rows:,} orders; validating the landing batch once (not timed)")
    batch_id = _validated_batch(source, table, Warehouse(f"duckdb:///{workdir}/validation.duckdb"))
    expected = _sums(table)
    results = []
    with temporary_database("loader") as postgres_url:
        for engine, url in (("duckdb", f"duckdb:///{workdir}/loader.duckdb"), ("postgres", postgres_url)):
            progress(f"loader: {engine}")
            results.append(_measure_engine(engine, Warehouse(url), source, stream, table, batch_id, expected,
                                           min(to_sql_rows[engine], rows), runs, workdir))
    return results


def _measure_engine(engine: str, warehouse: Warehouse, source: ShopSource, stream: Stream, table: pa.Table,
                    batch_id: str, expected: tuple, to_sql_rows: int, runs: int, workdir: Path) -> LoaderResult:
    bulk_table, bulk_csv_table, to_sql_table = "raw.bench_bulk_orders", "raw.bench_bulk_csv_orders", "raw.bench_to_sql_orders"
    definition = _definition(stream, engine)
    frame = table.to_pandas()
    for column in ("revenue", "cost"):  # a pandas script holds money as floats
        frame[column] = frame[column].astype("float64")
    sample = table.slice(0, to_sql_rows)
    parquet = workdir / "to_sql_rows.parquet"
    pq.write_table(sample, parquet)

    def recreate(name: str) -> Callable[[], None]:
        def action() -> None:
            with warehouse.connect() as connection:
                connection.execute("create schema if not exists raw")
                connection.execute(f"drop table if exists {name}")
                if name != stream.raw_table:
                    connection.execute(f"create table {name} ({definition})")
        return action

    def merge_rows(rows: pa.Table) -> Callable[[], None]:
        def action() -> None:
            with warehouse.connect() as connection, connection.transaction():
                merge(connection, stream, rows, batch_id)
        return action

    def load_step() -> None:
        steps.load(batch_id, source=source, warehouse=warehouse)

    def bulk() -> None:
        with warehouse.connect() as connection, connection.transaction():
            if engine == "duckdb":
                connection.native.register("bench_rows", table)
                connection.execute(f"insert into {bulk_table} select * from bench_rows")
                connection.native.unregister("bench_rows")
            else:
                copy_into(connection, bulk_table, table)

    def bulk_csv() -> None:
        with warehouse.connect() as connection, connection.transaction(), connection.native.cursor() as cursor, \
                cursor.copy(f"copy {bulk_csv_table} from stdin with (format csv)") as copy:
            copy.write(_csv(table))

    if engine == "duckdb":
        recreate(stream.raw_table)()  # the child process needs the file free of this process's lock
        to_sql = _duckdb_to_sql(warehouse, parquet, to_sql_table, definition)
    else:
        import sqlalchemy as sa

        to_sql_frame = frame.iloc[:to_sql_rows]
        engine_sa = sa.create_engine(warehouse.url, poolclass=sa.pool.NullPool)

        def to_sql() -> None:
            to_sql_frame.to_sql(to_sql_table.split(".")[1], engine_sa, schema="raw", if_exists="append", index=False)

    actions = {"merge_empty": merge_rows(table), "merge_existing": merge_rows(table),
               "merge_changed": merge_rows(_changed(table)), "step_empty": load_step, "step_existing": load_step,
               "bulk": bulk, "to_sql": to_sql}
    prepare = {"merge_empty": recreate(stream.raw_table), "step_empty": recreate(stream.raw_table),
               "bulk": recreate(bulk_table), "to_sql": recreate(to_sql_table)}
    checked = [(stream.raw_table, expected), (bulk_table, expected), (to_sql_table, _sums(sample))]
    if engine == "postgres":
        actions["bulk_csv"], prepare["bulk_csv"] = bulk_csv, recreate(bulk_csv_table)
        checked.append((bulk_csv_table, expected))
    timings = repeat(runs, actions, prepare=prepare)
    with warehouse.connect() as connection:
        for name, want in checked:
            got = tuple(connection.fetchone(CHECK.format(table=name)))
            if not _same(got, want):
                raise AssertionError(f"loader bench on {engine}: {name} holds {got}, expected {want}")
    return LoaderResult(engine, table.num_rows, sample.num_rows, timings)


def _changed(table: pa.Table) -> pa.Table:
    """The same orders, every one updated an hour later (the checked sums stay the same)."""
    index = table.schema.get_field_index("updated_at")
    later = pc.add(table.column(index), pa.scalar(dt.timedelta(hours=1), pa.duration("us")))
    return table.set_column(index, "updated_at", later.cast(table.schema.field(index).type))


def _validated_batch(source: ShopSource, table: pa.Table, warehouse: Warehouse) -> str:
    """A landing batch of the rows as the shop extract writes it, validated by the real suite."""
    now = dt.datetime.now(dt.UTC)
    request = {"start": None, "end": now.isoformat(), "state": {}, "backfill": True}
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    with landing.BatchWriter(source.name, STREAM_NAME, request) as batch:
        batch.add_bytes("part-00000.parquet", buffer.getvalue(), PARQUET, rows=table.num_rows)
        batch.manifest.record_count = table.num_rows
        batch.manifest.metadata.update({"extractor": "pulse bench (synthetic orders)", "naive_timestamps_zone": "UTC"})
    verdicts = steps.validate(batch.batch_id, source=source, warehouse=warehouse)
    failed = [f"{v.suite}: {v.batch_failures or v.failed_rows}" for v in verdicts if v.failed_rows or v.batch_failures]
    if failed:
        raise AssertionError(f"the bench's orders do not pass their own suite: {failed}")
    return batch.batch_id


def _duckdb_to_sql(warehouse: Warehouse, parquet: Path, table: str, definition: str) -> Callable[[], None]:
    """`to_sql` through duckdb-engine in the Superset runtime; the child times only the call."""
    script = _TO_SQL_CHILD.format(url=f"duckdb:///{warehouse.path}", parquet=str(parquet), table=table,
                                  definition=definition)

    def run() -> float:
        done = subprocess.run([str(SUPERSET_PYTHON), "-c", script], capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"to_sql on DuckDB (Superset runtime) failed:\n{done.stderr[-3000:]}")
        return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])

    return run


# The child drops and recreates the table itself: this process must not hold the DuckDB file's lock.
_TO_SQL_CHILD = """
import json, time, warnings
warnings.simplefilter("ignore")
import duckdb, pandas as pd, pyarrow.parquet as pq, sqlalchemy as sa
frame = pq.read_table({parquet!r}).to_pandas()
for column in ("revenue", "cost"):
    frame[column] = frame[column].astype("float64")
with duckdb.connect({url!r}[len("duckdb:///"):]) as native:
    native.execute("create schema if not exists raw")
    native.execute("drop table if exists {table}")
    native.execute("create table {table} ({definition})")
engine = sa.create_engine({url!r}, poolclass=sa.pool.NullPool)
began = time.perf_counter()
frame.to_sql({table!r}.split(".")[1], engine, schema="raw", if_exists="append", index=False)
seconds = time.perf_counter() - began
engine.dispose()
print(json.dumps({{"seconds": seconds}}))
"""


def _definition(stream: Stream, engine: str) -> str:
    types = SQL_TYPES[engine]
    return ", ".join(f"{field.name} {types[field.type]}" for field in stream.fields)


def _csv(table: pa.Table) -> bytes:
    """The fastest CSV Arrow writes: zone-aware timestamps as naive UTC (formatting the zone is
    twenty times slower), read back as UTC by the session (`Warehouse.connect` sets it)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            table = table.set_column(index, field.name, table.column(index).cast(pa.timestamp(field.type.unit)))
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, write_options=pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return buffer.getvalue()


def _sums(table: pa.Table) -> tuple:
    return (table.num_rows, pc.sum(table["id"]).as_py(), pc.sum(table["customer_id"]).as_py(),
            pc.sum(table["revenue"]).as_py(), pc.sum(table["cost"]).as_py())


def _same(got: tuple, want: tuple) -> bool:
    return all(float(a) == float(b) for a, b in zip(got, want, strict=True))
