#!/usr/bin/env bash
# The sandbox company's sources for the demo (`make demo`), `make up PROFILES=demo` and
# docker-compose.yml's demo profile: the company (generated once into data/sandbox), its shop
# database and CSV drops, then the source APIs (`pulse sandbox serve`, 127.0.0.1 only).
#
# Once the APIs listen, the Airflow connections to them (with the demo credentials) are written to
# data/sandbox/connections.json, the file Airflow's LocalFilesystemBackend reads in production mode
# with the demo profile (the demo itself passes them as environment instead).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
export PATH="$PULSE_AIRFLOW_VENV/bin:$PATH"
sandbox=$PULSE_DATA_DIR/sandbox
python - <<'PY'
from pulse.orchestration.demo import generate_company, write_company_systems
from pulse.settings import get_settings

settings = get_settings()
print(f"sandbox: {generate_company(settings)}; {write_company_systems(settings)}", flush=True)
PY

rm -f "$sandbox/endpoints.json"
pulse sandbox serve &
serve=$!
trap 'kill -TERM "$serve" 2>/dev/null' TERM INT
until [ -s "$sandbox/endpoints.json" ]; do  # written once every server listens
  kill -0 "$serve" 2>/dev/null || { wait "$serve"; exit 1; }
  sleep 0.5
done
python - <<'PY'
import json
import os

from pulse.orchestration.connections import sandbox_connections
from pulse.orchestration.demo import sandbox_dir, shop_database
from pulse.settings import get_settings

settings = get_settings()
endpoints = json.loads((sandbox_dir(settings) / "endpoints.json").read_text())
connections = {
    name.removeprefix("AIRFLOW_CONN_").lower(): json.loads(value)
    for name, value in sandbox_connections(settings.data_dir, endpoints, shop_database(settings)).items()
}
target = sandbox_dir(settings) / "connections.json"
partial = target.with_suffix(".partial")
partial.write_text(json.dumps(connections, indent=2, sort_keys=True))
os.chmod(partial, 0o600)
partial.replace(target)
print(f"sandbox: Airflow connections {', '.join(sorted(connections))} in {target}", flush=True)
PY
wait "$serve"
