"""What a deployment fills into the committed bundle, and what `export` takes out again.

The committed YAML holds no connection string, password or host name. At deploy time:
- the database `Pulse warehouse` gets its `sqlalchemy_uri` and `extra.engine_params` from the
  warehouse URL (`PULSE_WAREHOUSE_URL`; for DuckDB, the serving copy beside it) and its password
  goes in the import request's `passwords` field, never into a file;
- `${NAME}` placeholders in any text (e.g. the Data Docs link on the data-health dashboard) are
  replaced by their values.
`strip()` reverses both on an export, so export after deploy gives back the committed files.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from pulse.settings import Settings, get_settings
from pulse.superset.bundle import Bundle
from pulse.warehouse.publish import serving_path

WAREHOUSE_DATABASE_NAME = "Pulse warehouse"
# Committed in place of the URI; `render` replaces it.
URI_PLACEHOLDER = "${SUPERSET_WAREHOUSE_URI}"
# Superset's own mask for a password inside a URI; the real one travels in `passwords`.
PASSWORD_MASK = "XXXXXXXXXX"


class EnvironmentError_(ValueError):
    pass


@dataclass(frozen=True)
class WarehouseConnection:
    """How Superset (psycopg2 / duckdb-engine, SQLAlchemy 1.4) reaches the warehouse."""

    sqlalchemy_uri: str  # password masked
    password: str | None
    engine_params: dict[str, Any]

    @property
    def engine(self) -> str:
        return make_url(self.sqlalchemy_uri).get_backend_name()


def warehouse_connection(url: str) -> WarehouseConnection:
    """Superset's connection to the warehouse database at `url` (a Pulse-style SQLAlchemy URL).

    DuckDB: `url` names the file Superset opens, which must be the serving copy, never the
    pipeline's own file; it is opened read only and without access to other files (no
    `read_csv('/etc/passwd')` from SQL Lab). PostgreSQL: the same database through psycopg2 (the
    Superset runtime's driver), in read-only transactions.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "duckdb":
        if not parsed.database or parsed.database == ":memory:":
            raise EnvironmentError_(f"warehouse URL {url!r}: Superset needs a DuckDB file")
        return WarehouseConnection(
            sqlalchemy_uri=f"duckdb:///{Path(parsed.database).resolve()}",
            password=None,
            engine_params={"connect_args": {"read_only": True, "config": {"enable_external_access": False}}},
        )
    if backend in {"postgresql", "postgres"}:
        superset_url = parsed.set(drivername="postgresql+psycopg2")
        if superset_url.password:
            superset_url = superset_url.set(password=PASSWORD_MASK)
        return WarehouseConnection(
            sqlalchemy_uri=superset_url.render_as_string(hide_password=False),
            password=parsed.password,
            engine_params={"connect_args": {"options": "-c default_transaction_read_only=on",
                                            "application_name": "superset"}},
        )
    raise EnvironmentError_(f"warehouse URL {parsed.render_as_string(hide_password=True)!r}: "
                            "Superset supports duckdb:/// and postgresql:// warehouses")


@dataclass(frozen=True)
class DeployEnvironment:
    warehouse: WarehouseConnection
    variables: dict[str, str] = field(default_factory=dict)  # ${NAME} -> value

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> DeployEnvironment:
        """PostgreSQL: the warehouse itself; DuckDB: its serving copy."""
        settings = settings or get_settings()
        url = settings.warehouse_url_resolved
        if make_url(url).get_backend_name() == "duckdb":
            url = f"duckdb:///{serving_path()}"
        return cls.for_warehouse(url, data_docs_url=settings.data_docs_url)

    @classmethod
    def for_warehouse(cls, url: str, *, data_docs_url: str) -> DeployEnvironment:
        return cls(warehouse=warehouse_connection(url), variables={"PULSE_DATA_DOCS_URL": data_docs_url})

    # --- deploy ---------------------------------------------------------------------------
    def render(self, bundle: Bundle) -> tuple[Bundle, dict[str, str]]:
        """The bundle to import and the `passwords` field of the import request."""
        rendered = _replace_text(copy.deepcopy(bundle), {f"${{{k}}}": v for k, v in self.variables.items()})
        passwords = {}
        for name, document in rendered.items():
            if _is_warehouse_database(name, document):
                document["sqlalchemy_uri"] = self.warehouse.sqlalchemy_uri
                document.setdefault("extra", {})["engine_params"] = copy.deepcopy(self.warehouse.engine_params)
                if self.warehouse.password is not None:
                    passwords[name] = self.warehouse.password
        return rendered, passwords

    # --- export ---------------------------------------------------------------------------
    def strip(self, bundle: Bundle) -> Bundle:
        """Take this environment's values out of an exported bundle (the inverse of `render`)."""
        stripped = _replace_text(copy.deepcopy(bundle), {v: f"${{{k}}}" for k, v in self.variables.items() if v})
        for name, document in stripped.items():
            if _is_warehouse_database(name, document):
                document["sqlalchemy_uri"] = URI_PLACEHOLDER
                document.setdefault("extra", {})["engine_params"] = {}
        return stripped


def _is_warehouse_database(name: str, document: Any) -> bool:
    return name.startswith("databases/") and isinstance(document, dict) \
        and document.get("database_name") == WAREHOUSE_DATABASE_NAME


def _replace_text(value: Any, replacements: dict[str, str]) -> Any:
    if not replacements:
        return value
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: _replace_text(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_text(item, replacements) for item in value]
    return value
