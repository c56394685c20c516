#!/usr/bin/env bash
# Print a production env file with fresh random secrets, for a first install:
#   scripts/production-env.sh > .env && chmod 600 .env
# It holds what production requires (PULSE_ENV=production and every password and key); add the
# rest from .env.example (SMTP, business calendar, published URLs). Keep it out of git.
set -euo pipefail
exec python3 - <<'PY'
import base64
import datetime as dt
import os
import secrets


def secret(length: int = 32) -> str:
    # URL-safe: the scripts put the database passwords into connection URLs as they are
    return secrets.token_urlsafe(length)


print(f"""\
# Pulse production settings, generated {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} by scripts/production-env.sh.
# Secrets: keep this file out of git (mode 600). docs/deploy.md says how to rotate each one.
PULSE_ENV=production

POSTGRES_PASSWORD={secret()}
PULSE_WAREHOUSE_DB_PASSWORD={secret()}
AIRFLOW_DB_PASSWORD={secret()}
SUPERSET_DB_PASSWORD={secret()}

AIRFLOW_ADMIN_PASSWORD={secret()}
AIRFLOW__CORE__FERNET_KEY={base64.urlsafe_b64encode(os.urandom(32)).decode()}
AIRFLOW__API_AUTH__JWT_SECRET={secret()}
AIRFLOW__API__SECRET_KEY={secret()}

SUPERSET_SECRET_KEY={secret(64)}
SUPERSET_ADMIN_PASSWORD={secret()}
SUPERSET_REPORTS_PASSWORD={secret()}""")
PY
