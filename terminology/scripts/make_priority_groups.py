"""COVID-19 vaccination priority groups: one CodeSystem URL, one version per legal text
(Resolution 21/NQ-CP of 2021-02-26: 9 groups; Decision 3355/QĐ-BYT of 2021-07-08: 16 groups).

Source: terminology/sources/vn-covid19-priority-groups.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import DEFAULT_OUT, Resource, codesystem, load_source, url, valueset, write

RID = "vn-covid19-priority-group"


def build() -> list[Resource]:
    """Build one CodeSystem and one ValueSet per version (same canonical URLs)."""
    out: list[Resource] = []
    for v in load_source("vn-covid19-priority-groups.json")["versions"]:
        concepts = [{"code": g["code"], "display": g["vi"],
                     "designation": [{"language": "en", "value": g["en"]}]}
                    for g in sorted(v["groups"], key=lambda g: int(g["code"]))]
        desc = f"{v['act']}. Cited from: {v['cited_from']}."
        cs = codesystem(v["id"], v["title"], desc, concepts, version=v["version"],
                        date=v["version"], system_url=url("CodeSystem", RID),
                        extra={"valueSet": url("ValueSet", RID)})
        out.append(cs)
        out.append(valueset(v["id"], v["title"], f"All codes of {cs['url']}|{v['version']}.",
                            [{"system": cs["url"], "version": v["version"]}],
                            version=v["version"], date=v["version"],
                            vs_url=url("ValueSet", RID)))
    return out


def main(out: Path = DEFAULT_OUT) -> list[Path]:
    """Write the priority-group resources under `out`."""
    return write(build(), out)


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT):
        print(p)
