"""Database work per write (issue 17 point 3): index entries and database CPU per resource when
the Synthea bundles (all their types) and server-written AuditEvents are stored in a fresh
embedded SecantusDB through the store's bulk write path (per bundle and type one insert into
the current collection and, for the logged types, one into `history`).

Index entries are counted from the stored documents and each collection's `listIndexes`
(`_id`, `ts`, the search indexes, history's three), with MongoDB's multikey rule: one entry per
distinct value of the indexed path in a document, one null entry for a document without it
(none for a sparse index). The idx.k keys are also split by kind. Index bytes are collStats'
`totalIndexSize` (SecantusDB's packed keys; it also keeps a whole-array key per multikey
document). Database CPU is the SecantusDB process's user+system time from /proc during the
loads (bench/servers.session_cpu_seconds).

Figures (shared 2-core machine, December 2026; `--bundles 20`: 2,244 resources, 2,244 events;
3 interleaved rounds, median; "before" is commit 784c317 run from a git worktree):
| figure | before | after |
|---|---|---|
| index entries per Synthea resource | 33.4 | 15.8 |
| index entries per Immunization | 25.0 | 11.0 |
| index entries per AuditEvent | 31.0 | 10.0 |
| index bytes per Synthea resource | 2,398 | 991 |
| database CPU µs per Synthea resource | 2,144 | 1,841 |
| database CPU µs per AuditEvent | 1,814 | 753 |
Run: .venv/bin/python bench/bench_index_entries.py [--bundles N] [--events N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import MongoClient  # noqa: E402

from bench.report import Figure, Table, emit, emit_table  # noqa: E402
from bench.servers import session_cpu_seconds  # noqa: E402
from fhir_server.auth.audit import audit_event, insert_audit_events  # noqa: E402
from fhir_server.auth.principal import INTERNAL_PRINCIPAL  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402
from fhir_server.search import normalize  # noqa: E402
from fhir_server.search.extract import SearchIndexer  # noqa: E402
from fhir_server.search.registry import date_params, lookup  # noqa: E402
from fhir_server.storage.mongo import HISTORY, MongoResourceStore  # noqa: E402
from fhir_server.storage.search_indexes import ensure_search_indexes  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/synthea/bundles"
BASE = "http://127.0.0.1:8080"
MISSING = object()


def bundles(count: int) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """The first `count` Synthea bundles as resources per type, `urn:uuid:` references made
    `Type/id` (what a transaction stores)."""
    for path in sorted(DATA.glob("*.json"))[:count]:
        entries = json.loads(path.read_text("utf-8"))["entry"]
        names = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
                 for e in entries}
        text = json.dumps([e["resource"] for e in entries])
        for full_url, reference in names.items():
            text = text.replace(f'"{full_url}"', f'"{reference}"')
        by_type: dict[str, list[dict[str, Any]]] = {}
        for resource in json.loads(text):
            by_type.setdefault(resource["resourceType"], []).append(resource)
        yield by_type


def path_values(doc: Any, path: list[str]) -> list[Any]:
    """The values at a dotted path (arrays descended), MISSING when there are none."""
    if not path:
        return doc if isinstance(doc, list) else [doc]
    if isinstance(doc, list):
        return [v for item in doc for v in path_values(item, path)]
    if isinstance(doc, dict) and path[0] in doc:
        return path_values(doc[path[0]], path[1:])
    return []


def entries_of(doc: dict[str, Any], field: str, sparse: bool) -> int:
    """Index entries one document gives a single-field index (MongoDB's multikey rule)."""
    found = path_values(doc, field.split("."))
    if not found:
        return 0 if sparse else 1
    return len({repr(value) for value in found})


def index_entries(db: Any, collection: str, query: dict[str, Any] | None = None) -> int:
    """Index entries of the documents of a collection (or those matching the query)."""
    specs = [(list(ix["key"])[0], bool(ix.get("sparse") or ix.get("partialFilterExpression")))
             for ix in db[collection].list_indexes()]
    return sum(entries_of(doc, field, sparse) for doc in db[collection].find(query or {})
               for field, sparse in specs)


def key_kind(type_name: str, key: str) -> str:
    """The kind of one idx.k key (for the breakdown)."""
    code, _sep, value = key.partition(normalize.PARAM_SEP)
    param = lookup(type_name, code)
    kind = param.kind if param else "other"
    if kind == "date":
        return "date bucket"
    if value.startswith(normalize.REF_IDENTIFIER):
        return "reference :identifier"
    if kind != "token":
        return kind
    if value.startswith(normalize.OF_TYPE):
        return "token :of-type"
    if normalize.ANY_CODE in value:
        return "token system|"
    if value.startswith(normalize.SEP):
        return "token |code"
    if normalize.SEP in value:
        return "token system|code"
    return "token code (required binding)" if param and param.code_systems else "token code"


def measure(pid: int, work: Callable[[], object]) -> float:
    """Database CPU seconds used while `work` runs."""
    before = session_cpu_seconds(pid)
    work()
    return session_cpu_seconds(pid) - before


def main() -> int:
    """Load, count, print the figures and the breakdown."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundles", type=int, default=20)
    parser.add_argument("--events", type=int, default=0, help="AuditEvents (default: as many "
                        "as resources)")
    args = parser.parse_args()
    loaded = list(bundles(args.bundles))
    types = sorted({t for b in loaded for t in b} | {"AuditEvent"})
    resources = sum(len(v) for b in loaded for v in b.values())
    events = args.events or resources
    with tempfile.TemporaryDirectory(prefix="bench-ix-") as tmp, \
            EmbeddedStore(Path(tmp) / "data", log_path=Path(tmp) / "db.log") as server:
        assert server.process is not None
        client: MongoClient[dict[str, Any]] = MongoClient(server.uri)
        db = client["bench_ix"]
        store = MongoResourceStore(db, lambda: datetime.now(UTC), SearchIndexer(BASE))
        store.ensure_indexes(types)
        ensure_search_indexes(db, {t: date_params(t) for t in types})
        pid = server.process.pid

        def load() -> None:
            for by_type in loaded:
                for type_name, items in by_type.items():
                    store.create_many_with_ids(type_name, items)

        def audit() -> None:
            now = datetime.now(UTC).isoformat()
            made = [audit_event(INTERNAL_PRINCIPAL, "GET", "read", [f"Patient/p{n}"], None,
                                200, now, "127.0.0.1") for n in range(events)]
            for start in range(0, events, 200):  # the audit sink's batch
                batch = made[start:start + 200]
                for n, event in enumerate(batch):
                    event["id"] = f"e{start + n}"
                insert_audit_events(store, batch)

        load_cpu = measure(pid, load)
        audit_cpu = measure(pid, audit)
        clinical = [t for t in types if t != "AuditEvent"]
        per_type = {t: index_entries(db, t) for t in types}
        logged = {t: index_entries(db, HISTORY, {"t": t}) for t in types}
        counts = {t: db[t].count_documents({}) for t in types}
        stats = {t: db.command("collStats", t)["totalIndexSize"] for t in types}
        history_bytes = db.command("collStats", HISTORY)["totalIndexSize"] if \
            HISTORY in db.list_collection_names() else 0
        history_by_type = {t: db[HISTORY].count_documents({"t": t}) for t in types}
        kinds: Counter[str] = Counter()
        for type_name in clinical:
            for doc in db[type_name].find({}, {"idx.k": 1}):
                kinds.update(key_kind(type_name, k) for k in doc.get("idx", {}).get("k", []))
        client.close()

    def per(type_names: list[str]) -> float:
        total = sum(per_type[t] + logged[t] for t in type_names)
        return total / max(1, sum(counts[t] for t in type_names))

    clinical_docs = sum(counts[t] for t in clinical)
    clinical_logged = sum(history_by_type[t] for t in clinical)
    index_bytes = sum(stats[t] for t in clinical) + history_bytes * clinical_logged / max(
        1, sum(history_by_type.values()))
    note = (f"{args.bundles} Synthea bundles: {resources} resources written ({clinical_docs} "
            f"distinct), {events} AuditEvents")
    bench = "index_entries"
    emit(Figure("index entries per Synthea resource", per(clinical), "entries", note=note,
                bench=bench))
    emit(Figure("index entries per Immunization", per(["Immunization"]), "entries",
                bench=bench))
    emit(Figure("index entries per AuditEvent", per(["AuditEvent"]), "entries", bench=bench))
    emit(Figure("index bytes per Synthea resource", index_bytes / max(1, clinical_docs),
                "bytes", note="collStats totalIndexSize", bench=bench))
    emit(Figure("database CPU per Synthea resource", load_cpu / max(1, resources) * 1e6, "µs",
                note="SecantusDB process, /proc", bench=bench))
    emit(Figure("database CPU per AuditEvent", audit_cpu / max(1, events) * 1e6, "µs",
                bench=bench))
    rows = tuple((kind, f"{count / max(1, clinical_docs):.2f}")
                 for kind, count in kinds.most_common())
    emit_table(Table("idx.k keys per Synthea resource, by kind", ("kind", "keys"), rows,
                     bench=bench))
    for type_name in types:
        print(f"{type_name:22} {counts[type_name]:6} docs  "
              f"{(per_type[type_name] + logged[type_name]) / max(1, counts[type_name]):6.1f} "
              f"entries/doc (history {logged[type_name] / max(1, counts[type_name]):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
