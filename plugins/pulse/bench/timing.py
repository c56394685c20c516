"""How the benchmarks measure: wall time as the median of several runs, each run prepared
outside the timed part, and the machine's load while they ran.

The machine may be shared, so every figure is reported beside the load average sampled during
its runs; a ratio compares two figures measured in the same run, alternating their repetitions
so that a change of load hits both alike.
"""

from __future__ import annotations

import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Timing:
    """Seconds of each repetition, and the 1-minute load average sampled while they ran."""

    seconds: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def as_dict(self) -> dict[str, Any]:
        return {"median_seconds": self.median, "runs_seconds": self.seconds,
                "load_average": round(statistics.fmean(self.load), 2) if self.load else None}


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def repeat(runs: int, actions: dict[str, Callable[[], Any]],
           prepare: dict[str, Callable[[], Any]] | None = None) -> dict[str, Timing]:
    """Run each action `runs` times, interleaved (a1 b1 a2 b2 ...), each after its untimed
    `prepare` step; returns a Timing per action. An action that returns a number reports its own
    seconds (a child process that times only the call, not its interpreter's start)."""
    prepare = prepare or {}
    timings = {name: Timing() for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            if name in prepare:
                prepare[name]()
            load_before = os.getloadavg()[0]
            seconds, reported = timed(action)
            timings[name].seconds.append(float(reported) if isinstance(reported, int | float) else seconds)
            timings[name].load.append((load_before + os.getloadavg()[0]) / 2)
    return timings


class LoadSampler:
    """The 1-minute load average every `every` seconds while a benchmark runs (a thread)."""

    def __init__(self, every: float = 15.0):
        self.every = every
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-load-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float | None]:
        if not self.samples:
            return {"mean": None, "min": None, "max": None}
        return {"mean": round(statistics.fmean(self.samples), 2), "min": round(min(self.samples), 2),
                "max": round(max(self.samples), 2)}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import duckdb
    import pandas
    import pyarrow

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        pass
    memory_gib = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal"))
        memory_gib = round(kib / 1024**2, 1)
    except (OSError, StopIteration):
        pass
    return {
        "cpu": model or platform.processor(), "cores": os.cpu_count(), "memory_gib": memory_gib,
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "duckdb": duckdb.__version__, "pandas": pandas.__version__, "pyarrow": pyarrow.__version__,
        "postgresql": _postgres_version(),
    }


def _postgres_version() -> str:
    from pulse.bench.databases import server_version

    return server_version()
