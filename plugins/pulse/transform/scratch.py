"""Names of the temporary tables an incremental refresh works with, all gone when it ends."""

from __future__ import annotations

PENDING_LOADS = "_pending_loads"  # (raw_table, batch_id, loaded_at) of the loads not yet refreshed


def changes(raw_table: str) -> str:
    """The rows of a raw table loaded since the last refresh."""
    return f"_changes__{raw_table.replace('.', '__')}"


def affected(model: str) -> str:
    """The keys of a model the refresh rewrites."""
    return f"_affected__{model}"


def new_rows(model: str) -> str:
    """A model's rows for its affected keys, as computed now."""
    return f"_new__{model}"


def old_rows(model: str) -> str:
    """A model's stored rows for its affected keys, before they are rewritten."""
    return f"_old__{model}"


def delta(name: str) -> str:
    """The rows of a model (or seed) that changed: `_change` is 'old' (as stored before) or 'new'."""
    return f"_delta__{name}"
