#!/usr/bin/env bash
# `make down`: stop every service `make up` started (its data dir's PID files), children included.
# Data stays: the PostgreSQL databases, Redis and the data dir are left as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
pulse_defaults() {  # the data dir `make up` uses, unless the env file names one
  export PULSE_DATA_DIR=${PULSE_DATA_DIR:-$PWD/data-production}
}
source scripts/lib/env.sh
exec "$PULSE_AIRFLOW_VENV/bin/pulse" services stop
