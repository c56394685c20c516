#!/usr/bin/env bash
# Regenerate the pinned lock files from the hand-written requirements/*.in (`make lock`).
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/tools/bin/uv
[ -x "$uv" ] || { echo "lock: run 'make tools' first" >&2; exit 1; }

# Both runtimes target the same interpreter as the official images: CPython 3.11 on Linux.
common=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header --quiet)

"$uv" pip compile requirements/tools.in -o requirements/tools.lock "${common[@]}"
"$uv" pip compile requirements/airflow.in -o requirements/airflow.lock "${common[@]}"
# Superset as of its 6.1.0 release day (2026-05-13); duckdb follows the Airflow runtime's pin.
"$uv" pip compile requirements/superset.in -o requirements/superset.lock "${common[@]}" \
  --exclude-newer 2026-05-14 --exclude-newer-package duckdb=2026-11-24

# A lock line is either a comment or an exact pin.
if grep -hvE '^(#.*|\s+#.*|[A-Za-z0-9_.-]+(\[[a-z0-9,_-]+\])?==[^ ]+)$' requirements/*.lock; then
  echo "lock: the lines above are not pinned" >&2
  exit 1
fi
echo "lock: requirements/*.lock regenerated"
