"""Verifier page verdict time (issue 15, performance): a pasted `shc:/` card in headless
Chromium against a real server, from the click on "check" to the verdict drawn.

The server (gunicorn, `fhir-server serve` as users run it) runs on an embedded SecantusDB; the
card is signed by the bench with the server's own issuer key (its KeyStore, iss = the server's
base URL), so the server trusts it as a card it issued. The page is loaded once; each round sets
the text area, clicks and waits in the page for `data-verdict` (performance.now() in the
browser, so Selenium's round trips are not counted). A tampered card (one digit changed) gives
the red verdict's time. Same run: the verify API alone (POST $verify-health-card over HTTP from
Python), so a reader sees what the page adds to the server's answer.
Run: .venv/bin/python bench/bench_verify_page.py [--rounds N]
Needs Debian's chromium and chromium-driver (.ci/run installs them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_health_cards import sample  # noqa: E402
from bench.report import Figure, emit  # noqa: E402
from bench.servers import start_server, stop_server  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402
from fhir_server.health_cards import KeyStore, issue_cards, jws_to_numeric  # noqa: E402

VERDICTS = ["valid", "invalid", "not-trusted", "revoked", "expired", "not-yet-valid", "error"]
# sets the text, clicks, resolves with the milliseconds until a final verdict is drawn
TIMED_CHECK = """
const [text, verdicts, done] = arguments;
const box = document.getElementById("result");
box.removeAttribute("data-verdict");
document.getElementById("shc").value = text;
const started = performance.now();
const observer = new MutationObserver(() => {
  const verdict = box.getAttribute("data-verdict");
  if (verdicts.includes(verdict)) {
    observer.disconnect();
    done([verdict, performance.now() - started]);
  }
});
observer.observe(box, {attributes: true, attributeFilter: ["data-verdict"]});
document.getElementById("check").click();
"""


def signed_card(home: Path, issuer: str) -> str:
    """A 3-dose card signed with the server's issuer key, as `shc:/` text."""
    keys_dir = home / "keys"
    for _ in range(100):  # the first worker creates the key at start-up
        if keys_dir.is_dir() and any(keys_dir.iterdir()):
            break
        time.sleep(0.1)
    patient, doses = sample()
    card = issue_cards(patient, doses, iss=issuer, keys=KeyStore(keys_dir),
                       now=time.time(), development=True)[0]  # the http base URL
    return jws_to_numeric(card.jws)


def tampered(shc: str) -> str:
    """The card with one signature digit changed (a pair stays within 00-58)."""
    digits = list(shc)
    index = len(digits) - 6
    digits[index] = "1" if digits[index] != "1" else "2"
    return "".join(digits)


def browser() -> Any:
    """Headless Chromium through Selenium (Debian chromium + chromium-driver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        raise SystemExit("bench_verify_page: needs chromium and chromedriver "
                         "(apt-get install -y chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def page_times(driver: Any, text: str, rounds: int, expected: str) -> list[float]:
    """Milliseconds from click to verdict, per round (the first, warm-up round dropped)."""
    times = []
    for _ in range(rounds + 1):
        verdict, elapsed = driver.execute_async_script(TIMED_CHECK, text, VERDICTS)
        if verdict != expected:
            raise SystemExit(f"bench_verify_page: verdict {verdict}, expected {expected}")
        times.append(float(elapsed))
    return times[1:]


def api_times(base: str, text: str, rounds: int) -> list[float]:
    """Milliseconds per POST $verify-health-card (the page's server call) from Python."""
    body = json.dumps({"resourceType": "Parameters", "parameter": [
        {"name": "data", "valueString": text}]}).encode()
    times = []
    for _ in range(rounds + 1):
        request = urllib.request.Request(f"{base}/$verify-health-card", body, method="POST",
                                         headers={"Content-Type": "application/fhir+json"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return times[1:]


def main() -> int:
    """Measure and print the verdict times (median, p95 and min over the rounds)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    tmp = Path(tempfile.mkdtemp(prefix="bench-verify-page-"))
    with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as store:
        server, port = start_server(store.uri, tmp / "server.log", FHIR_HOME=str(tmp / "home"))
        driver = None
        try:
            base = f"http://127.0.0.1:{port}"
            shc = signed_card(tmp / "home", base)
            driver = browser()
            driver.set_script_timeout(30)
            started = time.perf_counter()
            driver.get(f"{base}/verify")
            load_ms = (time.perf_counter() - started) * 1000
            results = {"valid card": page_times(driver, shc, rounds, "valid"),
                       "tampered card": page_times(driver, tampered(shc), rounds, "invalid"),
                       "verify API alone": api_times(base, shc, rounds)}
        finally:
            if driver is not None:
                driver.quit()
            stop_server(server)
    reference = statistics.median(results["verify API alone"])
    print(f"verify page: {rounds} rounds each, page load {load_ms:.0f} ms")
    for label, times in results.items():
        median = statistics.median(times)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        ratio = median / reference if reference else None
        print(f"  {label:18s} median {median:7.1f} ms  p95 {p95:7.1f} ms  min {min(times):7.1f}"
              f" ms  ({median / reference:.2f}x the API alone)")
        emit(Figure(f"verify page: {label}, click to verdict" if "API" not in label else
                    "verify page: $verify-health-card alone", median, "ms",
                    None if "API" in label else ratio,
                    "median; ratio to the verify API alone, same run"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
