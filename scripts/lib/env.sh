# Shared environment for Pulse's entry-point scripts (sourced, not executed).
# Settings come from the environment, then from an env file (PULSE_ENV_FILE, default .env at the
# repository root) for what the environment leaves unset, then from the defaults here. A caller
# may define `pulse_defaults` (a shell function) to change defaults: it runs after the env file,
# once PULSE_ENV and PULSE_DATA_DIR are known.
#
# Two modes (PULSE_ENV):
# - demo (default): SQLite metadata, DuckDB warehouse, secrets generated once into data/secrets.
# - production (docker-compose.yml, `make up`): PostgreSQL and Redis; every secret comes from the
#   environment and a missing one stops the service with its name. Connection URLs are built from
#   PULSE_POSTGRES_*/PULSE_REDIS_* and the per-database names, users and passwords unless given whole.
PULSE_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PULSE_HOME
PULSE_ENV_FILE=${PULSE_ENV_FILE:-$PULSE_HOME/.env}
export PULSE_ENV_FILE

# NAME=value lines of the env file, shell-quoted as in `source`; the environment wins, as in Compose.
pulse_load_env_file() {  # pulse_load_env_file FILE
  local line name
  while IFS= read -r line || [ -n "$line" ]; do
    [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    name=${BASH_REMATCH[2]}
    [ -z "${!name+set}" ] || continue
    eval "export $name=${BASH_REMATCH[3]}"
  done < "$1"
}
if [ -f "$PULSE_ENV_FILE" ]; then
  pulse_load_env_file "$PULSE_ENV_FILE"
fi
export PULSE_ENV=${PULSE_ENV:-demo}
# production mode keeps out of the demo's data on a shared machine
if [ "$PULSE_ENV" = production ]; then
  export PULSE_DATA_DIR=${PULSE_DATA_DIR:-$PULSE_HOME/data-production}
else
  export PULSE_DATA_DIR=${PULSE_DATA_DIR:-$PULSE_HOME/data}
fi
if declare -F pulse_defaults >/dev/null; then
  pulse_defaults
fi
export PULSE_AIRFLOW_VENV=${PULSE_AIRFLOW_VENV:-$PULSE_HOME/.venv/airflow}
export PULSE_SUPERSET_VENV=${PULSE_SUPERSET_VENV:-$PULSE_HOME/.venv/superset}
mkdir -p "$PULSE_DATA_DIR"/{logs,run,secrets}

pulse_production() {
  [ "$PULSE_ENV" = production ]
}

# Stop with the names of the variables that are empty: production never falls back to a default secret.
pulse_require() {  # pulse_require VAR...
  local name missing=()
  for name in "$@"; do
    [ -n "${!name:-}" ] || missing+=("$name")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "pulse ($PULSE_ENV): refusing to start, ${missing[*]} not set (see .env.example, docs/deploy.md)" >&2
    exit 1
  fi
}

# A secret generated once into the data dir, unless the environment provides it.
pulse_secret() {  # pulse_secret FILE_NAME
  local file="$PULSE_DATA_DIR/secrets/$1"
  if [ ! -s "$file" ]; then
    (umask 077; "$PULSE_AIRFLOW_VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$file" 2>/dev/null \
      || python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$file")
  fi
  cat "$file"
}

# The demo generates its logins and prints them: its UIs stay on this machine. Production mode,
# with secrets of its own, listens where it is told.
pulse_demo_loopback() {  # pulse_demo_loopback VAR
  pulse_production && return 0
  case "${!1}" in
    127.0.0.1|localhost|::1) ;;
    *) echo "pulse (demo): refusing to listen on $1=${!1}: the demo's generated logins are for this" \
            "machine only (use 127.0.0.1, or PULSE_ENV=production with secrets of your own)" >&2
       exit 1 ;;
  esac
}

# VAR from the environment; in the demo, a secret generated once into data/secrets/FILE_NAME.
pulse_secret_var() {  # pulse_secret_var VAR FILE_NAME
  local name=$1
  if [ -z "${!name:-}" ]; then
    pulse_production && pulse_require "$name"
    printf -v "$name" '%s' "$(pulse_secret "$2")"
  fi
  export "${name?}"
}

# Run a command with its output appended to data/logs/NAME.log; on failure show the end of that log.
pulse_logged() {  # pulse_logged NAME COMMAND...
  local log="$PULSE_DATA_DIR/logs/$1.log"
  shift
  if ! "$@" >>"$log" 2>&1; then
    echo "pulse: '$*' failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

# --- production connection URLs, built from parts (passwords must be URL-safe) ----------------
pulse_postgres_url() {  # pulse_postgres_url DRIVER USER_VAR PASSWORD_VAR DATABASE
  pulse_require "$3"
  printf '%s://%s:%s@%s:%s/%s' "$1" "${!2}" "${!3}" "${PULSE_POSTGRES_HOST:-127.0.0.1}" \
    "${PULSE_POSTGRES_PORT:-5432}" "$4"
}

pulse_redis_url() {  # pulse_redis_url DB_NUMBER
  printf 'redis://%s:%s/%s' "${PULSE_REDIS_HOST:-127.0.0.1}" "${PULSE_REDIS_PORT:-6379}" "$1"
}

pulse_warehouse_env() {
  if pulse_production && [ -z "${PULSE_WAREHOUSE_URL:-}" ]; then
    : "${PULSE_WAREHOUSE_DB:=pulse_warehouse}" "${PULSE_WAREHOUSE_DB_USER:=pulse}"
    PULSE_WAREHOUSE_URL=$(pulse_postgres_url postgresql+psycopg PULSE_WAREHOUSE_DB_USER \
      PULSE_WAREHOUSE_DB_PASSWORD "$PULSE_WAREHOUSE_DB") || exit 1
    export PULSE_WAREHOUSE_URL
  fi
}

pulse_superset_env() {
  export SUPERSET_CONFIG_PATH=${SUPERSET_CONFIG_PATH:-$PULSE_HOME/deploy/superset/superset_config.py}
  if pulse_production; then
    pulse_require SUPERSET_SECRET_KEY $([ -n "${SUPERSET_DATABASE_URI:-}" ] || echo SUPERSET_DB_PASSWORD)
  fi
  pulse_secret_var SUPERSET_SECRET_KEY superset_secret_key
  if pulse_production; then
    : "${SUPERSET_DB:=pulse_superset}" "${SUPERSET_DB_USER:=superset}"
    if [ -z "${SUPERSET_DATABASE_URI:-}" ]; then
      SUPERSET_DATABASE_URI=$(pulse_postgres_url postgresql+psycopg2 SUPERSET_DB_USER SUPERSET_DB_PASSWORD \
        "$SUPERSET_DB") || exit 1
    fi
    export SUPERSET_DATABASE_URI
    export SUPERSET_REDIS_URL=${SUPERSET_REDIS_URL:-$(pulse_redis_url "${SUPERSET_REDIS_DB:-1}")}
  fi
  export SUPERSET_HOST=${SUPERSET_HOST:-127.0.0.1}
  pulse_demo_loopback SUPERSET_HOST
  export SUPERSET_PORT=${SUPERSET_PORT:-8088}
  export SUPERSET_WEBDRIVER_BASEURL=${SUPERSET_WEBDRIVER_BASEURL:-http://$SUPERSET_HOST:$SUPERSET_PORT/}
  export FLASK_APP=superset
  export PATH="$PULSE_SUPERSET_VENV/bin:$PATH"
}

pulse_airflow_env() {
  export AIRFLOW_HOME=${AIRFLOW_HOME:-$PULSE_DATA_DIR/airflow}
  export AIRFLOW__CORE__DAGS_FOLDER=${AIRFLOW__CORE__DAGS_FOLDER:-$PULSE_HOME/dags}
  export AIRFLOW__CORE__PLUGINS_FOLDER=${AIRFLOW__CORE__PLUGINS_FOLDER:-$PULSE_HOME/plugins}
  export AIRFLOW__CORE__LOAD_EXAMPLES=${AIRFLOW__CORE__LOAD_EXAMPLES:-False}
  if pulse_production; then
    pulse_airflow_production_env
  else
    export AIRFLOW__CORE__EXECUTOR=${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}
    export AIRFLOW__CORE__FERNET_KEY=${AIRFLOW__CORE__FERNET_KEY:-$(pulse_fernet_key)}
  fi
  export AIRFLOW__API__HOST=${AIRFLOW__API__HOST:-127.0.0.1}
  pulse_demo_loopback AIRFLOW__API__HOST
  export AIRFLOW__API__PORT=${AIRFLOW__API__PORT:-8080}
  export AIRFLOW__API__BASE_URL=${AIRFLOW__API__BASE_URL:-http://$AIRFLOW__API__HOST:$AIRFLOW__API__PORT}
  export AIRFLOW__CORE__AUTH_MANAGER=${AIRFLOW__CORE__AUTH_MANAGER:-airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager}
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-$PULSE_DATA_DIR/secrets/airflow_passwords.json}
  pulse_secret_var AIRFLOW_ADMIN_PASSWORD airflow_admin_password
  # written on every start, so a changed AIRFLOW_ADMIN_PASSWORD takes effect
  (umask 077; printf '{"admin": "%s"}\n' "$AIRFLOW_ADMIN_PASSWORD" \
    > "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
  export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-False}
  pulse_secret_var AIRFLOW__API_AUTH__JWT_SECRET airflow_jwt_secret
  pulse_secret_var AIRFLOW__API__SECRET_KEY airflow_api_secret
  pulse_warehouse_env
  # `airflow standalone` starts `airflow` subprocesses by name
  export PATH="$PULSE_AIRFLOW_VENV/bin:$PATH"
  mkdir -p "$AIRFLOW_HOME"
}

# Airflow on PostgreSQL with the CeleryExecutor and a Redis broker; the UI and API behind a login.
pulse_airflow_production_env() {
  export AIRFLOW__CORE__EXECUTOR=${AIRFLOW__CORE__EXECUTOR:-CeleryExecutor}
  # all at once, so one attempt names everything that is missing
  pulse_require AIRFLOW__CORE__FERNET_KEY AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY \
    AIRFLOW_ADMIN_PASSWORD $([ -n "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ] || echo AIRFLOW_DB_PASSWORD) \
    $([ -n "${PULSE_WAREHOUSE_URL:-}" ] || echo PULSE_WAREHOUSE_DB_PASSWORD)
  : "${AIRFLOW_DB:=pulse_airflow}" "${AIRFLOW_DB_USER:=airflow}"
  if [ -z "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ]; then
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=$(pulse_postgres_url postgresql+psycopg2 AIRFLOW_DB_USER \
      AIRFLOW_DB_PASSWORD "$AIRFLOW_DB") || exit 1
  fi
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  if [ -z "${AIRFLOW__CELERY__RESULT_BACKEND:-}" ]; then
    AIRFLOW__CELERY__RESULT_BACKEND=db+${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN/postgresql+psycopg2/postgresql}
  fi
  export AIRFLOW__CELERY__RESULT_BACKEND
  export AIRFLOW__CELERY__BROKER_URL=${AIRFLOW__CELERY__BROKER_URL:-$(pulse_redis_url "${AIRFLOW_REDIS_DB:-0}")}
  if [ "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS:-false}" != false ]; then
    echo "pulse (production): AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS would open the UI and API" \
         "without a login; unset it" >&2
    exit 1
  fi
}

pulse_fernet_key() {
  local file="$PULSE_DATA_DIR/secrets/airflow_fernet_key"
  if [ ! -s "$file" ]; then
    (umask 077; "$PULSE_AIRFLOW_VENV/bin/python" -c \
      'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$file")
  fi
  cat "$file"
}
