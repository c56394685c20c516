"""Every lock-file line is an exact pin (or a comment), and each runtime's inputs are locked."""

import re
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements"
PIN = re.compile(r"^[A-Za-z0-9_.-]+(\[[a-z0-9,_-]+\])?==[^\s=]+$")


@pytest.mark.parametrize("runtime", ["tools", "airflow", "superset"])
def test_every_line_is_pinned(runtime):
    lines = (REQUIREMENTS / f"{runtime}.lock").read_text().splitlines()
    unpinned = [line for line in lines if line.strip() and not line.lstrip().startswith("#") and not PIN.match(line)]
    assert unpinned == []


@pytest.mark.parametrize("runtime", ["tools", "airflow", "superset"])
def test_every_input_is_in_the_lock(runtime):
    locked = {
        line.split("==")[0].split("[")[0].lower().replace("_", "-")
        for line in (REQUIREMENTS / f"{runtime}.lock").read_text().splitlines()
        if "==" in line
    }
    wanted = {
        re.split(r"[<>=\[ ;]", line.strip())[0].lower().replace("_", "-")
        for line in (REQUIREMENTS / f"{runtime}.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert wanted - locked == set()
