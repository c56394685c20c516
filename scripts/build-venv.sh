#!/usr/bin/env bash
# Build or update one runtime's virtual environment from its lock file: build-venv.sh airflow|superset
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
lock=requirements/$name.lock
venv=.venv/$name
uv=.venv/tools/bin/uv
python=$(command -v python3.11 || command -v python3)

echo "==> runtime '$name' from $lock"
[ -x "$venv/bin/python" ] || "$uv" venv --quiet --python "$python" "$venv"
# sync, not install: the venv ends up with exactly the locked set, nothing left over
# compiled now, not at first import: PYTHONDONTWRITEBYTECODE is common in CI and containers, and
# Airflow, GX and Superset import thousands of modules
VIRTUAL_ENV=$venv "$uv" pip sync --quiet --compile-bytecode --python "$venv/bin/python" "$lock"
if [ "$name" = airflow ]; then
  VIRTUAL_ENV=$venv "$uv" pip install --quiet --python "$venv/bin/python" --no-deps -e .
fi
touch "$venv/.built"
