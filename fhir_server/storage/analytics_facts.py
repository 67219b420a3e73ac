"""The analytics facts (issue 15 point 1): one document per person (`_analytics_people`: their
area, registrations, doses, dose marks, adverse events and the contributions last rolled up,
`ledger`), swapped compare-and-set on a version so concurrent writers never lose a change, and
the serious adverse events as listed (`_analytics_serious`, no subject). The cells they roll
up into are in analytics_cells.py."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pymongo import ASCENDING, DeleteOne, InsertOne, ReplaceOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from fhir_server.errors import Conflict

PEOPLE = "_analytics_people"
SERIOUS = "_analytics_serious"
MAX_ATTEMPTS = 20
Doc = dict[str, Any]


def ensure_fact_indexes(db: Database[Any]) -> None:
    """The indexes of the fact collections (made at start with the others)."""
    for field in ("p", "c", "dd"):
        db[SERIOUS].create_index([(field, ASCENDING)], name=field)


class AnalyticsFacts:
    """The person documents and the serious-event listing of one database."""

    def __init__(self, db: Database[Any]) -> None:
        self.db = db
        self.people = db[PEOPLE]
        self.serious = db[SERIOUS]

    def person(self, person_id: str) -> Doc | None:
        """The person's document, or None."""
        return self.people.find_one({"_id": person_id})

    def swap(self, person_id: str, change: Callable[[Doc], Doc]) -> tuple[Doc, Doc]:
        """Replace the person's document by change(current) compare-and-set on its version,
        retried when another writer got there first; (old, new). An empty document when none
        is stored; change must not modify its argument."""
        for _ in range(MAX_ATTEMPTS):
            old = self.person(person_id) or {"_id": person_id, "v": 0}
            new = {**change(old), "_id": person_id, "v": old["v"] + 1}
            try:
                if old["v"] == 0:
                    self.people.insert_one(new)
                    return old, new
                if self.people.replace_one({"_id": person_id, "v": old["v"]},
                                           new).matched_count:
                    return old, new
            except DuplicateKeyError:
                continue
        raise Conflict(f"Too many concurrent analytics updates of person {person_id}")

    def swap_many(self, changes: Mapping[str, Callable[[Doc], Doc]]) -> list[tuple[Doc, Doc]]:
        """swap for several people: one read and one bulk write, then one by one (swap) for
        those another writer changed in between."""
        ids = list(changes)
        olds = {doc["_id"]: doc for doc in self.people.find({"_id": {"$in": ids}})}
        done: dict[str, tuple[Doc, Doc]] = {}
        ops: list[Any] = []
        for person_id, change in changes.items():
            old = olds.get(person_id) or {"_id": person_id, "v": 0}
            new = {**change(old), "_id": person_id, "v": old["v"] + 1, "t": uuid.uuid4().hex}
            done[person_id] = (old, new)
            ops.append(InsertOne(new) if old["v"] == 0 else
                       ReplaceOne({"_id": person_id, "v": old["v"]}, new))
        with contextlib.suppress(BulkWriteError):  # a duplicate insert: checked below
            self.people.bulk_write(ops, ordered=False)
        stored = {doc["_id"]: doc.get("t") for doc in
                  self.people.find({"_id": {"$in": ids}}, {"t": 1})}
        out = []
        for person_id, (old, new) in done.items():
            out.append((old, new) if stored.get(person_id) == new["t"]
                       else self.swap(person_id, changes[person_id]))
        return out

    def list_serious(self, removed: Iterable[str], kept: Mapping[str, Doc]) -> None:
        """Drop the listed events no longer serious, store (replace) the others."""
        ops: list[Any] = [DeleteOne({"_id": event_id}) for event_id in removed]
        ops += [ReplaceOne({"_id": event_id}, dict(doc), upsert=True)
                for event_id, doc in kept.items()]
        if ops:
            self.serious.bulk_write(ops, ordered=False)

    def serious_events(self, match: Doc, lead: Doc | None) -> list[Doc]:
        """The listed serious events matching (lead first: an indexed field), by date, id."""
        stages: list[Doc] = [{"$match": lead}] if lead else []
        stages += [{"$match": match}] if match else []
        stages.append({"$sort": {"d": 1, "_id": 1}})
        return list(self.serious.aggregate(stages))

    def each_person_id(self) -> Iterable[str]:
        """The id of every person document (rebuild)."""
        for doc in self.people.find({}, {"_id": 1}):
            yield str(doc["_id"])

    def clear(self) -> None:
        """Drop every fact (rebuild starts from nothing)."""
        self.people.delete_many({})
        self.serious.delete_many({})

    def insert_people(self, docs: list[Doc]) -> None:
        """Insert whole person documents at once (rebuild and benchmarks)."""
        if docs:
            self.people.insert_many(docs, ordered=False)


def analytics_db(source: Any) -> Database[Any]:
    """The database behind a Repository, a resource store or a database itself."""
    while not isinstance(source, Database):
        inner = getattr(source, "db", None)
        if inner is None:
            inner = getattr(source, "store", None)
        if inner is None:
            raise TypeError(f"no database behind {type(source).__name__}")
        source = inner
    return source


def ensure_analytics_indexes(db: Database[Any]) -> None:
    """Every index of the analytics facts and cells (the app factory calls this at start)."""
    from fhir_server.storage.analytics_cells import ensure_cell_indexes, migrate_legacy_cubes

    ensure_fact_indexes(db)
    ensure_cell_indexes(db)
    migrate_legacy_cubes(db)  # cells stored by an earlier version, one collection per cube
