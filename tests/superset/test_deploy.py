"""Deploying the bundle: every chart answers with the right rows, twice is once, export gives back git.

Runs against one Superset, deployed on DuckDB and then on PostgreSQL (conftest.py). Expected
values are computed here from the fixture's own rows, not from anything Superset or the
generator computes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from pulse.business_calendar import BusinessCalendar
from pulse.kpi.registry import RATIO_KINDS, load_registry
from pulse.superset.access import RESELLER_ROLE_PREFIX, RULE_PREFIX
from pulse.superset.assets.generate import build
from pulse.superset.bundle import ASSETS_DIR, BUNDLE_DIRS, read_bundle
from pulse.superset.export import export
from pulse.superset.sync import prune, sync

pytestmark = [pytest.mark.superset, pytest.mark.slow]

REGISTRY = load_registry()
BUNDLE, DASHBOARDS = build(REGISTRY)
CHARTS = {chart.uuid: chart for dashboard in DASHBOARDS for chart in dashboard.charts}
SLUGS = [dashboard.slug for dashboard in DASHBOARDS]
ADDITIVE = {"sum", "count"}


def _day(value) -> dt.date:
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date()
    return dt.date.fromisoformat(str(value)[:10])


def _aggregate(kind: str, rows: list[dict]) -> float:
    """A KPI over several rows, the ratio-safe way (docs/data-contracts.md §5)."""
    if kind in RATIO_KINDS:
        return sum(row["numerator"] for row in rows) / sum(row["denominator"] for row in rows)
    if kind in ADDITIVE:
        return sum(row["value"] for row in rows)
    return max(row["value"] for row in rows)


def _expected(chart, fixture) -> dict[tuple, float] | None:
    """What a chart must show, keyed by (period, slice value or None), from the fixture's rows."""
    if not chart.kpi_ids or chart.dataset.name not in {"kpi_values_by_slice", "summary_history", "reseller_kpis"}:
        return None
    kpi = REGISTRY.get(chart.kpi_ids[0])
    grain = "day" if "day" in kpi.grains else kpi.grains[0]
    groupby = chart.params.get("groupby") or []
    rows = [row for row in fixture.rows if row["kpi_id"] == kpi.id and row["grain"] == grain]
    if chart.dataset.name == "reseller_kpis":
        rows = [row for row in rows if row["slice_name"] == "reseller"]
        keyed = defaultdict(list)
        for row in rows:
            keyed[(row["period_start"], None)].append(row)
        return {key: _aggregate(kpi.kind, group) for key, group in keyed.items()}
    if groupby:
        rows = [row for row in rows if row["slice_name"] == groupby[0]]
        return {(row["period_start"], row["slice_value"]): _aggregate(kpi.kind, [row]) for row in rows}
    rows = [row for row in rows if row["slice_name"] == "all"]
    if chart.dataset.name == "summary_history":  # up to the summary's period; at day grain office days
        last = max(item["period_start"] for item in fixture.summary if item["kpi_id"] == kpi.id and item["grain"] == grain)
        calendar = BusinessCalendar.from_settings()
        rows = [row for row in rows if row["period_start"] <= last
                and (grain != "day" or calendar.is_office_day(row["period_start"]))]
    return {(row["period_start"], None): _aggregate(kpi.kind, [row]) for row in rows}


def _check_kpi_chart(chart, result, fixture) -> list[str]:
    expected = _expected(chart, fixture)
    if expected is None:
        return []
    metric = chart.params.get("metric") or chart.params["metrics"][0]
    groupby = (chart.params.get("groupby") or [None])[0]
    got = {(_day(row[chart.params["x_axis"]]), row.get(groupby) if groupby else None): row[metric]
           for row in result["data"]}
    if set(got) != set(expected):
        return [f"{chart.title}: periods/slices {sorted(set(got) ^ set(expected))[:4]} differ"]
    return [f"{chart.title} {key}: {got[key]} != {value}" for key, value in expected.items()
            if got[key] is None or abs(got[key] - value) > 1e-9 * max(1.0, abs(value))]


def _label_number(label: str) -> tuple[float, float]:
    """The number in a board value label ("€ 16.58", "19.3 %") and half a unit of its last digit."""
    text = label.replace("€", "").replace("%", "").replace(" s", "").replace(" h", "").replace(" d", "").strip()
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10 ** -decimals + 1e-9


def _check_board(result, fixture) -> list[str]:
    """The board shows each summary KPI once, linked to its dashboard, with kpi.kpi_summary's value,
    change and weather (day grain; NPS, which is monthly, at month)."""
    by_title = {kpi.title: kpi for kpi in REGISTRY.summary()}
    symbol = {"sun": "☀", "cloud": "☁", "storm": "⚡"}
    errors = []
    shown = {}
    for row in result["data"]:
        title = row["kpi"].split(">", 1)[1].rsplit("<", 1)[0]
        shown[by_title[title].id if title in by_title else title] = row
    if set(shown) != {kpi.id for kpi in by_title.values()}:
        errors.append(f"board lists {sorted(shown)} instead of the 20 summary KPIs")
    for item in fixture.summary:
        kpi = REGISTRY.get(item["kpi_id"])
        if item["grain"] != ("day" if "day" in kpi.grains else "month") or kpi.id not in shown:
            continue
        row = shown[kpi.id]
        number, tolerance = _label_number(row["value_label"])
        expected = item["value"] * (100 if kpi.unit == "ratio" else 1)
        if abs(number - expected) > tolerance:
            errors.append(f"board {kpi.id}: {row['value_label']!r} is not {item['value']}")
        if row["weather"] != symbol[item["status"]] or f'href="/superset/dashboard/{kpi.dashboard}/"' not in row["kpi"]:
            errors.append(f"board {kpi.id}: weather {row['weather']!r} or link {row['kpi']!r} wrong")
        if (row["change"] is None) != (item["change"] is None) or (
                item["change"] is not None and abs(row["change"] - item["change"]) > 1e-9):
            errors.append(f"board {kpi.id}: change {row['change']} != {item['change']}")
    return errors


def test_every_chart_of_every_dashboard_returns_its_rows(deployment):
    """Each chart's saved query context answers through /api/v1/chart/{id}/data/ with rows; KPI
    charts, summary tiles and the summary board show exactly the fixture's values."""
    admin, fixture = deployment.admin, deployment.fixture
    uuids = {row["id"]: row["uuid"] for row in admin.list("chart", columns=["id", "uuid"])}
    on_dashboards = [(slug, info) for slug in SLUGS for info in admin.get(f"/api/v1/dashboard/{slug}/charts")["result"]]
    assert {slug for slug, _ in on_dashboards} == set(SLUGS), "a dashboard has no charts"
    # a few at a time, as a browser asks for a dashboard's charts (one session per thread)
    local = threading.local()

    def fetch(item):
        if not hasattr(local, "client"):
            local.client = deployment.server.client()
        return local.client.chart_data(item[1]["id"])["result"][0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fetch, on_dashboards))
    errors, checked = [], 0
    for (slug, info), result in zip(on_dashboards, results, strict=True):
        chart = CHARTS.get(uuids[info["id"]])
        checked += 1
        if not result["rowcount"]:
            errors.append(f"{slug}/{info['slice_name']}: no rows")
        elif chart is None:
            errors.append(f"{slug}/{info['slice_name']}: not a chart of the bundle")
        elif chart.key == "summary_board":
            errors += _check_board(result, fixture)
        else:
            errors += _check_kpi_chart(chart, result, fixture)
    assert checked == len(CHARTS)
    assert not errors, f"{len(errors)} problem(s) on {deployment.engine}:\n" + "\n".join(errors[:40])


def _inventory(admin) -> dict[str, dict[str, int]]:
    return {
        "databases": {row["uuid"]: row["id"] for row in admin.list("database", columns=["id", "uuid"])},
        "datasets": {row["uuid"]: row["id"] for row in admin.list("dataset", columns=["id", "uuid"])},
        "charts": {row["uuid"]: row["id"] for row in admin.list("chart", columns=["id", "uuid"])},
        "dashboards": {row["uuid"]: row["id"] for row in admin.list("dashboard", columns=["id", "uuid"])},
        "roles": {row["name"]: row["id"] for row in admin.list("security/roles")},
        "rls": {row["name"]: row["id"] for row in admin.list("rowlevelsecurity", columns=["id", "name"])},
    }


@pytest.mark.parametrize("deployment", ["duckdb"], indirect=True)
def test_deploying_twice_creates_nothing_twice(deployment):
    """(The PostgreSQL deployment is itself a second deploy of the same Superset: the tests on it
    see the same objects.)"""
    before = _inventory(deployment.admin)
    sync(deployment.admin, deployment.environment, deployment.assets)
    after = _inventory(deployment.admin)
    assert after == before  # same objects, same ids
    bundle = read_bundle(deployment.assets)
    for folder in BUNDLE_DIRS:
        committed = {doc["uuid"] for name, doc in bundle.items() if name.startswith(f"{folder}/")}
        assert set(after[folder]) == committed, folder
    resellers = deployment.fixture.resellers
    assert {name for name in after["roles"] if name.startswith(RESELLER_ROLE_PREFIX)} == \
        {RESELLER_ROLE_PREFIX + name for name in resellers}
    assert len([name for name in after["rls"] if name.startswith(RULE_PREFIX)]) == len(resellers) + 1


def test_export_after_deploy_reproduces_the_committed_files(deployment, tmp_path):
    target = tmp_path / "superset_assets"
    shutil.copytree(deployment.assets, target)
    changed = export(deployment.admin, deployment.environment, target)
    assert changed == []
    committed = read_bundle(ASSETS_DIR)
    for name in committed:
        assert (target / name).read_bytes() == (ASSETS_DIR / name).read_bytes(), name
    # nothing of the environment is written back: no connection string, no password, no URL
    texts = "".join((target / name).read_text() for name in committed)
    warehouse = deployment.environment.warehouse
    assert warehouse.sqlalchemy_uri not in texts
    assert not warehouse.password or warehouse.password not in texts
    assert "docs.pulse.test" not in texts
    assert "${PULSE_DATA_DOCS_URL}" in (target / "dashboards" / "data_health.yaml").read_text()


@pytest.mark.parametrize("deployment", ["duckdb"], indirect=True)
def test_prune_deletes_only_what_the_bundle_no_longer_holds(deployment):
    admin = deployment.admin
    dataset = next(row["id"] for row in admin.list("dataset", columns=["id", "table_name"])
                   if row["table_name"] == "kpi_summary")
    stray = admin.post("/api/v1/chart/", {"slice_name": "Made in the UI", "viz_type": "table",
                                          "datasource_id": dataset, "datasource_type": "table"})["id"]
    stray_uuid = admin.get(f"/api/v1/chart/{stray}")["result"].get("uuid") or next(
        row["uuid"] for row in admin.list("chart", columns=["id", "uuid"]) if row["id"] == stray)
    before = _inventory(admin)
    pruned = prune(admin, deployment.assets)
    after = _inventory(admin)
    assert pruned == {"charts": [stray_uuid]}
    assert after["charts"] == {uuid: number for uuid, number in before["charts"].items() if uuid != stray_uuid}


@pytest.mark.parametrize("deployment", ["duckdb"], indirect=True)
def test_the_export_command_writes_nothing_new_after_a_deploy(deployment, tmp_path, monkeypatch):
    """`pulse superset export` as an operator runs it: Superset and the warehouse from the environment."""
    from click.testing import CliRunner

    from pulse.cli import main
    from pulse.settings import get_settings

    serving = Path(make_url(deployment.warehouse_url).database)
    target = tmp_path / "superset_assets"
    shutil.copytree(deployment.assets, target)
    server = deployment.server
    monkeypatch.setenv("SUPERSET_URL", server.url)
    monkeypatch.setenv("SUPERSET_ADMIN_USER", server.admin_user)
    monkeypatch.setenv("SUPERSET_ADMIN_PASSWORD", server.admin_password)
    monkeypatch.setenv("PULSE_DATA_DIR", str(serving.parent.parent))  # the serving copy is data/serving/
    monkeypatch.setenv("PULSE_WAREHOUSE_URL", f"duckdb:///{serving.parent.parent / 'warehouse' / 'pulse.duckdb'}")
    monkeypatch.setenv("PULSE_DATA_DOCS_URL", deployment.environment.variables["PULSE_DATA_DOCS_URL"])
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["superset", "export", "--assets", str(target)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 file(s) changed"), result.output
