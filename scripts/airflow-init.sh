#!/usr/bin/env bash
# Prepare Airflow's metadata database and the pools Pulse's DAGs use. Idempotent.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_airflow_env

echo "==> airflow: migrating the metadata database ($AIRFLOW_HOME)"
airflow db migrate >>"$PULSE_DATA_DIR/logs/airflow-init.log" 2>&1
# DuckDB takes one writer at a time; PostgreSQL takes several.
warehouse_slots=${PULSE_WAREHOUSE_WRITERS:-1}
airflow pools set warehouse "$warehouse_slots" "tasks that write the warehouse" \
  >>"$PULSE_DATA_DIR/logs/airflow-init.log" 2>&1
