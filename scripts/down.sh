#!/usr/bin/env bash
# `make down`: stop every service `make up` started (its data dir's PID files), children included.
# Data stays: the PostgreSQL databases, Redis and the data dir are left as they are.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
exec "$PULSE_AIRFLOW_VENV/bin/pulse" services stop
