"""Monthly NPS survey answers, as the survey tool exports them after each month closes
(`PULSE_DROPS_DIR/nps/nps_responses_YYYY-MM.csv`): UTF-8 with BOM (Windows-1252 accepted), `;`,
columns "Response ID", "Submitted at" (ISO 8601 with offset, as the export is configured: a time
without offset is refused), "Customer number", "Score" (0-10), "Comment" (free text, kept as
written). A corrected export of a month replaces that month's answers by response id.
"""

from __future__ import annotations

import pandas as pd

from pulse.sources.files import FileDropSource, Layout
from pulse.sources.streams import Field, Stream

RESPONSES = Stream(
    "nps", "responses", ("response_id",),
    (Field("response_id", "int"), Field("submitted_at", "timestamp"), Field("customer_id", "int"),
     Field("score", "int", doc="0-10: promoters 9-10, detractors 0-6"), Field("comment", "str"),
     Field("source_file", "str")),
    mode="files",
)


def _responses(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "response_id": rows["Response ID"], "submitted_at": rows["Submitted at"],
        "customer_id": rows["Customer number"], "score": rows["Score"], "comment": rows["Comment"],
    })


class NpsSource(FileDropSource):
    name = "nps"
    streams = (RESPONSES,)
    layouts = (
        Layout("NPS survey export", "nps_responses_*.csv",
               ("Response ID", "Submitted at", "Customer number", "Score", "Comment"), _responses),
    )
