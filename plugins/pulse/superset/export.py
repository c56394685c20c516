"""`pulse superset export`: write what Superset holds back into `superset_assets/`.

Exports every database, dataset, chart and dashboard through `/api/v1/assets/export/`, takes
the environment's values out again (`DeployEnvironment.strip`), rewrites instance-specific ids
and file names (`normalize.py`) and writes the canonical YAML. Right after a sync this writes
the committed files byte for byte; after a change in Superset's UI, `git diff` shows the change.
"""

from __future__ import annotations

from pathlib import Path

from pulse.superset.bundle import ASSETS_DIR, Bundle, read_bundle, unzip_export, write_bundle
from pulse.superset.client import SupersetClient
from pulse.superset.environment import DeployEnvironment
from pulse.superset.normalize import normalize_export


def exported_bundle(client: SupersetClient, environment: DeployEnvironment, root: Path = ASSETS_DIR) -> Bundle:
    files = unzip_export(client.request("GET", "/api/v1/assets/export/").content)
    return environment.strip(normalize_export(files, read_bundle(root)))


def export(client: SupersetClient, environment: DeployEnvironment, root: Path = ASSETS_DIR) -> list[str]:
    """Write the export into `root`; return the files that changed."""
    return write_bundle(exported_bundle(client, environment, root), root)
