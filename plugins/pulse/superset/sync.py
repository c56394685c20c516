"""`pulse superset sync`: deploy `superset_assets/` to a Superset, idempotently.

1. render the bundle for this environment (warehouse connection, ${NAME} values; the
   password travels in the request, never in a file) and import it through
   `/api/v1/assets/import/`, which overwrites every object by uuid;
2. optionally delete charts, dashboards and datasets that are no longer in the bundle (`prune`);
3. apply roles, dashboard access and row-level security (`access.py`);
4. apply the report schedules and alerts of `reports/` (`reports.py`; `prune` deletes the others).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulse.superset.access import AccessApplier, load_access
from pulse.superset.bundle import ASSETS_DIR, read_bundle, zip_bundle
from pulse.superset.client import SupersetClient
from pulse.superset.environment import DeployEnvironment
from pulse.superset.reports import ScheduleChanges, apply_schedules

# Superset's list endpoint per bundle folder (pruning order: dependents first)
RESOURCES = (("dashboards", "dashboard"), ("charts", "chart"), ("datasets", "dataset"))


@dataclass
class SyncReport:
    imported: int = 0
    pruned: dict[str, list[str]] = field(default_factory=dict)
    access: dict[str, Any] = field(default_factory=dict)
    schedules: ScheduleChanges = field(default_factory=ScheduleChanges)


def import_bundle(client: SupersetClient, environment: DeployEnvironment, root: Path = ASSETS_DIR) -> int:
    bundle = read_bundle(root)
    rendered, passwords = environment.render(bundle)
    client.post(
        "/api/v1/assets/import/",
        files={"bundle": ("pulse_assets.zip", zip_bundle(rendered), "application/zip")},
        data={"passwords": json.dumps(passwords)},
    )
    return len(bundle) - 1  # without metadata.yaml


def prune(client: SupersetClient, root: Path = ASSETS_DIR) -> dict[str, list[str]]:
    """Delete the charts, dashboards and datasets Superset has and the bundle does not."""
    bundle = read_bundle(root)
    pruned: dict[str, list[str]] = {}
    for folder, resource in RESOURCES:
        wanted = {doc["uuid"] for name, doc in bundle.items() if name.startswith(f"{folder}/")}
        for row in client.list(resource, columns=["id", "uuid"]):
            if row["uuid"] not in wanted:
                client.delete(f"/api/v1/{resource}/{row['id']}")
                pruned.setdefault(folder, []).append(row["uuid"])
    return pruned


def sync(client: SupersetClient, environment: DeployEnvironment, root: Path = ASSETS_DIR, *,
         prune_missing: bool = False, schedule_variables: Mapping[str, Any] | None = None) -> SyncReport:
    """`schedule_variables`: the `${NAME}`s of the schedule files (default: from the settings)."""
    report = SyncReport(imported=import_bundle(client, environment, root))
    if prune_missing:
        report.pruned = prune(client, root)
    report.access = AccessApplier(client, load_access(root), read_bundle(root)).apply()
    report.schedules = apply_schedules(client, root, variables=schedule_variables, prune=prune_missing)
    if report.schedules.pruned:
        report.pruned["reports"] = report.schedules.pruned
    return report
