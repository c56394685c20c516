"""How a KPI aggregates: record sets (`Part`) per side, grouped by period and slice.

A KPI is a numerator (and for ratios a denominator), each a set of records with a business-local
`day`, the slice columns the records carry and a way to aggregate them. A side that does not carry
the requested slice is the period's total for every slice value (that is what makes a share a share).
Rows follow the registry conventions: the `all` slice is dense over the window's periods; other
slices have a row where a record carries the value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pulse.kpi.registry import ORDER_STATISTIC_KINDS, RATIO_KINDS
from pulse.sandbox.oracle.periods import period_start

AGGREGATES = ("count", "sum", "cents", "distinct", "median", "min", "max")


@dataclass(frozen=True)
class Part:
    """Records with a `day` column (NaT: in no period). `frame` may depend on the grain (a callable)
    when a record's membership does, e.g. "ordered before this period started"."""

    frame: pd.DataFrame | Callable[[str], pd.DataFrame]
    agg: str = "count"
    column: str | None = None  # summed / distinct / order-statistic column; `cents` sums int64 cents

    def __post_init__(self) -> None:
        if self.agg not in AGGREGATES:
            raise ValueError(f"unknown aggregate {self.agg!r}")
        if self.agg != "count" and not self.column:
            raise ValueError(f"aggregate {self.agg!r} needs a column")

    def records(self, grain: str, slice_name: str) -> tuple[pd.DataFrame, bool]:
        """The dated records with only the columns needed, and whether they carry the slice."""
        frame = self.frame(grain) if callable(self.frame) else self.frame
        sliced = slice_name != "all" and slice_name in frame.columns
        columns = ["day", *([slice_name] if sliced else []), *([self.column] if self.column else [])]
        frame = frame[list(dict.fromkeys(columns))]
        return frame[frame["day"].notna()], sliced


@dataclass(frozen=True)
class Difference:
    """plus minus minus, per group (e.g. total users - new users)."""

    plus: Part
    minus: Part


@dataclass(frozen=True)
class Measure:
    numerator: Part | Difference
    denominator: Part | None = None
    # slices computed from other records (e.g. margin per category from order lines)
    by_slice: dict[str, Measure] = field(default_factory=dict)


def evaluate(measure: Measure, kind: str, grain: str, slice_name: str, null_label: str,
             window: pd.DatetimeIndex) -> pd.DataFrame:
    """Rows [period, slice_value, numerator, denominator, value] for one grain and slice."""
    measure = measure.by_slice.get(slice_name, measure)
    if (kind in RATIO_KINDS) != (measure.denominator is not None):
        raise ValueError(f"a {kind} KPI {'needs' if kind in RATIO_KINDS else 'has no'} denominator")
    numerator, numerator_sliced = _side(measure.numerator, grain, slice_name, null_label)
    denominator, denominator_sliced = (
        _side(measure.denominator, grain, slice_name, null_label) if measure.denominator else (None, False)
    )
    if slice_name == "all":
        index = pd.MultiIndex.from_arrays([window, pd.Index(["all"] * len(window))], names=["period", "slice_value"])
    else:
        if not (numerator_sliced or denominator_sliced):
            raise KeyError(f"no record of this KPI carries the slice {slice_name!r}")
        sliced = [series for series, is_sliced in ((numerator, numerator_sliced), (denominator, denominator_sliced))
                  if is_sliced]
        index = sliced[0].index
        for series in sliced[1:]:
            index = index.union(series.index)
        index = index[index.get_level_values("period").isin(window)]

    fill = np.nan if kind in ORDER_STATISTIC_KINDS else 0.0
    num = _align(numerator, index, fill)
    den = _align(denominator, index, 0.0) if denominator is not None else None
    result = pd.DataFrame({
        "period": index.get_level_values("period"),
        "slice_value": index.get_level_values("slice_value").astype(str),
    })
    if kind in RATIO_KINDS:
        result["numerator"] = num
        result["denominator"] = den
        with np.errstate(divide="ignore", invalid="ignore"):
            result["value"] = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
    elif kind in ORDER_STATISTIC_KINDS:
        result["numerator"] = np.nan
        result["denominator"] = np.nan
        result["value"] = num
    else:
        result["numerator"] = num
        result["denominator"] = np.nan
        result["value"] = num
    return result.sort_values(["period", "slice_value"], ignore_index=True)


def _side(side: Part | Difference, grain: str, slice_name: str, null_label: str) -> tuple[pd.Series, bool]:
    if isinstance(side, Part):
        return _aggregate(side, grain, slice_name, null_label)
    plus, plus_sliced = _aggregate(side.plus, grain, slice_name, null_label)
    minus, minus_sliced = _aggregate(side.minus, grain, slice_name, null_label)
    if plus_sliced != minus_sliced:
        raise ValueError(f"both sides of a difference must carry slice {slice_name!r}")
    index = plus.index.union(minus.index)
    return plus.reindex(index, fill_value=0) - minus.reindex(index, fill_value=0), plus_sliced


def _aggregate(part: Part, grain: str, slice_name: str, null_label: str) -> tuple[pd.Series, bool]:
    records, sliced = part.records(grain, slice_name)
    keys = [period_start(records["day"], grain).rename("period")]
    if sliced:
        keys.append(records[slice_name].astype("string").fillna(null_label).rename("slice_value"))
    if part.agg == "count":
        grouped = pd.Series(1, index=records.index, dtype="int64").groupby(keys).sum()
    else:
        values = records[part.column]
        groups = values.groupby(keys)
        if part.agg == "sum":
            grouped = groups.sum()
        elif part.agg == "cents":
            grouped = values.astype("int64").groupby(keys).sum() / 100
        elif part.agg == "distinct":
            grouped = groups.nunique()
        else:
            grouped = getattr(groups, part.agg)()
    grouped = grouped.astype("float64")
    if not sliced:
        grouped.index = pd.Index(grouped.index, name="period")
    return grouped, sliced


def _align(series: pd.Series, index: pd.MultiIndex, fill: float) -> np.ndarray:
    if series.index.nlevels == 1:  # the period's total, the same for every slice value
        return series.reindex(index.get_level_values("period"), fill_value=fill).to_numpy(dtype="float64")
    return series.reindex(index, fill_value=fill).to_numpy(dtype="float64")
