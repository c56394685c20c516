"""What every source connector provides: its streams, `extract` (source -> landing) and
`parse` (landing -> records). Parsing reads only the landing batch, never the network, which is
what makes `pulse replay` possible and keeps validation and loading away from source outages.

One landing batch may feed several streams of a source when the API returns them together
(Zendesk tickets with their metric sets, EasyPost trackers with their scan events): the fed
streams name the extracted one in `Stream.extracted_with`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from pulse.landing import BatchWriter, LandingBatch
from pulse.settings import Settings, get_settings
from pulse.sources.connections import SourceConnection, get_connection
from pulse.sources.streams import Stream


@dataclass(frozen=True)
class ExtractRequest:
    """What one extraction asks the source for.

    `start` is the lower bound of the cursor (the saved cursor minus the stream's lookback, or an
    explicit backfill start; None means from the beginning of the source's history); `end` is
    the exclusive upper bound (the run's data-interval end, never later than now). `state` is
    the stream's saved state ({} on the first run)."""

    start: dt.datetime | None
    end: dt.datetime
    state: dict[str, Any] = field(default_factory=dict)
    backfill: bool = False

    def as_manifest(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat(),
            "state_before": self.state,
            "backfill": self.backfill,
        }


class Source(ABC):
    name: ClassVar[str]
    streams: ClassVar[tuple[Stream, ...]]

    def __init__(self, connection: SourceConnection | None = None, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self._connection = connection

    @property
    def connection(self) -> SourceConnection:
        """Looked up on first use, so parsing a landing batch never needs credentials."""
        if self._connection is None:
            self._connection = get_connection(self.name)
        return self._connection

    @classmethod
    def stream(cls, name: str) -> Stream:
        for stream in cls.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"source {cls.name} has no stream {name!r}; it has {[s.name for s in cls.streams]}")

    @classmethod
    def extracted_streams(cls) -> tuple[Stream, ...]:
        """The streams that are extracted on their own (each gets its own landing batches)."""
        return tuple(s for s in cls.streams if s.extracted_with is None)

    @classmethod
    def fed_by(cls, stream: Stream) -> tuple[Stream, ...]:
        """The streams a batch of `stream` feeds: itself and those extracted with it."""
        return (stream, *(s for s in cls.streams if s.extracted_with == stream.name))

    def plan(self, stream: Stream, state: dict[str, Any], end: dt.datetime,
             start: dt.datetime | None = None) -> ExtractRequest:
        """The request of a scheduled run (cursor minus lookback) or of a backfill (explicit start)."""
        if start is not None:
            return ExtractRequest(start=start, end=end, state=state, backfill=True)
        cursor = state.get("cursor")
        since = dt.datetime.fromisoformat(cursor) - stream.lookback if cursor else None
        return ExtractRequest(start=since, end=end, state=state)

    @abstractmethod
    def extract(self, stream: Stream, request: ExtractRequest, batch: BatchWriter) -> dict[str, Any]:
        """Fetch what `request` asks for into `batch` (payloads exactly as received) and return the
        stream's state once this batch is loaded (e.g. {"cursor": <max cursor seen>})."""

    @abstractmethod
    def parse(self, stream: Stream, batch: LandingBatch) -> pd.DataFrame | list[dict[str, Any]]:
        """The records of `stream` in `batch`, in payload order, with contract field names. May
        carry `_row` (the record's position in the payload); otherwise records are numbered in
        order. Raise `ContractError` when the payload lacks a field the contract needs."""
