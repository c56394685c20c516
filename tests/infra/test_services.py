"""The demo's process manager starts services in their own group and stops exactly those."""

import os
import sys
import textwrap
import time

import psutil
import pytest

from pulse.services import ServiceError, ServiceManager

# A parent that starts a child ignoring SIGTERM, then waits: like Airflow standalone's children.
STUBBORN = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    open(sys.argv[1], "w").write(str(child.pid))
    time.sleep(600)
    """
)


def _wait_for_file(path, timeout=10):
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)
    return int(path.read_text())


def test_stop_kills_the_whole_tree_including_children_ignoring_sigterm(tmp_path):
    manager = ServiceManager(tmp_path)
    child_file = tmp_path / "child.pid"
    record = manager.start("stubborn", [sys.executable, "-c", STUBBORN, str(child_file)])
    child = _wait_for_file(child_file)
    assert psutil.pid_exists(child)

    assert manager.stop("stubborn", grace=1) is True
    for pid in (record.pid, child):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert manager.names() == []


def test_start_is_idempotent_and_status_survives_stale_pid_files(tmp_path):
    manager = ServiceManager(tmp_path)
    first = manager.start("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"])
    again = manager.start("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"])
    assert again.pid == first.pid
    os.kill(first.pid, 9)
    psutil.Process(first.pid).wait(timeout=5)
    assert manager.running("sleeper") is None  # stale file cleaned, nothing killed by mistake
    assert manager.stop("sleeper") is False


def test_stop_all_leaves_foreign_processes_alone(tmp_path):
    manager = ServiceManager(tmp_path)
    foreign = psutil.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        manager.start("one", [sys.executable, "-c", "import time; time.sleep(600)"])
        manager.start("two", [sys.executable, "-c", "import time; time.sleep(600)"])
        assert sorted(manager.stop_all()) == ["one", "two"]
        assert foreign.is_running()
    finally:
        foreign.kill()


def test_a_service_that_dies_reports_its_log(tmp_path):
    manager = ServiceManager(tmp_path)
    with pytest.raises(ServiceError, match="boom"):
        manager.start(
            "broken", [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], health="tcp://127.0.0.1:9"
        )


def test_health_check_waits_for_the_port(tmp_path):
    manager = ServiceManager(tmp_path)
    server = "import http.server as h; h.HTTPServer(('127.0.0.1', int(__import__('sys').argv[1])), h.SimpleHTTPRequestHandler).serve_forever()"
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    record = manager.start("web", [sys.executable, "-c", server, str(port)], health=f"http://127.0.0.1:{port}/", cwd=tmp_path)
    try:
        assert record.pid > 0
    finally:
        manager.stop("web")
