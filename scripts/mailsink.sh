#!/usr/bin/env bash
# The local SMTP sink (demo, `make up` with the demo profile, docker-compose.yml's demo profile):
# every message becomes a file under data/mail. PULSE_MAILSINK_HOST: the address to listen on
# (127.0.0.1; the compose network needs 0.0.0.0, unpublished).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
export PATH="$PULSE_AIRFLOW_VENV/bin:$PATH"
exec pulse mailsink --host "${PULSE_MAILSINK_HOST:-127.0.0.1}" --port "${PULSE_SMTP_PORT:-8025}"
