"""`pulse superset export`: write what Superset holds back into `superset_assets/`.

Exports every database, dataset, chart and dashboard through `/api/v1/assets/export/`, takes
the environment's values out again (`DeployEnvironment.strip`), rewrites instance-specific ids
and file names (`normalize.py`) and writes the canonical YAML; report schedules and alerts go to
`reports/` (`reports.py`). Right after a sync this writes the committed files byte for byte;
after a change in Superset's UI, `git diff` shows the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulse.superset.bundle import ASSETS_DIR, Bundle, read_bundle, unzip_export, write_bundle
from pulse.superset.client import SupersetClient
from pulse.superset.environment import DeployEnvironment
from pulse.superset.normalize import normalize_export
from pulse.superset.reports import exported_schedules, write_schedules


def exported_bundle(client: SupersetClient, environment: DeployEnvironment, root: Path = ASSETS_DIR) -> Bundle:
    files = unzip_export(client.request("GET", "/api/v1/assets/export/").content)
    return environment.strip(normalize_export(files, read_bundle(root)))


def export(client: SupersetClient, environment: DeployEnvironment, root: Path = ASSETS_DIR, *,
           schedule_variables: Mapping[str, Any] | None = None) -> list[str]:
    """Write the export into `root`; return the files that changed."""
    schedules = exported_schedules(client, root, variables=schedule_variables)
    return write_bundle(exported_bundle(client, environment, root), root) + write_schedules(schedules, root)
