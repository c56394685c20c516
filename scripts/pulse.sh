#!/usr/bin/env bash
# The `pulse` command with the stack's settings (in production the warehouse URL is built from
# .env), for operators: `scripts/pulse.sh batches`, or in a container
# `docker compose run --rm airflow-init /opt/pulse/scripts/pulse.sh replay <batch id>`.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_airflow_env
exec pulse "$@"
