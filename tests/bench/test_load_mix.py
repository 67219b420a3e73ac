"""bench/load_mix.py (issue 16 point 7: the load test's realistic mix of reads, searches and
creates of the campaign's resources): the shares drawn, the requests, the national ids."""

from __future__ import annotations

import json
from collections import Counter

from bench.load_mix import MIX, cccd, draw, mix, registration


def test_the_mix_draws_its_shares_reproducibly() -> None:
    drawn = Counter(draw(4, number, 300)[0] for number in range(20_000))
    total = sum(weight for _name, weight in MIX)
    for name, weight in MIX:
        assert abs(drawn[name] / 20_000 - weight / total) < 0.015, name
    assert [draw(4, n, 300) for n in range(50)] == [draw(4, n, 300) for n in range(50)]
    assert [draw(4, n, 300) for n in range(50)] != [draw(8, n, 300) for n in range(50)]


def test_the_requests_are_the_campaign_interactions_with_the_token() -> None:
    ids = [f"p{n}" for n in range(10)]
    request = mix(ids, "T0KEN", 2)
    seen: dict[str, tuple[str, str, bytes | None, dict[str, str]]] = {}
    for number in range(300):
        seen.setdefault(draw(2, number, len(ids))[0], request(number))
    assert set(seen) == {name for name, _weight in MIX}
    assert all(r[3]["Authorization"] == "Bearer T0KEN" for r in seen.values())
    method, path, _body, _headers = seen["Patient?identifier="]
    assert method == "GET" and path.startswith("/Patient?identifier=urn:vn:cccd|001")
    method, path, body, headers = seen["create Immunization"]
    assert (method, path, headers["Content-Type"]) == ("POST", "/Immunization",
                                                        "application/fhir+json")
    assert json.loads(body or b"{}")["patient"]["reference"] in {f"Patient/{i}" for i in ids}
    assert json.loads(seen["create Appointment"][2] or b"{}") == registration(
        json.loads(seen["create Appointment"][2] or b"{}")["participant"][0]["actor"][
            "reference"].split("/")[1])


def test_national_ids_are_well_formed() -> None:
    # CCCD: province 001, century-and-gender digit (0 male / 1 female, 1900s), year 90, serial
    assert cccd(7) == "001090000007" and cccd(8) == "001190000008"
    assert len({cccd(n) for n in range(1000)}) == 1000
