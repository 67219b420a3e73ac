"""The load test's campaign mix (bench/bench_load.py): the people stored first, the requests a
site's staff sends (reads, searches and creates of the campaign's resources) in reproducible
draws, each with the site nurse's token."""

from __future__ import annotations

import json
import random
from typing import Any

from bench.bench_campaign import CVX, Http
from bench.http_load import Request

CCCD = "urn:vn:cccd"
JSON = "application/fhir+json"
MIX = (("read Patient/id", 35), ("Immunization?patient=", 20), ("Patient?identifier=", 10),
       ("create Immunization", 15), ("create Appointment", 12), ("create Patient", 8))


def cccd(number: int) -> str:
    """A well-formed national id (Hà Nội, born 1990, male for odd numbers)."""
    return f"001{0 if number % 2 else 1}90{number % 1_000_000:06d}"


def patient(number: int) -> dict[str, Any]:
    """A person registered at a site: national id, name, phone."""
    return {"resourceType": "Patient",
            "identifier": [{"system": CCCD, "value": cccd(number)}],
            "name": [{"family": "Nguyễn", "given": ["Văn", f"Tải{number}"],
                      "text": f"Nguyễn Văn Tải{number}"}],
            "telecom": [{"system": "phone", "value": f"+8497{number:07d}"}],
            "gender": "male" if number % 2 else "female", "birthDate": "1990-05-17"}


def dose(patient_id: str) -> dict[str, Any]:
    """A dose a site records."""
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": CVX, "code": "208"}]},
            "patient": {"reference": f"Patient/{patient_id}"},
            "occurrenceDateTime": "2021-09-01T09:00:00+07:00", "lotNumber": "LOAD1",
            "location": {"display": "Trạm Y tế phường Hàng Bạc"},
            "performer": [{"actor": {"display": "Nurse"}}],
            "protocolApplied": [{"doseNumberPositiveInt": 1}]}


def registration(patient_id: str) -> dict[str, Any]:
    """A registration for vaccination: a proposed Appointment on a preferred day."""
    return {"resourceType": "Appointment", "status": "proposed",
            "requestedPeriod": [{"start": "2021-10-01", "end": "2021-10-07"}],
            "participant": [{"actor": {"reference": f"Patient/{patient_id}"},
                             "status": "needs-action"}]}


KINDS = [name for name, weight in MIX for _ in range(weight)]


def draw(seed: int, number: int, people: int) -> tuple[str, int]:
    """The kind and the person of the n-th request of a level (reproducible)."""
    rng = random.Random(seed * 1_000_003 + number)
    return KINDS[rng.randrange(len(KINDS))], rng.randrange(people)


def mix(ids: list[str], token: str, seed: int) -> Request:
    """The n-th request of the mix: `draw` decides what it is and about whom."""
    reads = {"Accept": JSON, "Authorization": f"Bearer {token}"}
    writes = {**reads, "Content-Type": JSON, "Prefer": "return=minimal"}

    def request(number: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        kind, index = draw(seed, number, len(ids))
        if kind == "read Patient/id":
            return "GET", f"/Patient/{ids[index]}", None, reads
        if kind == "Immunization?patient=":
            return "GET", f"/Immunization?patient=Patient/{ids[index]}", None, reads
        if kind == "Patient?identifier=":
            return "GET", f"/Patient?identifier={CCCD}|{cccd(index)}", None, reads
        if kind == "create Immunization":
            return "POST", "/Immunization", json.dumps(dose(ids[index])).encode(), writes
        if kind == "create Appointment":
            return "POST", "/Appointment", json.dumps(registration(ids[index])).encode(), writes
        body = json.dumps(patient(100_000 + seed * 10_000 + number % 10_000)).encode()
        return "POST", "/Patient", body, writes

    return request


def setup(port: int, token: str, count: int) -> list[str]:
    """Store `count` people, each with one dose (transaction bundles of 50 people); their ids
    in identifier order."""
    http = Http(port)
    ids: list[str] = []
    for first in range(0, count, 50):
        entries = []
        for number in range(first, min(first + 50, count)):
            url = f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
            entries += [{"fullUrl": url, "resource": patient(number),
                         "request": {"method": "POST", "url": "Patient"}},
                        {"resource": {**dose("x"), "patient": {"reference": url}},
                         "request": {"method": "POST", "url": "Immunization"}}]
        status, body = http.send("POST", "/", {"resourceType": "Bundle", "type": "transaction",
                                               "entry": entries}, token)
        if status != 200:
            raise RuntimeError(f"setup: the transaction answered {status}: {body}")
        ids += [entry["response"]["location"].split("/")[1] for entry in body["entry"][::2]]
    return ids
