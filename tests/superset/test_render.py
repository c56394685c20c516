"""Every dashboard, opened in headless Chromium, draws every chart without an error tile.

Screenshots go to test-results/screenshots/ (the test report links them; the summary's is the
README's). Rendering does not depend on the warehouse engine, so this runs on the DuckDB
deployment only; the data API tests cover both engines. A deliberately broken chart checks
that the error detection itself works.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from pulse.settings import REPO_ROOT
from pulse.superset.assets.dashboards import Dashboard
from pulse.superset.assets.generate import build
from support.services import require_chromium

pytestmark = [pytest.mark.superset, pytest.mark.chromium, pytest.mark.slow,
              pytest.mark.parametrize("deployment", ["duckdb"], indirect=True)]

SCREENSHOTS = REPO_ROOT / "test-results" / "screenshots"
_, DASHBOARDS = build()
GRID_UNIT_PX = 8  # Superset's GRID_BASE_UNIT
LOAD_TIMEOUT = 180.0
LOGIN_TIMEOUT = 120.0
ERROR_SELECTORS = ('[data-test="chart-grid-component"] .ant-alert-error, '
                   '[data-test="chart-grid-component"] [data-test="error-tooltip"], '
                   '[data-test="chart-grid-component"] .alert-danger')
LOADING_SELECTORS = '[data-test="loading-indicator"], .loading'


def _height(dashboard: Dashboard) -> int:
    """A window tall enough to hold the whole dashboard, so that no chart waits to scroll into view."""
    rows = sum(max(chart.height for chart in row) * GRID_UNIT_PX + 24 for row in dashboard.rows)
    return min(rows + 12 * GRID_UNIT_PX + 500, 16000)


@pytest.fixture(scope="module")
def browser(deployment) -> Iterator:
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--hide-scrollbars", "--window-size=1600,2000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # a dashboard of forty charts keeps the page's script thread busy for a while on a loaded machine
    driver.set_script_timeout(LOAD_TIMEOUT)
    driver.set_page_load_timeout(LOAD_TIMEOUT)
    try:
        _log_in(driver, deployment.server, By)
        yield driver
    finally:
        driver.quit()


def _log_in(driver, server, by) -> None:
    """Superset's React login form can appear before it takes input, and a click then does nothing:
    type and submit again every 10 s until the login goes through."""
    driver.get(f"{server.url}/login/")
    deadline, next_try = time.monotonic() + LOGIN_TIMEOUT, 0.0
    while "/login" in driver.current_url:
        if time.monotonic() > deadline:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(SCREENSHOTS / "login-failed.png"))
            raise AssertionError(f"login did not succeed in {LOGIN_TIMEOUT:.0f} s (page {driver.current_url}; "
                                 f"screenshot {SCREENSHOTS / 'login-failed.png'})")
        fields = driver.find_elements(by.CSS_SELECTOR, "input#username")
        if fields and time.monotonic() >= next_try:
            fields[0].clear()
            fields[0].send_keys(server.admin_user)
            password = driver.find_element(by.CSS_SELECTOR, "input[type=password]")
            password.clear()
            password.send_keys(server.admin_password)
            driver.find_element(by.CSS_SELECTOR, "button[type=submit]").click()
            next_try = time.monotonic() + 10
        time.sleep(0.5)


# One atomic look at the page (elements come and go while charts load).
STATE_SCRIPT = """
const charts = [...document.querySelectorAll('[data-test="chart-grid-component"]')];
const loading = [...document.querySelectorAll(arguments[0])].filter(e => e.offsetParent !== null).length;
const errors = [...document.querySelectorAll(arguments[1])].map(e => e.innerText || e.getAttribute('aria-label') || 'error');
const drawn = charts.filter(c => c.querySelector('canvas, svg, table')).length;
return {charts: charts.length, loading: loading, errors: errors, drawn: drawn};
"""


def render(driver, url: str, expected_charts: int, height: int) -> dict:
    """Open a dashboard and wait until every chart has finished; report charts and error tiles."""
    driver.set_window_size(1600, height)
    driver.get(url)
    deadline = time.monotonic() + LOAD_TIMEOUT
    settled_since = None
    while True:
        state = driver.execute_script(STATE_SCRIPT, LOADING_SELECTORS, ERROR_SELECTORS)
        if state["charts"] >= expected_charts and not state["loading"]:
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since > 2:
                return state
        else:
            settled_since = None
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}: {state['charts']}/{expected_charts} charts, {state['loading']} still "
                                 f"loading after {LOAD_TIMEOUT:.0f}s")
        time.sleep(0.5)


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda dashboard: dashboard.slug)
def test_dashboard_renders_every_chart_without_an_error(browser, deployment, dashboard):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    url = f"{deployment.server.url}/superset/dashboard/{dashboard.slug}/"
    started = time.monotonic()
    seen = render(browser, url, len(dashboard.charts), _height(dashboard))
    browser.save_screenshot(str(SCREENSHOTS / f"{dashboard.slug}.png"))
    print(f"\n{dashboard.slug}: {seen['charts']} charts in {time.monotonic() - started:.0f} s")
    assert seen["charts"] == len(dashboard.charts)
    assert seen["errors"] == [], f"{dashboard.slug}: error tiles {seen['errors'][:5]}"
    assert seen["drawn"] >= len(dashboard.charts), f"{dashboard.slug}: only {seen['drawn']} charts drew something"


@pytest.fixture
def broken_dashboard(deployment) -> Iterator[str]:
    """A dashboard with one chart that asks for a metric its dataset does not have."""
    admin = deployment.admin
    dataset = next(row for row in admin.list("dataset", columns=["id", "table_name"])
                   if row["table_name"] == "kpi_values_by_slice")
    params = {"viz_type": "big_number_total", "metric": "no_such_metric", "adhoc_filters": [],
              "datasource": f"{dataset['id']}__table"}
    chart = admin.post("/api/v1/chart/", {"slice_name": "Broken on purpose", "viz_type": "big_number_total",
                                          "datasource_id": dataset["id"], "datasource_type": "table",
                                          "params": json.dumps(params)})["id"]
    position = {
        "DASHBOARD_VERSION_KEY": "v2", "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
        "GRID_ID": {"children": ["ROW-1"], "id": "GRID_ID", "parents": ["ROOT_ID"], "type": "GRID"},
        "ROW-1": {"children": ["CHART-1"], "id": "ROW-1", "meta": {"background": "BACKGROUND_TRANSPARENT"},
                  "parents": ["ROOT_ID", "GRID_ID"], "type": "ROW"},
        "CHART-1": {"children": [], "id": "CHART-1", "meta": {"chartId": chart, "height": 50, "width": 4},
                    "parents": ["ROOT_ID", "GRID_ID", "ROW-1"], "type": "CHART"},
    }
    dashboard = admin.post("/api/v1/dashboard/", {"dashboard_title": "Broken on purpose", "slug": "broken_on_purpose",
                                                  "position_json": json.dumps(position), "published": True})["id"]
    admin.put(f"/api/v1/chart/{chart}", {"dashboards": [dashboard]})
    try:
        yield "broken_on_purpose"
    finally:
        admin.delete(f"/api/v1/dashboard/{dashboard}")
        admin.delete(f"/api/v1/chart/{chart}")


def test_an_error_tile_is_detected(browser, deployment, broken_dashboard):
    seen = render(browser, f"{deployment.server.url}/superset/dashboard/{broken_dashboard}/", 1, 1200)
    assert seen["charts"] == 1 and seen["errors"], "a chart that fails must show as an error tile"
