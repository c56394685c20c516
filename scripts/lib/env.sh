# Shared environment for Pulse's entry-point scripts (sourced, not executed).
# Everything can be overridden from the environment or from .env at the repository root.
PULSE_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PULSE_HOME
if [ -f "$PULSE_HOME/.env" ]; then
  set -a
  # shellcheck disable=SC1091
  source "$PULSE_HOME/.env"
  set +a
fi
export PULSE_DATA_DIR=${PULSE_DATA_DIR:-$PULSE_HOME/data}
export PULSE_AIRFLOW_VENV=${PULSE_AIRFLOW_VENV:-$PULSE_HOME/.venv/airflow}
export PULSE_SUPERSET_VENV=${PULSE_SUPERSET_VENV:-$PULSE_HOME/.venv/superset}
mkdir -p "$PULSE_DATA_DIR"/{logs,run,secrets}

# A secret generated once into the data dir, unless the environment provides it.
pulse_secret() {  # pulse_secret FILE_NAME
  local file="$PULSE_DATA_DIR/secrets/$1"
  if [ ! -s "$file" ]; then
    (umask 077; "$PULSE_AIRFLOW_VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$file" 2>/dev/null \
      || python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$file")
  fi
  cat "$file"
}

pulse_superset_env() {
  export SUPERSET_CONFIG_PATH=${SUPERSET_CONFIG_PATH:-$PULSE_HOME/deploy/superset/superset_config.py}
  export SUPERSET_SECRET_KEY=${SUPERSET_SECRET_KEY:-$(pulse_secret superset_secret_key)}
  export SUPERSET_HOST=${SUPERSET_HOST:-127.0.0.1}
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
  export AIRFLOW__CORE__EXECUTOR=${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}
  export AIRFLOW__CORE__FERNET_KEY=${AIRFLOW__CORE__FERNET_KEY:-$(pulse_fernet_key)}
  export AIRFLOW__API__HOST=${AIRFLOW__API__HOST:-127.0.0.1}
  export AIRFLOW__API__PORT=${AIRFLOW__API__PORT:-8080}
  export AIRFLOW__API__BASE_URL=${AIRFLOW__API__BASE_URL:-http://$AIRFLOW__API__HOST:$AIRFLOW__API__PORT}
  export AIRFLOW__CORE__AUTH_MANAGER=${AIRFLOW__CORE__AUTH_MANAGER:-airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager}
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-$PULSE_DATA_DIR/secrets/airflow_passwords.json}
  if [ ! -s "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" ]; then
    (umask 077; printf '{"admin": "%s"}\n' "$(pulse_secret airflow_admin_password)" \
      > "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
  fi
  export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-False}
  export AIRFLOW__API_AUTH__JWT_SECRET=${AIRFLOW__API_AUTH__JWT_SECRET:-$(pulse_secret airflow_jwt_secret)}
  export AIRFLOW__API__SECRET_KEY=${AIRFLOW__API__SECRET_KEY:-$(pulse_secret airflow_api_secret)}
  # `airflow standalone` starts `airflow` subprocesses by name
  export PATH="$PULSE_AIRFLOW_VENV/bin:$PATH"
  mkdir -p "$AIRFLOW_HOME"
}

pulse_fernet_key() {
  local file="$PULSE_DATA_DIR/secrets/airflow_fernet_key"
  if [ ! -s "$file" ]; then
    (umask 077; "$PULSE_AIRFLOW_VENV/bin/python" -c \
      'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$file")
  fi
  cat "$file"
}
