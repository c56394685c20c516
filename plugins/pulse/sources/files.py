"""File drops: CSV exports that partners put in `PULSE_DROPS_DIR/<feed>/` (carrier scans, ad
spend, NPS surveys, page speed). One source per feed; each feed module declares its stream and
the layouts of the files it accepts (`Layout`: file-name pattern, header columns, and how a row
becomes a record).

- **Each file once, by checksum.** Extraction lands every file of a layout whose SHA-256 is not
  in `meta.landed_files` (filled when a batch loads), byte for byte. A re-sent file with the same
  bytes, under any name, is skipped; a corrected file (same name, new bytes) is landed and its
  rows replace the earlier ones by primary key. Files of no layout are left alone and logged.
- **Robust reading.** gzip (by name or magic bytes), encoding (UTF-8, UTF-8 with BOM, else
  Windows-1252 when the bytes are valid there; UTF-16 and binary are refused), delimiter (`,` or
  `;`, from the header line), report header lines and footers where a layout has them. Every
  value stays text exactly as written (`=cmd|...` or SQL is inert data); the contract casts.
- **Errors.** A file that cannot be read as its layout (bad gzip, encoding, delimiter, empty file,
  a missing column, a ragged row) raises `FileFormatError`, a `ContractError` naming source,
  stream, file, row and rule: the batch is not loaded, stays in landing, and the feed waits until
  the sender replaces the file. A header-only file is valid (a carrier that scanned nothing that
  day). A bad value in one row (a timestamp without offset where the layout requires one, a
  date in the wrong format) goes to quarantine with its rule, and the other rows load.

dlt's `filesystem` source could list the files, but checksum bookkeeping must commit with the
load (the framework's `meta.landed_files`), so listing and checksums are the few lines below.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import fnmatch
import gzip
import io
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pandas as pd

from pulse.landing import BatchWriter, LandingBatch, sha256_of
from pulse.settings import Settings
from pulse.sources.base import ExtractRequest, Source
from pulse.sources.connections import SourceConnection
from pulse.sources.streams import ROW_NUMBER, ContractError, Stream
from pulse.warehouse.connection import Warehouse

log = logging.getLogger(__name__)

SOURCE_FILE, SOURCE_ROW = "source_file", "source_row"  # where a record came from; source_row is 1-based


class FileFormatError(ContractError):
    """A dropped file that cannot be read as its layout."""

    def __init__(self, stream: Stream, file: str, rule: str, message: str, *, row: int | None = None,
                 line: int | None = None, column: str | None = None):
        self.source, self.stream, self.field_name, self.row = stream.source, stream.name, column, row
        self.file, self.rule, self.line = file, rule, line
        where = f"{stream.key}, file {file!r}"
        if row is not None:
            where += f", row {row}"
        if line is not None:
            where += f" (line {line})"
        if column:
            where += f", column {column!r}"
        ValueError.__init__(self, f"{where}: {rule}: {message}")


@dataclass(frozen=True)
class Layout:
    """One kind of file a feed accepts. `columns` are the header names the feed needs (others are
    ignored); `to_records` turns the rows (text, one column per header name) into contract fields."""

    name: str
    pattern: str  # fnmatch on the file name
    columns: tuple[str, ...]
    to_records: Callable[[pd.DataFrame], pd.DataFrame]
    preamble_lines: int = 0  # report header lines the export may put above the column header
    footer_prefixes: tuple[str, ...] = ()  # a row starting with one of these ends the data
    notes: str = ""

    def matches(self, file_name: str) -> bool:
        return fnmatch.fnmatchcase(file_name, self.pattern)


@dataclass
class CsvFile:
    """A file read as text rows: `rows` has one text column per header name, `lines` the line
    number of each row in the file."""

    encoding: str
    delimiter: str
    header_line: int
    rows: pd.DataFrame
    lines: list[int] = field(default_factory=list)


class FileDropSource(Source):
    """A feed of files dropped in `<drops_dir>/<name>/`. Subclasses set `name`, `streams` (one,
    mode "files") and `layouts`."""

    layouts: ClassVar[tuple[Layout, ...]]

    def __init__(self, connection: SourceConnection | None = None, settings: Settings | None = None, *,
                 directory: Path | None = None, warehouse: Warehouse | None = None):
        super().__init__(connection, settings)
        self.directory = Path(directory) if directory else Path(self.settings.drops_dir) / self.name
        self.warehouse = warehouse or Warehouse.from_settings()

    # --- extract ---------------------------------------------------------------------------------
    def extract(self, stream: Stream, request: ExtractRequest, batch: BatchWriter) -> dict[str, Any]:
        known = self._loaded_checksums(stream)
        skipped, ignored = [], []
        for path in sorted(self.directory.iterdir()) if self.directory.is_dir() else []:
            if not path.is_file() or path.name.startswith(".") or path.name.endswith((".part", ".tmp")):
                continue  # hidden or still being written by the sender
            layout = self._layout(path.name)
            if layout is None:
                ignored.append(path.name)
                continue
            digest = sha256_of(path)
            if digest in known:
                skipped.append(path.name)
                continue
            known.add(digest)
            modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat()
            media_type = "application/gzip" if path.name.endswith(".gz") else "text/csv"
            batch.add_file(path, media_type=media_type, original_name=path.name, layout=layout.name,
                           modified_at=modified)
        if ignored:
            log.warning("%s: ignored %d file(s) of no known layout in %s: %s", stream.key, len(ignored),
                        self.directory, ignored[:10])
        log.info("%s: landed %d new file(s), skipped %d already loaded", stream.key, len(batch.manifest.files),
                 len(skipped))
        batch.manifest.metadata.update({"directory": str(self.directory), "skipped_as_loaded": skipped,
                                        "ignored": ignored})
        return {}

    def _loaded_checksums(self, stream: Stream) -> set[str]:
        with self.warehouse.connect() as connection:
            rows = connection.fetchall("select sha256 from meta.landed_files where source = :source and stream = :stream",
                                       {"source": stream.source, "stream": stream.name})
        return {row[0] for row in rows}

    def _layout(self, file_name: str) -> Layout | None:
        return next((layout for layout in self.layouts if layout.matches(file_name)), None)

    # --- parse -----------------------------------------------------------------------------------
    def parse(self, stream: Stream, batch: LandingBatch) -> pd.DataFrame:
        frames = []
        for landed in batch.manifest.files:
            layout = self._layout(landed.name)
            if layout is None:
                raise FileFormatError(stream, landed.name, "layout", "the file name matches none of "
                                      f"{[layout.pattern for layout in self.layouts]}")
            read = read_csv(stream, landed.name, batch.read_bytes(landed.name), layout)
            records = layout.to_records(read.rows)
            records[SOURCE_FILE] = landed.name
            records[SOURCE_ROW] = range(1, len(records) + 1)
            frames.append(records)
        if not frames:
            return pd.DataFrame(columns=[*stream.field_names, ROW_NUMBER])
        records = pd.concat(frames, ignore_index=True)
        records[ROW_NUMBER] = range(len(records))
        return records


def read_csv(stream: Stream, file: str, data: bytes, layout: Layout) -> CsvFile:
    """The rows of a dropped file as text, checked against the layout's header."""
    def fail(rule: str, message: str, **where: Any) -> FileFormatError:
        return FileFormatError(stream, file, rule, message, **where)

    if file.endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise fail("gzip", f"the gzip stream is broken or truncated ({error})") from error
    if not data.strip():
        raise fail("empty_file", "the file is empty: no header row (a failed export?)")
    text, encoding = _decode(data, lambda message: fail("encoding", message))
    head = text.splitlines(keepends=True)[:layout.preamble_lines + 1]
    lines = [line.rstrip("\r\n") for line in head]
    header_index, delimiter = _find_header(lines, layout, fail)
    header = next(csv.reader([lines[header_index]], delimiter=delimiter))
    missing = [column for column in layout.columns if column not in header]
    if missing:
        raise fail("missing_column", f"the header lacks {missing} (header: {header}); the feed's layout "
                   f"{layout.name!r} needs {list(layout.columns)}", line=header_index + 1, column=missing[0])
    duplicated = sorted({name for name in header if header.count(name) > 1 and name in layout.columns})
    if duplicated:
        raise fail("duplicate_column", f"the header names {duplicated} more than once", line=header_index + 1)

    body = text[sum(len(line) for line in head[:header_index + 1]):]
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=True)
    rows, numbers, first_line = [], [], header_index + 2
    try:
        for values in reader:
            line = first_line + reader.line_num - 1
            if not values or all(not value.strip() for value in values):
                continue
            if layout.footer_prefixes and values[0].startswith(layout.footer_prefixes):
                break
            if len(values) != len(header):
                raise fail("field_count", f"{len(values)} fields where the header has {len(header)}",
                           row=len(rows) + 1, line=line)
            rows.append(values)
            numbers.append(line)
    except csv.Error as error:
        raise fail("csv", str(error), row=len(rows) + 1, line=first_line + reader.line_num - 1) from error
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    if not rows:
        log.info("%s: %s has a header and no rows", stream.key, file)
    return CsvFile(encoding, delimiter, header_index + 1, frame[list(layout.columns)].reset_index(drop=True), numbers)


def _decode(data: bytes, fail: Callable[[str], FileFormatError]) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise fail("the file is UTF-16 (a spreadsheet's 'Unicode text' export): export it as UTF-8 CSV")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise fail(f"NUL byte at offset {nul}: not a text file (or UTF-16 without BOM)")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise fail(f"UTF-8 byte order mark but invalid UTF-8 at offset {error.start + 3}") from error
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as error:
            raise fail(f"neither UTF-8 (invalid byte at offset {utf8_error.start}) nor Windows-1252 "
                       f"(byte 0x{data[error.start]:02x} at offset {error.start} is undefined there)") from error


def _find_header(lines: list[str], layout: Layout, fail: Callable[..., FileFormatError]) -> tuple[int, str]:
    """The header line (after at most `preamble_lines` report lines) and its delimiter: `,` or `;`,
    whichever splits it into more of the layout's columns."""
    for index, line in enumerate(lines[:layout.preamble_lines + 1]):
        scores = {}
        for delimiter in (",", ";"):
            fields = next(csv.reader([line], delimiter=delimiter), [])
            scores[delimiter] = sum(1 for column in layout.columns if column in fields)
        delimiter = max(scores, key=lambda d: scores[d])
        if scores[delimiter]:
            return index, delimiter
    first = lines[0]
    if "," not in first and ";" not in first:
        raise fail("delimiter", f"the header line is not separated by ',' or ';': {first[:120]!r}", line=1)
    raise fail("header", f"no header line with the columns {list(layout.columns)} in the first "
               f"{layout.preamble_lines + 1} line(s); line 1 is {first[:120]!r}", line=1)


# --- conversions the layouts share --------------------------------------------------------------
def local_times(texts: pd.Series, fmt: str, zone: str) -> pd.Series:
    """Local wall-clock texts of a feed whose spec names its time zone -> ISO 8601 with offset.
    A text that does not parse, or names a time that does not exist or is ambiguous in `zone`
    (daylight-saving change), is kept as received: the contract refuses it and the row goes to
    quarantine with the text."""
    parsed = pd.to_datetime(texts, format=fmt, errors="coerce")
    localized = parsed.dt.tz_localize(ZoneInfo(zone), ambiguous="NaT", nonexistent="NaT")
    iso = pd.Series([moment.isoformat() if pd.notna(moment) else None for moment in localized], index=texts.index,
                    dtype=object)
    return iso.where(localized.notna(), texts)


def dates(texts: pd.Series, fmt: str) -> pd.Series:
    """Dates in a feed's own format -> ISO; a text that does not parse is kept (and quarantined)."""
    parsed = pd.to_datetime(texts, format=fmt, errors="coerce")
    iso = pd.Series([day.strftime("%Y-%m-%d") if pd.notna(day) else None for day in parsed], index=texts.index,
                    dtype=object)
    return iso.where(parsed.notna(), texts)
