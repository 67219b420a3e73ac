"""The dashboard page (/dashboard) drawing recorded MeasureReports in headless Chromium (issue 15,
points 3 and 5): the page alone is served and the browser's fetch answers the three indicator
operations with the recorded reports (tests/browser/fixtures, the shape of
fhir_server/operations/analytics_report.py: R4 measurereport.html, summary report, one group per
measure, stratifier strata with value and populations, masked cells with data-absent-reason).
Checked: the time series, the coverage table, bars and map, the adverse-event table, masked
cells, the filters sent as operation inputs, an OperationOutcome shown as a readable error, and
the language switch. Screenshots go to var/test-artifacts/browser/."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from selenium.webdriver.common.by import By

from fhir_server.rest.dashboard_texts import filter_options
from tests.browser.dashboard_fixtures import (  # noqa: F401 (fixtures)
    OPERATIONS,
    apply_filters,
    bar_values,
    chromium,
    csv_download,
    login_error,
    map_fills,
    open_page,
    page_only,
    recorded,
    settled,
    shot,
    sign_in,
)

WEEKLY = "doses-administered-week"  # the same doses stratified by ISO week
PERIOD = "period-start=2022-04-01&period-end=2022-06-30"  # the recorded reports' period
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
  if (url.indexOf("/auth/token") >= 0) {
    window.__refreshes = (window.__refreshes || 0) + 1;
    var ok = JSON.parse(init.body).refresh_token === "refresh" && !window.__refuse;  // once
    return ok ? answer(200, {access_token: "token-2", refresh_token: "refresh-2"})
              : answer(400, {error: "invalid_grant"});
  }
  var op = /\\/MeasureReport\\/\\$([a-z-]+)\\?/.exec(url);
  if (init && init.headers && init.headers.Accept === "text/csv") {
    return Promise.resolve(new Response("vaccine,doses\\r\\nastrazeneca,120\\r\\n",
      {status: 200, headers: {"Content-Type": "text/csv; charset=utf-8"}}));
  }
  var weekly = /stratify-by=week/.test(url) ? "-week" : "";
  if (op) return window.__answer ? window.__answer(url, init)
                                 : answer(200, reports[op[1] + weekly]);
  return real(url, init);
};
"""


def _start(browser: Any, base: str, lang: str = "vi") -> None:
    open_page(browser, f"{base}/dashboard?lang={lang}&{PERIOD}")
    browser.execute_script(STUB, {op: recorded(op) for op in (*OPERATIONS, WEEKLY)})
    sign_in(browser, "0900000003", "password")


def _calls(browser: Any) -> dict[str, dict[str, list[str]]]:
    """Operation name -> its query inputs, for the last call of each."""
    out = {}
    for url in browser.execute_script("return window.__calls"):
        parts = urlsplit(url)
        if "/MeasureReport/$" in parts.path:
            out[parts.path.rsplit("$", 1)[1]] = parse_qs(parts.query)
    return out


def _strata(report: dict[str, Any], group: str) -> list[dict[str, Any]]:
    found = next(g for g in report["group"] if g["code"]["coding"][0]["code"] == group)
    return list(found["stratifier"][0]["stratum"])


def _code(stratum: dict[str, Any]) -> str:
    return str((stratum["value"].get("coding") or [{}])[0].get("code") or stratum["value"]["text"])


def _count(stratum: dict[str, Any], population: str) -> int | None:
    """A stratum's count of one population (None: masked)."""
    return next(p.get("count") for p in stratum["population"]
                if p["code"]["coding"][0]["code"] == population)


def _score(stratum: dict[str, Any]) -> float | None:
    return stratum.get("measureScore", {}).get("value")


def _number(text: str) -> float:
    """A number the page wrote in Vietnamese (1.234,5 or 0,00039 %)."""
    return float(text.removesuffix(" %").replace(".", "").replace(",", "."))


def _close(shown: str, value: float) -> bool:
    """The page's rounded figure is the value (two significant digits at least)."""
    return abs(_number(shown) - value) <= max(abs(value) * 0.05, 0.05)


def test_recorded_reports_are_drawn(chromium: Any, page_only: str) -> None:  # noqa: F811
    _start(chromium, page_only)
    assert settled(chromium) == "ready"
    sent = _calls(chromium)
    assert set(sent) == set(OPERATIONS) and all(  # no filter chosen: period and stratum only
        set(inputs) == {"period-start", "period-end", "stratify-by"} for inputs in sent.values())
    assert [chromium.execute_script(f"return document.getElementById('{name}').value")
            for name in ("area", "group", "vaccine")] == ["", "", ""]
    _assert_doses(chromium, recorded("doses-administered"))
    _assert_coverage(chromium, recorded("vaccination-coverage"))
    _assert_adverse_events(chromium, recorded("adverse-event-rates"))
    shot(chromium, "dashboard-recorded-vi")

    chromium.find_element(By.ID, "lang").click()  # drawn again in English, no new call
    calls = len(chromium.execute_script("return window.__calls"))
    assert chromium.find_element(By.TAG_NAME, "h1").text == "Vaccination campaign dashboard"
    assert chromium.find_element(By.CSS_SELECTOR, "#ae-table th").text == "Vaccine"
    english = {o["code"]: o["en"] for o in filter_options()["vaccine"]}
    first = chromium.find_element(By.CSS_SELECTOR, "#ae-table tr[data-code]")
    assert first.find_element(By.TAG_NAME, "td").text == english[first.get_attribute("data-code")]
    hanoi = chromium.find_element(By.CSS_SELECTOR, '#coverage-table tr[data-code="01"] td')
    assert hanoi.text == "Hà Nội"
    assert len(chromium.execute_script("return window.__calls")) == calls
    shot(chromium, "dashboard-recorded-en")


def _assert_doses(browser: Any, doses: dict[str, Any]) -> None:
    """A point per day of the period; the total; a suppressed day says <5, a shown one its count."""
    days = (date.fromisoformat(doses["period"]["end"])
            - date.fromisoformat(doses["period"]["start"])).days + 1
    series = browser.find_element(By.CSS_SELECTOR, "#doses-chart path.series")
    assert series.get_attribute("data-points") == str(days)
    total = doses["group"][0]["population"][0]["count"]
    assert browser.find_element(By.ID, "doses-total").text.replace(".", "") == str(total)
    per_day = {_code(s): _count(s, "initial-population") for s in _strata(doses, "doses")}
    masked = [day for day, n in per_day.items() if n is None]
    shown = [day for day, n in per_day.items() if n]
    assert masked and shown  # the recording has both
    tips = browser.execute_script(
        "var out = {}; document.querySelectorAll('#doses-chart rect.hover').forEach("
        "function (r) { out[r.getAttribute('data-day')] = r.textContent; }); return out;")
    assert all(tips[day].endswith(": <5") for day in masked)
    assert all(tips[day].endswith(f": {per_day[day]}") for day in shown if per_day[day] < 1000)
    assert series.get_attribute("d").count("M") >= 2  # broken at the suppressed days


def _assert_coverage(browser: Any, coverage: dict[str, Any]) -> None:
    """Table rows as the strata; bars and map follow each province's ≥ 1 dose score."""
    strata = _strata(coverage, "people_1plus")
    rows = {row.get_attribute("data-code"): [td.text for td in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR,
                                             "#coverage-table tr[data-code]")}
    assert list(rows) == [_code(s) for s in strata]
    names = {o["code"]: o["vi"] for o in filter_options()["area"]}
    for stratum in strata:
        cells, code = rows[_code(stratum)], _code(stratum)
        assert cells[0] == names[code]
        assert cells[1].replace(".", "") == str(_count(stratum, "denominator"))
        people, score = _count(stratum, "numerator"), _score(stratum)
        assert cells[2] == ("<5" if people is None else f"{people:,}".replace(",", "."))
        if score is None:
            assert cells[3] in ("<5", "—"), cells
        else:
            assert _close(cells[3], score * 100), (cells[3], score)
    bars = bar_values(browser)
    for stratum in strata:
        score, bar = _score(stratum), bars[_code(stratum)]
        assert bar == "" if score is None else float(bar) == score, (bar, score)
    fills = map_fills(browser)
    assert len(fills) == 34
    for stratum in strata:
        fill = fills[_code(stratum)]
        assert fill == "#c3ccd6" if _score(stratum) is None else fill.startswith("#"), stratum
    coloured = {f for code, f in fills.items() if f not in ("#c3ccd6", "#eceff3")}
    assert len(coloured) >= 2  # several classes


def _assert_adverse_events(browser: Any, rates: dict[str, Any]) -> None:
    """One row per vaccine stratum: doses, events, serious, both rates; a total row."""
    events, serious = _strata(rates, "events"), _strata(rates, "serious")
    rows = browser.find_elements(By.CSS_SELECTOR, "#ae-table tr[data-code]")
    assert [r.get_attribute("data-code") for r in rows] == [_code(s) for s in events]
    names = {o["code"]: o["vi"] for o in filter_options()["vaccine"]}
    for row, event, grave in zip(rows, events, serious, strict=True):
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        assert cells[0] == names[_code(event)]
        doses = _count(event, "denominator")
        assert cells[1] == ("<5" if doses is None else f"{doses:,}".replace(",", "."))
        for text, value in ((cells[2], _count(event, "numerator")),
                            (cells[3], _count(grave, "numerator"))):
            assert text == ("<5" if value is None else f"{value:,}".replace(",", "."))
        for text, score in ((cells[4], _score(event)), (cells[5], _score(grave))):
            assert text in ("<5", "—") if score is None else _close(text, score), (text, score)
    total = browser.find_element(By.CSS_SELECTOR, "#ae-table tr.total").text
    assert total.startswith("Tổng")


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


def test_weekly_series(chromium: Any, page_only: str) -> None:  # noqa: F811
    """Per week: the doses call is stratified by week, one point per ISO week of the period."""
    _start(chromium, page_only, "en")
    settled(chromium)
    chromium.execute_script("document.body.setAttribute('data-state', 'loading');"
                            "var s = document.getElementById('step'); s.value = 'week';"
                            "s.dispatchEvent(new Event('change'));")
    assert settled(chromium) == "ready"
    assert _calls(chromium)["doses-administered"]["stratify-by"] == ["week"]
    weekly = recorded(WEEKLY)
    per_week = {_code(s): _count(s, "initial-population") for s in _strata(weekly, "doses")}
    tips = chromium.execute_script(
        "var out = {}; document.querySelectorAll('#doses-chart rect.hover').forEach("
        "function (r) { out[r.getAttribute('data-day')] = r.textContent; }); return out;")
    assert list(tips) == [f"2022-W{n:02d}" for n in range(13, 27)]  # 2022-03-28 .. 2022-06-27
    assert set(per_week) <= set(tips)
    for week, count in per_week.items():
        assert tips[week] == f"{week}: " + ("<5" if count is None else f"{count:,}"), tips[week]
    total = weekly["group"][0]["population"][0]["count"]
    assert chromium.find_element(By.ID, "doses-total").text.replace(",", "") == str(total)
    shot(chromium, "dashboard-recorded-weekly")

def test_csv_of_a_panel(chromium: Any, page_only: str, tmp_path: Path) -> None:  # noqa: F811
    """A panel's CSV button asks its operation for text/csv with the same inputs; saved."""
    _start(chromium, page_only, "en")
    settled(chromium)
    apply_filters(chromium, vaccine="astrazeneca")
    settled(chromium)
    saved = csv_download(chromium, "adverse", tmp_path)
    assert saved.name == "adverse-event-rates.csv"
    assert saved.read_bytes() == b"vaccine,doses\r\nastrazeneca,120\r\n"
    url = [u for u in chromium.execute_script("return window.__calls")
           if "adverse-event-rates" in u][-1]
    assert parse_qs(urlsplit(url).query)["vaccine"] == ["astrazeneca"]

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
    assert lines[0].text == ("Doses administered over time: The figures could not be loaded: The "
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


def test_expired_token_is_refreshed_once(chromium: Any, page_only: str) -> None:  # noqa: F811
    """Three calls answered 401 together trade the refresh token once (POST /auth/token: a
    refresh token is single-use, a reused one revokes the session) and are repeated; a refused
    refresh goes back to the sign-in form with the reason."""
    _start(chromium, page_only, "en")
    settled(chromium)
    chromium.execute_script("""var reports = arguments[0];
      window.__answer = function (url, init) {
        var fresh = init.headers.Authorization === "Bearer token-2" && !window.__refuse;
        var op = /\\$([a-z-]+)\\?/.exec(url)[1];
        return Promise.resolve(new Response(JSON.stringify(fresh ? reports[op] : {
          resourceType: "OperationOutcome", issue: [{severity: "error", code: "login"}]}),
          {status: fresh ? 200 : 401}));
      };""", {op: recorded(op) for op in OPERATIONS})
    apply_filters(chromium, period_start="2022-04-01")
    assert settled(chromium) == "ready"
    assert chromium.execute_script("return window.__refreshes") == 1
    assert chromium.execute_script(
        "return JSON.parse(sessionStorage.getItem('fhir-dashboard-session')).access") == "token-2"
    chromium.execute_script("window.__refuse = true;")
    apply_filters(chromium, period_start="2022-04-02")
    assert login_error(chromium) == "The session has expired. Sign in again."
    assert chromium.find_element(By.ID, "login").is_displayed()
    assert not chromium.find_element(By.ID, "board").is_displayed()
    assert chromium.execute_script("return sessionStorage.length") == 0
