"""The schedule files of superset_assets/reports/, without a Superset: they say what the brief asks,
alerts take their thresholds from the registry, files render against the bundle, export gives a
file back in its own words, and a bad file is refused by name. Budget: about a second.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest

from pulse.kpi.registry import DASHBOARDS, load_registry
from pulse.settings import Settings
from pulse.superset.bundle import ASSETS_DIR, BundleError, read_bundle
from pulse.superset.reports import (
    BundleNames,
    check_document,
    document_of,
    read_schedules,
    render,
    schedule_variables,
)

REGISTRY = load_registry()
SCHEDULES = read_schedules()
NAMES = BundleNames.of(read_bundle())
VARIABLES = schedule_variables(Settings(_env_file=None))
GOOD = SCHEDULES["reports/daily_summary.yml"]
TARGET_READ = re.compile(r"select (target_max|target_min)\s+from kpi\.kpi_registry\s+where kpi_id = '(\w+)'")


def _by_type(kind: str) -> dict[str, dict]:
    return {where: doc for where, doc in SCHEDULES.items() if doc["type"] == kind}


def _kpis_read(sql: str) -> set[str]:
    return set(re.findall(r"kpi_id = '(\w+)'", sql))


def test_every_file_renders_against_the_bundle_and_the_settings():
    assert len(SCHEDULES) >= 16
    for where, document in SCHEDULES.items():
        state = render(where, document, VARIABLES, NAMES)
        assert state["recipients"] and "${" not in state["timezone"], where


def test_the_daily_summary_goes_to_the_executives_at_seven_business_time():
    (document,) = [doc for doc in SCHEDULES.values() if doc["type"] == "report" and doc.get("dashboard") == "summary"]
    state = render("summary", document, VARIABLES, NAMES)
    assert document["format"] == "png"  # the PDF rides along: EMAIL_HEADER_MUTATOR in superset_config.py
    assert (document["crontab"], document["timezone"]) == ("0 7 * * *", "${PULSE_BUSINESS_TIMEZONE}")
    assert state["recipients"] == tuple(VARIABLES["PULSE_EXECUTIVE_EMAILS"])


def test_each_detail_dashboard_goes_weekly_as_a_pdf_to_its_team():
    weekly = {doc["dashboard"]: doc for doc in _by_type("report").values() if doc.get("dashboard") != "summary"}
    assert set(weekly) == set(DASHBOARDS)
    for dashboard, document in weekly.items():
        day, month, weekday = document["crontab"].split()[2:]
        assert document["format"] == "pdf" and (day, month) == ("*", "*") and weekday.isdigit(), dashboard
        assert document["recipients"] == [f"${{PULSE_TEAM_EMAILS.{dashboard}}}"]


def test_alerts_cover_the_articles_benchmarks_and_freshness():
    alerts = _by_type("alert")
    read = set().union(*(_kpis_read(doc["sql"]) for doc in alerts.values()))
    assert {"bounce_rate", "cart_abandonment_rate", "new_visitor_rate", "roas", "late_delivery_rate",
            "conversion_rate"} <= read
    freshness = [doc for doc in alerts.values() if "meta.source_freshness" in doc["sql"]]
    assert len(freshness) == 1
    assert render("freshness", freshness[0], VARIABLES, NAMES)["recipients"] == \
        tuple(VARIABLES["PULSE_DATA_TEAM_EMAILS"])


def test_target_alerts_read_the_registry_target_on_the_side_that_is_worse():
    """No threshold is written into an alert whose KPI has one in kpis.yml: the SQL reads it from
    kpi.kpi_registry, the bound that matches the KPI's better direction, and the condition only
    asks whether the latest day is past it."""
    checked = 0
    for where, document in _by_type("alert").items():
        for bound, kpi_id in TARGET_READ.findall(document["sql"]):
            kpi = REGISTRY.get(kpi_id)
            assert kpi.target is not None and getattr(kpi.target, bound.split("_")[1]) is not None, where
            assert (bound, kpi.better) in {("target_max", "lower"), ("target_min", "higher")}, where
            assert not re.search(r"\d+\.\d+", document["sql"]), f"{where}: a number written into the SQL"
            assert document["condition"] == {"op": ">", "threshold": 0}, where
            assert _kpis_read(document["sql"]) == {kpi_id}, where
            checked += 1
    assert checked == 5


def test_export_gives_a_file_back_in_its_own_words():
    for where, document in SCHEDULES.items():
        state = render(where, document, VARIABLES, NAMES)
        assert document_of(state, NAMES, document, state) == document, where
        changed = dict(state, crontab="15 6 * * *", recipients=("someone@pulse.test",))
        expected = dict(document, crontab="15 6 * * *", recipients=["someone@pulse.test"])
        assert document_of(changed, NAMES, document, state) == expected, where
    # a schedule made in Superset's UI: written with the bundle's names and without defaults
    state = render("summary", GOOD, VARIABLES, NAMES)
    literal = document_of(state, NAMES)
    expected = {**GOOD, "timezone": VARIABLES["PULSE_BUSINESS_TIMEZONE"],
                "recipients": list(VARIABLES["PULSE_EXECUTIVE_EMAILS"])}
    del expected["format"]  # png, the default
    assert literal == expected


BAD = [
    ({"crontab": "0 7 * *"}, "not five cron fields"),
    ({"type": "dashboard"}, "is not one of"),
    ({"chart": "kpi_revenue"}, "exactly one of"),
    ({"format": "csv"}, "format csv needs a chart"),
    ({"sql": "select 1"}, "for alerts only"),
    ({"recipients": []}, "non-empty list"),
    ({"subject": "typo"}, "unknown key"),
]


@pytest.mark.parametrize(("change", "rule"), BAD, ids=[rule for _, rule in BAD])
def test_a_bad_file_is_refused_with_its_name_and_rule(change, rule):
    document = {**copy.deepcopy(GOOD), **change}
    with pytest.raises(BundleError, match=re.escape(rule)) as raised:
        check_document("reports/broken.yml", document)
    assert str(raised.value).startswith("reports/broken.yml: ")


def test_an_alert_without_sql_or_condition_is_refused():
    alert = next(iter(_by_type("alert").values()))
    with pytest.raises(BundleError, match=r"an alert needs \['sql'\]"):
        check_document("reports/a.yml", {key: value for key, value in alert.items() if key != "sql"})
    with pytest.raises(BundleError, match="condition"):
        check_document("reports/a.yml", {**alert, "condition": {"op": "above", "threshold": 0}})


def test_unknown_names_and_settings_are_refused_by_file():
    with pytest.raises(BundleError, match=r"reports/x.yml: dashboard 'nope' is not in the bundle"):
        render("reports/x.yml", {**GOOD, "dashboard": "nope"}, VARIABLES, NAMES)
    team = {**GOOD, "recipients": ["${PULSE_TEAM_EMAILS.marketing}"]}
    with pytest.raises(BundleError, match=r"\$\{PULSE_TEAM_EMAILS.marketing\} is not a Pulse setting"):
        render("reports/x.yml", team, VARIABLES, NAMES)
    with pytest.raises(BundleError, match="not e-mail addresses"):
        render("reports/x.yml", {**GOOD, "recipients": ["the board"]}, VARIABLES, NAMES)


def test_two_files_may_not_define_the_same_schedule(tmp_path: Path):
    (tmp_path / "reports").mkdir()
    for name in ("a.yml", "b.yml"):
        shutil.copyfile(ASSETS_DIR / "reports" / "daily_summary.yml", tmp_path / "reports" / name)
    with pytest.raises(BundleError, match=r"reports/b.yml: report 'Daily summary' is also defined in reports/a.yml"):
        read_schedules(tmp_path)
