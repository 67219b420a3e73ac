"""Synthetic people for `fhir-server seed --people N` (issue 15 point 6): vn-patient Patients
with a valid, unique CCCD, an E.164 mobile number, an address with 2025 province and commune
codes, and an age-consistent priority group (QĐ 3355/QĐ-BYT groups).

Provinces are weighted by their number of communes in the vn-commune CodeSystem (the 2025
reform sized communes partly by population: a proxy, not census figures). The CCCD province
digits are a legacy province mapped to the person's 2025 province (ConceptMap
vn-province-legacy-to-2025); its serial is a bijection of the person's number, so numbers never
repeat across runs (the caller passes the number of synthetic people already stored).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import orjson

from fhir_server.terminology.store import DEFAULT_ROOT

TERMINOLOGY = "https://fhir.moh.gov.vn/terminology/CodeSystem"
SD = "https://fhir.moh.gov.vn/fhir/StructureDefinition"
SYNTHETIC_TAG = {"system": "urn:fhir-server:synthetic", "code": "campaign"}
MAX_PEOPLE = 1_000_000  # the serial space of the CCCD bijection
FAMILY = (("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4),
          ("Phan", 4), ("Vũ", 4), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1), ("Hồ", 1),
          ("Ngô", 1), ("Dương", 1), ("Lý", 1))  # Wikipedia "Vietnamese name", shares in %
MIDDLE = {"male": ("Văn", "Đức", "Minh", "Quang", "Hữu", "Công"),
          "female": ("Thị", "Ngọc", "Thu", "Thanh", "Mai", "Kim")}
GIVEN = {"male": ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc",
                  "Quân", "Sơn", "Tuấn", "Việt"),
         "female": ("Anh", "Chi", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Ngân", "Nhung",
                    "Phương", "Thảo", "Trang", "Yến")}
STREETS = ("Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt",
           "Quang Trung", "Hùng Vương", "Điện Biên Phủ")
AGE_BANDS = ((12, 17, 9), (18, 29, 20), (30, 44, 26), (45, 64, 30), (65, 90, 15))
# (group code, weight, min age, max age) among adults under 65 (QĐ 3355 groups 1-16)
ADULT_GROUPS = (("1", 4, 22, 60), ("2", 2, 20, 60), ("3", 1, 18, 50), ("4", 1, 20, 55),
                ("5", 0.1, 25, 60), ("6", 0.3, 25, 60), ("7", 5, 20, 60), ("8", 8, 18, 60),
                ("9", 6, 18, 64), ("10", 15, 18, 64), ("11", 4, 18, 64), ("12", 0.5, 18, 40),
                ("13", 15, 18, 55), ("14", 0.2, 30, 64), ("15", 15, 18, 64), ("16", 3, 18, 64))


def _load(folder: str, name: str) -> dict[str, Any]:
    return dict(orjson.loads((DEFAULT_ROOT / folder / f"{name}.json").read_bytes()))


@dataclass(frozen=True)
class Geography:
    """Provinces (code, display, weight), their communes and legacy (CCCD) province codes."""

    provinces: list[tuple[str, str]]
    weights: list[int]
    communes: dict[str, list[tuple[str, str]]]
    legacy: dict[str, list[str]]


@cache
def geography() -> Geography:
    """The 2025 units and the legacy mapping, from terminology/."""
    provinces = [(c["code"], c["display"]) for c in _load("codesystems", "vn-province")["concept"]]
    communes: dict[str, list[tuple[str, str]]] = {}
    for concept in _load("codesystems", "vn-commune")["concept"]:
        province = next(p["valueCode"] for p in concept["property"] if p["code"] == "province")
        communes.setdefault(province, []).append((concept["code"], concept["display"]))
    legacy: dict[str, list[str]] = {}
    for element in _load("conceptmaps", "vn-province-legacy-to-2025")["group"][0]["element"]:
        for target in element.get("target", []):
            legacy.setdefault(target["code"], []).append(element["code"])
    kept = [p for p in provinces if communes.get(p[0]) and legacy.get(p[0])]
    return Geography(kept, [len(communes[p[0]]) for p in kept], communes, legacy)


@dataclass
class Person:
    """One generated person: the Patient and what the campaign needs to know of them."""

    number: int
    patient: dict[str, Any]
    province: str
    group: str
    birth: date


def _age_and_group(rng: random.Random) -> tuple[int, str]:
    low, high, _ = rng.choices(AGE_BANDS, [b[2] for b in AGE_BANDS])[0]
    age = rng.randint(low, high)
    if age >= 65:
        return age, "9"  # people over 65
    if age < 18:
        return age, "8" if rng.random() < 0.8 else "16"  # pupils; groups decided by MoH
    fits = [g for g in ADULT_GROUPS if g[2] <= age <= g[3]]
    return age, rng.choices(fits, [g[1] for g in fits])[0][0]


def cccd(legacy_province: str, gender: str, birth: date, number: int) -> str:
    """A CCCD: 0 + legacy province, century/sex digit, year digits, a unique 6-digit serial."""
    digit = 2 * ((birth.year - 1900) // 100) + (1 if gender == "female" else 0)
    serial = (number * 7919 + 104729) % MAX_PEOPLE  # a bijection of 0..999999
    return f"0{legacy_province}{digit}{birth.year % 100:02d}{serial:06d}"


def phone(number: int) -> str:
    """A Vietnamese mobile number in E.164 form, unique per person number."""
    prefix = ("90", "93", "94", "96", "97", "98", "86", "88")[number % 8]
    return f"+84{prefix}{(number * 3571 + 2741) % 10_000_000:07d}"


def person(rng: random.Random, number: int, today: date) -> Person:
    """One person (number = their rank among all synthetic people, for unique identifiers)."""
    geo = geography()
    code, display = rng.choices(geo.provinces, geo.weights)[0]
    commune, commune_name = rng.choice(geo.communes[code])
    gender = rng.choice(("male", "female"))
    age, group = _age_and_group(rng)
    birth = today - timedelta(days=365 * age + rng.randint(0, 364))
    family = rng.choices([f for f, _ in FAMILY], [w for _, w in FAMILY])[0]
    given = [rng.choice(MIDDLE[gender]), rng.choice(GIVEN[gender])]
    patient = {
        "resourceType": "Patient", "meta": {"profile": [f"{SD}/vn-patient"],
                                            "tag": [SYNTHETIC_TAG]},
        "active": True,
        "identifier": [{"system": "urn:vn:cccd",
                        "value": cccd(rng.choice(geo.legacy[code]), gender, birth, number)}],
        "name": [{"use": "official", "family": family, "given": given,
                  "text": " ".join([family, *given])}],
        "telecom": [{"system": "phone", "value": phone(number), "use": "mobile"}],
        "gender": gender, "birthDate": birth.isoformat(),
        "address": [{"extension": [
            {"url": f"{SD}/vn-address-province", "valueCoding": {
                "system": f"{TERMINOLOGY}/vn-province", "code": code, "display": display}},
            {"url": f"{SD}/vn-address-commune", "valueCoding": {
                "system": f"{TERMINOLOGY}/vn-commune", "code": commune,
                "display": commune_name}}],
            "line": [f"Số {rng.randint(1, 300)} {rng.choice(STREETS)}"],
            "city": display, "country": "VN"}]}
    return Person(number, patient, code, group, birth)
