"""The asset bundle on disk (`superset_assets/`): Superset's import layout, one YAML file per object.

`metadata.yaml`, `databases/`, `datasets/<database>/`, `charts/`, `dashboards/` are Superset's own
import format, linked by uuid; `roles/` and `rls/` are Pulse's (applied through the REST API,
see `access.py`). Every file is written by `dump_yaml`, one canonical form (sorted keys,
multi-line text as literal blocks), so the generator, `pulse superset export` and a hand edit
all produce the same bytes for the same content and a change reads as a small diff.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pulse.settings import REPO_ROOT

ASSETS_DIR = REPO_ROOT / "superset_assets"
BUNDLE_DIRS = ("databases", "datasets", "charts", "dashboards")
METADATA_FILE = "metadata.yaml"
EXPORT_VERSION = "1.0.0"

# A bundle in memory: relative path ("charts/revenue.yaml") -> parsed YAML.
Bundle = dict[str, Any]


class BundleError(ValueError):
    """A bundle file is unreadable or breaks a rule; the message names the file."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Literal blocks keep SQL, templates and query contexts readable in diffs. YAML cannot
    # write a literal block for text with trailing spaces or tabs, so those stay quoted.
    if "\n" in value and not re.search(r"[ \t]\n|[ \t]$|\t", value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=True, allow_unicode=True,
                     default_flow_style=False, width=100)


def load_yaml(text: str, name: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BundleError(f"{name}: not valid YAML: {error}") from error


def slug(text: str) -> str:
    """File-name form of a title: lower case, words joined by underscores."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "_".join(words) or "untitled"


def read_bundle(root: Path = ASSETS_DIR) -> Bundle:
    """The import-bundle part of `root` (metadata.yaml and the four object folders)."""
    bundle: Bundle = {}
    metadata = root / METADATA_FILE
    if metadata.exists():
        bundle[METADATA_FILE] = load_yaml(metadata.read_text(encoding="utf-8"), METADATA_FILE)
    for folder in BUNDLE_DIRS:
        for path in sorted((root / folder).rglob("*.yaml")):
            name = path.relative_to(root).as_posix()
            bundle[name] = load_yaml(path.read_text(encoding="utf-8"), name)
    return bundle


def read_documents(root: Path, folder: str) -> dict[str, Any]:
    """Pulse's own YAML files in `root/folder` (roles/, rls/), by relative path."""
    return {
        path.relative_to(root).as_posix(): load_yaml(path.read_text(encoding="utf-8"), path.name)
        for path in sorted((root / folder).glob("*.yml"))
    }


def write_documents(root: Path, documents: Mapping[str, Any], existing: set[str]) -> list[str]:
    """Write each document as canonical YAML under `root` (unless unchanged) and delete the
    `existing` paths no document names; return the paths that changed."""
    changed = []
    wanted = {name: dump_yaml(document) for name, document in documents.items()}
    for name in sorted(existing - set(wanted)):
        (root / name).unlink()
        changed.append(name)
    for name, text in sorted(wanted.items()):
        path = root / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(name)
    return changed


def write_bundle(bundle: Mapping[str, Any], root: Path = ASSETS_DIR) -> list[str]:
    """Make the bundle folders of `root` hold exactly `bundle`; return the paths that changed.

    Files of the four object folders that are not in `bundle` are deleted; `roles/`, `rls/` and
    anything else under `root` are left alone.
    """
    existing = {path.relative_to(root).as_posix() for folder in BUNDLE_DIRS for path in (root / folder).rglob("*.yaml")}
    changed = write_documents(root, bundle, existing)
    for folder in BUNDLE_DIRS:
        for directory in sorted((root / folder).glob("**/"), reverse=True):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
    return changed


def zip_bundle(bundle: Mapping[str, Any], root_name: str = "pulse_assets") -> bytes:
    """The bundle as the ZIP `/api/v1/assets/import/` takes (every file under one top folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, document in sorted(bundle.items()):
            archive.writestr(f"{root_name}/{name}", dump_yaml(document))
    return buffer.getvalue()


def unzip_export(data: bytes) -> dict[str, str]:
    """The files of an `/api/v1/assets/export/` ZIP, by path below its top folder."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name.split("/", 1)[1]: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if "/" in name and not name.endswith("/")
        }
