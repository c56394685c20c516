"""KPI definitions: the registry (`kpis.yml`) and what reads it."""

from pulse.kpi.registry import Kpi, Registry, RegistryError, load_registry

__all__ = ["Kpi", "Registry", "RegistryError", "load_registry"]
