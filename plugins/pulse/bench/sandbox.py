"""The sandbox company's sources for the benchmarks, in a child process of their own: every API
server on 127.0.0.1:0 with fresh credentials, the shop database (SQLite, as in the demo) and the
CSV drops, all moved together to a clock on request.

A child process, so that the pipeline's tasks (forked from the bench, see `pulse.bench.pipeline`)
never carry the world's gigabytes in their memory, and so that the servers keep answering while a
task runs. The servers share one view of the world per clock (`_SharedViews`): at scale 10 the
world is gigabytes, and five servers, the shop database and the drops would otherwise each cut
their own copy.

Protocol on the child's stdin/stdout, one JSON object per line: the child first prints
`{"connections": {"AIRFLOW_CONN_PULSE_<SOURCE>": "<json>", ...}}`, then answers each command
`{"clock": iso}` (move every source to the clock: servers, with what their answers need computed
before the reply, shop database, drops delivered by then; at the same clock again, nothing is
rewritten), `{"ga4_quota": {<QuotaLimits fields>}}` (replace the
GA4 property's quota limits, its usage starting over) and `{"requests": source}` (how many API
requests that server has answered since the last `clock` command) with `{"ok": ...}`.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from pulse.sandbox.world_io import World, load_world


class SandboxProcess:
    def __init__(self, world_dir: Path, workdir: Path):
        self.world_dir = Path(world_dir)
        self.workdir = Path(workdir)
        self._process: subprocess.Popen | None = None
        self.connections: dict[str, str] = {}

    @property
    def drops_dir(self) -> Path:
        return self.workdir / "drops"

    def environment(self) -> dict[str, str]:
        """What a task process needs to reach these sources: Airflow connections and the drops."""
        return {**self.connections, "PULSE_DROPS_DIR": str(self.drops_dir)}

    def __enter__(self) -> SandboxProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pulse.bench.sandbox", str(self.world_dir), str(self.workdir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.connections = self._answer()["connections"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process and self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def set_clock(self, clock: dt.datetime) -> None:
        self._send({"clock": clock.isoformat()})

    def set_ga4_quota(self, **limits: int) -> None:
        """The GA4 sandbox property's quota limits (`QuotaLimits` fields)."""
        self._send({"ga4_quota": limits})

    def requests(self, source: str) -> int:
        return int(self._send({"requests": source}))

    def _send(self, command: dict[str, Any]) -> Any:
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()
        return self._answer()["ok"]

    def _answer(self) -> dict[str, Any]:
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the bench's sandbox process ended (exit {self._process.wait()}); see its stderr")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the bench's sandbox process failed: {answer['error']}")
        return answer


class _SharedViews(World):
    """A world whose view at a clock is cut once and shared by every reader of that clock."""

    def __init__(self, world: World):
        super().__init__(world.tables, world.meta)
        self._view: tuple[dt.datetime, World] | None = None

    def as_of(self, clock: dt.datetime) -> World:
        if self._view is None or self._view[0] != clock:
            self._view = None  # the previous view is freed before the next is cut
            self._view = (clock, super().as_of(clock))
        return self._view[1]


def _serve(world_dir: Path, workdir: Path) -> None:
    from pulse.orchestration.connections import as_airflow_json, env_name
    from pulse.sandbox.drops import write_drops
    from pulse.sandbox.servers import SERVERS, server_class
    from pulse.sandbox.shopdb import source_connection, write_shop_db
    from pulse.sources.connections import conn_id_for

    world = _SharedViews(load_world(world_dir))
    shop_url = f"sqlite:///{workdir / 'shop.sqlite'}"
    servers = {name: server_class(name)(world).start() for name in SERVERS}
    connections = {env_name(conn_id_for(name)): as_airflow_json(server.source_connection())
                   for name, server in servers.items()}
    connections[env_name(conn_id_for("shop"))] = as_airflow_json(source_connection(shop_url))
    _reply({"connections": connections})
    current = None
    try:
        for line in sys.stdin:
            command = json.loads(line)
            try:
                if "clock" in command:
                    clock = dt.datetime.fromisoformat(command["clock"])
                    for server in servers.values():
                        server.requests.clear()
                    if clock != current:  # extraction only reads: the same clock needs no rewriting
                        for server in servers.values():
                            server.set_clock(clock)
                            server.prepare()  # the daily runs time the pipeline, not the sandbox's first answers
                        write_shop_db(world, shop_url, clock)
                        write_drops(world, workdir / "drops", clock)
                        current = clock
                    _reply({"ok": True})
                elif "ga4_quota" in command:  # the documented control endpoint of the GA4 sandbox
                    _post(f"{servers['ga4'].url}/_sandbox/ga4", {"quota": command["ga4_quota"]})
                    _reply({"ok": True})
                elif "requests" in command:
                    _reply({"ok": len(servers[command["requests"]].requests)})
                else:
                    _reply({"error": f"unknown command {command!r}"})
            except Exception as error:  # the parent raises it, naming the command
                _reply({"error": f"{command!r}: {type(error).__name__}: {error}"})
    finally:
        for server in servers.values():
            server.stop()


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


# the protocol's channel; whatever else writes to stdout is sent to stderr instead
_protocol = sys.stdout


def _reply(answer: dict[str, Any]) -> None:
    _protocol.write(json.dumps(answer) + "\n")
    _protocol.flush()


if __name__ == "__main__":
    sys.stdout = sys.stderr
    _serve(Path(sys.argv[1]), Path(sys.argv[2]))
