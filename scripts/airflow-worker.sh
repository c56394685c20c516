#!/usr/bin/env bash
# An Airflow Celery worker for the production stack (CeleryExecutor, Redis broker).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_airflow_env
exec airflow celery worker --concurrency "${AIRFLOW_WORKER_CONCURRENCY:-4}"
