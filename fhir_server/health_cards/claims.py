"""JWT claims of a health card: build them from a bundle, and check claims read from a card.

Spec: SMART Health Cards "Health Cards are encoded as Compact Serialization JSON Web Signatures"
(iss, nbf in seconds, vc.type containing https://smarthealth.cards#health-card,
vc.credentialSubject.fhirVersion + fhirBundle), "Expiration of Health Cards" (optional exp in
seconds), "Revocation" (optional vc.rid) and "Determining keys associated with an issuer" (iss
uses https and has no trailing slash). The additional types #immunization / #covid19 /
#laboratory are deprecated since SHC 1.4; we still write them, and when a card uses them they must
agree with its content.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from fhir_server.health_cards.bundle_rules import check_bundle

HEALTH_CARD = "https://smarthealth.cards#health-card"
IMMUNIZATION = "https://smarthealth.cards#immunization"
COVID19 = "https://smarthealth.cards#covid19"
LABORATORY = "https://smarthealth.cards#laboratory"
FHIR_VERSION = "4.0.1"
CVX = "http://hl7.org/fhir/sid/cvx"
# CVX codes of COVID-19 vaccines (CDC "COVID-19 vaccine related codes")
COVID_CVX = frozenset({"207", "208", "210", "211", "212", "213", "217", "218", "219", "221",
                       "225", "226", "227", "228", "229", "230", "300", "301", "302", "309",
                       "310", "311", "312", "313", "500", "501", "502", "503", "504", "505",
                       "506", "507", "508", "509", "510", "511", "512", "513", "514", "515",
                       "516", "517", "518", "519", "520", "521"})
# LOINC codes of SARS-CoV-2 laboratory tests used by the official validator's covid check
COVID_LOINC = frozenset({"50548-7", "68993-5", "82159-5", "94306-8", "94307-6", "94308-4",
                         "94309-2", "94500-6", "94502-2", "94533-7", "94534-5", "94547-7",
                         "94558-4", "94559-2", "94562-6", "94563-4", "94564-2", "94565-9",
                         "94640-0", "94661-6", "94756-4", "94757-2", "94758-0", "94759-8",
                         "94760-6", "94761-4", "94762-2", "94763-0", "94764-8", "94845-5",
                         "95125-1", "95209-3", "95406-5", "95409-9", "95416-4", "95423-0",
                         "95424-8", "95425-5", "95542-7", "95608-6", "95609-4"})
MILLISECONDS_THRESHOLD = 10**11  # a seconds timestamp this large would be after the year 5000
_RID = re.compile(r"[A-Za-z0-9_-]{1,24}")
_FHIR_VERSION = re.compile(r"\d+\.\d+\.\d+")


def _first_code(concept: Any) -> tuple[str | None, str | None]:
    """(system, code) of a CodeableConcept's first coding."""
    if isinstance(concept, Mapping):
        codings = concept.get("coding")
        if isinstance(codings, list) and codings and isinstance(codings[0], Mapping):
            return codings[0].get("system"), codings[0].get("code")
    return None, None


def _content(bundle: Any) -> tuple[bool, bool, bool]:
    """(has immunization, has covid19 content, has covid lab observation) of a bundle."""
    imm = covid = lab = False
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        res = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(res, Mapping):
            continue
        if res.get("resourceType") == "Immunization":
            imm = True
            covid |= _first_code(res.get("vaccineCode"))[1] in COVID_CVX
        elif (res.get("resourceType") == "Observation"
              and _first_code(res.get("code"))[1] in COVID_LOINC):
            lab = covid = True
    return imm, covid, lab


def card_types(bundle: Mapping[str, Any], legacy: bool = True) -> list[str]:
    """vc.type for a bundle: #health-card, plus the (deprecated) content types if legacy."""
    types = [HEALTH_CARD]
    if legacy:
        imm, covid, lab = _content(bundle)
        types += [IMMUNIZATION] if imm else []
        types += [LABORATORY] if lab else []
        types += [COVID19] if covid else []
    return types


def build_claims(bundle: Mapping[str, Any], iss: str, now: float, *, exp: float | None = None,
                 rid: str | None = None, legacy_types: bool = True,
                 development: bool = False) -> dict[str, Any]:
    """The JWT claims set of a card (nbf = now in whole seconds); `development` allows http."""
    problems = [p for p in iss_problems(iss)
                if not (development and p.endswith("must use https"))]
    if problems:
        raise ValueError("; ".join(problems))
    vc: dict[str, Any] = {
        "type": card_types(bundle, legacy_types),
        "credentialSubject": {"fhirVersion": FHIR_VERSION, "fhirBundle": bundle},
    }
    if rid is not None:
        vc["rid"] = rid
    claims: dict[str, Any] = {"iss": iss, "nbf": int(now)}
    if exp is not None:
        claims["exp"] = int(exp)
    claims["vc"] = vc
    return claims


def claims_bundle(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of build_claims for the content: the card's FHIR Bundle."""
    bundle = claims["vc"]["credentialSubject"]["fhirBundle"]
    if not isinstance(bundle, dict):
        raise ValueError("vc.credentialSubject.fhirBundle is not an object")
    return bundle


def iss_problems(iss: Any) -> list[str]:
    """Why iss is not a valid issuer URL (https, no trailing slash)."""
    if not isinstance(iss, str) or not iss:
        return ["iss (the issuer URL) is required and must be a string"]
    problems = []
    if not iss.startswith("https://"):
        problems.append(f"iss {iss!r} must use https")
    if iss.endswith("/"):
        problems.append(f"iss {iss!r} must not end with '/'")
    return problems


def _time_problems(name: str, value: Any) -> list[str]:
    """Why an nbf/exp value is not a number of seconds since 1970."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return [f"{name} must be a number of seconds since 1970-01-01"]
    if value > MILLISECONDS_THRESHOLD:
        return [f"{name} {value} looks like milliseconds: it must be in seconds since "
                "1970-01-01 (RFC 7519)"]
    if value < 0:
        return [f"{name} must not be negative"]
    return []


def check_claims(claims: Any) -> list[str]:
    """Every rule the claims break, including the bundle's (times against a clock: elsewhere)."""
    if not isinstance(claims, Mapping):
        kind = "a JSON string (double-encoded?)" if isinstance(claims, str) else "not an object"
        return [f"the JWS payload is {kind}, not a JSON object of claims"]
    problems = iss_problems(claims.get("iss"))
    if "nbf" not in claims:
        problems.append("nbf (issuance time) is required")
    else:
        problems += _time_problems("nbf", claims["nbf"])
    if "exp" in claims:
        exp_problems = _time_problems("exp", claims["exp"])
        problems += exp_problems
        nbf = claims.get("nbf")
        if not exp_problems and isinstance(nbf, int | float) and claims["exp"] <= nbf:
            problems.append(f"exp {claims['exp']} is not after nbf {nbf}")
    vc = claims.get("vc")
    if not isinstance(vc, Mapping):
        return problems + ["vc (the verifiable credential) is required"]
    problems += _type_problems(vc)
    if "rid" in vc and not (isinstance(vc["rid"], str) and _RID.fullmatch(vc["rid"])):
        problems.append("vc.rid must be 1-24 characters of the base64url alphabet")
    subject = vc.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return problems + ["vc.credentialSubject is required"]
    version = subject.get("fhirVersion")
    if not (isinstance(version, str) and _FHIR_VERSION.fullmatch(version)):
        problems.append("vc.credentialSubject.fhirVersion must be a FHIR version such as 4.0.1")
    elif not version.startswith("4.0."):
        problems.append(f"fhirVersion {version} is not FHIR R4 (4.0.x)")
    if "fhirBundle" not in subject:
        return problems + ["vc.credentialSubject.fhirBundle is required"]
    return problems + check_bundle(subject["fhirBundle"])


def _type_problems(vc: Mapping[str, Any]) -> list[str]:
    """vc.type must list #health-card; deprecated content types, if used, must match content."""
    types = vc.get("type")
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        return ["vc.type must be a list of strings"]
    problems = []
    if HEALTH_CARD not in types:
        problems.append(f"vc.type must contain {HEALTH_CARD}")
    legacy = {IMMUNIZATION, COVID19, LABORATORY} & set(types)
    if not legacy:
        return problems  # SHC 1.4 style: content types are deprecated and may be absent
    subject = vc.get("credentialSubject")
    bundle = subject.get("fhirBundle") if isinstance(subject, Mapping) else None
    imm, covid, lab = _content(bundle)
    expected = {IMMUNIZATION: imm, COVID19: covid, LABORATORY: lab}
    for vc_type, present in expected.items():
        if present and vc_type not in types:
            problems.append(f"vc.type lists deprecated content types {sorted(legacy)} but "
                            f"misses {vc_type}, which applies to this card's content")
        elif vc_type in types and not present:
            problems.append(f"vc.type contains {vc_type} but the card has no matching content")
    return problems


def unknown_types(claims: Mapping[str, Any]) -> list[str]:
    """vc.type values this verifier does not understand (the spec says: ignore them)."""
    vc = claims.get("vc")
    types = vc.get("type") if isinstance(vc, Mapping) else None
    known = {HEALTH_CARD, IMMUNIZATION, COVID19, LABORATORY}
    return [t for t in types if t not in known] if isinstance(types, list) else []
