#!/usr/bin/env bash
# Deploy the Superset assets (superset_assets/: databases, datasets, charts, dashboards, roles,
# row-level security, reports) into a running Superset: `pulse superset sync`, after Superset
# answers. Runs in the Airflow runtime (the `pulse` package); idempotent.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
pulse_warehouse_env
export PATH="$PULSE_AIRFLOW_VENV/bin:$PATH"
pulse_production && pulse_require SUPERSET_ADMIN_PASSWORD
url=${SUPERSET_URL:-http://${SUPERSET_HOST:-127.0.0.1}:${SUPERSET_PORT:-8088}}
for _ in $(seq 1 "${SUPERSET_DEPLOY_WAIT_SECONDS:-300}"); do
  curl --fail --silent --max-time 5 "$url/health" >/dev/null && break
  sleep 1
done
echo "==> superset: deploying the assets to $url"
SUPERSET_URL=$url exec pulse superset sync
