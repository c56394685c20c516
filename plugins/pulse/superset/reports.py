"""Report schedules and alerts as code: `superset_assets/reports/`, one YAML file per schedule.

Import bundles cannot carry Superset's Alerts & Reports, so `pulse superset sync` applies these
files through `/api/v1/report/` and `pulse superset export` writes Superset's schedules back.
A file names what it sends by the bundle's own names, which are looked up by uuid in Superset:
`dashboard: <slug>`, `chart: <file name under charts/>`, `database: <database name>`.

    name: Daily summary          # unique per type: a schedule is found again by type and name
    type: report                 # report | alert
    dashboard: summary           # or chart: kpi_bounce_rate
    format: png                  # png (in the mail body) | pdf (attached) | csv (charts only)
    recipients: ['${PULSE_EXECUTIVE_EMAILS}']
    crontab: 0 7 * * *
    timezone: ${PULSE_BUSINESS_TIMEZONE}
    # alerts only: the SQL runs on `database`; the alert fires when its one value meets `condition`
    database: Pulse warehouse
    sql: select ...
    condition: {op: '>', threshold: 0}    # or: not null

Optional: description (the mail's text), email_subject, active, custom_width, force_screenshot,
working_timeout, log_retention, grace_period (DEFAULTS). `${NAME}` is a Pulse setting
(`schedule_variables`): recipients and time zones come from the environment, never from git.

Idempotent: a schedule is created once, updated in place when its file changed, left alone when
not; with `prune`, schedules no file names are deleted. Export writes each schedule back in its
file's own words where Superset still holds what the file renders to, so export after sync gives
back the committed files byte for byte; a change made in the UI comes back as a diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulse.settings import Settings, get_settings
from pulse.superset.bundle import (
    ASSETS_DIR,
    Bundle,
    BundleError,
    load_yaml,
    read_bundle,
    slug,
    write_documents,
)
from pulse.superset.client import SupersetClient

REPORTS_DIR = "reports"
TYPES = {"report": "Report", "alert": "Alert"}
FORMATS = {"png": "PNG", "pdf": "PDF", "csv": "CSV"}
OPERATORS = ("<", "<=", ">", ">=", "==", "!=")
NOT_NULL = "not null"
TARGETS = ("dashboard", "chart")
DEFAULTS: dict[str, Any] = {
    "description": "", "email_subject": None, "active": True, "format": "png", "dashboard": None, "chart": None,
    "database": None, "sql": None, "condition": None, "custom_width": None, "force_screenshot": True,
    "working_timeout": 3600, "log_retention": 90, "grace_period": 14400,
}
REQUIRED = ("name", "type", "crontab", "timezone", "recipients")
KEYS = (*REQUIRED, *DEFAULTS)
ALERT_ONLY = ("database", "sql", "condition")
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")
_EMAIL = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")

# A schedule in YAML's words with every value filled in: references are uuids, `${NAME}`s
# rendered, recipients a tuple of addresses. Files and Superset are compared in this form.
State = dict[str, Any]
Variables = Mapping[str, str | list[str]]


def schedule_variables(settings: Settings | None = None) -> dict[str, str | list[str]]:
    """The `${NAME}`s a schedule file may use, from Pulse's settings."""
    settings = settings or get_settings()
    variables: dict[str, str | list[str]] = {
        "PULSE_BUSINESS_TIMEZONE": settings.business_timezone,
        "PULSE_EXECUTIVE_EMAILS": list(settings.executive_emails),
        "PULSE_DATA_TEAM_EMAILS": list(settings.data_team_emails),
    }
    for team, emails in settings.team_emails.items():
        variables[f"PULSE_TEAM_EMAILS.{team}"] = list(emails)
    return variables


# --- files ----------------------------------------------------------------------------------------
def read_schedules(root: Path = ASSETS_DIR) -> dict[str, dict[str, Any]]:
    """The schedule files under `root/reports/`, by relative path, each checked."""
    documents = {}
    for path in sorted((root / REPORTS_DIR).glob("*.yml")):
        name = path.relative_to(root).as_posix()
        documents[name] = check_document(name, load_yaml(path.read_text(encoding="utf-8"), name))
    keys: dict[tuple[str, str], str] = {}
    for name, document in documents.items():
        key = (document["type"], document["name"])
        if key in keys:
            raise BundleError(f"{name}: {document['type']} {document['name']!r} is also defined in {keys[key]}")
        keys[key] = name
    return documents


def write_schedules(documents: Mapping[str, Any], root: Path = ASSETS_DIR) -> list[str]:
    """Make `root/reports/` hold exactly `documents`; return the paths that changed."""
    existing = {path.relative_to(root).as_posix() for path in (root / REPORTS_DIR).glob("*.yml")}
    return sorted(write_documents(root, documents, existing))


def check_document(where: str, document: Any) -> dict[str, Any]:
    def fail(rule: str) -> BundleError:
        return BundleError(f"{where}: {rule}")

    if not isinstance(document, dict):
        raise fail("a schedule file holds one mapping (name, type, crontab, ...)")
    unknown = sorted(set(document) - set(KEYS))
    if unknown:
        raise fail(f"unknown key(s) {unknown}; a schedule has {list(KEYS)}")
    missing = [key for key in REQUIRED if key not in document]
    if missing:
        raise fail(f"missing {missing}")
    if document["type"] not in TYPES:
        raise fail(f"type {document['type']!r} is not one of {list(TYPES)}")
    if not isinstance(document["name"], str) or not 0 < len(document["name"]) <= 150:
        raise fail("name must be text of 1 to 150 characters")
    if sum(document.get(key) is not None for key in TARGETS) != 1:
        raise fail("name exactly one of `dashboard` (a slug) or `chart` (a file name under charts/)")
    form = document.get("format", DEFAULTS["format"])
    if form not in FORMATS:
        raise fail(f"format {form!r} is not one of {list(FORMATS)}")
    if form == "csv" and document.get("chart") is None:
        raise fail("format csv needs a chart")
    if len(str(document["crontab"]).split()) != 5:
        raise fail(f"crontab {document['crontab']!r} is not five cron fields")
    recipients = document["recipients"]
    if not isinstance(recipients, list) or not recipients or not all(isinstance(item, str) for item in recipients):
        raise fail("recipients must be a non-empty list of addresses or ${NAME}s")
    if document["type"] == "alert":
        missing = [key for key in ALERT_ONLY if document.get(key) is None]
        if missing:
            raise fail(f"an alert needs {missing}")
        _condition(document["condition"], fail)
    else:
        present = [key for key in ALERT_ONLY if document.get(key) is not None]
        if present:
            raise fail(f"{present} are for alerts only")
    return document


def _condition(value: Any, fail) -> dict[str, Any] | str:
    if value == NOT_NULL:
        return NOT_NULL
    if not isinstance(value, dict) or set(value) != {"op", "threshold"} or value["op"] not in OPERATORS \
            or isinstance(value["threshold"], bool) or not isinstance(value["threshold"], int | float):
        raise fail(f"condition {value!r} must be `not null` or {{op: one of {list(OPERATORS)}, threshold: a number}}")
    return {"op": value["op"], "threshold": float(value["threshold"])}


# --- names in the bundle <-> uuids <-> Superset ids ----------------------------------------------------
@dataclass(frozen=True)
class BundleNames:
    """How schedule files name the bundle's objects: dashboard slug, chart file name, database name."""

    uuids: dict[str, dict[str, str]]  # "dashboard" -> name -> uuid

    @classmethod
    def of(cls, bundle: Bundle) -> BundleNames:
        uuids: dict[str, dict[str, str]] = {"dashboard": {}, "chart": {}, "database": {}}
        for name, document in bundle.items():
            if name.startswith("dashboards/"):
                uuids["dashboard"][document["slug"]] = document["uuid"]
            elif name.startswith("charts/"):
                uuids["chart"][Path(name).stem] = document["uuid"]
            elif name.startswith("databases/"):
                uuids["database"][document["database_name"]] = document["uuid"]
        return cls(uuids)

    def uuid(self, kind: str, name: str, where: str) -> str:
        if name not in self.uuids[kind]:
            raise BundleError(f"{where}: {kind} {name!r} is not in the bundle (have: {sorted(self.uuids[kind])})")
        return self.uuids[kind][name]

    def name(self, kind: str, uuid: str) -> str:
        """The bundle's name for an object, or its uuid when the bundle does not hold it."""
        return next((name for name, known in self.uuids[kind].items() if known == uuid), uuid)


RESOURCES = {"dashboard": "dashboard", "chart": "chart", "database": "database"}


@dataclass
class SupersetIds:
    """uuid <-> id of Superset's dashboards, charts and databases, read once."""

    client: SupersetClient
    _ids: dict[str, dict[str, int]] = field(default_factory=dict)

    def ids(self, kind: str) -> dict[str, int]:
        if kind not in self._ids:
            self._ids[kind] = {row["uuid"]: row["id"] for row in self.client.list(RESOURCES[kind],
                                                                                    columns=["id", "uuid"])}
        return self._ids[kind]

    def id(self, kind: str, uuid: str, where: str) -> int:
        if uuid not in self.ids(kind):
            raise BundleError(f"{where}: Superset has no {kind} with uuid {uuid}: deploy the bundle first")
        return self.ids(kind)[uuid]

    def uuid(self, kind: str, number: int) -> str:
        return next(uuid for uuid, known in self.ids(kind).items() if known == number)


# --- file -> state -> Superset ---------------------------------------------------------------------
def render(where: str, document: Mapping[str, Any], variables: Variables, names: BundleNames) -> State:
    """A checked schedule file as the state Superset should hold."""
    state = {key: document.get(key, default) for key, default in DEFAULTS.items()}
    state.update(name=document["name"], type=document["type"], crontab=str(document["crontab"]))
    state["timezone"] = _render_text(str(document["timezone"]), variables, where)
    state["recipients"] = _render_recipients(document["recipients"], variables, where)
    for key in ("description", "email_subject"):
        if state[key] is not None:
            state[key] = _render_text(str(state[key]), variables, where)
    for kind in ("dashboard", "chart", "database"):
        if state[kind] is not None:
            state[kind] = names.uuid(kind, str(state[kind]), where)
    if state["condition"] is not None:
        state["condition"] = _condition(state["condition"], lambda rule: BundleError(f"{where}: {rule}"))
    return _normal(state)


def _render_text(text: str, variables: Variables, where: str) -> str:
    def value(match: re.Match) -> str:
        found = _variable(match.group(1), variables, where)
        return ", ".join(found) if isinstance(found, list) else found

    return _VARIABLE.sub(value, text)


def _render_recipients(items: list[str], variables: Variables, where: str) -> tuple[str, ...]:
    addresses: list[str] = []
    for item in items:
        addresses += [part.strip() for part in re.split(r"[,;]", _render_text(item, variables, where)) if part.strip()]
    bad = [address for address in addresses if not _EMAIL.match(address)]
    if bad or not addresses:
        raise BundleError(f"{where}: recipients {items} give {bad or 'no'} address(es) that are not e-mail addresses")
    return tuple(addresses)


def _variable(name: str, variables: Variables, where: str) -> str | list[str]:
    if name not in variables:
        raise BundleError(f"{where}: ${{{name}}} is not a Pulse setting a schedule may use ({sorted(variables)}); "
                          "a team missing from PULSE_TEAM_EMAILS shows here")
    return variables[name]


def _normal(state: State) -> State:
    """Equal schedules compare equal whichever side they come from."""
    state["description"] = state["description"] or ""
    state["email_subject"] = state["email_subject"] or None
    state["sql"] = state["sql"] or None
    for key in ("active", "force_screenshot"):
        state[key] = bool(state[key])
    return state


def payload(state: State, ids: SupersetIds, where: str, *, create: bool) -> dict[str, Any]:
    """The body of POST/PUT /api/v1/report/ for a state."""
    body: dict[str, Any] = {
        "type": TYPES[state["type"]], "name": state["name"], "description": state["description"],
        "email_subject": state["email_subject"], "active": state["active"], "crontab": state["crontab"],
        "timezone": state["timezone"], "report_format": FORMATS[state["format"]],
        "recipients": [{"type": "Email", "recipient_config_json": {"target": ", ".join(state["recipients"])}}],
        "custom_width": state["custom_width"], "force_screenshot": state["force_screenshot"],
        "working_timeout": state["working_timeout"], "log_retention": state["log_retention"],
        "grace_period": state["grace_period"],
    }
    for kind in TARGETS:
        body[kind] = ids.id(kind, state[kind], where) if state[kind] else None
    if state["type"] == "alert":
        condition = state["condition"]
        body.update(database=ids.id("database", state["database"], where), sql=state["sql"],
                    validator_type=NOT_NULL if condition == NOT_NULL else "operator",
                    validator_config_json={} if condition == NOT_NULL else condition)
    if create:
        # "alerts_reports": made in the Alerts & Reports list, so a dashboard may have several
        body["creation_method"] = "alerts_reports"
    return body


def state_of(result: Mapping[str, Any], ids: SupersetIds) -> State:
    """What Superset holds (GET /api/v1/report/<id>), as a state."""
    state: State = {
        "name": result["name"], "type": result["type"].lower(), "crontab": result["crontab"],
        "timezone": result["timezone"], "format": result["report_format"].lower(),
        "description": result.get("description"), "email_subject": result.get("email_subject"),
        "active": result.get("active"), "custom_width": result.get("custom_width"),
        "force_screenshot": result.get("force_screenshot"), "working_timeout": result.get("working_timeout"),
        "log_retention": result.get("log_retention"), "grace_period": result.get("grace_period"),
        "sql": result.get("sql"), "condition": None,
    }
    addresses: list[str] = []
    for recipient in result.get("recipients") or []:
        if recipient["type"] == "Email":
            target = json.loads(recipient["recipient_config_json"] or "{}").get("target") or ""
            addresses += [part.strip() for part in re.split(r"[,;]", target) if part.strip()]
    state["recipients"] = tuple(addresses)
    for kind in ("dashboard", "chart", "database"):
        related = result.get(kind) or {}
        state[kind] = ids.uuid(kind, related["id"]) if related.get("id") else None
    if state["type"] == "alert":
        if result.get("validator_type") == NOT_NULL:
            state["condition"] = NOT_NULL
        else:
            config = json.loads(result.get("validator_config_json") or "{}")
            state["condition"] = {"op": config.get("op"), "threshold": float(config.get("threshold", 0))}
    return _normal(state)


# --- state -> file (export) ------------------------------------------------------------------------
def document_of(state: State, names: BundleNames, committed: Mapping[str, Any] | None = None,
                committed_state: State | None = None) -> dict[str, Any]:
    """A schedule file for what Superset holds. Where Superset still holds what the committed file
    renders to, the file's own words stay (its `${NAME}`s, its explicit defaults)."""
    literal: dict[str, Any] = {}
    for key in KEYS:
        value = state[key]
        if key in ("dashboard", "chart", "database") and value is not None:
            value = names.name(key, value)
        elif key == "recipients":
            value = list(value)
        if key in REQUIRED or value != DEFAULTS[key]:
            literal[key] = value
    if committed is None or committed_state is None:
        return literal
    document = {}
    for key in KEYS:
        if state[key] == committed_state[key]:
            if key in committed:
                document[key] = committed[key]
        elif key in literal:
            document[key] = literal[key]
    return document


# --- apply and export ----------------------------------------------------------------------------
@dataclass
class ScheduleChanges:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"
        return text + (f", {len(self.pruned)} pruned" if self.pruned else "")


def _existing(client: SupersetClient) -> dict[tuple[str, str], int]:
    return {(row["type"].lower(), row["name"]): row["id"] for row in client.list("report", columns=["id", "name", "type"])}


def apply_schedules(client: SupersetClient, root: Path = ASSETS_DIR, *, variables: Variables | None = None,
                    prune: bool = False) -> ScheduleChanges:
    """Make Superset's report schedules match `root/reports/` (after the bundle is imported)."""
    variables = schedule_variables() if variables is None else variables
    names = BundleNames.of(read_bundle(root))
    wanted = {(document["type"], document["name"]): (where, render(where, document, variables, names))
              for where, document in read_schedules(root).items()}
    ids = SupersetIds(client)
    existing = _existing(client)
    changes = ScheduleChanges()
    for key, (where, state) in sorted(wanted.items()):
        label = f"{key[0]}: {key[1]}"
        if key not in existing:
            client.post("/api/v1/report/", payload(state, ids, where, create=True))
            changes.created.append(label)
        elif state_of(client.get(f"/api/v1/report/{existing[key]}")["result"], ids) == state:
            changes.unchanged.append(label)
        else:
            client.put(f"/api/v1/report/{existing[key]}", payload(state, ids, where, create=False))
            changes.updated.append(label)
    if prune:
        for key, number in sorted(existing.items()):
            if key not in wanted:
                client.delete(f"/api/v1/report/{number}")
                changes.pruned.append(f"{key[0]}: {key[1]}")
    return changes


def exported_schedules(client: SupersetClient, root: Path = ASSETS_DIR, *,
                       variables: Variables | None = None) -> dict[str, dict[str, Any]]:
    """Superset's report schedules as files under reports/, by relative path."""
    variables = schedule_variables() if variables is None else variables
    names = BundleNames.of(read_bundle(root))
    committed = {(document["type"], document["name"]): (where, document)
                 for where, document in read_schedules(root).items()}
    ids = SupersetIds(client)
    documents: dict[str, dict[str, Any]] = {}
    for key, number in sorted(_existing(client).items()):
        state = state_of(client.get(f"/api/v1/report/{number}")["result"], ids)
        if key in committed:
            where, document = committed[key]
            documents[where] = document_of(state, names, document, render(where, document, variables, names))
            continue
        where = f"{REPORTS_DIR}/{slug(key[1])}.yml"
        if where in documents or any(where == path for path, _ in committed.values()):
            where = f"{REPORTS_DIR}/{slug(key[1])}_{key[0]}.yml"
        documents[where] = document_of(state, names)
    return documents
