"""The KPI registry (`kpis.yml` at the repository root): every KPI named once, loaded and validated.

SQL, dashboards, alerts, docs and the sandbox oracle read KPIs from here; a file that breaks a
rule is refused with the KPI and the rule named.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pulse.settings import REPO_ROOT

REGISTRY_PATH = REPO_ROOT / "kpis.yml"

AREAS = frozenset({
    "acquisition", "audience", "navigation", "transactions", "service", "after_sales",
    "catalogue", "quotes", "sales_agents", "customers", "funnel",
})
DASHBOARDS = frozenset({
    "acquisition", "audience", "transactions", "service", "after_sales", "catalogues", "quotes", "customers",
})
KINDS = frozenset({"sum", "count", "distinct", "ratio", "share", "average", "median", "min", "max", "list"})
UNITS = frozenset({"eur", "count", "ratio", "number", "seconds", "hours", "days", "score"})
BETTER = frozenset({"higher", "lower", "neutral"})
GRAINS = ("day", "week", "month", "quarter")
SOURCES = frozenset({"GA", "ADS", "CRM", "SHOP", "PHONE", "DESK", "CARR", "NPS", "SPEED"})
SUMMARY_SIZE = 20

# kinds whose value is numerator / denominator
RATIO_KINDS = frozenset({"ratio", "share", "average"})
# kinds whose value is one aggregate of the records, with no additive parts
ORDER_STATISTIC_KINDS = frozenset({"median", "min", "max"})

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_REF = re.compile(r"^(?:[1-9]|[1-4][0-9]|50|[CQSKG][1-9])$")
_REQUIRED = ("id", "ref", "title", "area", "dashboard", "kind", "unit", "better", "sources", "definition",
             "grains", "slices")
_OPTIONAL = ("summary", "confidential", "numerator", "denominator", "benchmark", "target", "table", "columns",
             "settles_after_days")


class RegistryError(ValueError):
    """kpis.yml breaks a rule; the message names the KPI and the rule."""


@dataclass(frozen=True)
class Target:
    """Default alert threshold: the value is on target when min <= value <= max."""

    min: float | None = None
    max: float | None = None

    def met_by(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


@dataclass(frozen=True)
class Slice:
    name: str
    definition: str
    null_label: str


@dataclass(frozen=True)
class ChannelRule:
    """One acquisition-channel rule: it matches when all its conditions hold (no condition but
    `otherwise` matches everything). Values are lower case."""

    channel: str
    order_channel: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    medium: tuple[str, ...] = ()
    utm_missing: bool = False
    otherwise: bool = False


@dataclass(frozen=True)
class Kpi:
    id: str
    ref: str
    title: str
    area: str
    dashboard: str
    kind: str
    unit: str
    better: str
    sources: tuple[str, ...]
    definition: str
    grains: tuple[str, ...]
    slices: tuple[str, ...]
    summary: bool = False
    confidential: bool = False
    numerator: str | None = None
    denominator: str | None = None
    benchmark: str | None = None
    target: Target | None = None
    table: str | None = None
    columns: tuple[str, ...] = ()
    # Days after a day ends before its value is final enough to judge (GA4 processes for up to
    # 48 h; a cart is decided 24 h after it was created): the summary and the alerts judge the
    # latest period that ended this many days before the refresh's last day.
    settles_after_days: int = 0

    @property
    def is_list(self) -> bool:
        return self.kind == "list"


@dataclass(frozen=True)
class Registry:
    kpis: tuple[Kpi, ...]
    slices: dict[str, Slice]
    acquisition_channels: tuple[ChannelRule, ...]
    conventions: dict[str, str]

    def __iter__(self) -> Iterator[Kpi]:
        return iter(self.kpis)

    def __len__(self) -> int:
        return len(self.kpis)

    def __contains__(self, kpi_id: object) -> bool:
        return any(kpi.id == kpi_id for kpi in self.kpis)

    def get(self, kpi_id: str) -> Kpi:
        for kpi in self.kpis:
            if kpi.id == kpi_id:
                return kpi
        raise KeyError(f"KPI {kpi_id!r} is not in the registry")

    def summary(self) -> list[Kpi]:
        return [kpi for kpi in self.kpis if kpi.summary]

    def by_ref(self, ref: str) -> list[Kpi]:
        return [kpi for kpi in self.kpis if kpi.ref == ref]

    def periodic(self) -> list[Kpi]:
        """KPIs with rows in kpi.kpi_values (everything but lists)."""
        return [kpi for kpi in self.kpis if not kpi.is_list]

    def lists(self) -> list[Kpi]:
        return [kpi for kpi in self.kpis if kpi.is_list]


def load_registry(path: Path | str | None = None) -> Registry:
    path = Path(path) if path else REGISTRY_PATH
    return _load(path.resolve(), path.stat().st_mtime_ns)


@cache
def _load(path: Path, _mtime: int) -> Registry:
    try:
        # libyaml's loader: the pure-Python one spent most of a second of each KPI refresh here
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        raise RegistryError(f"{path.name}: not valid YAML: {error}") from error
    return parse_registry(document, path.name)


def parse_registry(document: Any, name: str = "kpis.yml") -> Registry:
    if not isinstance(document, dict) or not isinstance(document.get("kpis"), list):
        raise RegistryError(f"{name}: expected a mapping with a `kpis` list")
    slices = _parse_slices(document.get("slices") or {}, name)
    rules = _parse_channel_rules(document.get("acquisition_channels") or [], name)
    kpis = tuple(_parse_kpi(entry, index, slices, name) for index, entry in enumerate(document["kpis"], start=1))

    seen: set[str] = set()
    for kpi in kpis:
        if kpi.id in seen:
            raise RegistryError(f"{name}: KPI id {kpi.id!r} appears more than once")
        seen.add(kpi.id)
    summary = [kpi.id for kpi in kpis if kpi.summary]
    if len(summary) != SUMMARY_SIZE:
        raise RegistryError(f"{name}: exactly {SUMMARY_SIZE} KPIs must have summary: true, found {len(summary)}")
    conventions = {str(key): " ".join(str(value).split()) for key, value in (document.get("conventions") or {}).items()}
    return Registry(kpis, slices, rules, conventions)


def _parse_slices(raw: Any, name: str) -> dict[str, Slice]:
    if not isinstance(raw, dict):
        raise RegistryError(f"{name}: `slices` must map a slice name to its definition")
    slices = {}
    for slice_name, spec in raw.items():
        if not _ID.match(str(slice_name)) or slice_name == "all":
            raise RegistryError(f"{name}: slice {slice_name!r}: names are snake_case and not 'all'")
        if not isinstance(spec, dict) or not spec.get("definition") or not spec.get("null_label"):
            raise RegistryError(f"{name}: slice {slice_name!r}: needs a definition and a null_label")
        slices[slice_name] = Slice(slice_name, str(spec["definition"]), str(spec["null_label"]))
    return slices


def _parse_channel_rules(raw: Any, name: str) -> tuple[ChannelRule, ...]:
    rules = []
    for index, rule in enumerate(raw, start=1):
        where = f"{name}: acquisition_channels rule {index}"
        if not isinstance(rule, dict) or not rule.get("channel"):
            raise RegistryError(f"{where}: needs a channel")
        unknown = set(rule) - {"channel", "order_channel", "source", "medium", "utm_missing", "otherwise"}
        if unknown:
            raise RegistryError(f"{where} ({rule['channel']}): unknown condition(s) {sorted(unknown)}")
        parsed = ChannelRule(
            channel=str(rule["channel"]),
            order_channel=tuple(str(value).strip().lower() for value in rule.get("order_channel") or ()),
            source=tuple(str(value).strip().lower() for value in rule.get("source") or ()),
            medium=tuple(str(value).strip().lower() for value in rule.get("medium") or ()),
            utm_missing=bool(rule.get("utm_missing", False)),
            otherwise=bool(rule.get("otherwise", False)),
        )
        conditions = parsed.order_channel or parsed.source or parsed.medium or parsed.utm_missing
        if parsed.otherwise == bool(conditions):
            raise RegistryError(f"{where} ({parsed.channel}): needs conditions, or `otherwise: true` alone")
        rules.append(parsed)
    if raw and not rules[-1].otherwise:
        raise RegistryError(f"{name}: the last acquisition_channels rule must be `otherwise: true`")
    return tuple(rules)


def _parse_kpi(entry: Any, index: int, slices: dict[str, Slice], name: str) -> Kpi:
    where = f"{name}: KPI entry {index}"
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: expected a mapping")
    if "id" in entry:
        where = f"{name}: KPI {entry['id']!r} (entry {index})"

    def fail(rule: str) -> RegistryError:
        return RegistryError(f"{where}: {rule}")

    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise fail(f"missing field(s) {missing}")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise fail(f"unknown field(s) {unknown}")

    kpi_id, ref = str(entry["id"]), str(entry["ref"])
    if not _ID.match(kpi_id):
        raise fail("id must be snake_case")
    if not _REF.match(ref):
        raise fail(f"ref {ref!r} is not a catalogue number 1-50 or C/Q/S/K/G code")
    for field, allowed in (("area", AREAS), ("dashboard", DASHBOARDS), ("kind", KINDS), ("unit", UNITS),
                           ("better", BETTER)):
        if entry[field] not in allowed:
            raise fail(f"{field} {entry[field]!r} is not one of {sorted(allowed)}")
    sources = _string_tuple(entry["sources"], "sources", fail)
    if not sources or set(sources) - SOURCES:
        raise fail(f"sources {list(sources)} must be a non-empty subset of {sorted(SOURCES)}")
    grains = _string_tuple(entry["grains"], "grains", fail)
    if set(grains) - set(GRAINS) or len(set(grains)) != len(grains):
        raise fail(f"grains {list(grains)} must be distinct values of {list(GRAINS)}")
    grains = tuple(grain for grain in GRAINS if grain in grains)
    kpi_slices = _string_tuple(entry["slices"], "slices", fail)
    undeclared = [slice_name for slice_name in kpi_slices if slice_name not in slices]
    if undeclared:
        raise fail(f"slices {undeclared} are not declared under `slices`")

    kind = entry["kind"]
    summary = _flag(entry, "summary", fail)
    confidential = _flag(entry, "confidential", fail)
    if kind == "list":
        if not entry.get("table") or not entry.get("columns"):
            raise fail("a list KPI needs `table` and `columns`")
        if kpi_slices:
            raise fail("a list KPI has no slices (its columns carry them)")
        if summary:
            raise fail("a list KPI cannot be on the summary")
    else:
        if entry.get("table") or entry.get("columns"):
            raise fail("only list KPIs have `table` and `columns`")
        if not grains:
            raise fail("a periodic KPI needs at least one grain")
    if kind in RATIO_KINDS and not (entry.get("numerator") and entry.get("denominator")):
        raise fail(f"a {kind} KPI must say what its numerator and denominator are")
    if kind == "share" and not kpi_slices:
        raise fail("a share KPI needs the slice it shares out")
    if confidential and "reseller" in kpi_slices:
        raise fail("a confidential KPI is never shown to resellers, so it has no reseller slice")
    if summary and "day" not in grains and "month" not in grains:
        raise fail("a summary KPI needs the day or the month grain")
    settles_after_days = entry.get("settles_after_days", 0)
    if isinstance(settles_after_days, bool) or not isinstance(settles_after_days, int) or settles_after_days < 0:
        raise fail("settles_after_days must be a whole number of days, 0 or more")

    return Kpi(
        id=kpi_id, ref=ref, title=str(entry["title"]), area=entry["area"], dashboard=entry["dashboard"],
        kind=kind, unit=entry["unit"], better=entry["better"], sources=sources,
        definition=" ".join(str(entry["definition"]).split()), grains=grains, slices=kpi_slices,
        summary=summary, confidential=confidential,
        numerator=entry.get("numerator"), denominator=entry.get("denominator"),
        benchmark=entry.get("benchmark"), target=_target(entry.get("target"), fail),
        table=entry.get("table"), columns=_string_tuple(entry.get("columns") or [], "columns", fail),
        settles_after_days=settles_after_days,
    )


def _string_tuple(value: Any, field: str, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(f"{field} must be a list of strings")
    return tuple(value)


def _flag(entry: dict, field: str, fail) -> bool:
    value = entry.get(field, False)
    if not isinstance(value, bool):
        raise fail(f"{field} must be true or false")
    return value


def _target(raw: Any, fail) -> Target | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw or set(raw) - {"min", "max"}:
        raise fail("target must be a mapping with min and/or max")
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(f"target {key} must be a number")
    return Target(min=raw.get("min"), max=raw.get("max"))
