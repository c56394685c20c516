"""The shop/ERP connector against the sandbox shop database: a SQLite shop loaded into DuckDB and a
PostgreSQL shop loaded into PostgreSQL. Expected values are computed from the world's own tables.
Budget: about 40 s."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest
from pydantic import SecretStr

from pulse import landing
from pulse.pipeline import steps
from pulse.sandbox.shopdb import source_connection, write_shop_db
from pulse.sandbox.world_io import World
from pulse.settings import get_settings
from pulse.sources.shop import ShopSource
from pulse.warehouse.connection import Warehouse
from pulse.warehouse.hashing import table_hash
from support.services import temporary_postgres_database
from support.tiny_world import cents, moment, tiny_world


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite-to-duckdb", "postgres-to-postgres"])
def setup(request, tmp_path):
    """(shop database URL, warehouse)."""
    if request.param == "sqlite-to-duckdb":
        yield f"sqlite:///{tmp_path}/shop.db", Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")
    else:
        with temporary_postgres_database("pulse_test_shop") as shop, temporary_postgres_database() as warehouse:
            yield shop, Warehouse(warehouse)


def run(source: ShopSource, warehouse: Warehouse, stream: str, **kwargs) -> tuple[steps.ExtractOutcome, steps.LoadOutcome]:
    outcome = steps.extract("shop", stream, source=source, warehouse=warehouse, **kwargs)
    steps.validate(outcome.batch_id, source=source, warehouse=warehouse)
    return outcome, steps.load(outcome.batch_id, source=source, warehouse=warehouse)


# every stream from the SQLite shop; from PostgreSQL, one stream per column-type mix (money,
# nullable ids, dates, booleans, a full dimension), to keep the test's run time down
STREAMS_FROM = {"sqlite-to-duckdb": [s.name for s in ShopSource.streams],
                "postgres-to-postgres": ["products", "customers", "orders", "invoices", "disputes"]}


def _line_revenue(world: World) -> int:
    lines = world["order_lines"]
    return sum(round(q * p * 100) for q, p in zip(lines["quantity"], lines["unit_price"], strict=True))


# stream -> [(query on its raw table, the same figure computed from the world)]
CHECKS = {
    "orders": [
        ("select sum(revenue) * 100 from raw.shop__orders", lambda w: cents(w["orders"]["revenue"])),
        ("select sum(cost) * 100 from raw.shop__orders", lambda w: cents(w["orders"]["cost"])),
        ("select count(cancelled_at) from raw.shop__orders", lambda w: w["orders"]["cancelled_at"].notna().sum()),
        ("select count(utm_source) from raw.shop__orders", lambda w: w["orders"]["utm_source"].notna().sum()),
        ("select min(placed_at) from raw.shop__orders", lambda w: w["orders"]["placed_at"].min().to_pydatetime()),
        ("select count(*) from raw.shop__orders where utm_campaign = '=HYPERLINK(\"http://x\")'",
         lambda w: (w["orders"]["utm_campaign"] == '=HYPERLINK("http://x")').sum()),
    ],
    "order_lines": [
        ("select sum(quantity) from raw.shop__order_lines", lambda w: w["order_lines"]["quantity"].sum()),
        ("select sum(quantity * unit_price) * 100 from raw.shop__order_lines", _line_revenue),
    ],
    "quotes": [
        ("select sum(discount_amount) * 100 from raw.shop__quotes", lambda w: cents(w["quotes"]["discount_amount"])),
        ("select count(decided_at) from raw.shop__quotes", lambda w: w["quotes"]["decided_at"].notna().sum()),
    ],
    "customers": [
        ("select sum(credit_limit) * 100 from raw.shop__customers", lambda w: cents(w["customers"]["credit_limit"])),
        ("select count(*) from raw.shop__customers where reseller_id is null",
         lambda w: w["customers"]["reseller_id"].isna().sum()),
    ],
    "invoices": [
        ("select sum(amount) * 100 from raw.shop__invoices where paid_at is null",
         lambda w: cents(w["invoices"].query("paid_at.isna()")["amount"])),
        ("select max(due_date) from raw.shop__invoices", lambda w: w["invoices"]["due_date"].max()),
    ],
    "shipments": [("select max(promised_date) from raw.shop__shipments", lambda w: w["shipments"]["promised_date"].max())],
    "disputes": [("select count(*) from raw.shop__disputes where carrier_related",
                  lambda w: w["disputes"]["carrier_related"].sum())],
    "products": [("select sum(unit_cost) * 100 from raw.shop__products", lambda w: cents(w["products"]["unit_cost"]))],
}


def _same(got, expected) -> bool:
    if isinstance(expected, dt.date | dt.datetime):
        return got == expected
    return int(got) == int(expected)


def test_every_stream_loads_the_world_s_records(setup, request):
    url, warehouse = setup
    world = tiny_world()
    write_shop_db(world, url)
    source = ShopSource(connection=source_connection(url))
    names = STREAMS_FROM[request.node.callspec.params["setup"]]
    for name in names:
        run(source, warehouse, name)
    with warehouse.connect() as c:
        for stream in map(source.stream, names):
            expected = len(world[stream.name])
            assert c.scalar(f"select count(*) from {stream.raw_table}") == expected, stream.name
            assert c.scalar(f"select count(distinct id) from {stream.raw_table}") == expected, stream.name
            assert c.scalar(f"select count(*) from {stream.raw_table} where updated_at is null") == 0
            for sql, figure in CHECKS.get(stream.name, []):
                assert _same(c.scalar(sql), figure(world)), sql
        names_loaded = {row[0] for row in c.fetchall("select name from raw.shop__customers")}
    assert names_loaded == set(world["customers"]["name"])  # SQL and formula text kept as inert text


def test_a_quote_decided_after_the_first_extract_arrives_with_the_next(tmp_path):
    """A generated company, its ERP written as of two clocks three days apart."""
    from pulse.sandbox.generator import generate

    world = generate(seed=12, days=21, scale=0.1, end=dt.date(2026, 3, 20))
    first, now = world.meta.now - dt.timedelta(days=3), world.meta.now
    then, later = world.as_of(first)["quotes"], world.as_of(now)["quotes"]
    decided_since = set(then[then["outcome"].isna()]["quote_id"]) & set(later[later["outcome"].notna()]["quote_id"])
    assert decided_since  # the world has such a quote

    with temporary_postgres_database("pulse_test_shop") as url:
        warehouse = Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")
        source = ShopSource(connection=source_connection(url))
        write_shop_db(world, url, clock=first)
        run(source, warehouse, "quotes", end=first)
        write_shop_db(world, url, clock=now)
        run(source, warehouse, "quotes", end=now)
    with warehouse.connect() as c:
        loaded = c.fetch_df("select id, outcome, decided_at, discount_amount from raw.shop__quotes order by id")
    assert list(loaded["id"]) == sorted(later["quote_id"])
    expected = later.sort_values("quote_id")
    assert list(loaded["outcome"].fillna("open")) == list(expected["outcome"].fillna("open"))
    assert loaded["decided_at"].notna().sum() == expected["decided_at"].notna().sum()
    assert cents(loaded["discount_amount"]) == cents(expected["discount_amount"])


def revised(world: World) -> World:
    """The same company a few days on: quote 2 was decided on day 8 but entered in the ERP only
    after day 9 (backdated `updated_at`), and a new quote 4 came in on day 10."""
    tables = dict(world.tables)
    quotes = tables["quotes"].copy()
    decided = moment(8, 16)
    quotes.loc[quotes["quote_id"] == 2, ["decided_at", "outcome", "updated_at"]] = [decided, "rejected", decided]
    new = quotes[quotes["quote_id"] == 3].assign(quote_id=4, requested_at=moment(10, 9), first_action_at=pd.NaT,
                                                issued_at=pd.NaT, updated_at=moment(10, 9), list_amount=77.7,
                                                quoted_amount=77.7, discount_amount=0.0)
    tables["quotes"] = pd.concat([quotes, new], ignore_index=True)
    return World(tables, world.meta)


def test_incremental_resume_and_lookback_pick_up_a_backdated_revision(setup):
    url, warehouse = setup
    world = tiny_world()
    undecided = dict(world.tables)
    undecided["quotes"] = world["quotes"].assign(
        decided_at=lambda q: q["decided_at"].where(q["quote_id"] != 2),
        outcome=lambda q: q["outcome"].where(q["quote_id"] != 2),
        updated_at=lambda q: q["updated_at"].where(q["quote_id"] != 2, q["issued_at"]),
    )
    first_world = World(undecided, world.meta)
    write_shop_db(first_world, url)
    source = ShopSource(connection=source_connection(url))
    run(source, warehouse, "quotes")
    with warehouse.connect() as c:
        cursor = dt.datetime.fromisoformat(steps.read_state(c, source.stream("quotes"))["cursor"])
        assert c.scalar("select outcome from raw.shop__quotes where id = 2") is None
    assert cursor == first_world["quotes"]["updated_at"].max().to_pydatetime()

    later = revised(world)
    write_shop_db(later, url)
    decided_at = later["quotes"].set_index("quote_id").loc[2, "updated_at"].to_pydatetime()
    assert decided_at < cursor  # only the lookback can see it
    outcome, loaded = run(source, warehouse, "quotes")

    window_start = cursor - dt.timedelta(days=2)
    expected = later["quotes"][later["quotes"]["updated_at"] >= pd.Timestamp(window_start)]
    assert landing.open_batch(outcome.batch_id).manifest.request["start"] == window_start.isoformat()
    assert outcome.record_count == len(expected) < len(later["quotes"])
    assert loaded.rows_loaded == {"quotes": len(expected)}
    with warehouse.connect() as c:
        assert c.fetchall("select id, outcome from raw.shop__quotes order by id") == [
            (1, "accepted"), (2, "rejected"), (3, None), (4, None)]
        new_cursor = steps.read_state(c, source.stream("quotes"))["cursor"]
    assert dt.datetime.fromisoformat(new_cursor) == moment(10, 9).to_pydatetime()


def test_rerun_and_backfill_give_identical_raw_tables(setup):
    url, warehouse = setup
    write_shop_db(tiny_world(), url)
    source = ShopSource(connection=source_connection(url))
    names = ["orders"]
    for name in names:
        run(source, warehouse, name)

    def hashes():
        with warehouse.connect() as c:
            return {name: table_hash(c, source.stream(name).raw_table) for name in names}

    first = hashes()
    for name in names:
        run(source, warehouse, name)  # incremental rerun: the lookback window again
    assert hashes() == first
    for name in names:
        run(source, warehouse, name, start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # explicit backfill
    assert hashes() == first


def test_extraction_is_chunked_into_parquet_parts_as_read(tmp_path):
    url, warehouse = f"sqlite:///{tmp_path}/shop.db", Warehouse(f"duckdb:///{tmp_path}/wh/pulse.duckdb")
    world = tiny_world()
    write_shop_db(world, url)
    source = ShopSource(connection=source_connection(url))
    source.chunk_rows = 25
    outcome, loaded = run(source, warehouse, "order_lines")
    batch = landing.open_batch(outcome.batch_id)
    rows = len(world["order_lines"])
    assert [f.name for f in batch.manifest.files] == [f"part-{i:05d}.parquet" for i in range(-(-rows // 25))]
    assert sum(f.meta["rows"] for f in batch.manifest.files) == rows == loaded.rows_loaded["order_lines"]


def test_no_database_password_in_logs_errors_or_landing(tmp_path, caplog, capfd):
    with temporary_postgres_database("pulse_test_shop") as url, temporary_postgres_database() as warehouse_url:
        write_shop_db(tiny_world(), url)
        secret = "Sh0p-db-pa55word-7f3a"  # the test server trusts loopback, so any password connects
        connection = source_connection(url)
        connection = type(connection)(**{**connection.__dict__, "password": SecretStr(secret)})
        source = ShopSource(connection=connection)
        warehouse = Warehouse(warehouse_url)
        caplog.set_level(logging.DEBUG)
        run(source, warehouse, "orders")
        unreachable = type(connection)(**{**connection.__dict__, "port": 1})
        with pytest.raises(Exception) as failure:
            steps.extract("shop", "orders", source=ShopSource(connection=unreachable), warehouse=warehouse)
        with Warehouse(warehouse_url).connect() as c:
            stored_errors = " ".join(str(r[0]) for r in c.fetchall("select error from meta.landing_batches"))
    captured = capfd.readouterr()
    landed = " ".join(p.read_text(errors="replace") for p in (tmp_path / "data" / "landing").rglob("manifest.json"))
    for text in (caplog.text, captured.out, captured.err, str(failure.value), repr(connection), stored_errors, landed):
        assert secret not in text
    assert "port 1" in str(failure.value) or "Connection refused" in str(failure.value)
