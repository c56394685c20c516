"""Security properties that no other test owns (docs/reliability.md lists those that do):

- no credential in the repository: every tracked file and every line ever added in the history is
  scanned for secret-looking strings (key formats of the services Pulse talks to, private keys,
  passwords in URLs, random-looking values assigned to secret names), and for the demo's own
  secrets when a demo has run in this checkout (`data/secrets`, which git must ignore). The scanner
  is first shown to find freshly generated secrets in each form and to pass placeholders;
- Superset refuses to start with a missing, short or published `SECRET_KEY` (its own installed
  default included), in demo and in production mode, at the configuration Superset loads;
- the demo binds its services to 127.0.0.1, refuses to expose its generated passwords on any other
  address, keeps its secret files to their owner, and prints its logins as demo-only.

Budget: about 20 seconds (one Superset-runtime process for the configuration cases).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import socket
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulse.settings import REPO_ROOT, get_settings
from support.superset import require_superset

SCRIPTS = REPO_ROOT / "scripts"
SUPERSET_PYTHON = REPO_ROOT / ".venv" / "superset" / "bin" / "python"

# --- the scanner --------------------------------------------------------------------------------------
# Formats with a recognisable shape: any match is a finding.
KEY_FORMATS = {
    # a header with a body: the header alone (docs, this scanner's own fixtures) holds no key
    "private key": r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----\s*"
                   r"(?:[A-Za-z0-9+/=]{40,}\s*){2,}",
    "AWS access key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}",
    "Slack token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    "Google API key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "Google service-account key": r'"private_key_id"\s*:\s*"[0-9a-f]{40}"',
    "Stripe live key": r"\b[sr]k_live_[0-9A-Za-z]{20,}",
    "SendGrid key": r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",
    "HubSpot private-app token": r"\bpat-(?:na|eu)1-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
    "EasyPost key": r"\bEZ[AT]K[0-9a-f]{32,}\b",
    "JSON web token": r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
}
# Generic shapes: a finding only when the value is not a placeholder.
VALUE_FORMATS = {
    "password in a URL": r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^/\s@'\"$]{8,})@",
    "value of a secret name": r"(?i)[\w.-]*(?:password|passwd|secret|token|api_?key|private_key)[\w.-]*[\"']?"
                              r"\s*[:=]\s*[\"']([^\"'\s]{12,})[\"']",
}
# Test fixtures and docs use values that say what they are; a generated secret never does.
PLACEHOLDER_WORDS = ("test", "example", "secret", "password", "token", "sample", "dummy", "fake", "change",
                     "placeholder", "your", "xxxx", "redacted", "http")
LEET = str.maketrans("013457$@", "oleastsa")


def placeholder(value: str) -> bool:
    plain = value.lower().translate(LEET)
    return any(word in plain for word in PLACEHOLDER_WORDS) or "{" in value or value.startswith(("$", "<", "%("))


@dataclass(frozen=True)
class Finding:
    where: str
    kind: str
    text: str  # shown shortened, never whole

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} ({self.text[:6]}...)"


def scan(text: str, where: str, known: dict[str, str] | None = None) -> list[Finding]:
    found = [Finding(where, kind, match.group(0)) for kind, pattern in KEY_FORMATS.items()
             for match in re.finditer(pattern, text)]
    found += [Finding(where, kind, match.group(1)) for kind, pattern in VALUE_FORMATS.items()
              for match in re.finditer(pattern, text) if not placeholder(match.group(1))]
    found += [Finding(where, name, value) for name, value in (known or {}).items() if value in text]
    return found


def tracked_files() -> Iterator[tuple[str, str]]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    for name in names.decode().split("\0"):
        path = REPO_ROOT / name
        if name and path.is_file() and not path.is_symlink():
            yield name, path.read_bytes().decode("utf-8", errors="replace")


def added_lines() -> str:
    """Every line any commit added, with the commit that added it."""
    log = subprocess.run(["git", "log", "-p", "--no-color", "--no-merges", "--format=commit %h"], cwd=REPO_ROOT,
                         capture_output=True, check=True).stdout.decode("utf-8", errors="replace")
    return "\n".join(line for line in log.splitlines() if line.startswith(("+", "commit ")))


def demo_secrets(data_dir: Path) -> dict[str, str]:
    """The values under `<data_dir>/secrets` (plain files, or JSON whose leaves are the secrets)."""
    found = {}
    for path in sorted((data_dir / "secrets").glob("*")) if (data_dir / "secrets").is_dir() else []:
        text = path.read_text().strip()
        try:
            document = json.loads(text)
        except ValueError:
            document = text
        for key, value in _leaves(path.name, document):
            if len(value) >= 12:
                found[key] = value
    return found


def _leaves(prefix: str, value) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(f"{prefix}:{key}", item)
    elif isinstance(value, str):
        yield prefix, value


def test_the_scanner_finds_generated_secrets_in_every_form_and_passes_placeholders():
    token = secrets.token_urlsafe(24)
    planted = {
        "private key": "-----BEGIN RSA " + "PRIVATE KEY-----\n" + "\n".join(
            base64.b64encode(os.urandom(48)).decode() for _ in range(4)),
        "AWS access key": "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        "GitHub token": "ghp_" + secrets.token_hex(18),
        "Google API key": "AIza" + secrets.token_urlsafe(26)[:35],
        "HubSpot private-app token": "pat-eu1-" + "-".join(secrets.token_hex(n) for n in (4, 2, 2, 2, 6)),
        "EasyPost key": "EZAK" + secrets.token_hex(24),
        "JSON web token": ".".join(base64.urlsafe_b64encode(part).decode().rstrip("=") for part in
                                   (b'{"alg":"HS256","typ":"JWT"}', b'{"sub":"pulse-admin-user"}', os.urandom(32))),
        "password in a URL": f"postgresql+psycopg://pulse:{token}@db.internal:5432/pulse",
        "value of a secret name": f'SUPERSET_SECRET_KEY = "{secrets.token_urlsafe(32)}"',
    }
    for kind, text in planted.items():
        assert kind in {finding.kind for finding in scan(f"x = 1\n{text}\n", "planted")}, kind
    placeholders = ["-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow...", 'password="pulse-test-password"',
                    "postgresql://pulse:s3cret-pw@localhost/db",
                    'SUPERSET_SECRET_KEY: "${SUPERSET_SECRET_KEY}"', 'token = "t0ken-for-tests"',
                    '"tokensPerDay": "tokens_per_day"', 'api_key="<your key here>"']
    assert scan("\n".join(placeholders), "placeholders") == []
    assert scan(f"export X={token}", "known", {"demo secret": token})[0].kind == "demo secret"


def test_no_credential_in_any_tracked_file():
    known = demo_secrets(REPO_ROOT / "data")
    findings, scanned = [], 0
    for name, text in tracked_files():
        scanned += 1
        findings += scan(text, name, known)
    assert scanned > 100
    assert not findings, [str(finding) for finding in findings]
    print(f"\nrepository scan: {scanned} tracked files, {len(known)} demo secrets of this checkout, 0 findings")


def test_no_credential_was_ever_committed():
    history = added_lines()
    findings = []
    for chunk in history.split("\ncommit ")[1:]:
        commit, _, lines = chunk.partition("\n")
        findings += scan(lines, f"commit {commit}", demo_secrets(REPO_ROOT / "data"))
    assert history.count("\ncommit ") > 10
    assert not findings, [str(finding) for finding in findings]


# --- the demo's secrets and addresses --------------------------------------------------------------------
def _bash(script: str, data_dir: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PULSE_", "AIRFLOW", "SUPERSET_", "SMTP_", "POSTGRES_"))}
    env_file = data_dir.parent / "empty.env"
    env_file.write_text("")
    env.update(PULSE_ENV_FILE=str(env_file), PULSE_DATA_DIR=str(data_dir), **extra)
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source {SCRIPTS}/lib/env.sh; {script}"], env=env,
                          capture_output=True, text=True, timeout=120)


def test_demo_secrets_are_generated_into_the_ignored_data_dir_readable_by_their_owner_only(tmp_path):
    from pulse.sandbox.servers.serve import demo_credentials

    data_dir = tmp_path / "data"
    done = _bash("pulse_superset_env; pulse_airflow_env", data_dir)
    assert done.returncode == 0, done.stderr
    demo_credentials(data_dir)
    generated = sorted((data_dir / "secrets").iterdir())
    names = {path.name for path in generated}
    assert {"superset_secret_key", "airflow_passwords.json", "sandbox_credentials.json"} <= names, names
    loose = [path.name for path in generated if stat.S_IMODE(path.stat().st_mode) & 0o077]
    assert not loose, f"secret files others can read: {loose}"
    # the default data dir is ignored by git, whatever a demo writes into it
    for path in ("data/secrets/superset_secret_key", "data/secrets/sandbox_credentials.json", ".env"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO_ROOT).returncode == 0, path


def test_demo_services_listen_on_loopback_by_default(tmp_path):
    from pulse.mailsink import MailSink
    from pulse.sandbox.servers import SERVERS, server_class
    from support.tiny_world import tiny_world

    done = _bash('pulse_superset_env; pulse_airflow_env; echo "$SUPERSET_HOST $AIRFLOW__API__HOST"',
                 tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["127.0.0.1", "127.0.0.1"]
    world = tiny_world()
    for name in SERVERS:
        with server_class(name)(world) as server:
            assert server._http.socket.getsockname()[0] == "127.0.0.1", name
    with MailSink(tmp_path / "mail") as sink, socket.socket() as probe:
        assert sink.host == "127.0.0.1"
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", sink.port)) == 0


@pytest.mark.parametrize("variable", ["SUPERSET_HOST", "AIRFLOW__API__HOST"])
def test_the_demo_refuses_to_serve_its_generated_passwords_beyond_loopback(tmp_path, variable):
    """The demo's logins are generated and printed for one machine: a demo started on another
    address must stop, naming the setting, rather than expose them (production mode sets its own)."""
    done = _bash("pulse_superset_env; pulse_airflow_env; echo started", tmp_path / "data", **{variable: "0.0.0.0"})
    assert done.returncode != 0 and "started" not in done.stdout, "the demo would listen on every address"
    assert variable in done.stderr


def test_the_demo_prints_its_logins_as_demo_only(tmp_path, monkeypatch, capsys):
    from pulse.orchestration import demo

    data_dir = tmp_path / "data"
    (data_dir / "secrets").mkdir(parents=True)
    superset_password, airflow_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    (data_dir / "secrets" / "superset_admin_password").write_text(superset_password)
    (data_dir / "secrets" / "airflow_passwords.json").write_text(json.dumps({"admin": airflow_password}))
    for name in ("SUPERSET_HOST", "SUPERSET_PORT", "AIRFLOW__API__HOST", "AIRFLOW__API__PORT", "AIRFLOW__API__BASE_URL",
                 "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PULSE_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        demo._summary(get_settings(), 60.0)
    finally:
        get_settings.cache_clear()
    printed = capsys.readouterr().out
    assert f"admin / {superset_password}" in printed and f"admin / {airflow_password}" in printed
    assert "DEMO ONLY" in printed
    urls = re.findall(r"https?://([^/:\s]+)", printed)
    assert urls and set(urls) == {"127.0.0.1"}, urls


# --- Superset's SECRET_KEY -------------------------------------------------------------------------------
CONFIG_CASES = r"""
import json, os, runpy, sys
from superset.constants import CHANGE_ME_SECRET_KEY
config, cases = sys.argv[1], json.loads(sys.argv[2])
cases["Superset's own default"] = CHANGE_ME_SECRET_KEY
outcomes = {}
for mode in ("demo", "production"):
    os.environ["PULSE_ENV"] = mode
    for case, key in cases.items():
        if key is None:
            os.environ.pop("SUPERSET_SECRET_KEY", None)
        else:
            os.environ["SUPERSET_SECRET_KEY"] = key
        try:
            loaded = runpy.run_path(config)
            outcomes[f"{mode}: {case}"] = "accepted" if loaded["SECRET_KEY"] == key else "changed"
        except Exception as error:
            outcomes[f"{mode}: {case}"] = f"refused: {type(error).__name__}: {error}"
print(json.dumps(outcomes))
"""


@pytest.mark.superset
def test_superset_refuses_a_missing_short_or_published_secret_key(tmp_path):
    require_superset()
    fresh = secrets.token_urlsafe(48)
    cases = {"missing": None, "empty": "", "short": secrets.token_urlsafe(23)[:31],
             "Superset's Helm chart example": "thisISaSECRET_1234", "a fresh random key": fresh}
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PULSE_", "SUPERSET_"))}
    # production mode also needs shared metadata and Redis; nothing connects while the config loads
    env.update(PULSE_DATA_DIR=str(tmp_path / "data"), SUPERSET_DATABASE_URI="postgresql://superset@db.invalid/superset",
               SUPERSET_REDIS_URL="redis://cache.invalid:6379/1")
    done = subprocess.run([str(SUPERSET_PYTHON), "-c", CONFIG_CASES, str(REPO_ROOT / "deploy/superset/superset_config.py"),
                           json.dumps(cases)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    for name, outcome in outcomes.items():
        if name.endswith("a fresh random key"):
            assert outcome == "accepted", (name, outcome)
        else:
            assert outcome.startswith("refused: RefusedConfiguration") and "SUPERSET_SECRET_KEY" in outcome, \
                (name, outcome)
    assert len(outcomes) == 2 * (len(cases) + 1)
