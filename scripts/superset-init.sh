#!/usr/bin/env bash
# Prepare Superset's metadata database: migrations, roles, the admin and the reports service
# account. Idempotent: safe on every start (demo, tests, containers).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_superset_env

: "${SUPERSET_ADMIN_USER:=admin}"
: "${SUPERSET_REPORTS_USER:=pulse_reports}"
pulse_secret_var SUPERSET_ADMIN_PASSWORD superset_admin_password
pulse_secret_var SUPERSET_REPORTS_PASSWORD superset_reports_password

echo "==> superset: migrating the metadata database"
pulse_logged superset-init superset db upgrade

echo "==> superset: roles, permissions and accounts"
export SUPERSET_ADMIN_USER SUPERSET_REPORTS_USER
# one process for `superset init` and both accounts (the reports account renders reports:
# ALERT_REPORTS_EXECUTORS in superset_config.py)
pulse_logged superset-init python "$PULSE_HOME/deploy/superset/bootstrap.py"
