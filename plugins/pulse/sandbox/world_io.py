"""The simulated company as data: `World` (tables + metadata), saving, loading and views as of
a clock. Every consumer (shop database, CSV drops, sandbox servers, oracle) reads a `World`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pulse.sandbox.world import BOOL, DATE, FLOAT, INT, MONEY, NULLABLE_INT, STR, TABLES, TS, Table


@dataclass(frozen=True)
class Incident:
    name: str
    start: dt.date
    end: dt.date
    description: str
    affected: tuple[str, ...] = ()

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class WorldMeta:
    seed: int
    scale: float
    start: dt.date
    end: dt.date
    business_timezone: str = "Europe/Amsterdam"
    property_time_zone: str = "Europe/Amsterdam"
    currency: str = "EUR"
    office_hours: str = "08:30-17:30"
    incidents: tuple[Incident, ...] = field(default_factory=tuple)

    @property
    def now(self) -> dt.datetime:
        """End of the last simulated business day, in UTC: the world is the company as of now."""
        local_end = dt.datetime.combine(self.end, dt.time(23, 59, 59), ZoneInfo(self.business_timezone))
        return local_end.astimezone(dt.UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def incident(self, name: str) -> Incident | None:
        return next((incident for incident in self.incidents if incident.name == name), None)

    def to_json(self) -> str:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        return json.dumps(data, default=str, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WorldMeta:
        data = json.loads(text)
        data.pop("now", None)
        data["start"] = dt.date.fromisoformat(data["start"])
        data["end"] = dt.date.fromisoformat(data["end"])
        data["incidents"] = tuple(
            Incident(
                name=i["name"], start=dt.date.fromisoformat(i["start"]), end=dt.date.fromisoformat(i["end"]),
                description=i["description"], affected=tuple(i.get("affected", ())),
            )
            for i in data.get("incidents", [])
        )
        return cls(**data)


_PANDAS_TYPES = {INT: "int64", NULLABLE_INT: "Int64", FLOAT: "float64", MONEY: "float64", BOOL: "bool", STR: "string"}


def conform(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Exactly the declared columns, in order, with the declared dtypes."""
    missing = [name for name in table.column_names if name not in frame.columns]
    if missing:
        raise ValueError(f"world table {table.name}: missing columns {missing}")
    result = pd.DataFrame(index=frame.index)
    for column in table.columns:
        values = frame[column.name]
        if _conforms(values, column.type):
            result[column.name] = values  # already right: no copy (worlds are large)
        elif column.type == TS:
            result[column.name] = pd.to_datetime(values, utc=True).astype("datetime64[us, UTC]")
        elif column.type == DATE:
            result[column.name] = pd.to_datetime(values).dt.date.astype("object").where(values.notna(), None)
        else:
            result[column.name] = values.astype(_PANDAS_TYPES[column.type])
    return result.reset_index(drop=True)


def _conforms(values: pd.Series, column_type: str) -> bool:
    if column_type == TS:
        return str(values.dtype) == "datetime64[us, UTC]"
    if column_type == DATE:
        return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("date", "empty")
    return values.dtype == pd.api.types.pandas_dtype(_PANDAS_TYPES[column_type])


def empty_frame(table: Table) -> pd.DataFrame:
    frame = pd.DataFrame({column.name: pd.Series([], dtype="object") for column in table.columns})
    return conform(frame, table)


class World:
    """The company's records. `world["orders"]` is a DataFrame with the declared schema."""

    def __init__(self, tables: dict[str, pd.DataFrame], meta: WorldMeta):
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise ValueError(f"unknown world tables: {sorted(unknown)}")
        self.tables = {name: conform(tables[name], TABLES[name]) if name in tables else empty_frame(TABLES[name])
                       for name in TABLES}
        self.meta = meta

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame], meta: WorldMeta | None = None) -> World:
        """A world built by hand (tests): missing tables are empty."""
        meta = meta or WorldMeta(seed=0, scale=0.0, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))
        return cls(tables, meta)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def as_of(self, clock: dt.datetime) -> World:
        """The company as it was at `clock`: see pulse.sandbox.as_of."""
        from pulse.sandbox.as_of import world_as_of

        return world_as_of(self, clock)

    def save(self, directory: Path) -> Path:
        target = Path(directory) / "world"
        target.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            # no pandas metadata: it embeds library versions and would make files differ needlessly
            arrow = arrow.replace_schema_metadata(None)
            pq.write_table(arrow, target / f"{name}.parquet", compression="zstd", write_statistics=True)
        (target / "world.json").write_text(self.meta.to_json() + "\n")
        return target


def load_world(directory: Path) -> World:
    source = Path(directory)
    if (source / "world").is_dir():
        source = source / "world"
    meta = WorldMeta.from_json((source / "world.json").read_text())
    tables = {}
    for name in TABLES:
        path = source / f"{name}.parquet"
        if path.exists():
            tables[name] = pq.read_table(path).to_pandas()
    return World(tables, meta)
