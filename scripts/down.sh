#!/usr/bin/env bash
# `make down`: stop every service `make up` started (its data dir's PID files), children included.
# Data stays: the PostgreSQL databases, Redis and the data dir are left as they are. It reads the
# same env file as `make up` (PULSE_ENV_FILE) to find that data dir.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
# without production mode the data dir would be the demo's: `make stop` stops the demo
if ! pulse_production; then
  echo "make down: $PULSE_ENV_FILE does not set PULSE_ENV=production, so there is no \`make up\` stack to" \
       "find (give the env file \`make up\` used: make down PULSE_ENV_FILE=...; \`make stop\` stops the demo)" >&2
  exit 1
fi
exec "$PULSE_AIRFLOW_VENV/bin/pulse" services stop
