#!/usr/bin/env bash
# Prepare Superset's metadata database: migrations, roles, the admin and the reports service
# account. Idempotent: safe on every start (demo, tests, containers).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_superset_env

: "${SUPERSET_ADMIN_USER:=admin}"
: "${SUPERSET_ADMIN_PASSWORD:=$(pulse_secret superset_admin_password)}"
: "${SUPERSET_REPORTS_USER:=pulse_reports}"
: "${SUPERSET_REPORTS_PASSWORD:=$(pulse_secret superset_reports_password)}"

echo "==> superset: migrating the metadata database"
superset db upgrade >>"$PULSE_DATA_DIR/logs/superset-init.log" 2>&1

echo "==> superset: roles, permissions and accounts"
export SUPERSET_ADMIN_USER SUPERSET_ADMIN_PASSWORD SUPERSET_REPORTS_USER SUPERSET_REPORTS_PASSWORD
# one process for `superset init` and both accounts (the reports account renders reports:
# ALERT_REPORTS_EXECUTORS in superset_config.py)
python "$PULSE_HOME/deploy/superset/bootstrap.py" >>"$PULSE_DATA_DIR/logs/superset-init.log" 2>&1
