"""_include and _revinclude (search.html#include), with :iterate.

Included resources are found through indexed reference values: the matches' own reference
keys for _include, and reference keys pointing at the matches for _revinclude.
"""

from __future__ import annotations

from collections.abc import Sequence

from fhir_server.resource_types import is_supported
from fhir_server.search.criteria import Criteria, RefersTo
from fhir_server.search.engine import Engine
from fhir_server.search.extract import SearchIndexer
from fhir_server.search.params import Clause
from fhir_server.search.registry import lookup, params_for
from fhir_server.search.results import Include
from fhir_server.storage.base import StoredVersion

MAX_INCLUDED = 1000  # resources one page may include
MAX_ITERATIONS = 4


def _reference_codes(spec: Include) -> list[str]:
    if spec.code is not None:
        return [spec.code]
    return [p.code for p in params_for(spec.source).values()
            if p.kind == "reference" and p.supported]


def _forward(engine: Engine, indexer: SearchIndexer, spec: Include,
             sources: Sequence[StoredVersion]) -> list[StoredVersion]:
    wanted: dict[str, list[str]] = {}
    for version in sources:
        if version.type != spec.source or version.resource is None:
            continue
        for code in _reference_codes(spec):
            for key in indexer.param_values(spec.source, code, version.resource).values:
                type_name, _, resource_id = str(key).partition("/")
                if not resource_id or "/" in resource_id or ":" in type_name:
                    continue  # external or canonical references are not ours to include
                if spec.target is not None and type_name != spec.target:
                    continue
                ids = wanted.setdefault(type_name, [])
                if resource_id not in ids:
                    ids.append(resource_id)
    found: list[StoredVersion] = []
    for type_name, ids in wanted.items():
        if is_supported(type_name):
            found.extend(engine.by_ids(type_name, ids[:MAX_INCLUDED]))
    return found


def _reverse(engine: Engine, spec: Include, targets: Sequence[StoredVersion]
             ) -> list[StoredVersion]:
    assert spec.code is not None
    param = lookup(spec.source, spec.code)
    if param is None:
        return []
    keys = [f"{v.type}/{v.id}" for v in targets
            if not param.targets or v.type in param.targets]
    if not keys:
        return []
    criteria = Criteria((RefersTo(Clause(spec.code, param), tuple(keys)),))
    return engine.find(spec.source, criteria, None, MAX_INCLUDED)


def resolve_includes(engine: Engine, indexer: SearchIndexer, matches: Sequence[StoredVersion],
                     include: Sequence[Include], revinclude: Sequence[Include]
                     ) -> list[StoredVersion]:
    """The resources the include parameters add to a page (not repeating the matches)."""
    seen = {(v.type, v.id) for v in matches}
    included: list[StoredVersion] = []
    frontier: list[StoredVersion] = list(matches)
    for iteration in range(MAX_ITERATIONS):
        specs_in = [s for s in include if iteration == 0 or s.iterate]
        specs_rev = [s for s in revinclude if (iteration == 0 or s.iterate) and s.code]
        if not frontier or not (specs_in or specs_rev):
            break
        fresh: list[StoredVersion] = []
        candidates = [r for s in specs_in for r in _forward(engine, indexer, s, frontier)]
        candidates += [r for s in specs_rev for r in _reverse(engine, s, frontier)]
        for version in candidates:
            if (version.type, version.id) not in seen:
                seen.add((version.type, version.id))
                fresh.append(version)
        included.extend(fresh)
        if len(included) >= MAX_INCLUDED:
            return included[:MAX_INCLUDED]
        frontier = fresh
    return included
