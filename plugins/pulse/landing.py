"""Landing: every extracted batch kept exactly as received, so nothing is ever lost and raw can
be rebuilt without calling a source again (`pulse replay BATCH`).

A batch is a folder `landing/<source>/<stream>/<batch_id>/` holding the payload files as they
arrived (API pages as bytes, dropped CSV files, database extracts as Parquet) and a
`manifest.json` (source, stream, request window, state before and after, files with checksums,
record count, source metadata). A batch is written under a temporary name and renamed when
complete, so readers never see half of one. An extraction that fails half-way is still kept,
marked `complete: false` with the error, and is never loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pulse.settings import get_settings

MANIFEST = "manifest.json"


class LandingError(RuntimeError):
    pass


@dataclass(frozen=True)
class LandedFile:
    name: str
    sha256: str
    bytes: int
    media_type: str
    meta: dict[str, Any] = field(default_factory=dict)  # request parameters, page number, original file name


@dataclass
class Manifest:
    batch_id: str
    source: str
    stream: str
    extracted_at: str  # ISO 8601, UTC
    request: dict[str, Any]  # window start/end, state before, parameters
    state_after: dict[str, Any] | None = None  # the stream's cursor state once this batch is loaded
    files: list[LandedFile] = field(default_factory=list)
    record_count: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # what the source says about the data
    complete: bool = True
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=str) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["files"] = [LandedFile(**f) for f in data.get("files", [])]
        return cls(**data)


def landing_root() -> Path:
    return get_settings().data_dir / "landing"


def new_batch_id(source: str, stream: str, at: dt.datetime) -> str:
    return f"{source}.{stream}.{at.strftime('%Y%m%dT%H%M%S%fZ')}.{uuid.uuid4().hex[:8]}"


def parse_batch_id(batch_id: str) -> tuple[str, str]:
    parts = batch_id.split(".")
    if len(parts) != 4 or not all(parts):
        raise LandingError(f"{batch_id!r} is not a landing batch id (<source>.<stream>.<stamp>.<hex>)")
    return parts[0], parts[1]


class BatchWriter:
    """Write one landing batch: `with BatchWriter(source, stream, request) as batch: batch.add_bytes(...)`.

    On a clean exit the batch is complete; on an exception it is kept as received so far, marked
    incomplete with the error, and the exception propagates."""

    def __init__(self, source: str, stream: str, request: dict[str, Any], *, root: Path | None = None,
                 now: dt.datetime | None = None):
        self.root = Path(root) if root else landing_root()
        extracted_at = now or dt.datetime.now(dt.UTC)
        self.manifest = Manifest(
            batch_id=new_batch_id(source, stream, extracted_at), source=source, stream=stream,
            extracted_at=extracted_at.isoformat(), request=request,
        )
        self.final_path = self.root / source / stream / self.manifest.batch_id
        self.path = self.final_path.with_name(f".tmp-{self.manifest.batch_id}")
        self._names: set[str] = set()

    @property
    def batch_id(self) -> str:
        return self.manifest.batch_id

    def __enter__(self) -> BatchWriter:
        self.path.mkdir(parents=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.manifest.complete = False
            self.manifest.error = f"{exc_type.__name__}: {exc}"
        self._commit()

    def add_bytes(self, name: str, data: bytes, media_type: str = "application/json", **meta: Any) -> LandedFile:
        target = self._target(name)
        with target.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return self._record(name, hashlib.sha256(data).hexdigest(), len(data), media_type, meta)

    def add_file(self, source_path: Path, name: str | None = None, media_type: str = "text/csv", **meta: Any) -> LandedFile:
        """Copy a dropped file byte for byte."""
        name = name or Path(source_path).name
        target = self._target(name)
        shutil.copyfile(source_path, target)
        return self._record(name, sha256_of(target), target.stat().st_size, media_type, meta)

    def _target(self, name: str) -> Path:
        if "/" in name or name in {MANIFEST, "", ".", ".."} or name in self._names:
            raise LandingError(f"{self.batch_id}: bad or repeated landing file name {name!r}")
        self._names.add(name)
        return self.path / name

    def _record(self, name: str, sha256: str, size: int, media_type: str, meta: dict[str, Any]) -> LandedFile:
        landed = LandedFile(name, sha256, size, media_type, meta)
        self.manifest.files.append(landed)
        return landed

    def _commit(self) -> None:
        manifest_path = self.path / MANIFEST
        manifest_path.write_text(self.manifest.to_json())
        with manifest_path.open("rb") as handle:
            os.fsync(handle.fileno())
        os.rename(self.path, self.final_path)
        _fsync_dir(self.final_path.parent)


@dataclass(frozen=True)
class LandingBatch:
    """A batch as stored: read its files; `verify()` checks every checksum."""

    path: Path
    manifest: Manifest

    @property
    def batch_id(self) -> str:
        return self.manifest.batch_id

    def file_path(self, name: str) -> Path:
        return self.path / name

    def read_bytes(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def verify(self) -> None:
        for landed in self.manifest.files:
            actual = sha256_of(self.path / landed.name)
            if actual != landed.sha256:
                raise LandingError(f"{self.batch_id}: file {landed.name} changed since landing (checksum mismatch)")


def open_batch(batch_id: str, root: Path | None = None) -> LandingBatch:
    source, stream = parse_batch_id(batch_id)
    path = (Path(root) if root else landing_root()) / source / stream / batch_id
    if not (path / MANIFEST).is_file():
        raise LandingError(f"landing batch {batch_id} not found under {path.parent}")
    return LandingBatch(path, Manifest.from_json((path / MANIFEST).read_text()))


def list_batches(source: str | None = None, stream: str | None = None, root: Path | None = None) -> Iterator[LandingBatch]:
    """Complete and incomplete batches, oldest first."""
    base = Path(root) if root else landing_root()
    pattern = f"{source or '*'}/{stream or '*'}/*/{MANIFEST}"
    for manifest in sorted(base.glob(pattern), key=lambda p: p.parent.name.split(".")[2]):
        if manifest.parent.name.startswith(".tmp-"):
            continue
        yield LandingBatch(manifest.parent, Manifest.from_json(manifest.read_text()))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
