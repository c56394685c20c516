#!/usr/bin/env bash
# `make demo`: the whole of Pulse on the sandbox company, on 127.0.0.1 (see `pulse demo start`).
# Idempotent: a second run reuses the company, the services and the DAG runs that exist.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_airflow_env        # AIRFLOW_HOME, API address and the admin password file under data/
pulse_superset_env       # Superset's address, secret key and config
cd "$PULSE_HOME"
exec "$PULSE_AIRFLOW_VENV/bin/pulse" demo start
