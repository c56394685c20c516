#!/usr/bin/env bash
# Container health check of one Superset component (docker-compose.yml): superset-healthcheck.sh
# web|worker|beat. Exits 0 when the component is healthy.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_superset_env >/dev/null
case "${1:?component}" in
  web) exec curl --fail --silent --max-time 10 "http://127.0.0.1:$SUPERSET_PORT/health" ;;
  worker) exec celery --app=superset.tasks.celery_app:app inspect ping --destination "celery@$(hostname)" \
    --timeout 10 ;;
  # beat writes its schedule file at least every few minutes while it runs
  beat) test -n "$(find "$PULSE_DATA_DIR/superset/celerybeat-schedule" -mmin -10 2>/dev/null)" ;;
  *) echo "superset-healthcheck: unknown component $1" >&2; exit 2 ;;
esac
