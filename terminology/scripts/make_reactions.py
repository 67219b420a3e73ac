"""Post-vaccination reactions: local CodeSystem (Vietnamese names, category, MoH guidance),
its ValueSet and a ConceptMap to SNOMED CT where a public code was found.

Source: terminology/sources/vn-post-vaccination-reactions.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import DEFAULT_OUT, Resource, codesystem, conceptmap, load_source, url, valueset, write

RID, VERSION, DATE = "vn-post-vaccination-reaction", "2021.1", "2021-07-26"
SCT = "http://snomed.info/sct"
CATEGORIES = {"thong-thuong": "common (expected, mild) reaction",
              "nghiem-trong": "serious adverse event / warning sign (tai biến nặng)"}


def build() -> list[Resource]:
    """Build the reaction CodeSystem, ValueSet and SNOMED CT ConceptMap."""
    src = load_source("vn-post-vaccination-reactions.json")
    concepts, elements = [], []
    for c in sorted(src["concepts"], key=lambda c: c["code"]):
        definition = f"{c['en']}; {CATEGORIES[c['category']]}"
        if "guidance" in c:
            definition += f". Guidance: {src['guidance'][c['guidance']]}"
        concepts.append({"code": c["code"], "display": c["vi"], "definition": definition,
                         "designation": [{"language": "en", "value": c["en"]}],
                         "property": [{"code": "category", "valueCode": c["category"]}]})
        if "sct" in c:
            code, display, cited = c["sct"]
            note = f"Code cited in public FHIR material: {src['snomed_cited_in'][cited]}"
            elements.append({"code": c["code"], "display": c["vi"], "target": [
                {"code": code, "display": display, "equivalence": "equivalent",
                 "comment": note}]})
        else:
            elements.append({"code": c["code"], "display": c["vi"], "target": [
                {"equivalence": "unmatched",
                 "comment": "No SNOMED CT code found in public material"}]})
    cs = codesystem(RID, "Post-vaccination reactions (Viet Nam)",
                    src["about"] + " Monitoring: " + src["guidance"]["screening"] + ".", concepts,
                    version=VERSION, date=DATE, properties=[
                        {"code": "category", "type": "code",
                         "description": "thong-thuong (common) or nghiem-trong (serious)"}])
    return [cs,
            valueset(RID, cs["title"], f"All codes of {cs['url']}.", [{"system": cs["url"]}],
                     version=VERSION, date=DATE),
            conceptmap(f"{RID}-to-snomed", "Post-vaccination reaction -> SNOMED CT",
                       "Maps local reaction codes to SNOMED CT where a public code exists. SNOMED "
                       "CT is (c) SNOMED International; use may need a licence.",
                       url("ValueSet", RID), SCT,
                       [{"source": cs["url"], "sourceVersion": VERSION, "target": SCT,
                         "element": elements}], version=VERSION, date=DATE)]


def main(out: Path = DEFAULT_OUT) -> list[Path]:
    """Write the reaction resources under `out`."""
    return write(build(), out)


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT):
        print(p)
