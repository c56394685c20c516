"""The Dockerfiles under deploy/ layer the lock files on the official images of the locked versions.

No image is built here (no container engine): the files are read and compared with the lock files
and scripts/lock.sh, which say what the native runtimes run. Budget: under a second.
"""

from __future__ import annotations

import fnmatch
import re
import shlex

import pytest

from pulse.settings import REPO_ROOT

RUNTIMES = {
    # runtime: (official image, the lock's package that image ships)
    "airflow": ("apache/airflow", "apache-airflow"),
    "superset": ("apache/superset", "apache-superset"),
}
IN_IMAGE = "/opt/pulse/"


def _instructions(runtime: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/<runtime>/Dockerfile, continuation lines joined."""
    text = (REPO_ROOT / "deploy" / runtime / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _pin(runtime: str, package: str) -> str:
    lock = (REPO_ROOT / "requirements" / f"{runtime}.lock").read_text()
    match = re.search(rf"^{re.escape(package)}==(\S+)$", lock, flags=re.MULTILINE)
    assert match, f"{package} is not pinned in requirements/{runtime}.lock"
    return match.group(1)


def _locked_python() -> str:
    return re.search(r"--python-version (\d+\.\d+)", (REPO_ROOT / "scripts" / "lock.sh").read_text()).group(1)


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_the_base_image_is_the_official_one_at_the_locked_version(runtime):
    image, package = RUNTIMES[runtime]
    bases = [arguments for instruction, arguments in _instructions(runtime) if instruction == "FROM"]
    assert len(bases) == 1, bases
    name, _, tag = bases[0].partition(":")
    assert name == image
    version = _pin(runtime, package)
    if runtime == "airflow":
        # Airflow publishes one image per Python version: the lock's interpreter
        assert tag == f"{version}-python{_locked_python()}"
    else:
        assert tag == version


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_the_image_installs_its_lock_file(runtime):
    instructions = _instructions(runtime)
    lock = f"requirements/{runtime}.lock"
    copied = [shlex.split(arguments) for instruction, arguments in instructions if instruction == "COPY"]
    assert any(words[-2] == lock and words[-1] == IN_IMAGE + lock for words in copied), f"{lock} is not copied"
    installs = [arguments for instruction, arguments in instructions
                if instruction == "RUN" and re.search(r"\bpip install\b", arguments)]
    assert any(f"-r {IN_IMAGE}{lock}" in command for command in installs), f"nothing installs {lock}"
    for command in installs:
        assert _packages_beside_lock_files(command) <= {'apache-airflow==${AIRFLOW_VERSION}'}, command


def _packages_beside_lock_files(command: str) -> set[str]:
    """What a `pip install` / `uv pip install` names besides `-r` lock files and `-e` the repository."""
    words = shlex.split(command.split("pip install", 1)[1])
    named, skip = set(), False
    for word, following in zip(words, [*words[1:], None], strict=True):
        if skip:
            skip = False
        elif word in {"-r", "--requirement", "--python", "-e"}:
            skip = True
            if word == "-e":
                assert following == "/opt/pulse", f"installs {following} editable"
        elif not word.startswith("-"):
            named.add(word)
    return named


def test_lock_files_pin_every_package():
    for lock in sorted((REPO_ROOT / "requirements").glob("*.lock")):
        for line in lock.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                assert re.fullmatch(r"[A-Za-z0-9_.-]+(\[[a-z0-9,_-]+\])?==\S+", line), f"{lock.name}: {line!r}"


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_copied_files_exist_and_reach_the_build_context(runtime):
    ignored = [pattern.strip() for pattern in (REPO_ROOT / ".dockerignore").read_text().splitlines()
               if pattern.strip() and not pattern.startswith("#")]
    for instruction, arguments in _instructions(runtime):
        if instruction != "COPY":
            continue
        words = [word for word in shlex.split(arguments) if not word.startswith("--")]
        for source in words[:-1]:
            assert (REPO_ROOT / source).exists(), f"{runtime}: COPY {source}: not in the repository"
            assert not any(fnmatch.fnmatch(source, pattern) or source.startswith(pattern.rstrip("/") + "/")
                           for pattern in ignored), f"{runtime}: {source} is excluded by .dockerignore"


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_the_image_runs_the_repository_scripts_in_production_mode(runtime):
    instructions = _instructions(runtime)
    commands = [arguments for instruction, arguments in instructions if instruction == "CMD"]
    assert len(commands) == 1
    script = re.search(r"/opt/pulse/(scripts/[\w.-]+\.sh)", commands[0]).group(1)
    assert (REPO_ROOT / script).is_file()
    environment = " ".join(arguments for instruction, arguments in instructions if instruction == "ENV")
    assert "PULSE_ENV=production" in environment
