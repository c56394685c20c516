#!/usr/bin/env bash
# The sandbox company's source APIs (`pulse sandbox serve`), for the demo, `make up PROFILES=demo`
# and docker-compose.yml's demo profile. Generates the world into data/sandbox first when there is
# none (PULSE_SANDBOX_SEED/_DAYS/_SCALE). The servers listen on 127.0.0.1 only.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
export PATH="$PULSE_AIRFLOW_VENV/bin:$PATH"
world=$PULSE_DATA_DIR/sandbox
if [ ! -f "$world/world/world.json" ]; then
  echo "==> sandbox: generating the simulated company into $world"
  pulse sandbox generate --out "$world"
fi
exec pulse sandbox serve
