"""The volume guard's thresholds for one batch, from the recent history of its stream.

History = the stream's loaded batches (`meta.landing_batches`, status `loaded`) with the number
of records each held (`meta.validation_results.evaluated_rows`, which also exists for streams fed
by another stream's batch). Only batches extracted on the same business weekday are compared:
a B2B company's Monday batch (the weekend) is small every week, not a collapse. When every batch
involved has an extraction window, counts are compared per hour of window, so a catch-up run
over three days is not taken for a surge and a short run not for a collapse. File drops are
compared per file landed; a run that found no new file is not judged here (nothing arrived: that
is lateness, which source freshness reports, not an empty batch).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pulse.landing import LandingBatch
from pulse.settings import Settings, get_settings
from pulse.sources.streams import Stream
from pulse.warehouse.connection import Connection
from pulse.warehouse.meta import LOADED


@dataclass(frozen=True)
class VolumeGuard:
    compared_batches: int
    expected_rows: float | None  # typical records for a batch like this one; None: too little history
    volume_min_rows: int  # fewer rows than this is a volume collapse (0: guard off)
    nonempty_min_rows: int  # 1 when history says this batch should not be empty

    def describe(self) -> str:
        if self.expected_rows is None:
            return f"volume guard off: {self.compared_batches} comparable batches in history"
        return (f"expected about {self.expected_rows:.0f} records (median of {self.compared_batches} recent batches "
                f"extracted on the same weekday)")


OFF = VolumeGuard(0, None, 0, 0)


def _hours(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    hours = (end - start).total_seconds() / 3600
    return hours if hours > 0 else None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def guard(connection: Connection | None, stream: Stream, batch: LandingBatch, observed_rows: int,
          settings: Settings | None = None) -> VolumeGuard:
    settings = settings or get_settings()
    files = len(batch.manifest.files)
    if connection is None or not connection.table_exists("meta.validation_results"):
        return OFF
    if stream.mode == "files" and files == 0:
        return OFF
    rows = connection.fetchall(
        """
        select b.extracted_at, b.window_start, b.window_end, v.evaluated_rows, b.file_count
        from meta.validation_results as v
        join meta.landing_batches as b on b.batch_id = v.batch_id
        where v.source = :source and v.stream = :stream and b.status = :loaded and v.batch_id <> :batch_id
        order by b.extracted_at desc
        limit :scan
        """,
        {"source": stream.source, "stream": stream.name, "loaded": LOADED, "batch_id": batch.batch_id,
         "scan": settings.volume_history_batches * 7},
    )
    zone = ZoneInfo(settings.business_timezone)
    extracted_at = dt.datetime.fromisoformat(batch.manifest.extracted_at)
    weekday = extracted_at.astimezone(zone).isoweekday()
    history = [r for r in rows if _aware(r[0]).astimezone(zone).isoweekday() == weekday]
    history = history[: settings.volume_history_batches]
    if len(history) < settings.volume_min_history:
        return VolumeGuard(len(history), None, 0, 0)

    request = batch.manifest.request or {}
    window = _hours(*(dt.datetime.fromisoformat(request[k]) if request.get(k) else None for k in ("start", "end")))
    history_windows = [_hours(_aware(r[1]), _aware(r[2])) for r in history]
    if stream.mode == "files":
        history = [r for r in history if r[4]]
        if len(history) < settings.volume_min_history:
            return VolumeGuard(len(history), None, 0, 0)
        expected = statistics.median(r[3] / r[4] for r in history) * files
    elif window is not None and all(h is not None for h in history_windows):
        expected = statistics.median(r[3] / h for r, h in zip(history, history_windows, strict=True)) * window
    else:
        expected = float(statistics.median(r[3] for r in history))
    always_data = all(r[3] > 0 for r in history)
    substantial = expected >= settings.volume_min_expected_rows
    nonempty = 1 if always_data or substantial else 0
    collapse = math.floor(settings.volume_collapse_ratio * expected) if substantial and observed_rows > 0 else 0
    return VolumeGuard(len(history), expected, collapse, nonempty)
