#!/usr/bin/env bash
# Superset's Celery worker: runs report and alert executions (screenshots through chromium).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_superset_env
exec celery --app=superset.tasks.celery_app:app worker \
  --pool=prefork --concurrency="${SUPERSET_WORKER_CONCURRENCY:-2}" -O fair --loglevel=INFO
