#!/usr/bin/env bash
# `make up`: the production-mode stack on this machine, started from the same entry-point scripts
# as docker-compose.yml: the three PostgreSQL databases (created when missing), Airflow on
# PostgreSQL with the CeleryExecutor (api-server, scheduler, dag-processor, triggerer, Celery
# worker), Superset on PostgreSQL with its Celery worker and beat, then the Superset assets.
#
# Needs PostgreSQL and Redis running and an env file with PULSE_ENV=production (PULSE_ENV_FILE,
# default .env; scripts/production-env.sh writes the secrets). PULSE_PROFILES=demo (`make up
# PROFILES=demo`) adds the sandbox sources and the mail sink. `make down` stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
demo_profile=false
[[ ",${PULSE_PROFILES:-}," == *,demo,* ]] && demo_profile=true
# Beside the demo on one machine: its own ports (and data dir: env.sh), unless the env file says otherwise.
pulse_defaults() {
  export AIRFLOW__API__PORT=${AIRFLOW__API__PORT:-8180}
  export SUPERSET_PORT=${SUPERSET_PORT:-8188}
  export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=${AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT:-8795}
  export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=${AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT:-8796}
  export AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=True
  export AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT=${AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT:-8974}
  if $demo_profile; then
    export PULSE_SANDBOX_BASE_PORT=${PULSE_SANDBOX_BASE_PORT:-8201}
    # the sandbox's connections reach Airflow through a secrets backend reading the file
    # scripts/sandbox-serve.sh writes; all mail goes to the local sink
    export AIRFLOW__SECRETS__BACKEND=airflow.secrets.local_filesystem.LocalFilesystemBackend
    export AIRFLOW__SECRETS__BACKEND_KWARGS="{\"connections_file_path\": \"$PULSE_DATA_DIR/sandbox/connections.json\"}"
    export PULSE_SMTP_HOST=127.0.0.1 PULSE_SMTP_PORT=${PULSE_MAILSINK_PORT:-8125}
    export PULSE_SMTP_STARTTLS=false PULSE_SMTP_SSL=false PULSE_SMTP_USER= PULSE_SMTP_PASSWORD=
    export SMTP_HOST=127.0.0.1 SMTP_PORT=$PULSE_SMTP_PORT SMTP_STARTTLS=false SMTP_SSL=false SMTP_USER= SMTP_PASSWORD=
  fi
}
source scripts/lib/env.sh
if ! pulse_production; then
  echo "make up: $PULSE_ENV_FILE must set PULSE_ENV=production (scripts/production-env.sh writes one)" >&2
  exit 1
fi
# every required setting is checked here, before anything starts
pulse_airflow_env
pulse_superset_env
pulse=$PULSE_AIRFLOW_VENV/bin/pulse

start() {  # start NAME HEALTH COMMAND...: a service of ServiceManager (data/run, data/logs)
  local name=$1 health=$2
  shift 2
  "$pulse" services start "$name" ${health:+--health "$health"} --timeout "${PULSE_START_TIMEOUT:-300}" -- "$@"
}

echo "==> postgres: Pulse's databases on ${PULSE_POSTGRES_HOST:-127.0.0.1}:${PULSE_POSTGRES_PORT:-5432}"
PGHOST=${PULSE_POSTGRES_HOST:-127.0.0.1} PGPORT=${PULSE_POSTGRES_PORT:-5432} \
  PGUSER=${PULSE_POSTGRES_ADMIN_USER:-postgres} PGPASSWORD=${PULSE_POSTGRES_ADMIN_PASSWORD:-} \
  pulse_logged postgres-init deploy/postgres/init-databases.sh

# both migrations at once: they touch different databases
scripts/airflow-init.sh & airflow_init=$!
scripts/superset-init.sh & superset_init=$!
failed=0
wait "$airflow_init" || failed=1
wait "$superset_init" || failed=1
[ "$failed" = 0 ] || { echo "make up: initialisation failed (logs in $PULSE_DATA_DIR/logs)" >&2; exit 1; }

if $demo_profile; then
  start mailsink "tcp://127.0.0.1:$PULSE_SMTP_PORT" scripts/mailsink.sh
  start sandbox "" scripts/sandbox-serve.sh
  until [ -s "$PULSE_DATA_DIR/sandbox/connections.json" ]; do
    "$pulse" services status | grep -q "^sandbox: running" || { "$pulse" services stop sandbox; exit 1; }
    sleep 1
  done
fi
start airflow-api-server "http://127.0.0.1:$AIRFLOW__API__PORT/api/v2/version" scripts/airflow-api-server.sh
start airflow-scheduler \
  "http://127.0.0.1:$AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT/health" scripts/airflow-scheduler.sh
start airflow-dag-processor "" scripts/airflow-dag-processor.sh
start airflow-triggerer "tcp://127.0.0.1:$AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT" scripts/airflow-triggerer.sh
start airflow-worker "tcp://127.0.0.1:$AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT" scripts/airflow-worker.sh
start superset-web "http://127.0.0.1:$SUPERSET_PORT/health" scripts/superset-web.sh
start superset-worker "" scripts/superset-worker.sh
start superset-beat "" scripts/superset-beat.sh

pulse_logged superset-deploy scripts/superset-deploy.sh

cat <<EOF
==> Pulse is up (production mode, data in $PULSE_DATA_DIR)
    Airflow   $AIRFLOW__API__BASE_URL   (user admin, password AIRFLOW_ADMIN_PASSWORD in $PULSE_ENV_FILE)
    Superset  http://$SUPERSET_HOST:$SUPERSET_PORT   (user ${SUPERSET_ADMIN_USER:-admin}, password SUPERSET_ADMIN_PASSWORD)
    Stop it with: make down
EOF
