"""The dashboard page (/dashboard) drawing recorded MeasureReports in headless Chromium (issue 15,
points 3 and 5): the page alone is served and the browser's fetch answers the three indicator
operations with the recorded reports (tests/browser/fixtures, the shape of
fhir_server/operations/analytics_report.py: R4 measurereport.html, summary report, one group per
measure, stratifier strata with value and populations, masked cells with data-absent-reason).
Checked: the time series, the coverage table, bars and map, the adverse-event table, masked
cells, the filters sent as operation inputs, an OperationOutcome shown as a readable error, and
the language switch. Screenshots go to var/test-artifacts/browser/."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from selenium.webdriver.common.by import By

from fhir_server.rest.dashboard_texts import filter_options
from tests.browser.dashboard_fixtures import (  # noqa: F401 (fixtures)
    OPERATIONS,
    apply_filters,
    bar_values,
    chromium,
    login_error,
    map_fills,
    open_page,
    page_only,
    recorded,
    settled,
    shot,
    sign_in,
)

PERIOD = "period-start=2021-07-01&period-end=2022-06-30"  # the recorded reports' period
STUB = """
var reports = arguments[0], real = window.fetch.bind(window);
window.__calls = []; window.__answer = null;
function answer(status, body) {
  return Promise.resolve(new Response(JSON.stringify(body), {status: status,
    headers: {"Content-Type": "application/fhir+json"}}));
}
window.fetch = function (url, init) {
  url = String(url);
  window.__calls.push(url);
  if (url.indexOf("/auth/login") >= 0) {
    return answer(200, {access_token: "token", refresh_token: "refresh", expires_in: 600});
  }
  var op = /\\/MeasureReport\\/\\$([a-z-]+)\\?/.exec(url);
  if (op) return window.__answer ? window.__answer(url) : answer(200, reports[op[1]]);
  return real(url, init);
};
"""


def _vi(value: float) -> str:
    """A number as the page writes it in Vietnamese: 1.234,5 (one decimal, 0 dropped)."""
    text = f"{round(value, 1):,}".removesuffix(".0")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _start(browser: Any, base: str, lang: str = "vi") -> None:
    open_page(browser, f"{base}/dashboard?lang={lang}&{PERIOD}")
    browser.execute_script(STUB, {op: recorded(op) for op in OPERATIONS})
    sign_in(browser, "0900000003", "password")


def _calls(browser: Any) -> dict[str, dict[str, list[str]]]:
    """Operation name -> its query inputs, for the last call of each."""
    out = {}
    for url in browser.execute_script("return window.__calls"):
        parts = urlsplit(url)
        if "/MeasureReport/$" in parts.path:
            out[parts.path.rsplit("$", 1)[1]] = parse_qs(parts.query)
    return out


def _stratum_count(report: dict[str, Any], group: str, population: str) -> dict[str, Any]:
    found = next(g for g in report["group"] if g["code"]["coding"][0]["code"] == group)
    return {(s["value"].get("coding") or [{}])[0].get("code") or s["value"]["text"]:
            next((p.get("count") for p in s["population"]
                  if p["code"]["coding"][0]["code"] == population), None)
            for s in found["stratifier"][0]["stratum"]}


def test_recorded_reports_are_drawn(chromium: Any, page_only: str) -> None:  # noqa: F811
    _start(chromium, page_only)
    assert settled(chromium) == "ready"
    sent = _calls(chromium)
    assert set(sent) == set(OPERATIONS) and all(  # no filter chosen: period and stratum only
        set(inputs) == {"period-start", "period-end", "stratify-by"} for inputs in sent.values())
    assert [chromium.execute_script(f"return document.getElementById('{name}').value")
            for name in ("area", "group", "vaccine")] == ["", "", ""]
    doses = recorded("doses-administered")
    series = chromium.find_element(By.CSS_SELECTOR, "#doses-chart path.series")
    assert series.get_attribute("data-points") == "365"  # every day of 2021-07-01..2022-06-30
    assert series.get_attribute("d").count("L") > 300
    total = doses["group"][0]["population"][0]["count"]
    assert chromium.find_element(By.ID, "doses-total").text.replace(".", "") == str(total)
    masked_days = [d for d, n in _stratum_count(doses, "doses", "initial-population").items()
                   if n is None]
    assert masked_days and "<5" in chromium.execute_script(
        "return document.querySelector('#doses-chart rect[data-day=\"' + arguments[0] + '\"]')"
        ".textContent", masked_days[0])

    coverage = recorded("vaccination-coverage")
    people = _stratum_count(coverage, "people_1plus", "numerator")
    population = _stratum_count(coverage, "people_1plus", "denominator")
    rows = chromium.find_elements(By.CSS_SELECTOR, "#coverage-table tr[data-code]")
    assert len(rows) == 34
    hanoi = chromium.find_element(By.CSS_SELECTOR, '#coverage-table tr[data-code="01"]')
    cells = [td.text for td in hanoi.find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "Thành phố Hà Nội" and cells[1].replace(".", "") == str(population["01"])
    assert cells[2].replace(".", "") == str(people["01"])
    assert cells[3] == _vi(people["01"] / population["01"] * 100) + " %"
    assert "<5" in chromium.find_element(By.ID, "coverage-table").text  # one masked booster
    bars = bar_values(chromium)
    assert len(bars) == 34 and all(float(v) > 0 for v in bars.values())
    fills = map_fills(chromium)
    assert len(fills) == 34 and len(set(fills.values())) >= 3  # several classes, none empty
    assert "#eceff3" not in fills.values()

    ae_rows = chromium.find_elements(By.CSS_SELECTOR, "#ae-table tr[data-code]")
    assert len(ae_rows) == 4
    rates = recorded("adverse-event-rates")
    events = next(g for g in rates["group"] if g["code"]["coding"][0]["code"] == "events")
    first = events["stratifier"][0]["stratum"][0]
    cells = [td.text for td in ae_rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "Vắc xin phòng COVID-19 Sinopharm (Vero Cell)"
    assert cells[4] == _vi(first["measureScore"]["value"])
    assert chromium.find_element(By.CSS_SELECTOR, "#ae-table tr.total").text.startswith("Tổng")
    shot(chromium, "dashboard-recorded-vi")

    chromium.find_element(By.ID, "lang").click()  # drawn again in English, no new call
    calls = len(chromium.execute_script("return window.__calls"))
    assert chromium.find_element(By.TAG_NAME, "h1").text == "Vaccination campaign dashboard"
    assert chromium.find_element(By.CSS_SELECTOR, "#ae-table th").text == "Vaccine"
    english = {o["code"]: o["en"] for o in filter_options()["vaccine"]}
    assert chromium.find_element(By.CSS_SELECTOR, "#ae-table tr[data-code] td").text == (
        english["sinopharm-verocell"])
    hanoi = chromium.find_element(By.CSS_SELECTOR, '#coverage-table tr[data-code="01"] td')
    assert hanoi.text == "Hà Nội"
    assert len(chromium.execute_script("return window.__calls")) == calls
    shot(chromium, "dashboard-recorded-en")


def test_filters_are_the_operation_inputs(chromium: Any, page_only: str) -> None:  # noqa: F811
    _start(chromium, page_only, "en")
    settled(chromium)
    apply_filters(chromium, period_start="2021-08-01", period_end="2021-09-30", area="79",
                  group="9", vaccine="pfizer-biontech")
    assert settled(chromium) == "ready"
    calls = _calls(chromium)
    assert set(calls) == set(OPERATIONS)
    for name, stratify in (("doses-administered", "day"), ("vaccination-coverage", "province"),
                           ("adverse-event-rates", "vaccine")):
        assert calls[name] == {"period-start": ["2021-08-01"], "period-end": ["2021-09-30"],
                               "area": ["79"], "group": ["9"], "vaccine": ["pfizer-biontech"],
                               "stratify-by": [stratify]}, name
    series = chromium.find_element(By.CSS_SELECTOR, "#doses-chart path.series")
    assert series.get_attribute("data-points") == "61"  # the chosen period, day by day
    selected = chromium.find_elements(By.CSS_SELECTOR, "#coverage-map path.selected")
    assert [p.get_attribute("data-code") for p in selected] == ["79"]
    before = bar_values(chromium)
    chromium.find_element(By.CSS_SELECTOR, '#measure option[value="people_booster"]').click()
    after = bar_values(chromium)
    assert before != after and set(before) == set(after)


def test_operation_outcome_is_a_readable_error(chromium: Any, page_only: str) -> None:  # noqa: F811
    _start(chromium, page_only, "en")
    settled(chromium)
    chromium.execute_script("""window.__answer = function (url) {
      return Promise.resolve(new Response(JSON.stringify({resourceType: "OperationOutcome",
        issue: [{severity: "error", code: "value", diagnostics:
          "The period starts (2022-01-01) after it ends (2021-01-01)",
          expression: ["period-end"]}]}), {status: 400,
        headers: {"Content-Type": "application/fhir+json"}}));
    };""")
    apply_filters(chromium, period_start="2022-01-01", period_end="2021-01-01")
    assert settled(chromium) == "error"
    status = chromium.find_element(By.ID, "status")
    assert status.is_displayed()
    lines = status.find_elements(By.TAG_NAME, "p")
    assert len(lines) == 3
    assert lines[0].text == ("Doses administered per day: The figures could not be loaded: The "
                             "period starts (2022-01-01) after it ends (2021-01-01) (period-end)")
    assert not chromium.find_elements(By.CSS_SELECTOR, "#doses-chart svg, #coverage-map svg")
    assert chromium.find_element(By.CSS_SELECTOR, "#doses h2").is_displayed()  # not blank
    shot(chromium, "dashboard-error-outcome")
    chromium.find_element(By.ID, "lang").click()
    assert "Không tải được số liệu" in status.text  # the error follows the language
    chromium.execute_script("window.__answer = function () {"
                            " return Promise.reject(new TypeError('offline')); };")
    apply_filters(chromium, period_start="2021-01-01", period_end="2021-12-31")
    assert settled(chromium) == "error"
    assert "Không kết nối được máy chủ" in status.text


def test_sign_in_failure_and_sign_out(chromium: Any, page_only: str) -> None:  # noqa: F811
    open_page(chromium, f"{page_only}/dashboard?lang=en")
    sign_in(chromium, "0900000003", "wrong")  # no stub: the page-only server has no /auth
    assert login_error(chromium).startswith("Sign-in failed:")
    assert not chromium.find_element(By.ID, "board").is_displayed()
    _start(chromium, page_only, "en")
    assert settled(chromium) == "ready"
    assert chromium.execute_script("return sessionStorage.length") == 1
    chromium.find_element(By.ID, "logout").click()
    assert chromium.find_element(By.ID, "login").is_displayed()
    assert chromium.execute_script("return sessionStorage.length") == 0
