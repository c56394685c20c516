"""Content hashes of warehouse tables, for idempotency checks: the same rows in any order give the
same hash; lineage columns (`_batch_id`, `_loaded_at`, any `_`-prefixed column) are left out."""

from __future__ import annotations

import hashlib

import pandas as pd

from pulse.warehouse.connection import Connection


def table_hash(connection: Connection, table: str) -> str:
    columns = [name for name in connection.columns(table) if not name.startswith("_")]
    frame = connection.fetch_df(f"select {', '.join(columns)} from {table}")
    digest = hashlib.sha256(",".join(columns).encode())
    lines = sorted(_canonical(frame).itertuples(index=False, name=None))
    for line in lines:
        digest.update(repr(line).encode())
    return digest.hexdigest()


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as text the same way on both engines (decimals, timestamps, nulls)."""
    def text(value: object) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "\\N"
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, float):
            return repr(round(value, 9))
        return str(value)
    return frame.map(text) if len(frame) else frame.astype(str)
