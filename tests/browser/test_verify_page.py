"""The verifier page (/verify) in headless Chromium against a live server (issue 15, points 4
and 5): a real card is green pasted, uploaded as its QR PNG and scanned by the (fake) camera,
with the name in Vietnamese order, birth date, doses and issuer; a tampered card is red with
its reason and no personal data; bad input is a readable error. Screenshots go to
var/test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import ARTIFACTS, LiveCard

VERDICTS = ("valid", "invalid", "not-trusted", "revoked", "expired", "not-yet-valid", "error")
PERSONAL = ("Nguyễn", "Văn An", "1990", "25/07")  # the holder's name and birth date


def _open(browser: Any, live: LiveCard, lang: str = "vi") -> None:
    browser.get(f"{live.url}/verify?lang={lang}")
    WebDriverWait(browser, 10).until(lambda b: b.execute_script(
        "return document.readyState") == "complete")


def _verdict(browser: Any, timeout: float = 20) -> tuple[str, Any]:
    """Wait for the result box to settle; its verdict and element."""
    box = browser.find_element(By.ID, "result")
    WebDriverWait(browser, timeout).until(
        lambda _: box.get_attribute("data-verdict") in VERDICTS)
    return str(box.get_attribute("data-verdict")), box


def _paste(browser: Any, text: str) -> None:
    area = browser.find_element(By.ID, "shc")
    area.clear()
    area.send_keys(text)
    browser.find_element(By.ID, "check").click()


def _shot(browser: Any, name: str) -> None:
    browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _colour(box: Any) -> tuple[int, ...]:
    """The result box's border colour as (r, g, b)."""
    value = box.value_of_css_property("border-top-color")
    inner = value[value.index("(") + 1:value.index(")")]
    return tuple(int(float(part)) for part in inner.split(",")[:3])


def _assert_green_card(box: Any, live: LiveCard) -> None:
    red, green, _ = _colour(box)
    assert green > red, _colour(box)
    assert box.find_element(By.CSS_SELECTOR, "dd.name").text == "Nguyễn Văn An"
    assert box.find_element(By.CSS_SELECTOR, "dd.birth-date").text == "25/07/1990"
    assert live.issuer in box.find_element(By.CSS_SELECTOR, "dd.issuer").text
    rows = box.find_elements(By.CSS_SELECTOR, "table.doses tr")[1:]
    assert [row.find_elements(By.TAG_NAME, "td")[2].text for row in rows] == [
        "02/08/2021", "02/09/2021"]
    assert all("Pfizer" in row.text for row in rows)
    assert [row.find_elements(By.TAG_NAME, "td")[3].text for row in rows] == ["FK1", "FK2"]


def test_pasted_card_is_green(browser: Any, live: LiveCard) -> None:
    _open(browser, live)
    _paste(browser, live.shc)
    verdict, box = _verdict(browser)
    assert verdict == "valid", box.text
    assert "Hợp lệ" in box.find_element(By.CSS_SELECTOR, "h2").text
    _assert_green_card(box, live)
    _shot(browser, "pasted-valid-vi")
    browser.find_element(By.ID, "lang").click()  # English, drawn again without the server
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "Vaccination certificate verifier"
    assert "Valid" in box.find_element(By.CSS_SELECTOR, "h2").text
    assert box.find_element(By.CSS_SELECTOR, "dd.birth-date").text == "1990-07-25"
    assert box.find_element(By.CSS_SELECTOR, "dd.name").text == "Nguyễn Văn An"
    _shot(browser, "pasted-valid-en")


def test_uploaded_qr_png_is_green(browser: Any, live: LiveCard) -> None:
    _open(browser, live)
    browser.find_element(By.ID, "image").send_keys(str(live.png))
    verdict, box = _verdict(browser)
    assert verdict == "valid", box.text
    _assert_green_card(box, live)
    assert browser.find_element(By.ID, "shc").get_attribute("value") == live.shc
    _shot(browser, "uploaded-png-valid")


def test_camera_scan_is_green(browser: Any, live: LiveCard) -> None:
    """Chromium's fake camera plays the card's QR (tests/browser/y4m.py) to getUserMedia."""
    _open(browser, live)
    browser.find_element(By.ID, "scan").click()
    verdict, box = _verdict(browser, timeout=30)
    assert verdict == "valid", box.text
    _assert_green_card(box, live)
    assert not browser.find_element(By.ID, "camera").is_displayed()  # stopped once read
    _shot(browser, "camera-valid")


def _tampered(shc: str) -> str:
    """One digit pair of the signature changed (another valid base64url character)."""
    prefix, digits = shc[:5], shc[5:]
    at = len(digits) - 20  # inside the signature, not its last (partial) character
    pair = int(digits[at:at + 2])
    return prefix + digits[:at] + f"{(pair + 1) % 78:02d}" + digits[at + 2:]


def test_tampered_card_is_red_without_personal_data(browser: Any, live: LiveCard) -> None:
    _open(browser, live)
    _paste(browser, _tampered(live.shc))
    verdict, box = _verdict(browser)
    assert verdict == "invalid", box.text
    red, green, _ = _colour(box)
    assert red > green, _colour(box)
    reasons = box.find_element(By.CSS_SELECTOR, ".reasons").text
    assert "signature does not verify" in reasons
    page = browser.find_element(By.TAG_NAME, "body").text
    assert not [word for word in PERSONAL if word in page], page
    assert not box.find_elements(By.CSS_SELECTOR, "dd.name, table.doses")
    _shot(browser, "tampered-invalid")


def test_bad_input_is_a_readable_error(browser: Any, live: LiveCard, tmp_path: Path) -> None:
    _open(browser, live, "en")
    _paste(browser, "hello, this is not a card")
    verdict, box = _verdict(browser)
    assert verdict == "error" and "must start with shc:/" in box.text
    _shot(browser, "garbage-error")
    _paste(browser, "")
    assert _verdict(browser)[1].text == "Paste a shc:/ code before verifying."
    _paste(browser, "shc:/12345")  # the right shape, but no card: the server's reasons
    verdict, box = _verdict(browser)
    assert verdict == "invalid" and box.find_element(By.CSS_SELECTOR, ".reasons").text
    _shot(browser, "short-code-invalid")
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    browser.find_element(By.ID, "image").send_keys(str(not_image))
    verdict, box = _verdict(browser)
    assert verdict == "error" and "could not be read as an image" in box.text
    blank = tmp_path / "blank.png"
    from PIL import Image
    Image.new("L", (200, 200), 255).save(blank)
    browser.execute_script("document.getElementById('result').removeAttribute('data-verdict')")
    browser.find_element(By.ID, "image").send_keys(str(blank))
    verdict, box = _verdict(browser)
    assert verdict == "error" and "No QR code was found" in box.text
    _shot(browser, "blank-image-error")


def test_server_unreachable_is_a_readable_error(browser: Any, live: LiveCard) -> None:
    """Loaded, then offline: decoding still works, the signature check says it needs the server."""
    _open(browser, live, "en")
    browser.execute_script("window.fetch = function () {"
                           " return Promise.reject(new TypeError('offline')); };")
    browser.find_element(By.ID, "image").send_keys(str(live.png))
    verdict, box = _verdict(browser)
    assert verdict == "error" and "could not be reached" in box.text
    assert browser.find_element(By.ID, "shc").get_attribute("value") == live.shc
    _shot(browser, "offline-error")
