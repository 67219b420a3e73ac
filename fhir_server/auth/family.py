"""A citizen's family ("Mối quan hệ với tôi"): add, list, update and unlink members.

The request names what the member is to the holder (`relationship`, a code of the
vn-relationship value set: DAU = "my daughter"). FHIR's RelatedPerson.relationship is the
reverse: what the related person (the holder) is to the patient (the member) — so a daughter
added by her mother is stored as a RelatedPerson "MTH" of the daughter's Patient (R4
relatedperson.html, "The nature of the relationship between a patient and the related person").
The RelatedPerson carries the account as an identifier, so a listing finds it again.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from fhir_server.terminology.store import DEFAULT_ROOT

ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ACCOUNT_SYSTEM = "urn:fhir-server:account"
MEMBER_FIELDS = frozenset({"full_name", "relationship", "birthDate", "gender", "cccd", "bhxh",
                           "bhyt"})
# the member's role -> the holder's role, by the holder's gender (male, female, unknown)
_INVERSE: dict[str, tuple[str, str, str]] = {
    **{code: ("FTH", "MTH", "PRN") for code in ("SON", "DAU", "CHILD", "CHLDADOPT")},
    **{code: ("SON", "DAU", "CHILD") for code in ("FTH", "MTH", "PRN", "STPPRN")},
    **{code: ("GRNDCHILD",) * 3 for code in ("GRFTH", "GRMTH", "GRPRN")},
    "GRNDCHILD": ("GRFTH", "GRMTH", "GRPRN"),
    **{code: ("BRO", "SIS", "SIB") for code in ("BRO", "SIS", "SIB")},
    "HUSB": ("WIFE",) * 3, "WIFE": ("HUSB",) * 3,
    **{code: (code,) * 3 for code in ("SPS", "DOMPART", "EXT", "FAMMEMB", "FRND", "NBOR")},
    "GUARD": ("FAMMEMB",) * 3,
}


@cache
def relationship_codes() -> dict[str, tuple[str, str]]:
    """code -> (English display, Vietnamese designation) of the vn-relationship value set."""
    value_set = orjson.loads((DEFAULT_ROOT / "valuesets" / "vn-relationship.json").read_bytes())
    codes = {}
    for include in value_set["compose"]["include"]:
        for concept in include.get("concept", []):
            vietnamese = next((d["value"] for d in concept.get("designation", [])
                               if d.get("language") == "vi"), concept["display"])
            codes[concept["code"]] = (concept["display"], vietnamese)
    return codes


def member_codes() -> list[str]:
    """The codes a member's relationship may take (every family role with a reverse)."""
    return sorted(code for code in relationship_codes() if code in _INVERSE)


def holder_role(member_role: str, holder_gender: str | None) -> str:
    """What the holder is to the member, from what the member is to the holder."""
    male, female, unknown = _INVERSE[member_role]
    return male if holder_gender == "male" else female if holder_gender == "female" else unknown


def member_role(stored_role: str, member_gender: str | None) -> str:
    """The member's role to the holder, read back from the stored RelatedPerson's code."""
    return holder_role(stored_role, member_gender) if stored_role in _INVERSE else stored_role


def related_person(member_id: str, role: str, account: dict[str, Any],
                   holder_name: dict[str, Any]) -> dict[str, Any]:
    """The holder as a RelatedPerson of the member, with the holder's role to the member."""
    display = relationship_codes().get(role, (role, role))[0]
    return {"resourceType": "RelatedPerson", "active": True,
            "identifier": [{"system": ACCOUNT_SYSTEM, "value": account["_id"]}],
            "patient": {"reference": f"Patient/{member_id}"},
            "relationship": [{"coding": [{"system": ROLE_SYSTEM, "code": role,
                                          "display": display}]}],
            "name": [holder_name], "telecom": [{"system": "phone", "value": account["phone"]}]}
