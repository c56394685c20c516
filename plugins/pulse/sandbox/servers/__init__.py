"""Sandbox API servers, one per source API, speaking the real API's shapes. `SERVERS` names each
once: `pulse sandbox serve` starts them all, tests start the one they need."""

from __future__ import annotations

import importlib

from pulse.sandbox.servers.base import SandboxServer

# source name -> "module:class"
SERVERS: dict[str, str] = {
    "ga4": "pulse.sandbox.servers.ga4:GA4Server",
    "hubspot": "pulse.sandbox.servers.hubspot:HubSpotServer",
    "zendesk": "pulse.sandbox.servers.zendesk:ZendeskServer",
    "aircall": "pulse.sandbox.servers.aircall:AircallServer",
    "easypost": "pulse.sandbox.servers.easypost:EasyPostServer",
}


def server_class(name: str) -> type[SandboxServer]:
    module, _, attribute = SERVERS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)
