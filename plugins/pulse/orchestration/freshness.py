"""Source freshness: is every stream landing on time? Kept in `meta.source_freshness`.

A stream is **stale** when its last loaded batch is older than its source's `late_after`
(`pulse.orchestration.cadences`), or when nothing has loaded `late_after` after Pulse first watched
it (a new source gets that long to land its first batch). A batch counts as landed when it loaded,
even empty: the source answered and nothing happened. Streams extracted together with another
(Zendesk ticket metrics with tickets) share its batches.

`check()` rewrites the table (the KPI build calls it so dashboards mark stale KPIs; the
`source_freshness` DAG calls it hourly and emails the data team about each source that turned late).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from pulse.orchestration.cadences import cadence_for
from pulse.sources import SOURCES, source_class
from pulse.sources.streams import Stream
from pulse.timestamps import plain_utc
from pulse.warehouse.connection import Connection
from pulse.warehouse.meta import LOADED, ensure_meta


@dataclass(frozen=True)
class StreamFreshness:
    source: str
    stream: str
    extracted_by: str  # the stream whose batches feed this one (itself, or the one it comes with)
    last_batch_id: str | None
    last_loaded_at: dt.datetime | None
    data_until: dt.datetime | None  # the newest cursor loaded (or the window end of a full extract)
    schedule: str
    max_lag_hours: float
    lag_hours: float | None
    stale: bool
    watched_since: dt.datetime
    stale_since: dt.datetime | None
    alerted_at: dt.datetime | None
    checked_at: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.source}.{self.stream}"

    @property
    def expected_by(self) -> dt.datetime:
        return (self.last_loaded_at or self.watched_since) + dt.timedelta(hours=self.max_lag_hours)


COLUMNS = ("source", "stream", "extracted_by", "last_batch_id", "last_loaded_at", "data_until", "schedule",
           "max_lag_hours", "lag_hours", "stale", "watched_since", "stale_since", "alerted_at", "checked_at")


def check(connection: Connection, now: dt.datetime, sources: list[str] | None = None) -> list[StreamFreshness]:
    """Work out every stream's freshness as of `now` and store it."""
    now = plain_utc(now)
    ensure_meta(connection)
    previous = {(row.source, row.stream): row for row in read(connection)}
    rows = []
    for source in sources or list(SOURCES):
        cadence = cadence_for(source)
        for stream in source_class(source).streams:
            rows.append(_freshness(connection, stream, cadence.cron, cadence.late_after, now,
                                   previous.get((source, stream.name))))
    with connection.transaction():
        for row in rows:
            _store(connection, row)
    return rows


def read(connection: Connection) -> list[StreamFreshness]:
    ensure_meta(connection)
    records = connection.fetchall(f"select {', '.join(COLUMNS)} from meta.source_freshness order by source, stream")
    return [StreamFreshness(*(plain_utc(value) for value in record)) for record in records]


def mark_alerted(connection: Connection, late: list[StreamFreshness], at: dt.datetime) -> None:
    with connection.transaction():
        for stream in late:
            connection.execute(
                "update meta.source_freshness set alerted_at = :at where source = :source and stream = :stream",
                {"at": at, "source": stream.source, "stream": stream.stream},
            )


def newly_late(rows: list[StreamFreshness]) -> dict[str, list[StreamFreshness]]:
    """Stale streams the data team has not been told about yet, by source."""
    late: dict[str, list[StreamFreshness]] = {}
    for row in rows:
        if row.stale and row.alerted_at is None:
            late.setdefault(row.source, []).append(row)
    return late


def _freshness(connection: Connection, stream: Stream, schedule: str, late_after: dt.timedelta, now: dt.datetime,
               previous: StreamFreshness | None) -> StreamFreshness:
    extracted_by = stream.extracted_with or stream.name
    last = connection.fetchone(
        "select batch_id, updated_at, window_end from meta.landing_batches "
        "where source = :source and stream = :stream and status = :loaded order by updated_at desc limit 1",
        {"source": stream.source, "stream": extracted_by, "loaded": LOADED},
    )
    batch_id, loaded_at, window_end = (last[0], plain_utc(last[1]), plain_utc(last[2])) if last else (None, None, None)
    state = connection.fetchone(
        "select state from meta.extract_state where source = :source and stream = :stream",
        {"source": stream.source, "stream": extracted_by},
    )
    cursor = json.loads(state[0]).get("cursor") if state else None
    data_until = plain_utc(dt.datetime.fromisoformat(cursor)) if cursor else window_end
    watched_since = previous.watched_since if previous else now
    reference = loaded_at or watched_since
    stale = now - reference > late_after
    was_stale = previous is not None and previous.stale
    return StreamFreshness(
        source=stream.source, stream=stream.name, extracted_by=extracted_by, last_batch_id=batch_id,
        last_loaded_at=loaded_at, data_until=data_until, schedule=schedule,
        max_lag_hours=late_after / dt.timedelta(hours=1),
        lag_hours=(now - loaded_at) / dt.timedelta(hours=1) if loaded_at else None,
        stale=stale, watched_since=watched_since,
        stale_since=(previous.stale_since if was_stale else now) if stale else None,
        alerted_at=previous.alerted_at if stale and was_stale else None,
        checked_at=now,
    )


def _store(connection: Connection, row: StreamFreshness) -> None:
    connection.execute("delete from meta.source_freshness where source = :source and stream = :stream",
                       {"source": row.source, "stream": row.stream})
    connection.execute(
        f"insert into meta.source_freshness ({', '.join(COLUMNS)}) values ({', '.join(':' + c for c in COLUMNS)})",
        {column: getattr(row, column) for column in COLUMNS},
    )
