"""The dashboard (/dashboard) against the real server in headless Chromium (issue 15, points 3
and 5): a synthetic campaign seeded through the write path (fhir_server/synthetic, as
`fhir-server seed --people N`), an analyst signs in through the page's form (POST /auth/login),
and the page draws what the MeasureReport operations compute: a non-empty doses time series,
coverage bars and map, the adverse-event table; a province or vaccine filter changes them; a bad
filter (an inverted period, an unknown area code) is the server's OperationOutcome as a readable
message. Screenshots go to var/test-artifacts/browser/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium.webdriver.common.by import By

from fhir_server.synthetic.writer import SeedOptions, seed_campaign
from tests.browser.dashboard_fixtures import (  # noqa: F401 (fixtures)
    apply_filters,
    bar_values,
    chromium,
    csv_download,
    login_error,
    map_fills,
    open_page,
    serve,
    settled,
    shot,
    sign_in,
)

PEOPLE = 200
ANALYST, PASSWORD = "0903999015", "Analyst2021pass"
TODAY = date.today()  # the page's default period is the year up to today
NO_COLOUR = ("#eceff3", "#c3ccd6")  # no figure; suppressed (<5)


@pytest.fixture(scope="module")
def seeded(make_app: Callable[..., Flask]) -> Iterator[str]:
    """A live server on a database holding a seeded campaign and one analyst account."""
    app = make_app()
    fhir = app.extensions["fhir"]
    seed_campaign(fhir.internal(), SeedOptions(PEOPLE, seed_number=15, days=60, sites=10,
                                               progress=False, reaction_rate=0.2, today=TODAY))
    fhir.components["auth"].accounts.create_staff(ANALYST, "Phân tích viên", PASSWORD,
                                                  ["analyst"])
    yield from serve(app)


def _total(browser: Any) -> int:
    return int(browser.find_element(By.ID, "doses-total").text.replace(".", "") or 0)


def _coloured(browser: Any) -> dict[str, str]:
    return {code: fill for code, fill in map_fills(browser).items() if fill not in NO_COLOUR}


def _step(browser: Any, step: str) -> None:
    browser.execute_script("document.body.setAttribute('data-state', 'loading');"
                           "var s = document.getElementById('step'); s.value = arguments[0];"
                           "s.dispatchEvent(new Event('change'));", step)


def _signed_in(browser: Any, base: str, lang: str = "vi", query: str = "") -> str:
    open_page(browser, f"{base}/dashboard?lang={lang}{query}")
    sign_in(browser, ANALYST, PASSWORD)
    return settled(browser)


def test_seeded_campaign_is_drawn(chromium: Any, seeded: str,  # noqa: F811
                                  tmp_path: Path) -> None:
    assert _signed_in(chromium, seeded) == "ready", chromium.find_element(By.ID, "status").text
    series = chromium.find_element(By.CSS_SELECTOR, "#doses-chart path.series")
    assert series.get_attribute("data-points") == "365"
    assert _total(chromium) > 0
    heights = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#doses-chart rect.hover title'))"
        ".map(function (t) { return t.textContent.split(': ')[1]; })")
    assert sum(1 for h in heights if h not in ("0", "<5")) >= 10  # days with 5 doses or more
    assert len(_coloured(chromium)) >= 3
    assert sum(1 for v in bar_values(chromium).values() if v and float(v) > 0) >= 3
    assert len(chromium.find_elements(By.CSS_SELECTOR, "#coverage-table tr[data-code]")) >= 3
    assert chromium.find_elements(By.CSS_SELECTOR, "#ae-table tr[data-code]")
    shot(chromium, "dashboard-live-vi")
    saved = csv_download(chromium, "coverage", tmp_path)  # the operation's CSV, same inputs
    assert saved.name == "vaccination-coverage.csv"
    header, *rows = saved.read_bytes().decode("utf-8").strip().split("\r\n")  # RFC 4180
    assert header.startswith("province,people_1plus,people_primary,people_booster,population")
    assert len(rows) == len(chromium.find_elements(By.CSS_SELECTOR,
                                                   "#coverage-table tr[data-code]"))
    chromium.find_element(By.ID, "lang").click()
    assert chromium.find_element(By.CSS_SELECTOR, "#doses h2").text == (
        "Doses administered over time")
    assert chromium.find_element(By.CSS_SELECTOR, "#coverage-table th").text == "Province"
    assert len(_coloured(chromium)) >= 3  # drawn again, not emptied
    shot(chromium, "dashboard-live-en")


def test_filters_change_the_figures(chromium: Any, seeded: str) -> None:  # noqa: F811
    assert _signed_in(chromium, seeded, "en") == "ready"
    country_total, country_map = _total(chromium), _coloured(chromium)
    people = {row.get_attribute("data-code"): int(
        row.find_elements(By.TAG_NAME, "td")[2].text.replace(",", "") or 0)
        for row in chromium.find_elements(By.CSS_SELECTOR, "#coverage-table tr[data-code]")
        if row.find_elements(By.TAG_NAME, "td")[2].text not in ("<5", "—")}
    biggest = max(people, key=lambda code: people[code])
    apply_filters(chromium, area=biggest)
    assert settled(chromium) == "ready", chromium.find_element(By.ID, "status").text
    assert list(_coloured(chromium)) == [biggest]  # the other provinces have no data now
    assert country_map != _coloured(chromium)
    assert 0 < _total(chromium) < country_total
    selected = chromium.find_element(By.CSS_SELECTOR, "#coverage-map path.selected")
    assert selected.get_attribute("data-code") == biggest
    shot(chromium, "dashboard-live-province")
    province_total = _total(chromium)
    _step(chromium, "week")  # fewer, larger cells: fewer suppressed
    assert settled(chromium) == "ready"
    assert _total(chromium) == province_total
    weeks = chromium.find_element(By.CSS_SELECTOR, "#doses-chart path.series")
    assert 52 <= int(weeks.get_attribute("data-points")) <= 54
    shot(chromium, "dashboard-live-province-weekly")
    _step(chromium, "day")
    assert settled(chromium) == "ready"
    apply_filters(chromium, area="", vaccine="astrazeneca")
    assert settled(chromium) == "ready"
    assert 0 < _total(chromium) < country_total
    recent = (TODAY - timedelta(days=20)).isoformat()
    apply_filters(chromium, vaccine="", period_start=recent)
    assert settled(chromium) == "ready"
    series = chromium.find_element(By.CSS_SELECTOR, "#doses-chart path.series")
    assert series.get_attribute("data-points") == "21"
    assert _total(chromium) < country_total


def test_bad_filters_are_readable_errors(chromium: Any, seeded: str) -> None:  # noqa: F811
    assert _signed_in(chromium, seeded, "en") == "ready"
    apply_filters(chromium, period_start=TODAY.isoformat(),
                  period_end=(TODAY - timedelta(days=30)).isoformat())
    assert settled(chromium) == "error"
    status = chromium.find_element(By.ID, "status")
    lines = [p.text for p in status.find_elements(By.TAG_NAME, "p")]
    assert status.is_displayed() and len(lines) == 3, lines
    assert lines[0].startswith("Doses administered over time: The figures could not be loaded:")
    assert all(TODAY.isoformat() in line and "period-end" in line for line in lines), lines
    assert not chromium.find_elements(By.CSS_SELECTOR, "#doses-chart svg")
    shot(chromium, "dashboard-live-inverted-period")
    assert _signed_in(chromium, seeded, "en", "&area=99") == "error"
    text = chromium.find_element(By.ID, "status").text
    assert "Unknown area code '99'" in text, text
    assert chromium.find_element(By.CSS_SELECTOR, "#coverage h2").is_displayed()
    shot(chromium, "dashboard-live-unknown-area")


def test_wrong_password_is_a_readable_error(chromium: Any, seeded: str) -> None:  # noqa: F811
    open_page(chromium, f"{seeded}/dashboard?lang=en")
    sign_in(chromium, ANALYST, "not-the-password")
    text = login_error(chromium)
    assert text.startswith("Sign-in failed:") and len(text) > len("Sign-in failed: "), text
