"""Each registry KPI as a `Measure` over the world's facts, grouped by the systems they come from."""

from __future__ import annotations

from pulse.sandbox.oracle.kpis import marketing, service, shop, web
from pulse.sandbox.oracle.kpis.common import MeasureBuilder

MEASURES: dict[str, MeasureBuilder] = {}
for _module in (marketing, web, shop, service):
    for _kpi_id, _builder in _module.MEASURES.items():
        if _kpi_id in MEASURES:
            raise RuntimeError(f"oracle: KPI {_kpi_id!r} is defined twice")
        MEASURES[_kpi_id] = _builder
