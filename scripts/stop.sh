#!/usr/bin/env bash
# `make stop`: stop exactly the services `make demo` started (PID files in data/run).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$PULSE_HOME"
exec "$PULSE_AIRFLOW_VENV/bin/pulse" demo stop
