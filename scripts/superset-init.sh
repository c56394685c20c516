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

ensure_user() {  # ensure_user USERNAME PASSWORD ROLE FIRST LAST
  if superset fab list-users 2>/dev/null | grep -q "username:$1 "; then
    superset fab reset-password --username "$1" --password "$2" >>"$PULSE_DATA_DIR/logs/superset-init.log" 2>&1
  else
    superset fab create-user --role "$3" --username "$1" --firstname "$4" --lastname "$5" \
      --email "$1@pulse.invalid" --password "$2" >>"$PULSE_DATA_DIR/logs/superset-init.log" 2>&1
  fi
}

echo "==> superset: roles and permissions"
superset init >>"$PULSE_DATA_DIR/logs/superset-init.log" 2>&1
ensure_user "$SUPERSET_ADMIN_USER" "$SUPERSET_ADMIN_PASSWORD" Admin Pulse Admin
# Reports render dashboards as this fixed account (ALERT_REPORTS_EXECUTORS in superset_config.py).
ensure_user "$SUPERSET_REPORTS_USER" "$SUPERSET_REPORTS_PASSWORD" Admin Pulse Reports
