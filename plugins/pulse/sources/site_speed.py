"""Real-user page-load measurements, exported daily by the RUM tool
(`PULSE_DROPS_DIR/site_speed/rum_page_loads_YYYY-MM-DD.csv.gz`): gzip, UTF-8, `,`, columns
beacon_id, timestamp (ISO 8601 in UTC with `Z`, as the export documents: a time without offset is
refused), page_url, page_group, device_type, page_load_time_ms.
"""

from __future__ import annotations

import pandas as pd

from pulse.sources.files import FileDropSource, Layout
from pulse.sources.streams import Field, Stream

SAMPLES = Stream(
    "site_speed", "samples", ("sample_id",),
    (Field("sample_id", "int"), Field("measured_at", "timestamp"), Field("url", "str"), Field("page_type", "str"),
     Field("device", "str"), Field("load_time_ms", "int"), Field("source_file", "str")),
    mode="files",
)


def _samples(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "sample_id": rows["beacon_id"], "measured_at": rows["timestamp"], "url": rows["page_url"],
        "page_type": rows["page_group"], "device": rows["device_type"], "load_time_ms": rows["page_load_time_ms"],
    })


class SiteSpeedSource(FileDropSource):
    name = "site_speed"
    streams = (SAMPLES,)
    layouts = (
        Layout("RUM page loads", "rum_page_loads_*.csv*",
               ("beacon_id", "timestamp", "page_url", "page_group", "device_type", "page_load_time_ms"), _samples),
    )
