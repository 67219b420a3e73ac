"""FHIR R4 core code systems and value sets that the Vietnamese profiles bind to, plus the
v3-RoleCode and v2-0203 fragments, the relationship value set and the identifier types.

Sources: terminology/sources/fhir-r4-subset.json (made by snapshot_fhir_r4.py from the HL7 npm
package hl7.fhir.r4.examples@4.0.1), vn-relationships.json, vn-identifier-types.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import DEFAULT_OUT, Resource, codesystem, conceptmap, load_source, url, valueset, write

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
ROLECODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
VERSION, DATE = "2021.1", "2021-07-08"


def build() -> list[Resource]:
    """Copy the R4 subset (ids prefixed r4-/…) and build the Vietnamese relationship/identifier
    resources on top of it."""
    snap = load_source("fhir-r4-subset.json")
    out: list[Resource] = []
    rolecode: Resource = {}
    for cs in snap["codesystems"]:
        cs = dict(cs, id=f"r4-{cs['id']}")
        if cs["url"] == ROLECODE:
            rolecode = cs
        out.append(cs)
    out += [dict(vs, id=f"r4-{vs['id']}") for vs in snap["valuesets"]]
    vi = {c["code"]: c["vi"] for c in load_source("vn-relationships.json")["concepts"]}
    for c in rolecode["concept"]:
        c["designation"] = [{"language": "vi", "value": vi[c["code"]]}]
    out.append(valueset("vn-relationship", "Personal relationships (v3 RoleCode subset)",
                        "Relationships of a contact or related person to the citizen, a subset of "
                        "HL7 v3 RoleCode with Vietnamese designations.",
                        [{"system": ROLECODE, "concept": [
                            {"code": k, "display": next(c["display"] for c in rolecode["concept"]
                                                        if c["code"] == k),
                             "designation": [{"language": "vi", "value": vi[k]}]}
                            for k in sorted(vi)]}], version=VERSION, date=DATE))
    ident = load_source("vn-identifier-types.json")
    rid = "vn-identifier-type"
    concepts = [{"code": c["code"], "display": c["display"], "definition": f"Legal basis: "
                 f"{c['basis']}", "designation": [{"language": "en", "value": c["en"]}]}
                for c in sorted(ident["concepts"], key=lambda c: c["code"])]
    cs = codesystem(rid, "Identifier types of Vietnamese citizens", ident["about"], concepts,
                    version=VERSION, date=DATE)
    v2 = {c["code"]: c["display"] for s in snap["codesystems"] if s["url"] == V2_0203
          for c in s["concept"]}
    elements = [{"code": c["code"], "display": c["display"], "target": [
        {"code": c["v2-0203"], "display": v2[c["v2-0203"]], "equivalence": c["equivalence"]}]}
        for c in sorted(ident["concepts"], key=lambda c: c["code"])]
    out += [cs,
            valueset(rid, cs["title"], f"All codes of {cs['url']}.", [{"system": cs["url"]}],
                     version=VERSION, date=DATE),
            conceptmap(f"{rid}-to-v2-0203", "Vietnamese identifier type -> HL7 v2 table 0203",
                       "Closest HL7 v2-0203 identifier type for each Vietnamese identifier type.",
                       url("ValueSet", rid), "http://hl7.org/fhir/ValueSet/identifier-type",
                       [{"source": cs["url"], "sourceVersion": VERSION, "target": V2_0203,
                         "element": elements}], version=VERSION, date=DATE)]
    return out


def main(out: Path = DEFAULT_OUT) -> list[Path]:
    """Write the core and relationship/identifier resources under `out`."""
    return write(build(), out)


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT):
        print(p)
