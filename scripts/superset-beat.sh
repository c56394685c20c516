#!/usr/bin/env bash
# Superset's Celery beat: triggers the reports scheduler every minute.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_superset_env
exec celery --app=superset.tasks.celery_app:app beat --loglevel=INFO \
  --schedule="$PULSE_DATA_DIR/superset/celerybeat-schedule" --pidfile=
