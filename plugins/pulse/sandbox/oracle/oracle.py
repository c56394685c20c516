"""The truth oracle: every registry KPI computed from the world's own records, in pandas.

It is what the SQL KPI layer must produce from what the production sources expose: rows shaped
like `kpi.kpi_values` (docs/data-contracts.md section 5) and the list tables of `kpi.*`. It never
reads a warehouse. For the company as of an earlier clock, pass `world.as_of(clock)` and that clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

import pandas as pd

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import GRAINS, Kpi, Registry, load_registry
from pulse.sandbox.oracle import lists
from pulse.sandbox.oracle.facts import Facts
from pulse.sandbox.oracle.kpis import MEASURES
from pulse.sandbox.oracle.kpis.common import Rules
from pulse.sandbox.oracle.measures import evaluate
from pulse.sandbox.oracle.periods import window_periods
from pulse.sandbox.world_io import World
from pulse.settings import Settings, get_settings

VALUE_COLUMNS = ["period_start", "grain", "kpi_id", "slice_name", "slice_value", "numerator", "denominator", "value"]

# list KPIs and the kpi.* table that holds them
_PERIODIC_LISTS = {
    "top_search_terms": lists.top_search_terms,
    "top_exit_pages": lists.top_exit_pages,
    "top_customers": lists.top_customers,
    "order_heatmap": lists.order_heatmap,
}


class Oracle:
    def __init__(
        self,
        world: World,
        calendar: BusinessCalendar | None = None,
        settings: Settings | None = None,
        registry: Registry | None = None,
        clock: dt.datetime | None = None,
    ):
        settings = settings or get_settings()
        self.world = world
        self.calendar = calendar or BusinessCalendar.from_settings(settings)
        self.registry = registry or load_registry()
        self.clock = clock or world.meta.now
        self.rules = Rules(phone_sla_seconds=settings.phone_sla_seconds, ticket_sla_hours=settings.ticket_sla_hours)
        self.facts = Facts(world, self.calendar, self.clock, self.registry.acquisition_channels)
        missing = [kpi.id for kpi in self.registry.periodic() if kpi.id not in MEASURES]
        if missing:
            raise RuntimeError(f"oracle: no computation for registry KPI(s) {missing}")
        self._values = cache(self._compute_values)

    # ------------------------------------------------------------------ periods
    @property
    def first_day(self) -> dt.date:
        return self.world.meta.start

    @property
    def last_day(self) -> dt.date:
        """The as-of day: the last complete business day of the world."""
        return self.world.meta.end

    def periods(self, grain: str) -> list[dt.date]:
        """Every period of the grain that overlaps the world's window, by period_start."""
        return [stamp.date() for stamp in self._window(grain)]

    def _window(self, grain: str) -> pd.DatetimeIndex:
        if grain not in GRAINS:
            raise ValueError(f"unknown grain {grain!r}; use one of {list(GRAINS)}")
        return window_periods(self.first_day, self.last_day, grain)

    # ------------------------------------------------------------------ periodic KPIs
    def values(self, kpi_id: str, grain: str) -> pd.DataFrame:
        """kpi_values rows of one KPI and grain: the `all` slice and each registry slice."""
        return self._values(kpi_id, grain).copy()

    def value(self, kpi_id: str, grain: str, period_start: dt.date, slice_name: str = "all",
              slice_value: str = "all") -> float | None:
        """The value of one row; None when the row does not exist or its value is null."""
        rows = self._values(kpi_id, grain)
        match = rows[(rows["period_start"] == period_start) & (rows["slice_name"] == slice_name)
                     & (rows["slice_value"] == slice_value)]
        if match.empty or pd.isna(match["value"].iloc[0]):
            return None
        return float(match["value"].iloc[0])

    def all_values(self, grains: Iterable[str] | None = None, kpi_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """kpi_values rows of many KPIs (default: every periodic KPI at each of its grains)."""
        kpis = [self.registry.get(kpi_id) for kpi_id in kpi_ids] if kpi_ids else self.registry.periodic()
        frames = [self._values(kpi.id, grain) for kpi in kpis for grain in (grains or kpi.grains)
                  if grain in kpi.grains]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=VALUE_COLUMNS)

    def _compute_values(self, kpi_id: str, grain: str) -> pd.DataFrame:
        kpi = self._periodic_kpi(kpi_id, grain)
        measure = MEASURES[kpi_id](self.facts, self.rules)
        window = self._window(grain)
        frames = []
        for slice_name in ("all", *kpi.slices):
            null_label = self.registry.slices[slice_name].null_label if slice_name != "all" else "all"
            try:
                rows = evaluate(measure, kpi.kind, grain, slice_name, null_label, window)
            except (KeyError, ValueError) as error:
                raise RuntimeError(f"oracle: KPI {kpi_id!r}, slice {slice_name!r}: {error}") from error
            rows.insert(0, "slice_name", slice_name)
            frames.append(rows)
        result = pd.concat(frames, ignore_index=True)
        result["period_start"] = result.pop("period").dt.date
        result["grain"] = grain
        result["kpi_id"] = kpi_id
        for column in ("numerator", "denominator", "value"):
            result[column] = result[column].astype("float64")
        return result[VALUE_COLUMNS]

    def _periodic_kpi(self, kpi_id: str, grain: str) -> Kpi:
        kpi = self.registry.get(kpi_id)
        if kpi.is_list:
            raise ValueError(f"KPI {kpi_id!r} is a list: use Oracle.list({kpi_id!r}, ...)")
        if grain not in kpi.grains:
            raise ValueError(f"KPI {kpi_id!r} has no {grain!r} grain (grains: {list(kpi.grains)})")
        return kpi

    # ------------------------------------------------------------------ list KPIs
    def list(self, kpi_id: str, grain: str | None = None) -> pd.DataFrame:
        """A list KPI's rows: per period for periodic lists (grain required), else as of the clock.
        Per-customer KPIs (K1-K7) share the customer_facts table and return its columns for that KPI."""
        kpi = self.registry.get(kpi_id)
        if not kpi.is_list:
            raise ValueError(f"KPI {kpi_id!r} is not a list: use Oracle.values({kpi_id!r}, grain)")
        if kpi.grains:
            if grain not in kpi.grains:
                raise ValueError(f"list {kpi_id!r} needs a grain among {list(kpi.grains)}")
            return self.table(kpi.table, grain)
        table = self.table(kpi.table)
        return table[list(kpi.columns)]

    def table(self, name: str, grain: str | None = None) -> pd.DataFrame:
        """A whole list table of kpi.* (top_search_terms, ..., quote_list, customer_facts)."""
        if name in _PERIODIC_LISTS:
            if grain is None:
                raise ValueError(f"table {name!r} is per period: give a grain")
            return _PERIODIC_LISTS[name](self.facts, grain, self._window(grain))
        if name == "quote_list":
            return lists.quote_list(self.facts)
        if name == "customer_facts":
            return lists.customer_facts(self.facts, self.last_day)
        raise KeyError(f"no list table {name!r}")

