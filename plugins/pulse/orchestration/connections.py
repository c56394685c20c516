"""The Airflow connections Pulse's DAGs use, as environment values (`AIRFLOW_CONN_<ID>`).

- `pulse_<source>`, one per source (`pulse.sources.connections`). The demo defines them in the
  Airflow processes' environment, pointing at the sandbox servers with the demo credentials; in
  production they live in Airflow's secrets backend (docs/operations.md), never in a file here.
- `pulse_smtp`, where the data team's alerts go. Built from the `PULSE_SMTP_*` settings unless
  Airflow itself defines `pulse_smtp` (secrets backend or environment), which then wins.

Airflow reads a JSON connection from an environment variable (`{"conn_type": ..., "host": ...}`).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from pulse.settings import Settings
from pulse.sources.connections import SourceConnection, conn_id_for

SMTP_CONN_ID = "pulse_smtp"


def env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def as_airflow_json(connection: SourceConnection) -> str:
    """A source connection as the JSON Airflow reads from `AIRFLOW_CONN_*`."""
    fields: dict[str, Any] = {
        "conn_type": connection.conn_type, "host": connection.host, "port": connection.port,
        "schema": connection.schema, "login": connection.login,
        "password": connection.password.get_secret_value() or None, "extra": connection.extra or None,
    }
    return json.dumps({key: value for key, value in fields.items() if value is not None}, sort_keys=True)


def smtp_fields(settings: Settings) -> dict[str, Any]:
    """The SMTP provider's connection fields for the `PULSE_SMTP_*` settings."""
    fields = {
        "conn_type": "smtp", "host": settings.smtp_host, "port": settings.smtp_port,
        "login": settings.smtp_user or None, "password": settings.smtp_password.get_secret_value() or None,
        # the provider's switches are negative: TLS and SSL are on unless disabled
        "extra": {"from_email": settings.mail_from, "disable_tls": not settings.smtp_starttls,
                  "disable_ssl": not settings.smtp_ssl, "timeout": 30, "retry_limit": 2},
    }
    return {key: value for key, value in fields.items() if value is not None}


def smtp_connection(settings: Settings, conn_id: str = SMTP_CONN_ID):
    from airflow.sdk import Connection

    fields = smtp_fields(settings)
    return Connection(conn_id=conn_id, conn_type="smtp", host=fields["host"], port=fields["port"],
                      login=fields.get("login"), password=fields.get("password"), extra=json.dumps(fields["extra"]))


def sandbox_connections(data_dir: Path, endpoints: dict[str, str], shop_database: Path) -> dict[str, str]:
    """`AIRFLOW_CONN_PULSE_<SOURCE>` for every sandbox server (`pulse sandbox serve`: `endpoints` is
    its endpoints.json) and the sandbox shop database, with the demo credentials."""
    from pulse.sandbox.servers import server_class
    from pulse.sandbox.servers.ga4 import SANDBOX_PROPERTY_ID
    from pulse.sandbox.servers.serve import demo_credentials
    from pulse.sandbox.shopdb import source_connection as shop_connection

    credentials = demo_credentials(data_dir)
    values = {}
    for name, url in endpoints.items():
        address = urlsplit(url)
        # Each server class says how a connector reaches it (`source_connection`); it is called on
        # the address the running server announced, so the shape of every connection stays there.
        where = SimpleNamespace(host=address.hostname, port=address.port, credentials=credentials[name],
                                property_id=SANDBOX_PROPERTY_ID)
        values[env_name(conn_id_for(name))] = as_airflow_json(server_class(name).source_connection(where))
    values[env_name(conn_id_for("shop"))] = as_airflow_json(shop_connection(f"sqlite:///{shop_database}"))
    return values
