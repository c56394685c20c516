#!/usr/bin/env bash
# Container health check of one Airflow component (docker-compose.yml): airflow-healthcheck.sh
# api-server|scheduler|dag-processor|triggerer|worker. Exits 0 when the component is healthy.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_airflow_env >/dev/null
host=$(hostname)
case "${1:?component}" in
  api-server) exec curl --fail --silent --max-time 10 "http://127.0.0.1:$AIRFLOW__API__PORT/api/v2/version" ;;
  scheduler) exec curl --fail --silent --max-time 10 \
    "http://127.0.0.1:${AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT:-8974}/health" ;;
  dag-processor) exec airflow jobs check --job-type DagProcessorJob --hostname "$host" ;;
  triggerer) exec airflow jobs check --job-type TriggererJob --hostname "$host" ;;
  worker) exec celery --app airflow.providers.celery.executors.celery_executor.app inspect ping \
    --destination "celery@$host" --timeout 10 ;;
  *) echo "airflow-healthcheck: unknown component $1" >&2; exit 2 ;;
esac
