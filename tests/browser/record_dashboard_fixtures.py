"""Record the dashboard's MeasureReport fixtures from the real operations:

    .venv/bin/python -m tests.browser.record_dashboard_fixtures

Starts a SecantusDB in a temporary folder, seeds a synthetic campaign (fixed seed number and
dates, through the write path as `fhir-server seed --people N`), signs in as an analyst and asks
the three operations the page calls, with its stratifications (doses by day and by week), over
the campaign's period. Each answer is written to
tests/browser/fixtures/dashboard-<operation>[-week].json with its `date` (when it was computed)
fixed, so a new recording changes only when the data or the operations change.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date
from pathlib import Path

from fhir_server import create_app
from fhir_server.embedded import EmbeddedStore
from fhir_server.settings import Settings
from fhir_server.synthetic.writer import SeedOptions, seed_campaign

FIXTURES = Path(__file__).parent / "fixtures"
PEOPLE = 500
START, END = date(2022, 4, 1), date(2022, 6, 30)
CALLS = (("doses-administered", "day", ""), ("doses-administered", "week", "-week"),
         ("vaccination-coverage", "province", ""), ("adverse-event-rates", "vaccine", ""))
ANALYST, PASSWORD = "0903999016", "Analyst2021pass"
COMPUTED = "2022-06-30T12:00:00+00:00"


def record(uri: str, keys: Path) -> list[Path]:
    """Seed, ask the operations as an analyst, write the fixtures; their paths."""
    settings = Settings.from_env(
        {}, mongodb_uri=uri, database="dashboard_fixtures", base_url="http://localhost/fhir",
        shc_key_dir=str(keys), auth_key_dir=str(keys / "auth"), sms_gateway=f"file:{keys}/sms",
        sms_retry_seconds=0, load_conformance=False, audit_spool_dir=str(keys / "audit"))
    app = create_app(settings)
    fhir = app.extensions["fhir"]
    seed_campaign(fhir.internal(), SeedOptions(PEOPLE, seed_number=2021,
                                               days=(END - START).days, sites=12,
                                               reaction_rate=0.2, today=END))
    fhir.components["auth"].accounts.create_staff(ANALYST, "Analyst", PASSWORD, ["analyst"])
    client = app.test_client()
    token = client.post("/auth/login", json={"username": ANALYST, "password": PASSWORD}
                        ).get_json()["access_token"]
    written = []
    for operation, stratify, suffix in CALLS:
        answer = client.get(f"/MeasureReport/${operation}", query_string={
            "period-start": START.isoformat(), "period-end": END.isoformat(),
            "stratify-by": stratify}, headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 200:
            raise SystemExit(f"${operation}: {answer.status_code} {answer.get_data(as_text=True)}")
        report = answer.get_json()
        report["date"] = COMPUTED
        path = FIXTURES / f"dashboard-{operation}{suffix}.json"
        path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
        written.append(path)
    return written


def main() -> int:
    """Record into tests/browser/fixtures with a store of its own."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with EmbeddedStore(root / "data", log_path=root / "server.log") as server:
            for path in record(server.uri, root / "keys"):
                print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
