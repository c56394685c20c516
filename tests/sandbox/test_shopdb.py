"""The sandbox shop/ERP database: schema, values, and rewrites at a later clock. Budget: about 15 s."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pulse.sandbox.shopdb import SHOP_TABLES, source_connection, write_shop_db
from pulse.sources.shop import ShopSource, database_url
from support.services import temporary_postgres_database
from support.tiny_world import moment, tiny_world


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/shop.db"
    else:
        with temporary_postgres_database("pulse_test_shop") as database:
            yield database


def test_every_table_has_id_and_updated_at_and_holds_what_the_connector_expects(url):
    write_shop_db(tiny_world(), url)
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        assert sorted(inspector.get_table_names()) == sorted(t.name for t in SHOP_TABLES)
        for stream in ShopSource.streams:
            columns = {c["name"] for c in inspector.get_columns(stream.name)}
            assert inspector.get_pk_constraint(stream.name)["constrained_columns"] == ["id"]
            assert "updated_at" in columns
            assert set(stream.field_names) <= columns, stream.name
    finally:
        engine.dispose()


def test_values_round_trip_and_the_clock_hides_the_future(url):
    world = tiny_world()
    clock = moment(5, 12).to_pydatetime()
    counts = write_shop_db(world, url, clock=clock)
    view = world.as_of(clock)
    for table in SHOP_TABLES:
        assert counts[table.name] == len(view[table.world_table]), table.name
    assert counts["quotes"] == 2 and counts["orders"] < len(world["orders"])
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            quote = c.execute(sa.text("select outcome, decided_at, updated_at from quotes where id = 2")).one()
            latest = c.execute(sa.text("select max(placed_at) from orders")).scalar()
            names = set(c.execute(sa.text("select name from customers")).scalars())
            revenue = c.execute(sa.text("select sum(revenue) from orders")).scalar()
    finally:
        engine.dispose()
    assert quote.outcome is None and quote.decided_at is None  # decided on day 6, after the clock
    expected_latest = view["orders"]["placed_at"].max().to_pydatetime()
    if url.startswith("sqlite"):  # SQLite keeps naive UTC text, the ERP's documented convention
        expected_latest = expected_latest.strftime("%Y-%m-%d %H:%M:%S.%f")
    assert latest == expected_latest
    assert names == set(view["customers"]["name"])
    assert round(float(revenue) * 100) == round(view["orders"]["revenue"].sum() * 100)


def test_a_later_clock_updates_rows_in_place_and_an_earlier_one_removes_them(url):
    world = tiny_world()
    first, later = moment(5, 12).to_pydatetime(), world.meta.now
    write_shop_db(world, url, clock=first)
    engine = sa.create_engine(url)
    postgres = engine.dialect.name == "postgresql"

    def read(sql: str):
        with engine.connect() as c:
            return c.execute(sa.text(sql)).all()

    try:
        untouched = read("select xmin::text from quotes where id = 1") if postgres else None
        counts = write_shop_db(world, url, clock=later)
        assert read("select id, outcome from quotes order by id") == [(1, "accepted"), (2, "rejected"), (3, None)]
        assert counts["orders"] == len(world.as_of(later)["orders"]) == read("select count(*) from orders")[0][0]
        if postgres:  # a row that did not change is not rewritten
            assert read("select xmin::text from quotes where id = 1") == untouched
        write_shop_db(world, url, clock=first)
        assert read("select id, outcome from quotes order by id") == [(1, "accepted"), (2, None)]
        assert read("select count(*) from orders")[0][0] == len(world.as_of(first)["orders"])
    finally:
        engine.dispose()


def test_the_connection_names_the_database_without_printing_the_password():
    connection = source_connection("postgresql+psycopg://pulse:s3cret-pw@db.internal:5433/shop?sslmode=require")
    assert (connection.host, connection.port, connection.schema, connection.login) == ("db.internal", 5433, "shop", "pulse")
    assert "s3cret-pw" not in repr(connection)
    url = database_url(connection)
    assert url.render_as_string(hide_password=False) == \
        "postgresql+psycopg://pulse:s3cret-pw@db.internal:5433/shop?sslmode=require"
    assert "s3cret-pw" not in str(url)
    sqlite = database_url(source_connection("sqlite:////tmp/x/shop.db"))
    assert sqlite.render_as_string() == "sqlite:////tmp/x/shop.db"
