#!/usr/bin/env bash
# Prepare Airflow's metadata database and the pools Pulse's DAGs use. Idempotent.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_airflow_env

echo "==> airflow: migrating the metadata database ($AIRFLOW_HOME)"
pulse_logged airflow-init airflow db migrate
# DuckDB takes one writer at a time; PostgreSQL takes several.
case "${PULSE_WAREHOUSE_URL:-duckdb}" in
  postgresql*) default_writers=4 ;;
  *) default_writers=1 ;;
esac
pulse_logged airflow-init airflow pools set warehouse "${PULSE_WAREHOUSE_WRITERS:-$default_writers}" \
  "tasks that write the warehouse"
