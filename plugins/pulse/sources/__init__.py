"""Source connectors, one module per source. `SOURCES` names each once; the DAGs, `pulse replay`
and the validation suites find sources and streams through it."""

from __future__ import annotations

import importlib
from functools import cache

from pulse.sources.base import Source
from pulse.sources.streams import Stream

# source name -> "module:class"
SOURCES: dict[str, str] = {
    "ga4": "pulse.sources.ga4:GA4Source",
    "shop": "pulse.sources.shop:ShopSource",
    "carrier_files": "pulse.sources.carrier_files:CarrierFilesSource",
    "ad_spend": "pulse.sources.ad_spend:AdSpendSource",
    "nps": "pulse.sources.nps:NpsSource",
    "site_speed": "pulse.sources.site_speed:SiteSpeedSource",
    "hubspot": "pulse.sources.hubspot:HubSpotSource",
    "zendesk": "pulse.sources.zendesk:ZendeskSource",
    "aircall": "pulse.sources.aircall:AircallSource",
    "easypost": "pulse.sources.easypost:EasyPostSource",
}


@cache
def source_class(name: str) -> type[Source]:
    if name not in SOURCES:
        raise KeyError(f"unknown source {name!r}; known: {sorted(SOURCES)}")
    module, _, attribute = SOURCES[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def all_streams() -> list[Stream]:
    return [stream for name in SOURCES for stream in source_class(name).streams]


def find_stream(key: str) -> Stream:
    """A stream by `<source>.<stream>`."""
    source, _, stream = key.partition(".")
    return source_class(source).stream(stream)
