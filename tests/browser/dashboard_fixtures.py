"""Fixtures of the dashboard's browser tests: headless Chromium without a camera, a page-only
server (the dashboard blueprint alone, for the recorded MeasureReports), and helpers to sign in
and wait for the page to settle."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from fhir_server.rest.dashboard_page import dashboard_page
from tests.browser.conftest import ARTIFACTS, _require

FIXTURES = Path(__file__).parent / "fixtures"
OPERATIONS = ("doses-administered", "vaccination-coverage", "adverse-event-rates")
SETTLED = ("ready", "error")


def recorded(operation: str) -> dict[str, Any]:
    """A recorded MeasureReport of one indicator operation (tests/browser/fixtures)."""
    return dict(json.loads((FIXTURES / f"dashboard-{operation}.json").read_text("utf-8")))


def serve(app: Flask) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture(scope="module")
def page_only() -> Iterator[str]:
    """A server of the dashboard page and its assets only (no database, no operations)."""
    app = Flask("dashboard-page-only")
    app.register_blueprint(dashboard_page)
    yield from serve(app)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Chromium (Selenium, Debian chromium + chromium-driver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _require("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,1800", "--lang=vi"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=_require("chromedriver")))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(browser: Any, url: str) -> None:
    """Load the page in a fresh tab state (no session kept from an earlier test)."""
    browser.get(url)
    browser.execute_script("sessionStorage.clear()")
    browser.get(url)
    WebDriverWait(browser, 10).until(lambda b: b.execute_script(
        "return document.body.getAttribute('data-state')") == "login")


def sign_in(browser: Any, phone: str, password: str) -> None:
    """Fill the sign-in form and submit it."""
    browser.find_element(By.ID, "phone").send_keys(phone)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login-button").click()


def login_error(browser: Any, timeout: float = 20) -> str:
    """Wait for the sign-in form's error message; its text."""
    box = browser.find_element(By.ID, "login-error")
    WebDriverWait(browser, timeout).until(lambda _: box.is_displayed() and box.text)
    return str(box.text)


def settled(browser: Any, timeout: float = 60) -> str:
    """Wait until every call of the last load has answered; the page state (ready or error)."""
    WebDriverWait(browser, timeout).until(lambda b: b.execute_script(
        "return document.body.getAttribute('data-state')") in SETTLED)
    return str(browser.execute_script("return document.body.getAttribute('data-state')"))


def apply_filters(browser: Any, **values: str) -> None:
    """Set filter fields (period_start=..., area=...) by script and press the button."""
    for name, value in values.items():
        browser.execute_script("document.getElementById(arguments[0]).value = arguments[1];",
                               name.replace("_", "-"), value)
    browser.execute_script("document.body.setAttribute('data-state', 'loading')")
    browser.find_element(By.ID, "apply").click()


def shot(browser: Any, name: str) -> Path:
    """Save a full-page screenshot under var/test-artifacts/browser/."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1200, max(900, int(height) + 40))
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def map_fills(browser: Any) -> dict[str, str]:
    """Province code -> fill colour of the map's paths."""
    return dict(browser.execute_script(
        "var out = {}; document.querySelectorAll('#coverage-map path.province')"
        ".forEach(function (p) { out[p.getAttribute('data-code')] = p.getAttribute('fill'); });"
        " return out;"))


def bar_values(browser: Any) -> dict[str, str]:
    """Province code -> data-value of the coverage bars."""
    return dict(browser.execute_script(
        "var out = {}; document.querySelectorAll('#coverage-bars rect.bar')"
        ".forEach(function (r) { out[r.getAttribute('data-code')] = r.getAttribute('data-value');"
        " }); return out;"))



def csv_download(browser: Any, panel: str, folder: Path, timeout: float = 30) -> Path:
    """Press a panel's CSV button; the file Chromium saved into `folder`."""
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(folder)})
    browser.find_element(By.CSS_SELECTOR, f"#{panel} button.csv").click()
    WebDriverWait(browser, timeout).until(
        lambda _: [p for p in folder.iterdir() if p.suffix == ".csv"])
    return next(p for p in folder.iterdir() if p.suffix == ".csv")
