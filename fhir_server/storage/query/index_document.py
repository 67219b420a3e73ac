"""The search index document stored under `idx` beside each resource (what the compilers of
this package query), laid out from the extracted values (search/extract.py):

  k            shared multikey array "code\\x1ckey" (one sparse index per type): a token's
               code alone (not system|code, |code, system|, :of-type; nor codes of a small
               required value set), references, uris, strings (prefix hints), composites of
               them; no date keys (dates have their range indexes)
  p.<code>     the parameter's exact values
  s.<code>     {a, d}: the ascending / descending sort key
  t.<code>     token display texts ({v}), for :text
  x.<code>     strings as written, for :exact
  i.<code>     Reference.identifier token keys, for :identifier
Date parameters also get (sparse) range indexes on p.<code>.lo and p.<code>.hi.
Documents written by the earlier layout (every token key and date bucket keys in k, the same
p) are still found by these compilers: their extra keys only cost index entries until
`fhir-server reindex` rewrites them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir_server.search.normalize import (
    PARAM_SEP,
    REF_IDENTIFIER,
    STRING_KEY_LENGTH,
    index_keys,
)
from fhir_server.search.values import Values


def index_document(entries: Iterable[tuple[str, Values]]) -> dict[str, Any]:
    """The `idx` document for a resource's search values per parameter (empty parts omitted)."""
    keys: dict[str, None] = {}  # ordered set: the first occurrence keeps its place
    p: dict[str, Any] = {}
    s: dict[str, Any] = {}
    t: dict[str, Any] = {}
    x: dict[str, Any] = {}
    i: dict[str, Any] = {}
    for code, found in entries:
        prefix = code + PARAM_SEP
        if found.values:
            p[code] = found.values
        for key in found.keys:
            keys[prefix + key[:STRING_KEY_LENGTH]] = None
        if found.identifiers:
            for key in index_keys(found.identifiers):
                keys[prefix + REF_IDENTIFIER + key] = None
            i[code] = found.identifiers
        if found.sort is not None:
            s[code] = {"a": found.sort[0], "d": found.sort[1]}
        if found.texts:
            t[code] = [{"v": text} for text in found.texts]
        if found.exact:
            x[code] = found.exact
    document: dict[str, Any] = {"k": list(keys)} if keys else {}
    document.update((name, part) for name, part in (
        ("p", p), ("s", s), ("t", t), ("x", x), ("i", i)) if part)
    return document
