"""PostgreSQL databases for the benchmarks, on the server named by `PULSE_BENCH_POSTGRES_URL`
(an account allowed to create databases). Every database the bench creates is named
`pulse_bench_<what>_<random>` and dropped when its block ends; copies are made with
`create database ... template ...`, PostgreSQL's file-level copy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from pulse.settings import get_settings

PREFIX = "pulse_bench"


def _admin_url() -> str:
    """The admin URL as psycopg takes it."""
    return make_url(get_settings().bench_postgres_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def _url_of(name: str) -> str:
    return make_url(get_settings().bench_postgres_url).set(drivername="postgresql+psycopg", database=name) \
        .render_as_string(hide_password=False)


def server_version() -> str:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as connection:
        return str(connection.execute("show server_version").fetchone()[0])


@contextmanager
def temporary_database(what: str, *, template: str | None = None) -> Iterator[str]:
    """A new database (a copy of `template`, a URL, when given); yields its URL, drops it after."""
    import psycopg

    name = f"{PREFIX}_{what}_{uuid.uuid4().hex[:8]}"
    copy_of = f' template "{make_url(template).database}"' if template else ""
    with psycopg.connect(_admin_url(), autocommit=True) as connection:
        connection.execute(f'create database "{name}"{copy_of}')
    try:
        yield _url_of(name)
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as connection:
            connection.execute(f'drop database if exists "{name}" with (force)')


def kept_database(name: str, *, fresh: bool = False) -> str:
    """The URL of a database the bench keeps between runs (a cached warehouse), created empty
    when missing, or dropped and created again when `fresh`."""
    import psycopg

    full = f"{PREFIX}_{name}"
    with psycopg.connect(_admin_url(), autocommit=True) as connection:
        if fresh:
            connection.execute(f'drop database if exists "{full}" with (force)')
        if not connection.execute("select 1 from pg_database where datname = %s", (full,)).fetchone():
            connection.execute(f'create database "{full}"')
    return _url_of(full)


def kept_url(name: str) -> str:
    """The URL of a database made by `kept_database(name)`."""
    return _url_of(f"{PREFIX}_{name}")


def drop_database(url: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as connection:
        connection.execute(f'drop database if exists "{make_url(url).database}" with (force)')
