#!/usr/bin/env bash
# Serve Superset's web UI and API with gunicorn (the same in the demo, tests and containers).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_superset_env
exec gunicorn \
  --bind "$SUPERSET_HOST:$SUPERSET_PORT" \
  --workers "${SUPERSET_WEB_WORKERS:-2}" \
  --worker-class gthread --threads "${SUPERSET_WEB_THREADS:-4}" \
  --timeout "${SUPERSET_WEB_TIMEOUT:-120}" \
  --limit-request-line 0 --limit-request-field_size 0 \
  --access-logfile - \
  "superset.app:create_app()"
