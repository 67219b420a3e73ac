"""`fhir-server seed --people N` (issue 15 point 6): a synthetic campaign through the write path."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from pymongo import MongoClient

from fhir_server.auth.principal import STAFF, Principal, acting_as
from fhir_server.cli import main
from fhir_server.synthetic.doses import Site, campaign, schedule
from fhir_server.synthetic.people import person
from fhir_server.validation.identifier_rules import phone_issues
from fhir_server.validation.site_dose_rules import SiteDoseChecker

TODAY = date(2022, 6, 30)


def _generate(seed: int) -> list[object]:
    rng = random.Random(seed)
    site = Site("site", ("nurse-1", "nurse-2"), "01")
    out: list[object] = []
    for n in range(200):
        one = person(rng, n, TODAY)
        out.append((one.patient, campaign(one, site, date(2021, 7, 1), TODAY, rng)))
    return out


def test_same_seed_number_same_data() -> None:
    assert repr(_generate(7)) == repr(_generate(7))
    assert repr(_generate(7)) != repr(_generate(8))


def test_people_ages_groups_doses_follow_the_rules() -> None:
    people = _generate(3)
    cccds = [p["identifier"][0]["value"] for p, _ in people]  # type: ignore[index]
    assert len(set(cccds)) == len(cccds)
    waiting = 0
    for patient, plan in people:  # type: ignore[misc]
        assert not phone_issues(patient)
        age = (TODAY - date.fromisoformat(patient["birthDate"])).days // 365
        group = plan.registration["extension"][0]["valueCoding"]["code"]
        assert (group == "9") == (age >= 65) or (age < 65 and group == "9" and age >= 18)
        waiting += not plan.doses
        primary = [d for d in plan.doses
                   if d["protocolApplied"][0]["doseNumberPositiveInt"] <=
                   d["protocolApplied"][0]["seriesDosesPositiveInt"]]
        for before, after in zip(primary, primary[1:], strict=False):
            shot = schedule(before["vaccineCode"]["coding"][0]["code"])
            gap = (date.fromisoformat(after["occurrenceDateTime"][:10])
                   - date.fromisoformat(before["occurrenceDateTime"][:10])).days
            assert gap >= shot.min_days
        for dose in plan.doses:
            with acting_as(Principal(STAFF, "nurse")):  # the site dose rule, as staff
                assert not SiteDoseChecker().check(dose)
    assert waiting > 0


def test_seed_people_through_the_cli(mongo_uri: str, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = f"seedp_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("FHIR_HOME", str(tmp_path))
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("FHIR_DATABASE", database)
    assert main(["seed", "--people", "30", "--quiet", "--seed-number", "5"]) == 0
    first = capsys.readouterr().out
    assert main(["seed", "--people", "30", "--quiet", "--seed-number", "5"]) == 0
    with MongoClient(mongo_uri) as client:
        db = client[database]
        patients = [d["res"] for d in db["Patient"].find({"res.meta.tag.code": "campaign"})]
        assert len(patients) == 60
        cccds = [p["identifier"][0]["value"] for p in patients]
        assert len(set(cccds)) == 60  # the second run numbers after the first
        for patient in patients:
            codes = [e["url"] for e in patient["address"][0]["extension"]]
            assert any(c.endswith("vn-address-province") for c in codes)
        doses = {d["_id"] for d in db["Immunization"].find({"res.meta.tag.code": "campaign"})}
        for event in db["AdverseEvent"].find({"res.meta.tag.code": "campaign"}):
            ref = event["res"]["suspectEntity"][0]["instance"]["reference"]
            assert ref.split("/")[1] in doses
        counts = Counter({t: db[t].count_documents({"res.meta.tag.code": "campaign"})
                          for t in ("Patient", "Appointment", "Immunization")})
        assert counts["Appointment"] == 60
        assert f"Patient {counts['Patient'] // 2}," in first
        assert db["Communication"].count_documents({}) == 2  # the demo's: the seed texts nobody
        waiting = db["Appointment"].count_documents({"res.status": "proposed"})
        assert waiting > 0
        client.drop_database(database)
