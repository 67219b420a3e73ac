"""COVID-19 vaccines used in Viet Nam: one CodeSystem carrying CVX, ICD-11 and EU DCC codes and
the primary schedule, CVX/ICD-11 fragments, value sets and ConceptMaps to each cross-code system.

Sources (terminology/sources/): vn-covid19-vaccines.json, cdc-cvx-covid19.json,
who-icd11-covid19-vaccines.json, eu-dcc-valuesets.json (see SOURCES.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import DEFAULT_OUT, Resource, codesystem, conceptmap, load_source, url, valueset, write

VERSION, DATE = "2021.1", "2021-12-31"
CVX = "http://hl7.org/fhir/sid/cvx"
ICD11 = "http://id.who.int/icd11/mms"
PROPS = [
    ("cvx", "code", "CDC CVX code (http://hl7.org/fhir/sid/cvx)"),
    ("icd11", "code", "WHO ICD-11 MMS vaccine extension code (http://id.who.int/icd11/mms)"),
    ("eu-dcc-product", "string", "EU DCC vaccine medicinal product code (mp)"),
    ("eu-dcc-manufacturer", "string", "EU DCC marketing authorisation holder/manufacturer (ma)"),
    ("eu-dcc-prophylaxis", "code", "EU DCC vaccine or prophylaxis (vp), SNOMED CT"),
    ("atc", "code", "WHO ATC code"),
    ("series-doses", "integer", "Doses in the primary series"),
    ("interval-min-days", "integer", "Minimum recommended days between consecutive doses"),
    ("interval-max-days", "integer", "Maximum recommended days between consecutive doses"),
]


def build() -> list[Resource]:
    """Build the vaccine CodeSystem, fragments, ValueSets and ConceptMaps."""
    vn = load_source("vn-covid19-vaccines.json")["concepts"]
    cvx = {c["code"]: c["display"] for c in load_source("cdc-cvx-covid19.json")["concepts"]}
    icd_rows = load_source("who-icd11-covid19-vaccines.json")["euDccToIcd11"]
    icd = {r["source"]: r for r in icd_rows}
    dcc = load_source("eu-dcc-valuesets.json")
    concepts: list[Resource] = []
    maps: dict[str, list[Resource]] = {"cvx": [], "icd11": []}
    eu: dict[str, list[Resource]] = {}
    for v in sorted(vn, key=lambda c: c["code"]):
        enc = dcc["encodingInstructions"][v["euDcc"]]
        mp, ma = enc["vaccine-code"], enc["vaccine-manufacturer"]
        assert mp in dcc["medicinalProduct"] and ma in dcc["marketingAuthorisationHolder"], v
        assert v["cvx"] in cvx, v["cvx"]
        sct = [c for c in enc["sct-codes"] if dcc["prophylaxis"][c]["system"].endswith("sct")]
        atc = [c for c in enc["sct-codes"] if c not in sct]
        i = icd[mp]
        sched = v["schedule"]
        props: list[Resource] = [
            {"code": "cvx", "valueCode": v["cvx"]}, {"code": "icd11", "valueCode": i["code"]},
            {"code": "eu-dcc-product", "valueString": mp},
            {"code": "eu-dcc-manufacturer", "valueString": ma},
            *({"code": "eu-dcc-prophylaxis", "valueCode": c} for c in sct),
            *({"code": "atc", "valueCode": c} for c in atc),
            {"code": "series-doses", "valueInteger": sched["doses"]},
        ]
        if sched["intervalDays"]:
            props += [{"code": "interval-min-days", "valueInteger": sched["intervalDays"][0]},
                      {"code": "interval-max-days", "valueInteger": sched["intervalDays"][1]}]
        concept: Resource = {"code": v["code"], "display": v["display"],
                             "definition": f"{v['en']}. Schedule: {sched['source']}.",
                             "designation": [{"language": "en", "value": v["en"]}],
                             "property": props}
        concepts.append(concept)
        maps["cvx"].append(_el(v, v["cvx"], cvx[v["cvx"]], v.get("cvxEquivalence", "equivalent"),
                               v.get("note", "")))
        maps["icd11"].append(_el(v, i["code"], i["display"], i["equivalence"], ""))
        mp_row = dcc["medicinalProduct"][mp]
        eu.setdefault(mp_row["system"], []).append(
            _el(v, mp, mp_row["display"], "equivalent", ""))
    props_def = [{"code": c, "type": t, "description": d} for c, t, d in PROPS]
    cs = codesystem("vn-covid19-vaccine", "COVID-19 vaccines used in Viet Nam",
                    "One concept per COVID-19 vaccine product used in Viet Nam's vaccination "
                    "campaign, carrying its CVX, ICD-11 and EU DCC codes and primary schedule.",
                    concepts, version=VERSION, date=DATE, properties=props_def)
    cvx_cs = codesystem("cvx-covid19-vn", "CVX (fragment: COVID-19 vaccines used in Viet Nam)",
                        "Fragment of the CDC CVX code set, copied from the CDC table via the WHO "
                        "DDCC IG; only the codes referenced by vn-covid19-vaccine.",
                        [{"code": k, "display": cvx[k]} for k in sorted(cvx)], version="2023-02-15",
                        date="2023-02-15", content="fragment", system_url=CVX)
    icd_cs = codesystem("icd11-covid19-vaccine-vn", "ICD-11 MMS (fragment: COVID-19 vaccines)",
                        "Fragment of ICD-11 MMS extension codes for the vaccines used in Viet "
                        "Nam, from the WHO DDCC IG ConceptMaps.",
                        [{"code": r["code"], "display": r["display"]}
                         for r in sorted(icd_rows, key=lambda r: r["code"])],
                        version="2023-02-15", date="2023-02-15", content="fragment",
                        system_url=ICD11)
    out = [cs, cvx_cs, icd_cs,
           valueset("vn-covid19-vaccine", cs["title"], f"All codes of {cs['url']}.",
                    [{"system": cs["url"]}], version=VERSION, date=DATE),
           valueset("vn-covid19-vaccine-cvx", "CVX codes of COVID-19 vaccines used in Viet Nam",
                    "The CVX codes referenced by vn-covid19-vaccine.",
                    [{"system": CVX, "concept": [{"code": k} for k in sorted(cvx)]}],
                    version=VERSION, date=DATE)]
    src = url("ValueSet", "vn-covid19-vaccine")
    for key, target, tgt_vs, title in (("cvx", CVX, url("ValueSet", "vn-covid19-vaccine-cvx"),
                                        "CVX"), ("icd11", ICD11, ICD11, "ICD-11")):
        out.append(conceptmap(f"vn-covid19-vaccine-to-{key}", f"COVID-19 vaccine -> {title}",
                              f"Maps each vaccine of {cs['url']} to its {title} code.", src,
                              tgt_vs, [{"source": cs["url"], "sourceVersion": VERSION,
                                        "target": target, "element": maps[key]}],
                              version=VERSION, date=DATE))
    out.append(conceptmap("vn-covid19-vaccine-to-eu-dcc", "COVID-19 vaccine -> EU DCC product",
                          "Maps each vaccine to its EU DCC vaccine medicinal product code (mp).",
                          src, "https://github.com/ehn-dcc-development/eu-dcc-valuesets",
                          [{"source": cs["url"], "sourceVersion": VERSION, "target": sys_,
                            "element": els} for sys_, els in sorted(eu.items())],
                          version=VERSION, date=DATE))
    return out


def _el(v: Resource, code: str, display: str, equivalence: str, comment: str) -> Resource:
    target: Resource = {"code": code, "display": display, "equivalence": equivalence}
    if comment and equivalence != "equivalent":
        target["comment"] = comment
    return {"code": v["code"], "display": v["display"], "target": [target]}


def main(out: Path = DEFAULT_OUT) -> list[Path]:
    """Write the vaccine resources under `out`."""
    return write(build(), out)


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT):
        print(p)
