"""Shared pieces of the KPI definitions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from pulse.sandbox.oracle.facts import Facts
from pulse.sandbox.oracle.measures import Measure, Part


@dataclass(frozen=True)
class Rules:
    """Service levels from settings."""

    phone_sla_seconds: float
    ticket_sla_hours: float


MeasureBuilder = Callable[[Facts, Rules], Measure]


def collector() -> tuple[dict[str, MeasureBuilder], Callable[..., Callable[[MeasureBuilder], MeasureBuilder]]]:
    """A module's KPI table and the decorator that fills it: `@kpi("revenue", "web_transactions")`."""
    measures: dict[str, MeasureBuilder] = {}

    def kpi(*kpi_ids: str) -> Callable[[MeasureBuilder], MeasureBuilder]:
        def register(builder: MeasureBuilder) -> MeasureBuilder:
            for kpi_id in kpi_ids:
                measures[kpi_id] = builder
            return builder

        return register

    return measures, kpi


def dated(frame: pd.DataFrame, day_column: str) -> pd.DataFrame:
    """The records dated by `day_column` (it becomes `day`)."""
    frame = frame.drop(columns=["day"], errors="ignore") if day_column != "day" else frame
    return frame.rename(columns={day_column: "day"})


def total(part: Part) -> Part:
    """The same records without any slice column: the period's total for every slice value."""
    frame = part.frame
    keep = ["day"] + ([part.column] if part.column else [])
    if callable(frame):
        return Part(lambda grain: frame(grain)[keep], part.agg, part.column)
    return Part(frame[keep], part.agg, part.column)
