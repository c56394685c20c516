"""docker-compose.yml: valid against the Compose Specification, and everything it names exists.

No container engine runs here, so the file is checked statically: the vendored JSON schema
(tests/deploy/README.md), then its scripts, files, images, variables and volumes against the
repository, `.env.example` and Airflow's own configuration reference. Budget: about 3 s.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from pulse.settings import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")
IN_IMAGE = "/opt/pulse/"  # where deploy/*/Dockerfile put the repository
# ${NAME}, ${NAME:-default}, ${NAME:?error}; `$$` escapes a dollar for the container's shell
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$")

PIPELINE = {"airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
            "airflow-worker", "superset-web", "superset-worker", "superset-beat"}
JOBS = {"airflow-init", "superset-init", "superset-deploy"}
DEMO = {"sandbox", "mailsink"}
BACKENDS = {"postgres", "redis"}
# Variables the official images read themselves (documented by those images, not by Pulse).
IMAGE_VARIABLES = {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD", "DUMB_INIT_SETSID"}


def _airflow_options() -> dict[str, dict]:
    """Airflow core's configuration reference (section -> options), from the installed package."""
    import importlib.util

    reference = Path(importlib.util.find_spec("airflow").origin).parent / "config_templates" / "config.yml"
    return {section: body["options"] for section, body in yaml.load(reference.read_text(), Loader=yaml.CSafeLoader).items()}


AIRFLOW_OPTIONS = _airflow_options()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def documented() -> set[str]:
    """Variable names `.env.example` documents (as `# NAME=` or `NAME=`)."""
    text = (REPO_ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA_FILE.read_text()))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _scripts(service: dict) -> list[str]:
    """The repository scripts a service runs: its command and its health check."""
    words = list(service.get("command") or []) + list((service.get("healthcheck") or {}).get("test") or [])
    return [word.removeprefix(IN_IMAGE) for word in words if word.startswith(IN_IMAGE + "scripts/")]


def test_the_compose_file_is_valid_against_the_compose_specification(compose):
    errors = [f"{'/'.join(map(str, error.path))}: {error.message}" for error in _validator().iter_errors(compose)]
    assert not errors, "\n".join(errors)


def test_the_schema_rejects_what_compose_rejects(compose):
    """The vendored schema is strict enough to catch a misspelt key and a wrong depends_on condition."""
    broken = copy.deepcopy(compose)
    broken["services"]["airflow-worker"]["helthcheck"] = broken["services"]["airflow-worker"].pop("healthcheck")
    broken["services"]["superset-web"]["depends_on"]["superset-init"]["condition"] = "service_done"
    messages = [error.message for error in _validator().iter_errors(broken)]
    assert any("helthcheck" in message for message in messages)
    assert any("service_done" in message for message in messages)


def test_the_stack_has_every_component(compose):
    services = compose["services"]
    assert set(services) == PIPELINE | JOBS | DEMO | BACKENDS
    assert {name for name, service in services.items() if service.get("profiles")} == DEMO
    assert all(services[name]["profiles"] == ["demo"] for name in DEMO)
    for job in JOBS:
        assert services[job]["restart"] == "no", job
    assert "sync" in (REPO_ROOT / "scripts" / "superset-deploy.sh").read_text()


def test_every_service_but_the_jobs_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name not in JOBS:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_dependants_wait_for_healthy_backends_and_finished_init_jobs(compose):
    services = compose["services"]
    for name in PIPELINE:
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == needs["redis"]["condition"] == "service_healthy", name
        init = "airflow-init" if name.startswith("airflow") else "superset-init"
        assert needs[init]["condition"] == "service_completed_successfully", name
    assert services["superset-deploy"]["depends_on"]["superset-web"]["condition"] == "service_healthy"
    assert services["airflow-worker"]["depends_on"]["airflow-api-server"]["condition"] == "service_healthy"


def test_every_pulse_service_runs_an_executable_script_of_the_repository(compose):
    for name, service in compose["services"].items():
        if name in BACKENDS:
            continue
        command = service["command"]
        assert len(command) == 1 and command[0].startswith(IN_IMAGE + "scripts/"), (name, command)
        for script in _scripts(service):
            path = REPO_ROOT / script
            assert path.is_file(), f"{name}: {script} is not in the repository"
            assert os.access(path, os.X_OK), f"{name}: {script} is not executable"


def test_health_check_scripts_know_the_component_they_are_asked_about(compose):
    for name, service in compose["services"].items():
        test = service["healthcheck"]["test"] if "healthcheck" in service else []
        scripts = _scripts(service)
        checks = [script for script in scripts if script.endswith("-healthcheck.sh")]
        for script in checks:
            component = test[test.index(IN_IMAGE + script) + 1]
            assert re.search(rf"^\s*{re.escape(component)}\)", (REPO_ROOT / script).read_text(), re.MULTILINE), \
                f"{name}: {script} has no case for {component!r}"


def test_images_are_built_from_the_repository_or_pinned_official_ones(compose):
    for name, service in compose["services"].items():
        if name in BACKENDS:
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: {image} is not pinned"
            assert "build" not in service
            continue
        build = service["build"]
        assert (REPO_ROOT / build["context"]).resolve() == REPO_ROOT
        assert (REPO_ROOT / build["dockerfile"]).is_file(), build["dockerfile"]
        runtime = "airflow" if build["dockerfile"] == "deploy/airflow/Dockerfile" else "superset"
        assert build["dockerfile"] == f"deploy/{runtime}/Dockerfile", name
        assert service["image"].startswith(f"pulse-{runtime}:"), name


def test_files_mounted_or_read_exist(compose):
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (REPO_ROOT / source).is_file(), f"{name}: {source} does not exist"
        if "env_file" in service:
            assert service["env_file"] == ".env", name  # copied from .env.example, never committed
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().split()
    assert ".env" in (REPO_ROOT / ".dockerignore").read_text().split()


def test_named_volumes_are_declared_and_used(compose):
    used = {
        volume.split(":")[0]
        for service in compose["services"].values() for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used == set(compose["volumes"])


def test_every_interpolated_variable_is_documented_in_env_example(compose, documented):
    names = {match.group(1) for text in _strings(compose) for match in INTERPOLATION.finditer(text)}
    assert names, "the compose file takes nothing from .env?"
    assert not names - documented, f"not in .env.example: {sorted(names - documented)}"


def test_every_environment_variable_is_read_by_something(compose, documented):
    """Each variable a service sets is documented in .env.example, read by a script under scripts/ or
    deploy/, or an option in Airflow's configuration reference."""
    ours = "\n".join(path.read_text() for folder in ("scripts", "deploy") for path in (REPO_ROOT / folder).rglob("*")
                     if path.is_file() and path.suffix in {"", ".sh", ".py"})
    for name, service in compose["services"].items():
        for key in service.get("environment", {}):
            if key.startswith("AIRFLOW__"):
                section, option = key.removeprefix("AIRFLOW__").lower().split("__", 1)
                assert option in AIRFLOW_OPTIONS.get(section, {}), f"{name}: {key} is not an Airflow option"
            else:
                assert key in documented or key in IMAGE_VARIABLES or re.search(rf"\b{key}\b", ours), \
                    f"{name}: nothing reads {key}"


def test_no_secret_is_written_in_the_file(compose):
    """A secret-like variable only ever comes from .env: required (`:?`), never with a default."""
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if SECRET_NAME.search(key):
                match = INTERPOLATION.fullmatch(str(value))
                assert match and match.group(2) == ":?", f"{name}: {key} must be ${{{key}:?...}} from .env"
    assert "AIRFLOW_CONN_" not in COMPOSE_FILE.read_text()


def test_uis_are_published_on_loopback_unless_configured(compose):
    published = {name: service["ports"] for name, service in compose["services"].items() if "ports" in service}
    assert set(published) == {"airflow-api-server", "superset-web"}
    for name, ports in published.items():
        for port in ports:
            host = INTERPOLATION.match(port)
            assert host and host.group(3) == "127.0.0.1", f"{name}: {port} is not bound to 127.0.0.1 by default"


def test_demo_sandbox_stays_on_the_workers_loopback(compose):
    sandbox = compose["services"]["sandbox"]
    assert sandbox["network_mode"] == "service:airflow-worker"
    assert "ports" not in sandbox
