"""Tiny worlds written by hand, for tests whose KPI values are worked out on paper.

`handmade_world({"orders": [{"order_id": 1, "placed_at": "2026-03-02 10:00+01:00", ...}]})` fills
every column a row leaves out with a neutral default, so a test names only what matters to it.
The same worlds can be loaded into the shop database or a warehouse to test the SQL layer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from pulse.sandbox.world import BOOL, DATE, FLOAT, INT, MONEY, NULLABLE_INT, STR, TABLES, TS
from pulse.sandbox.world_io import Incident, World, WorldMeta

_NULL = {TS: pd.NaT, DATE: None, STR: None, NULLABLE_INT: pd.NA, INT: 0, FLOAT: 0.0, MONEY: 0.0, BOOL: False}

# defaults that describe the ordinary case rather than "nothing"
_DEFAULTS = {
    ("web_sessions", "ga_tracked"): True,
    ("web_sessions", "page_views"): 1,
    ("web_sessions", "device_category"): "desktop",
    ("web_sessions", "channel_group"): "Direct",
    ("web_sessions", "campaign"): "(not set)",
    ("orders", "channel"): "web",
    ("orders", "status"): "placed",
    ("orders", "payment_method"): "invoice",
    ("calls", "direction"): "inbound",
    ("catalogs", "kind"): "public",
}
# defaults taken from another column of the same row
_COPIED = {
    ("web_sessions", "ga_processed_at"): "started_at",  # GA has processed every session
}


def handmade_world(
    tables: dict[str, Iterable[dict]],
    start: dt.date = dt.date(2026, 3, 1),
    end: dt.date = dt.date(2026, 3, 31),
    incidents: tuple[Incident, ...] = (),
    business_timezone: str = "Europe/Amsterdam",
) -> World:
    frames = {}
    for name, rows in tables.items():
        if name not in TABLES:
            raise ValueError(f"handmade world: unknown table {name!r}")
        rows = [dict(row) for row in rows]
        table = TABLES[name]
        unknown = {key for row in rows for key in row} - set(table.column_names)
        if unknown:
            raise ValueError(f"handmade world: table {name!r} has no column(s) {sorted(unknown)}")
        for number, row in enumerate(rows, start=1):
            if len(table.primary_key) == 1:
                row.setdefault(table.primary_key[0], number)
            for column in table.columns:
                if column.name in row:
                    continue
                if (name, column.name) in _COPIED:
                    row[column.name] = row.get(_COPIED[name, column.name])
                else:
                    row[column.name] = _DEFAULTS.get((name, column.name), _NULL[column.type])
        frame = pd.DataFrame(rows, columns=table.column_names)
        for column in table.columns:
            if column.type == TS:
                frame[column.name] = pd.to_datetime(frame[column.name], utc=True, format="mixed")
        frames[name] = frame
    meta = WorldMeta(seed=0, scale=0.0, start=start, end=end, business_timezone=business_timezone,
                     property_time_zone=business_timezone, incidents=incidents)
    return World(frames, meta)
