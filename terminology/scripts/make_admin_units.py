"""Administrative units of Viet Nam (post-1 July 2025 and legacy) and the legacy -> 2025 maps.

Source: the MIT-licensed `vietnamadminunits` package (its data/dataset.db and
data/converter_2025.json), installed in the project venv. Codes are the GSO codes it carries.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any

from _common import DEFAULT_OUT, Resource, codesystem, conceptmap, url, valueset, write

NEW_VERSION, NEW_DATE = "2025-07-01", "2025-07-01"
OLD_VERSION = "2025-06-30"


def _package_dir() -> Path:
    import vietnamadminunits

    return Path(vietnamadminunits.__file__).resolve().parent


def _rows(table: str) -> list[dict[str, Any]]:
    with sqlite3.connect(_package_dir() / "data" / "dataset.db") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(f"SELECT * FROM [{table}]")]  # noqa: S608


def _prop(code: str, description: str, ptype: str = "code") -> Resource:
    return {"code": code, "description": description, "type": ptype}


def _concept(code: str, display: str, **props: str) -> Resource:
    concept: Resource = {"code": code, "display": display}
    prop_list = [{"code": k.replace("_", "-"), "valueCode" if k != "type" else "valueString": v}
                 for k, v in props.items() if v]
    if prop_list:
        concept["property"] = prop_list
    return concept


def _by_code(items: dict[str, Resource]) -> list[Resource]:
    return [items[k] for k in sorted(items)]


def build() -> list[Resource]:
    """Build every administrative-unit CodeSystem, ValueSet and ConceptMap."""
    pkg = metadata.version("vietnamadminunits")
    src = (f"Generated from the MIT-licensed Python package vietnamadminunits {pkg} "
           "(https://github.com/tranngocminhhieu/vietnamadminunits, (c) 2025 Tran Ngoc Minh Hieu)")
    new, old = _rows("admin_units"), _rows("admin_units_legacy")
    provinces, communes = {}, {}
    for r in new:
        provinces[r["provinceCode"]] = _concept(r["provinceCode"], r["province"],
                                                type=_unit_type(r["province"]))
        communes[r["wardCode"]] = _concept(r["wardCode"], r["ward"], province=r["provinceCode"],
                                           type=r["wardType"])
    oprov, odist, oward = {}, {}, {}
    for r in old:
        oprov[r["provinceCode"]] = _concept(r["provinceCode"], r["province"],
                                            type=_unit_type(r["province"]))
        odist[r["districtCode"]] = _concept(r["districtCode"], r["district"],
                                            province=r["provinceCode"], type=r["districtType"])
        if r["wardCode"]:
            oward[r["wardCode"]] = _concept(r["wardCode"], r["ward"], district=r["districtCode"],
                                            province=r["provinceCode"], type=r["wardType"])
    p_prov = _prop("province", "GSO code of the province containing this unit")
    p_dist = _prop("district", "GSO code of the legacy district containing this ward")
    p_type = _prop("type", "Kind of unit as named in Vietnamese (Tỉnh, Phường, Xã...)", "string")
    new_desc = ("units in force since 1 July 2025 (Resolution 202/2025/QH15 and the National "
                "Assembly Standing Committee resolutions on commune-level rearrangement). ")
    old_desc = "legacy units (63-province structure, state before 1 July 2025). "
    specs = [
        ("vn-province", "Viet Nam provinces (2025)", "The 34 provinces/cities " + new_desc,
         provinces, [p_type], NEW_VERSION),
        ("vn-commune", "Viet Nam communes (2025)", "The communes, wards and special zones " +
         new_desc, communes, [p_prov, p_type], NEW_VERSION),
        ("vn-province-legacy", "Viet Nam provinces (legacy, 63)", "The 63 provinces of the " +
         old_desc, oprov, [p_type], OLD_VERSION),
        ("vn-district-legacy", "Viet Nam districts (legacy)", "Districts of the " + old_desc,
         odist, [p_prov, p_type], OLD_VERSION),
        ("vn-ward-legacy", "Viet Nam wards/communes (legacy)", "Wards, communes and townships of "
         "the " + old_desc, oward, [p_dist, p_prov, p_type], OLD_VERSION),
    ]
    out: list[Resource] = []
    for rid, title, desc, items, props, version in specs:
        cs = codesystem(rid, title, desc + src + ". Codes: GSO administrative unit codes.",
                        _by_code(items), version=version, date=NEW_DATE, properties=props,
                        extra={"copyright": src})
        out.append(cs)
        out.append(valueset(rid, title, f"All codes of {cs['url']}.",
                            [{"system": cs["url"], "version": version}], version=version,
                            date=NEW_DATE))
    out.extend(_maps(new, old, provinces, communes, oprov, odist, oward, src))
    return out


def _unit_type(name: str) -> str:
    return "Thành phố" if name.startswith("Thành phố") else name.split(" ")[0]


def _maps(new: list[dict[str, Any]], old: list[dict[str, Any]], provinces: dict[str, Resource],
          communes: dict[str, Resource], oprov: dict[str, Resource], odist: dict[str, Resource],
          oward: dict[str, Resource], src: str) -> list[Resource]:
    conv = json.loads((_package_dir() / "data" / "converter_2025.json").read_text("utf-8"))
    new_prov = {r["provinceKey"]: r["provinceCode"] for r in new}
    new_ward = {(r["provinceKey"], r["wardKey"]): r["wardCode"] for r in new}
    old_prov = {r["provinceKey"]: r["provinceCode"] for r in old}
    old_unit = {f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}":
                r["wardCode"] or r["districtCode"] for r in old}
    # province: new key -> old keys
    prov_targets: dict[str, list[str]] = {}
    for nkey, okeys in conv["DICT_PROVINCE"].items():
        for okey in okeys:
            prov_targets[old_prov[okey]] = [new_prov[nkey], str(len(okeys))]
    pel = []
    for code in sorted(prov_targets):
        target, n = prov_targets[code]
        pel.append({"code": code, "display": oprov[code]["display"], "target": [
            {"code": target, "display": provinces[target]["display"],
             "equivalence": "equivalent" if n == "1" else "wider"}]})
    # ward: (old unit code) -> [(new code, equivalence, comment)]
    targets: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    divided_all = conv["DICT_PROVINCE_WARD_DIVIDED"]
    sources_of: Counter[str] = Counter(new_ward[(pkey, part["newWardKey"])]
                                       for pkey, divided in divided_all.items()
                                       for parts in divided.values() for part in parts)
    for pkey, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for wkey, okeys in wards.items():
            sources_of[new_ward[(pkey, wkey)]] += len(okeys)
    for pkey, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for wkey, okeys in wards.items():
            for okey in okeys:
                eq = "equivalent" if sources_of[new_ward[(pkey, wkey)]] == 1 else "wider"
                targets[old_unit[okey]].append((new_ward[(pkey, wkey)], eq, ""))
    for pkey, divided in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for okey, parts in divided.items():
            for part in sorted(parts, key=lambda p: (not p["isDefaultNewWard"], p["newWardKey"])):
                note = ("legacy unit was divided; default target (isDefaultNewWard)"
                        if part["isDefaultNewWard"] else "legacy unit was divided; part of it")
                targets[old_unit[okey]].append((new_ward[(pkey, part["newWardKey"])], "inexact",
                                                note))

    def element(code: str, source: dict[str, Resource]) -> Resource:
        tgts = []
        for tcode, eq, note in targets[code]:
            t: Resource = {"code": tcode, "display": communes[tcode]["display"], "equivalence": eq}
            if note:
                t["comment"] = note
            tgts.append(t)
        return {"code": code, "display": source[code]["display"], "target": tgts}

    ward_el = [element(c, oward) for c in sorted(oward)]
    dist_el = [element(c, odist) for c in sorted(targets) if c in odist]
    cs = {k: url("CodeSystem", k) for k in
          ("vn-province", "vn-commune", "vn-province-legacy", "vn-district-legacy",
           "vn-ward-legacy")}
    note = (" Equivalence: 'equivalent' = the unit continues unchanged in extent, 'wider' = it was "
            "merged into the target, 'inexact' = it was divided (the default part is listed first "
            "with a comment). " + src + ".")
    return [
        conceptmap("vn-province-legacy-to-2025", "Legacy province -> 2025 province",
                   "Maps each of the 63 legacy provinces to the province it belongs to since 1 "
                   "July 2025." + note, url("ValueSet", "vn-province-legacy"),
                   url("ValueSet", "vn-province"),
                   [{"source": cs["vn-province-legacy"], "sourceVersion": OLD_VERSION,
                     "target": cs["vn-province"], "targetVersion": NEW_VERSION, "element": pel}],
                   version=NEW_VERSION, date=NEW_DATE),
        conceptmap("vn-ward-legacy-to-2025", "Legacy ward/commune -> 2025 commune",
                   "Maps each legacy ward/commune/township (and the island districts that had no "
                   "wards) to the commune-level unit(s) in force since 1 July 2025." + note,
                   url("ValueSet", "vn-ward-legacy"), url("ValueSet", "vn-commune"),
                   [{"source": cs["vn-ward-legacy"], "sourceVersion": OLD_VERSION,
                     "target": cs["vn-commune"], "targetVersion": NEW_VERSION,
                     "element": ward_el},
                    {"source": cs["vn-district-legacy"], "sourceVersion": OLD_VERSION,
                     "target": cs["vn-commune"], "targetVersion": NEW_VERSION,
                     "element": dist_el}],
                   version=NEW_VERSION, date=NEW_DATE),
    ]


def main(out: Path = DEFAULT_OUT) -> list[Path]:
    """Write the administrative-unit resources (compact JSON) under `out`."""
    return write(build(), out, compact=True)


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT):
        print(p)
