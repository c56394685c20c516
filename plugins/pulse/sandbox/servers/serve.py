"""`pulse sandbox serve`: every sandbox API server in one foreground process, for the demo.

Each server listens on 127.0.0.1 at `PULSE_SANDBOX_BASE_PORT` + its position in `SERVERS`, with
credentials generated once into `data/secrets/sandbox_credentials.json` (the demo's Airflow
connections carry the same ones). `data/sandbox/endpoints.json` says where each server is.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

import click

from pulse.sandbox.servers import SERVERS, server_class
from pulse.sandbox.world_io import load_world
from pulse.settings import get_settings


def demo_credentials(data_dir: Path) -> dict[str, dict[str, str]]:
    """Per-source sandbox credentials, generated once (they protect nothing but loopback demos,
    yet are not committed anywhere)."""
    path = data_dir / "secrets" / "sandbox_credentials.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name in SERVERS:
        if name not in stored:
            stored[name] = {"login": f"pulse-{name}", "password": secrets.token_urlsafe(24)}
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(stored, indent=2, sort_keys=True))
        os.chmod(temporary, 0o600)
        temporary.replace(path)
    return stored


@click.command("serve")
@click.option("--world", "world_dir", type=click.Path(path_type=Path), default=None,
              help="directory of a generated world (default: data/sandbox)")
@click.option("--base-port", type=int, default=None, help="default: PULSE_SANDBOX_BASE_PORT")
def serve(world_dir: Path | None, base_port: int | None) -> None:
    """Serve the sandbox source APIs on 127.0.0.1 until interrupted."""
    settings = get_settings()
    world = load_world(world_dir or settings.data_dir / "sandbox")
    base_port = base_port or settings.sandbox_base_port
    credentials = demo_credentials(settings.data_dir)
    endpoints = {}
    for offset, name in enumerate(SERVERS):
        server = server_class(name)(world, port=base_port + offset, credentials=credentials[name])
        server.start()
        endpoints[name] = server.url
        click.echo(f"sandbox {name}: {server.url}")
    target = settings.data_dir / "sandbox" / "endpoints.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(endpoints, indent=2, sort_keys=True))
    threading.Event().wait()
