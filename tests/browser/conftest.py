"""Browser fixtures: a live HTTP server on the test database, a card issued by it, and headless
Chromium driven by Selenium (Debian `chromium` + `chromium-driver`, installed by .ci/run)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.api.card_helpers import issue_card, vaccinated_patient
from tests.conftest import BASE_URL

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "browser"


@dataclass(frozen=True)
class LiveCard:
    """A running server and one card it issued (shc:/ text, QR PNG on disk)."""

    url: str
    shc: str
    png: Path
    issuer: str


@pytest.fixture(scope="module")
def live(make_app: Callable[..., Flask], tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[LiveCard]:
    """The app served over HTTP on 127.0.0.1 (a thread) with one issued card."""
    app = make_app()
    client = app.test_client()  # a Patient without HumanName.text: the name is rebuilt
    shc, png = issue_card(client, vaccinated_patient(client, code="208", lot="FK",
                                                     birthDate="1990-07-25"))
    png_path = tmp_path_factory.mktemp("card") / "card.png"
    png_path.write_bytes(png)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveCard(f"http://127.0.0.1:{server.server_port}", shc, png_path, BASE_URL)
    finally:
        server.shutdown()
        thread.join(10)


def _require(name: str) -> str:
    """The path of a program the browser tests need; a clear failure (not a skip) without it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: the browser tests need Debian's chromium and "
                    "chromium-driver (apt-get install -y chromium chromium-driver; .ci/run "
                    "installs them)", pytrace=False)
    return found


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory: pytest.TempPathFactory, live: LiveCard) -> Path:
    """The card's QR as a Y4M video: Chromium's fake camera shows it to getUserMedia."""
    from tests.browser.y4m import qr_video
    path = tmp_path_factory.mktemp("camera") / "qr.y4m"
    path.write_bytes(qr_video(live.png.read_bytes()))
    return path


@pytest.fixture(scope="module")
def browser(camera_video: Path) -> Iterator[object]:
    """Headless Chromium (Selenium), its fake camera playing the card's QR video."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _require("chromium"), _require("chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=900,1200", "--use-fake-ui-for-media-stream",
                 "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-video-capture={camera_video}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
