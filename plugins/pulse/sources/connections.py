"""Source credentials: one Airflow connection per source, `pulse_<source>`.

In the demo they come from the environment (`AIRFLOW_CONN_PULSE_<SOURCE>`, written by `make demo`);
in production from Airflow's secrets backend (Vault, AWS Secrets Manager, ...), configured in
Airflow alone. Airflow's lookup also registers each password with its log masker, so a secret
that reaches a task log is printed as `***`. Nothing here ever logs a credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr


class MissingConnection(LookupError):
    pass


@dataclass(frozen=True)
class SourceConnection:
    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    login: str | None = None
    password: SecretStr = field(default_factory=lambda: SecretStr(""))
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """`scheme://host[:port][/schema]`: the API root (production hosts are https)."""
        host = self.host or ""
        if "://" in host:
            base = host.rstrip("/")
        else:
            scheme = self.extra.get("scheme") or ("http" if host in {"127.0.0.1", "localhost"} else "https")
            base = f"{scheme}://{host}" + (f":{self.port}" if self.port else "")
        return base + (f"/{self.schema.strip('/')}" if self.schema else "")

    def __repr__(self) -> str:  # never print the secret
        return f"SourceConnection({self.conn_id!r}, host={self.host!r}, port={self.port!r}, login={self.login!r})"


def conn_id_for(source: str) -> str:
    return f"pulse_{source}"


def get_connection(source: str) -> SourceConnection:
    from airflow.exceptions import AirflowNotFoundException
    from airflow.sdk import BaseHook

    conn_id = conn_id_for(source)
    try:
        airflow_connection = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException as error:
        raise MissingConnection(
            f"no Airflow connection {conn_id!r} for source {source}: define AIRFLOW_CONN_{conn_id.upper()} "
            f"or add it to the secrets backend (docs/deploy.md)"
        ) from error
    return SourceConnection(
        conn_id=conn_id,
        conn_type=airflow_connection.conn_type,
        host=airflow_connection.host,
        port=airflow_connection.port,
        schema=airflow_connection.schema,
        login=airflow_connection.login,
        password=SecretStr(airflow_connection.password or ""),
        extra=dict(airflow_connection.extra_dejson or {}),
    )
