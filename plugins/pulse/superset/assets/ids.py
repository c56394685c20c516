"""Stable identities for generated assets.

Uuids are derived from a name (uuid5), so regenerating the bundle keeps every uuid and a deploy
overwrites the objects it created before instead of adding new ones. Dashboards refer to their
charts by uuid, but Superset's import also wants a `chartId` number in the layout (it only maps
old numbers to new ones); the committed files use a number derived from the chart's uuid.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("5b0c1f2e-6a43-4b8e-9d55-70a1c0e2b1f4")


def asset_uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def chart_number(chart_uuid: str) -> int:
    """The committed stand-in for a chart's numeric id (Superset assigns the real one)."""
    return int(chart_uuid.replace("-", "")[:7], 16)
