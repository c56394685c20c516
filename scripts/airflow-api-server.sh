#!/usr/bin/env bash
# One Airflow component for the production stack (docker-compose.yml, `make up`).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_airflow_env
exec airflow api-server --host "$AIRFLOW__API__HOST" --port "$AIRFLOW__API__PORT"
