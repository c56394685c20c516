#!/usr/bin/env bash
# Superset's Celery worker: runs report and alert executions (screenshots through chromium).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_superset_env
# On SQLite metadata (the demo) one execution at a time: SQLite has a single writer, and a report
# holds its write lock from the alert query through the screenshot, so a second execution at the
# same minute fails with "database is locked" and cannot even log its error.
case "${SUPERSET_DATABASE_URI:-sqlite}" in
  sqlite*) concurrency=1 ;;
  *) concurrency=${SUPERSET_WORKER_CONCURRENCY:-2} ;;
esac
exec celery --app=superset.tasks.celery_app:app worker \
  --pool=prefork --concurrency="$concurrency" -O fair --loglevel=INFO
