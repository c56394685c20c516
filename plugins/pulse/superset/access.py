"""Roles, dashboard access and row-level security from `superset_assets/roles/` and `rls/`.

Bundles cannot carry these, so `pulse superset sync` applies them through Superset's REST API,
idempotently: a role's permission set is replaced, not appended to; a dashboard's role list is
set to exactly the roles that name it; an RLS rule is found by name and updated.

Resellers: one role per reseller (`Reseller - <name>`), holding no permission, only an RLS rule
`reseller = '<name>'`, next to the shared `Pulse reseller` role that holds the permissions and a
deny-all rule in the same RLS group. Rules of one group are OR-ed, so a reseller user sees its
own rows, a user with the shared role alone sees none, and no SQL template is involved: Superset
offers no per-user attribute in RLS without Jinja (ENABLE_TEMPLATE_PROCESSING), which Pulse keeps
off. The clause is built here with the name as a quoted SQL literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulse.superset.bundle import ASSETS_DIR, Bundle, BundleError, load_yaml
from pulse.superset.client import SupersetClient

ROLES_FILE = "roles/roles.yml"
RESELLERS_FILE = "rls/resellers.yml"
RESELLER_ROLE_PREFIX = "Reseller - "
RULE_PREFIX = "pulse: "
ROLE_NAME_MAX = 64  # ab_role.name
ALL = "all"


@dataclass(frozen=True)
class Role:
    name: str
    permission_set: str  # a key of `permission_sets` in roles.yml
    datasets: tuple[str, ...] | str  # dataset names, or "all"
    dashboards: tuple[str, ...] | str  # dashboard slugs, or "all"
    database_access: bool = False  # SQL Lab on the warehouse (with a permission set that has SQL Lab)


@dataclass(frozen=True)
class Reseller:
    name: str  # the value of the `reseller` column

    @property
    def role(self) -> str:
        return f"{RESELLER_ROLE_PREFIX}{self.name}"


@dataclass(frozen=True)
class AccessConfig:
    roles: tuple[Role, ...]
    permission_sets: dict[str, dict[str, Any]]
    base_role: str
    rls_datasets: tuple[str, ...]
    rls_column: str
    resellers: tuple[Reseller, ...]


def sql_literal(value: str) -> str:
    """`value` as a SQL string literal (standard SQL: quotes doubled; the same on DuckDB and PostgreSQL)."""
    return "'" + value.replace("'", "''") + "'"


def _parse_permission(text: str, where: str) -> tuple[str, str]:
    permission, separator, resource = str(text).partition(" on ")
    if not separator or not permission.strip() or not resource.strip():
        raise BundleError(f"{where}: {text!r} is not '<permission> on <resource>'")
    return permission.strip(), resource.strip()


def load_access(root: Path = ASSETS_DIR) -> AccessConfig:
    roles_doc = load_yaml((root / ROLES_FILE).read_text(encoding="utf-8"), ROLES_FILE) or {}
    rls_doc = load_yaml((root / RESELLERS_FILE).read_text(encoding="utf-8"), RESELLERS_FILE) or {}
    sets = roles_doc.get("permission_sets") or {}
    for set_name, spec in sets.items():
        for key in ("add", "remove"):
            spec[key] = [_parse_permission(item, f"{ROLES_FILE} permission set {set_name}")
                         for item in spec.get(key) or []]
    roles = []
    for index, entry in enumerate(roles_doc.get("roles") or [], start=1):
        where = f"{ROLES_FILE} role {index} ({entry.get('name')!r})"
        missing = [key for key in ("name", "permissions", "datasets", "dashboards") if key not in entry]
        if missing:
            raise BundleError(f"{where}: missing {missing}")
        if entry["permissions"] not in sets:
            raise BundleError(f"{where}: permission set {entry['permissions']!r} is not defined")
        roles.append(Role(
            name=entry["name"], permission_set=entry["permissions"],
            datasets=ALL if entry["datasets"] == ALL else tuple(entry["datasets"]),
            dashboards=ALL if entry["dashboards"] == ALL else tuple(entry["dashboards"]),
            database_access=bool(entry.get("database_access", False)),
        ))
    resellers = []
    for index, entry in enumerate(rls_doc.get("resellers") or [], start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise BundleError(f"{RESELLERS_FILE} reseller {index}: needs a non-empty name")
        if any(ord(ch) < 32 for ch in name):
            raise BundleError(f"{RESELLERS_FILE} reseller {index} ({name!r}): control characters are not allowed")
        if len(Reseller(name).role) > ROLE_NAME_MAX:
            raise BundleError(f"{RESELLERS_FILE} reseller {index} ({name!r}): Superset role names hold "
                              f"{ROLE_NAME_MAX} characters; shorten the name to {ROLE_NAME_MAX - len(RESELLER_ROLE_PREFIX)}")
        resellers.append(Reseller(name))
    if len({r.name for r in resellers}) != len(resellers):
        raise BundleError(f"{RESELLERS_FILE}: a reseller is listed twice")
    base_role = rls_doc.get("base_role")
    if base_role not in {role.name for role in roles}:
        raise BundleError(f"{RESELLERS_FILE}: base_role {base_role!r} is not a role of {ROLES_FILE}")
    return AccessConfig(tuple(roles), sets, base_role, tuple(rls_doc.get("datasets") or ()),
                        str(rls_doc.get("column") or "reseller"), tuple(resellers))


class AccessApplier:
    """Applies an AccessConfig to one Superset through its REST API."""

    def __init__(self, client: SupersetClient, config: AccessConfig, bundle: Bundle):
        self.client = client
        self.config = config
        self.bundle = bundle
        self._permission_ids: dict[tuple[str, str], int] | None = None

    # --- lookups ------------------------------------------------------------------------------
    def permission_ids(self) -> dict[tuple[str, str], int]:
        if self._permission_ids is None:
            rows = self.client.list("security/permissions-resources",
                                    columns=["id", "permission.name", "view_menu.name"])
            self._permission_ids = {(row["permission"]["name"], row["view_menu"]["name"]): row["id"] for row in rows}
        return self._permission_ids

    def roles_by_name(self) -> dict[str, int]:
        return {row["name"]: row["id"] for row in self.client.list("security/roles")}

    def role_permissions(self, role_id: int) -> set[tuple[str, str]]:
        rows = self.client.get(f"/api/v1/security/roles/{role_id}/permissions/")["result"]
        return {(row["permission_name"], row["view_menu_name"]) for row in rows}

    def datasets(self) -> dict[str, dict[str, Any]]:
        """Datasets of the bundle as Superset has them: name -> {id, table_name, database}."""
        wanted = {doc["uuid"]: doc["table_name"] for name, doc in self.bundle.items() if name.startswith("datasets/")}
        found = {}
        for row in self.client.list("dataset", columns=["id", "uuid", "table_name", "database.database_name"]):
            if row["uuid"] in wanted:
                found[wanted[row["uuid"]]] = row
        missing = sorted(set(wanted.values()) - set(found))
        if missing:
            raise BundleError(f"datasets {missing} are in the bundle but not in Superset: import first")
        return found

    def databases(self) -> list[dict[str, Any]]:
        wanted = {doc["uuid"] for name, doc in self.bundle.items() if name.startswith("databases/")}
        return [row for row in self.client.list("database", columns=["id", "uuid", "database_name"])
                if row["uuid"] in wanted]

    def dashboards(self) -> dict[str, dict[str, Any]]:
        wanted = {doc["uuid"]: doc["slug"] for name, doc in self.bundle.items() if name.startswith("dashboards/")}
        return {wanted[row["uuid"]]: row for row in self.client.list("dashboard", columns=["id", "uuid", "slug"])
                if row["uuid"] in wanted}

    # --- apply ----------------------------------------------------------------------------------
    def ensure_role(self, name: str, existing: dict[str, int]) -> int:
        if name not in existing:
            existing[name] = self.client.post("/api/v1/security/roles/", {"name": name})["id"]
        return existing[name]

    def resolve_permissions(self, role: Role, roles: dict[str, int], datasets: dict[str, dict[str, Any]]) -> set[int]:
        set_name = role.permission_set
        spec = self.config.permission_sets[set_name]
        wanted: set[tuple[str, str]] = set()
        for builtin in spec.get("from_roles") or []:
            if builtin not in roles:
                raise BundleError(f"{ROLES_FILE}: permission set {set_name}: Superset has no role {builtin!r}")
            wanted |= self.role_permissions(roles[builtin])
        wanted |= set(spec["add"])
        for permission, resource in spec["remove"]:
            wanted = {item for item in wanted if not (item[0] == permission and resource in ("*", item[1]))}
        names = sorted(datasets) if role.datasets == ALL else list(role.datasets)
        for name in names:
            if name not in datasets:
                raise BundleError(f"{ROLES_FILE} role {role.name!r}: dataset {name!r} is not in the bundle")
            row = datasets[name]
            wanted.add(("datasource_access", f"[{row['database']['database_name']}].[{name}](id:{row['id']})"))
        if role.database_access:
            for database in self.databases():
                wanted.add(("database_access", f"[{database['database_name']}].(id:{database['id']})"))
        ids = self.permission_ids()
        unknown = sorted(item for item in wanted if item not in ids)
        if unknown:
            raise BundleError(f"{ROLES_FILE} role {role.name!r}: Superset has no permission(s) {unknown}")
        return {ids[item] for item in wanted}

    def apply(self) -> dict[str, Any]:
        roles = self.roles_by_name()
        datasets = self.datasets()
        dashboards = self.dashboards()
        report: dict[str, Any] = {"roles": [], "dashboards": {}, "rls": []}

        role_ids = {}
        for role in self.config.roles:
            permission_ids = self.resolve_permissions(role, roles, datasets)
            role_ids[role.name] = self.ensure_role(role.name, roles)
            self.client.post(f"/api/v1/security/roles/{role_ids[role.name]}/permissions",
                             {"permission_view_menu_ids": sorted(permission_ids)})
            report["roles"].append(role.name)

        for slug, row in sorted(dashboards.items()):
            names = [role.name for role in self.config.roles if role.dashboards == ALL or slug in role.dashboards]
            self.client.put(f"/api/v1/dashboard/{row['id']}",
                            {"roles": sorted(role_ids[name] for name in names), "published": True})
            report["dashboards"][slug] = names
        unknown = {slug for role in self.config.roles if role.dashboards != ALL for slug in role.dashboards} \
            - set(dashboards)
        if unknown:
            raise BundleError(f"{ROLES_FILE}: dashboards {sorted(unknown)} are not in the bundle")

        report["rls"] = self.apply_rls(roles, role_ids, datasets)
        return report

    def apply_rls(self, roles: dict[str, int], role_ids: dict[str, int],
                  datasets: dict[str, dict[str, Any]]) -> list[str]:
        config = self.config
        table_ids = []
        for name in config.rls_datasets:
            if name not in datasets:
                raise BundleError(f"{RESELLERS_FILE}: dataset {name!r} is not in the bundle")
            table_ids.append(datasets[name]["id"])
        column = config.rls_column
        rules = {f"{RULE_PREFIX}reseller (none)": ([role_ids[config.base_role]], "1 = 0")}
        for reseller in config.resellers:
            role_id = self.ensure_role(reseller.role, roles)
            # a reseller role carries no permission: only its rule
            self.client.post(f"/api/v1/security/roles/{role_id}/permissions", {"permission_view_menu_ids": []})
            rules[f"{RULE_PREFIX}reseller {reseller.name}"] = ([role_id], f"{column} = {sql_literal(reseller.name)}")

        existing = {row["name"]: row["id"] for row in self.client.list("rowlevelsecurity", columns=["id", "name"])}
        for name, (rule_roles, clause) in sorted(rules.items()):
            payload = {"name": name, "description": "Managed by pulse superset sync (superset_assets/rls/).",
                       "filter_type": "Regular", "tables": sorted(table_ids), "roles": sorted(rule_roles),
                       "group_key": "reseller", "clause": clause}
            if name in existing:
                self.client.put(f"/api/v1/rowlevelsecurity/{existing[name]}", payload)
            else:
                self.client.post("/api/v1/rowlevelsecurity/", payload)
        for name, rule_id in existing.items():
            if name.startswith(RULE_PREFIX) and name not in rules:
                self.client.delete(f"/api/v1/rowlevelsecurity/{rule_id}")
        wanted_roles = {reseller.role for reseller in config.resellers}
        for name, role_id in roles.items():
            if name.startswith(RESELLER_ROLE_PREFIX) and name not in wanted_roles:
                self.client.delete(f"/api/v1/security/roles/{role_id}")
        return sorted(rules)
