#!/usr/bin/env bash
# The demo's all-in-one Airflow (scheduler, DAG processor, triggerer, API server and UI) on
# SQLite with the LocalExecutor, bound to 127.0.0.1.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_airflow_env
exec airflow standalone
