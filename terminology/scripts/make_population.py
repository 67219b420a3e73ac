"""The coverage denominators (issue 15 point 1): terminology/population/vn-population-2025.json.

    .venv/bin/python terminology/scripts/make_population.py

Province totals: the source snapshot sources/vn-province-population-2025.json (each figure
cites where it was read). NO official per-priority-group figures (QĐ 3355/QĐ-BYT groups) are
published for the 2025 units, so the group shares written here are ASSUMPTIONS, said so in the
file: the share of people aged 12+ (assumed, cited in the snapshot) times the distribution of
groups of the synthetic campaign generator (fhir_server/synthetic/people.py: age bands and
group weights), computed exactly from its tables. A deployment loads its own figures with
FHIR_POPULATION_FILE (same shape; real `groups` figures per area win over the shares).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from fhir_server.synthetic.people import ADULT_GROUPS, AGE_BANDS  # noqa: E402

SOURCE = REPO / "terminology" / "sources" / "vn-province-population-2025.json"
OUT = REPO / "terminology" / "population" / "vn-population-2025.json"


def generator_shares() -> dict[str, float]:
    """The probability of each group among the generator's people (ages uniform per band)."""
    shares: dict[str, float] = {}
    total = sum(weight for _, _, weight in AGE_BANDS)
    for low, high, weight in AGE_BANDS:
        for age in range(low, high + 1):
            p_age = weight / total / (high - low + 1)
            if age >= 65:
                found = {"9": 1.0}
            elif age < 18:
                found = {"8": 0.8, "16": 0.2}
            else:
                fits = [g for g in ADULT_GROUPS if g[2] <= age <= g[3]]
                weights = sum(g[1] for g in fits)
                found = {g[0]: g[1] / weights for g in fits}
            for group, p in found.items():
                shares[group] = shares.get(group, 0.0) + p_age * p
    return shares


def main() -> int:
    """Write the population file."""
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    names = {c["code"]: c["display"] for c in json.loads(
        (REPO / "terminology" / "codesystems" / "vn-province.json").read_text())["concept"]}
    aged = float(source["aged12plus"]["share"])
    shares = {g: round(aged * s, 6) for g, s in sorted(generator_shares().items(),
                                                       key=lambda x: int(x[0]))}
    out = {
        "title": "Population denominators of the vaccination indicators (2025 units)",
        "provincesSource": source["sources"],
        "provincesNote": source["note"],
        "provinces": {code: {"name": names[code], "population": n, "source": cite}
                      for code, n, cite in source["provinces"]},
        "communes": {},
        "groups": {},
        "groupShares": shares,
        "groupSharesAreAssumptions": True,
        "groupSharesBasis": (
            "NOT real figures: no per-group population is published for the QĐ 3355 groups. "
            f"Share = {aged} (people aged 12+, {source['aged12plus']['basis']}) x the group "
            "distribution of the synthetic generator (fhir_server/synthetic/people.py). "
            "Replace with real figures through FHIR_POPULATION_FILE."),
        "communesNote": "No commune figures: coverage by commune has population 0.",
        "generatedBy": "terminology/scripts/make_population.py",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    print(f"{OUT.relative_to(REPO)}: {len(out['provinces'])} provinces, "
          f"{sum(n for _, n, _ in source['provinces']):,} people")
    return 0


if __name__ == "__main__":
    sys.exit(main())
