#!/usr/bin/env bash
# Create Pulse's three PostgreSQL databases, each owned by its own role: the warehouse, Airflow's
# metadata and Superset's metadata. Idempotent: roles and databases are created when missing and
# the passwords are (re)set from the environment on every run.
#
# Runs as the postgres image's init script (docker-entrypoint-initdb.d, first start of an empty
# volume) and from scripts/up.sh against an existing server (PGHOST, PGPORT, PGUSER, PGPASSWORD).
set -euo pipefail

: "${PULSE_WAREHOUSE_DB:=pulse_warehouse}" "${PULSE_WAREHOUSE_DB_USER:=pulse}"
: "${AIRFLOW_DB:=pulse_airflow}" "${AIRFLOW_DB_USER:=airflow}"
: "${SUPERSET_DB:=pulse_superset}" "${SUPERSET_DB_USER:=superset}"

missing=()
for name in PULSE_WAREHOUSE_DB_PASSWORD AIRFLOW_DB_PASSWORD SUPERSET_DB_PASSWORD; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "init-databases: ${missing[*]} not set" >&2
  exit 1
fi

create_database() {  # create_database DATABASE OWNER PASSWORD
  # psql variables (:'name') are quoted by psql itself; \gexec runs the statements built here.
  psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:-${PGUSER:-postgres}}" \
    --dbname "${POSTGRES_DB:-postgres}" -v db="$1" -v owner="$2" -v password="$3" <<'SQL'
select format('create role %I login', :'owner')
 where not exists (select from pg_roles where rolname = :'owner') \gexec
select format('alter role %I with login password %L', :'owner', :'password') \gexec
select format('create database %I owner %I', :'db', :'owner')
 where not exists (select from pg_database where datname = :'db') \gexec
select format('revoke all on database %I from public', :'db') \gexec
SQL
  echo "init-databases: database $1 (owner $2) ready"
}

create_database "$PULSE_WAREHOUSE_DB" "$PULSE_WAREHOUSE_DB_USER" "$PULSE_WAREHOUSE_DB_PASSWORD"
create_database "$AIRFLOW_DB" "$AIRFLOW_DB_USER" "$AIRFLOW_DB_PASSWORD"
create_database "$SUPERSET_DB" "$SUPERSET_DB_USER" "$SUPERSET_DB_PASSWORD"
