"""Carrier scan events from the carriers that report by daily CSV file instead of through EasyPost
(`PULSE_DROPS_DIR/carrier_files/`). One file per carrier per day, header only on days without
scans. Each carrier has its own layout; status codes map to the statuses EasyPost uses, so both
carrier paths meet in staging.

PostNL `PostNL_TrackTrace_YYYYMMDD.csv`: Windows-1252 (UTF-8 accepted), `;`, columns Barcode;
Datum (dd-mm-yyyy); Tijd (HH:MM:SS); Statuscode; Status; Verwachte bezorgdatum (dd-mm-yyyy). The
feed spec gives times as Dutch wall-clock time without offset, so Europe/Amsterdam is applied
here, and only here; a time that falls in the daylight-saving gap or fold is quarantined.

DPD `DPD_scans_YYYY-MM-DD.csv[.gz]`: UTF-8, `,`, columns parcelno, scan_datetime (ISO 8601 with
offset, as the spec requires: a time without offset is refused), scan_code, scan_text,
predicted_delivery (YYYY-MM-DD).

An unknown status code leaves `status` empty, which quarantines the row (the key needs it) with
the code kept in `carrier_status_code`.
"""

from __future__ import annotations

import pandas as pd

from pulse.sources.files import FileDropSource, Layout, dates, local_times
from pulse.sources.streams import Field, Stream

EVENTS = Stream(
    "carrier_files", "events", ("tracking_code", "status", "event_at"),
    (Field("tracking_code", "str"), Field("carrier", "str"), Field("status", "str"),
     Field("carrier_status_code", "str"), Field("event_at", "timestamp"), Field("message", "str"),
     Field("est_delivery_date", "date", doc="the carrier's delivery estimate after this scan"),
     Field("source_file", "str")),
    mode="files",
)

POSTNL_STATUS = {"A01": "pre_transit", "B01": "in_transit", "J05": "out_for_delivery", "I01": "delivered",
                 "H01": "failure", "G01": "return_to_sender"}
DPD_STATUS = {"03": "pre_transit", "10": "in_transit", "17": "out_for_delivery", "13": "delivered",
              "14": "failure", "23": "return_to_sender"}


def _postnl(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "tracking_code": rows["Barcode"], "carrier": "PostNL",
        "status": rows["Statuscode"].str.strip().map(POSTNL_STATUS), "carrier_status_code": rows["Statuscode"],
        "event_at": local_times(rows["Datum"].str.strip() + " " + rows["Tijd"].str.strip(), "%d-%m-%Y %H:%M:%S",
                                "Europe/Amsterdam"),
        "message": rows["Status"], "est_delivery_date": dates(rows["Verwachte bezorgdatum"], "%d-%m-%Y"),
    })


def _dpd(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "tracking_code": rows["parcelno"], "carrier": "DPD",
        "status": rows["scan_code"].str.strip().map(DPD_STATUS), "carrier_status_code": rows["scan_code"],
        "event_at": rows["scan_datetime"], "message": rows["scan_text"],
        "est_delivery_date": rows["predicted_delivery"],
    })


class CarrierFilesSource(FileDropSource):
    name = "carrier_files"
    streams = (EVENTS,)
    layouts = (
        Layout("PostNL track & trace", "PostNL_TrackTrace_*.csv",
               ("Barcode", "Datum", "Tijd", "Statuscode", "Status", "Verwachte bezorgdatum"), _postnl),
        Layout("DPD scans", "DPD_scans_*.csv*",
               ("parcelno", "scan_datetime", "scan_code", "scan_text", "predicted_delivery"), _dpd),
    )
