"""ResourceStore on MongoDB: one collection of current versions per type, one shared history."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DocumentTooLarge, DuplicateKeyError, OperationFailure

from fhir_server.errors import Conflict, Gone, NotFound, PayloadTooLarge, PreconditionFailed
from fhir_server.search.criteria import Criteria, Sort
from fhir_server.storage import single_version, transactions
from fhir_server.storage.base import HistoryPage, Indexer, StoredVersion
from fhir_server.storage.decimals import bson_ready, decimal_db
from fhir_server.storage.locality import PATIENT_FIELD, is_sharded, patient_of
from fhir_server.storage.query import compile_criteria, sort_spec
from fhir_server.storage.query.index_document import index_document
from fhir_server.storage.query.plan import match_stages
from fhir_server.storage.single_version import HISTORY, SINGLE_VERSION, is_single_version
from fhir_server.storage.transactions import current_session
from fhir_server.storage.unique_identifiers import (
    FIELD as UNIQUE_FIELD,
)
from fhir_server.storage.unique_identifiers import (
    UniqueSystems,
    collision,
    ensure_unique_index,
    is_unique_collision,
    unique_keys,
)

T = TypeVar("T")
DUPLICATE_KEY = 11000
MAX_ATTEMPTS = 30
ONE_MS = timedelta(milliseconds=1)
# an inclusion projection for result pages: cheaper for the server than excluding the (large)
# idx sub-document. A read by id fetches the whole document instead: for one small document the
# server-side projection costs more than carrying `idx` back (measured in bench/bench_crud.py).
CURRENT_FIELDS = {"res": 1, "vid": 1, "ts": 1}
TOO_LARGE_CODES = frozenset({10334, 17419, 17420})  # BSONObjectTooLarge and kin, server side


def instant(moment: datetime) -> str:
    """Render a datetime as a FHIR instant with millisecond precision."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def _stamp(resource: dict[str, Any], type_name: str, resource_id: str, version: int,
           moment: datetime) -> dict[str, Any]:
    """The resource as stored: resourceType, id and server meta first, the client's JSON after."""
    meta = {k: v for k, v in (resource.get("meta") or {}).items()
            if k not in ("versionId", "lastUpdated")}
    stamped: dict[str, Any] = {"resourceType": type_name, "id": resource_id,
                               "meta": {"versionId": str(version), "lastUpdated": instant(moment),
                                        **meta}}
    stamped.update((k, v) for k, v in resource.items() if k not in ("resourceType", "id", "meta"))
    return stamped


def _insert_new(collection: Collection[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    """insert_many where a document whose _id exists already counts as inserted."""
    try:
        collection.insert_many(docs, ordered=False, session=current_session())
    except BulkWriteError as error:
        details = error.details
        if details.get("writeConcernErrors") or any(
                e.get("code") != DUPLICATE_KEY for e in details.get("writeErrors", [])):
            raise


@contextmanager
def _size_guard(type_name: str) -> Iterator[None]:
    """A document over the database's BSON limit (16 MiB) becomes a 413, not a driver error."""
    try:
        yield
    except DocumentTooLarge:
        raise PayloadTooLarge(f"The {type_name} is too large to store (with its search index it "
                              "exceeds the database's 16 MiB document limit)") from None
    except OperationFailure as exc:
        if exc.code not in TOO_LARGE_CODES:
            raise
        raise PayloadTooLarge(f"The {type_name} is too large to store (the database refused "
                              "the document's size)") from None


class MongoResourceStore:
    """Versioned resources in MongoDB with compare-and-set writes."""

    def __init__(self, db: Database, clock: Callable[[], datetime],
                 indexer: Indexer | None = None, unique: UniqueSystems | None = None) -> None:
        self.db = decimal_db(db)  # stored Decimal128 values read back as Decimal
        self.clock = clock
        self.indexer = indexer
        self.unique = dict(unique or {})  # type -> identifier systems unique across its resources
        self._collections: dict[str, Collection[dict[str, Any]]] = {}
        self._old_copies: bool | None = None  # history copies of single-version types?
        self._sharded: bool | None = None  # behind mongos? (searches then name `pat`)

    # -- helpers ---------------------------------------------------------------------------
    def _now(self, after: datetime | None = None) -> datetime:
        now = self.clock()
        now = now.replace(microsecond=(now.microsecond // 1000) * 1000)
        return max(now, after + ONE_MS) if after is not None else now

    def _current(self, type_name: str) -> Collection[dict[str, Any]]:
        """The collection of a type's current versions (Collection objects are reused)."""
        collection = self._collections.get(type_name)
        if collection is None:
            collection = self._collections[type_name] = self.db[type_name]
        return collection

    @property
    def _s(self) -> ClientSession | None:
        return current_session()

    def _doc(self, stamped: dict[str, Any], version: int, moment: datetime) -> dict[str, Any]:
        doc = {"_id": stamped["id"], "vid": version, "ts": moment, "res": bson_ready(stamped)}
        if self.indexer is not None:
            doc["idx"] = index_document(self.indexer.entries(stamped))
            if (patient := patient_of(stamped["resourceType"], doc["idx"])) is not None:
                doc[PATIENT_FIELD] = patient  # the shard key's patient (storage/locality.py)
        systems = self.unique.get(stamped["resourceType"])
        if systems and (keys := unique_keys(stamped, systems)):
            doc[UNIQUE_FIELD] = keys
        return doc

    @contextmanager
    def _unique_guard(self, type_name: str, resource: Mapping[str, Any],
                      resource_id: str) -> Iterator[None]:
        """A unique identifier held by another resource becomes a 409 naming it."""
        try:
            yield
        except DuplicateKeyError as exc:
            systems = self.unique.get(type_name)
            if not systems or not is_unique_collision(exc):
                raise
            raise collision(self._current(type_name), type_name, resource,
                            unique_keys(resource, systems), resource_id) from None

    def _log(self, type_name: str, resource_id: str, version: int, moment: datetime,
             method: str, stamped: dict[str, Any] | None) -> StoredVersion:
        if not (version == 1 and is_single_version(type_name)):  # single_version.py
            entry = {"_id": f"{type_name}/{resource_id}/{version}", "t": type_name,
                     "i": resource_id, "v": version, "ts": moment, "m": method,
                     "res": None if stamped is None else bson_ready(stamped)}
            with suppress(DuplicateKeyError):  # the version is already logged (a retried write)
                self.db[HISTORY].insert_one(entry, session=self._s)
        return StoredVersion(type_name, resource_id, version, moment, stamped, method)

    @staticmethod
    def _first_versions(type_name: str, stamped: Sequence[dict[str, Any]],
                        moment: datetime) -> list[dict[str, Any]]:
        """The history entries of new resources (none for a single-version type)."""
        if is_single_version(type_name):
            return []
        return [{"_id": f"{type_name}/{s['id']}/1", "t": type_name, "i": s["id"], "v": 1,
                 "ts": moment, "m": "POST", "res": bson_ready(s)} for s in stamped]

    def _has_old_copies(self) -> bool:
        """True while the history holds copies of single-version types (written before they
        were single-version; `fhir-server reindex` removes them). No new ones are ever made,
        so a False answer is kept."""
        if self._old_copies is not False:
            self._old_copies = self.db[HISTORY].find_one(
                {"t": {"$in": sorted(SINGLE_VERSION)}}, {"_id": 1}, session=self._s) is not None
        return self._old_copies

    def _last_logged(self, type_name: str, resource_id: str) -> dict[str, Any] | None:
        return self.db[HISTORY].find_one({"t": type_name, "i": resource_id},
                                         sort=[("v", DESCENDING)], session=self._s)

    @staticmethod
    def _version(type_name: str, doc: Mapping[str, Any]) -> StoredVersion:
        moment = doc["ts"].replace(tzinfo=UTC)
        if "t" in doc:
            return StoredVersion(doc["t"], doc["i"], doc["v"], moment, doc["res"], doc["m"])
        return StoredVersion(type_name, doc["_id"], doc["vid"], moment, doc["res"])

    # -- writes ----------------------------------------------------------------------------
    def create(self, type_name: str, resource: dict[str, Any],
               resource_id: str | None = None) -> StoredVersion:
        """Store version 1 of a new resource (server-assigned id unless given)."""
        if resource_id is not None:
            version, _ = self.update(type_name, resource_id, resource)
            return version
        new_id = str(uuid.uuid4())
        moment = self._now()
        stamped = _stamp(resource, type_name, new_id, 1, moment)
        with _size_guard(type_name), self._unique_guard(type_name, stamped, new_id):
            self._current(type_name).insert_one(self._doc(stamped, 1, moment), session=self._s)
        return self._log(type_name, new_id, 1, moment, "POST", stamped)

    def create_many(self, type_name: str, resources: Sequence[dict[str, Any]]
                    ) -> list[StoredVersion]:
        """Store version 1 of several new resources with two bulk inserts (server-made data
        such as AuditEvents: one commit for the batch instead of two per resource)."""
        if not resources:
            return []
        moment = self._now()
        stamped = [_stamp(resource, type_name, str(uuid.uuid4()), 1, moment)
                   for resource in resources]
        try:
            with _size_guard(type_name):
                self._current(type_name).insert_many([self._doc(s, 1, moment) for s in stamped],
                                                     ordered=False, session=self._s)
        except BulkWriteError as error:
            failed = next((e for e in error.details.get("writeErrors", [])
                           if e.get("code") == DUPLICATE_KEY and UNIQUE_FIELD in
                           (e.get("keyPattern") or {})), None)
            systems = self.unique.get(type_name)
            if failed is None or not systems:
                raise
            one = stamped[failed["index"]]
            raise collision(self._current(type_name), type_name, one,
                            unique_keys(one, systems), one["id"]) from None
        if logged := self._first_versions(type_name, stamped, moment):
            self.db[HISTORY].insert_many(logged, ordered=False, session=self._s)
        return [StoredVersion(type_name, s["id"], 1, moment, s, "POST") for s in stamped]

    def create_many_with_ids(self, type_name: str, resources: Sequence[dict[str, Any]]) -> None:
        """Store version 1 of resources under their own ids; an id already stored is a no-op
        (idempotent: a spooled AuditEvent replayed after a crash is not stored twice)."""
        if not resources:
            return
        moment = self._now()
        stamped = [_stamp(r, type_name, str(r["id"]), 1, moment) for r in resources]
        with _size_guard(type_name):
            _insert_new(self._current(type_name), [self._doc(s, 1, moment) for s in stamped])
        if logged := self._first_versions(type_name, stamped, moment):
            _insert_new(self.db[HISTORY], logged)

    def update(self, type_name: str, resource_id: str, resource: dict[str, Any],
               if_match: int | None = None) -> tuple[StoredVersion, bool]:
        """Store a new version (or create with the client id); True when created."""
        current = self._current(type_name)
        for attempt in range(MAX_ATTEMPTS):
            found = current.find_one({"_id": resource_id}, {"vid": 1, "ts": 1, PATIENT_FIELD: 1},
                                     session=self._s)
            if found is None:
                last = self._last_logged(type_name, resource_id)
                if if_match is not None:
                    raise PreconditionFailed(
                        f"{type_name}/{resource_id} does not exist (If-Match W/\"{if_match}\")")
                version = (last["v"] + 1) if last else 1
                moment = self._now(last["ts"] if last else None)
                stamped = _stamp(resource, type_name, resource_id, version, moment)
                try:
                    with _size_guard(type_name), \
                            self._unique_guard(type_name, stamped, resource_id):
                        current.insert_one(self._doc(stamped, version, moment), session=self._s)
                except DuplicateKeyError:
                    if self._s is not None:
                        raise Conflict(f"{type_name}/{resource_id} was created concurrently"
                                       ) from None
                    continue
                method = "POST" if version == 1 else "PUT"
                return self._log(type_name, resource_id, version, moment, method, stamped), True
            if if_match is not None and if_match != found["vid"]:
                raise PreconditionFailed(
                    f"Version conflict: {type_name}/{resource_id} is at version {found['vid']}, "
                    f"If-Match asked for {if_match}")
            version, moment = found["vid"] + 1, self._now(found["ts"])
            stamped = _stamp(resource, type_name, resource_id, version, moment)
            with _size_guard(type_name), self._unique_guard(type_name, stamped, resource_id):
                # the stored shard key too: a sharded cluster moves a changed `pat` only so
                outcome = current.replace_one({"_id": resource_id, "vid": found["vid"],
                                               PATIENT_FIELD: found.get(PATIENT_FIELD)},
                                              self._doc(stamped, version, moment),
                                              session=self._s)
            if outcome.matched_count == 1:
                return self._log(type_name, resource_id, version, moment, "PUT", stamped), False
            if if_match is not None or self._s is not None:
                raise PreconditionFailed(f"{type_name}/{resource_id} changed concurrently")
            time.sleep(random.uniform(0, 0.004) * attempt)  # lost the race: let the winner land
        raise Conflict(f"Too many concurrent writes to {type_name}/{resource_id}; try again")

    def delete(self, type_name: str, resource_id: str,
               if_match: int | None = None) -> StoredVersion | None:
        """Leave a tombstone version; None when there was nothing live to delete."""
        current = self._current(type_name)
        for _ in range(MAX_ATTEMPTS):
            found = current.find_one({"_id": resource_id}, {"vid": 1, "ts": 1, PATIENT_FIELD: 1},
                                     session=self._s)
            if found is None:
                if if_match is not None:
                    raise PreconditionFailed(f"{type_name}/{resource_id} does not exist")
                return None
            if if_match is not None and if_match != found["vid"]:
                raise PreconditionFailed(
                    f"Version conflict: {type_name}/{resource_id} is at version {found['vid']}")
            outcome = current.delete_one({"_id": resource_id, "vid": found["vid"],
                                          PATIENT_FIELD: found.get(PATIENT_FIELD)},
                                         session=self._s)
            if outcome.deleted_count == 1:
                moment = self._now(found["ts"])
                return self._log(type_name, resource_id, found["vid"] + 1, moment, "DELETE", None)
        raise Conflict(f"Too many concurrent writes to {type_name}/{resource_id}; try again")

    # -- reads -----------------------------------------------------------------------------
    def read(self, type_name: str, resource_id: str) -> StoredVersion:
        """The current version (NotFound / Gone)."""
        doc = self._current(type_name).find_one({"_id": resource_id}, session=self._s)
        if doc is not None:
            return self._version(type_name, doc)
        last = self._last_logged(type_name, resource_id)
        if last is not None and last["res"] is None:
            raise Gone(f"{type_name}/{resource_id} was deleted (version {last['v']})")
        raise NotFound(f"{type_name}/{resource_id} is not known")

    def vread(self, type_name: str, resource_id: str, version: int) -> StoredVersion:
        """One stored version (NotFound; a tombstone is returned as such)."""
        doc = self.db[HISTORY].find_one({"_id": f"{type_name}/{resource_id}/{version}"},
                                        session=self._s)
        if doc is not None:
            return self._version(type_name, doc)
        if is_single_version(type_name) and (found := single_version.vread(
                self._current(type_name), type_name, resource_id, version)):
            return found
        raise NotFound(f"{type_name}/{resource_id} has no version {version}")

    def history(self, type_name: str | None, resource_id: str | None, *,
                since: datetime | None, until: datetime, offset: int, count: int,
                at: tuple[datetime, datetime] | None = None) -> HistoryPage:
        """Versions newest first, lastUpdated in (since, until]; with `at`, those current then
        (single-version types from their current collection, single_version.py)."""
        if is_single_version(type_name):
            assert type_name is not None
            return single_version.history(self._current(type_name), type_name, resource_id,
                                          since=since, until=until, offset=offset,
                                          count=count, at=at)
        if type_name is None:  # the logged versions and the single-version types' together
            first = max(offset + count, 1)  # (a limit of 0 would be no limit)
            pages = [self._logged(None, None, since, until, 0, first, at)]
            pages += [single_version.history(self._current(name), name, None, since=since,
                                             until=until, offset=0, count=first, at=at)
                      for name in sorted(SINGLE_VERSION)]
            return single_version.merge(pages, offset, count)
        return self._logged(type_name, resource_id, since, until, offset, count, at)

    def _logged(self, type_name: str | None, resource_id: str | None, since: datetime | None,
                until: datetime, offset: int, count: int,
                at: tuple[datetime, datetime] | None) -> HistoryPage:
        """history() from the history collection."""
        query: dict[str, Any] = {}
        if type_name is not None:
            query["t"] = type_name
        elif self._has_old_copies():  # kept from before single_version.py: not shown twice
            query["t"] = {"$nin": sorted(SINGLE_VERSION)}
        if resource_id is not None:
            query["i"] = resource_id
        history = self.db[HISTORY]
        if at is None:
            window = {"ts": {"$lte": until, **({"$gt": since} if since is not None else {})}}
            if resource_id is not None:  # one resource: its (t, i) versions, then the window
                return self._instance_history(query, window, offset, count)
            query.update(window)
            total = history.count_documents(query, session=self._s)
            cursor = history.find(query, session=self._s).sort(
                [("ts", DESCENDING), ("_id", DESCENDING)]).skip(offset).limit(count)
            return HistoryPage([self._version(doc["t"], doc) for doc in cursor], total)
        start, end = at[0], min(at[1], until + ONE_MS)
        during = list(history.find({**query, "ts": {"$gte": start, "$lt": end}},
                                   session=self._s))
        before = history.aggregate([
            {"$match": {**query, "ts": {"$lt": start}}},
            {"$sort": {"t": 1, "i": 1, "v": -1}},
            {"$group": {"_id": {"t": "$t", "i": "$i"}, "doc": {"$first": "$$ROOT"}}},
        ], session=self._s)
        replaced_at_start = {(doc["t"], doc["i"]) for doc in during
                             if doc["ts"].replace(tzinfo=UTC) == start}
        live_then = [row["doc"] for row in before if row["doc"]["res"] is not None
                     and (row["doc"]["t"], row["doc"]["i"]) not in replaced_at_start]
        versions = sorted(during + live_then, key=lambda doc: (doc["ts"], doc["_id"]),
                          reverse=True)
        page = versions[offset:offset + count]
        return HistoryPage([self._version(doc["t"], doc) for doc in page], len(versions))

    def _instance_history(self, key: dict[str, Any], window: dict[str, Any], offset: int,
                          count: int) -> HistoryPage:
        """One resource's versions in the window: the (t, i) match first, alone, so that the
        type_id_version index serves it (a filter with ts too walked all history here)."""
        stages = [{"$match": key}, {"$match": window}]
        history = self.db[HISTORY]
        counted = list(history.aggregate([*stages, {"$count": "n"}], session=self._s))
        cursor = history.aggregate([*stages, {"$sort": {"ts": -1, "_id": -1}},
                                    {"$skip": offset}, {"$limit": max(count, 1)}],
                                   session=self._s)
        docs = list(cursor) if count > 0 else []
        return HistoryPage([self._version(doc["t"], doc) for doc in docs],
                           counted[0]["n"] if counted else 0)

    def _filter(self, type_name: str, criteria: Criteria) -> dict[str, Any]:
        """The criteria's filter; on a sharded cluster with the `pat` tests they imply."""
        if self._sharded is None:
            self._sharded = is_sharded(self.db)
        return compile_criteria(type_name, criteria, targeted=self._sharded)

    def _split(self, type_name: str, criteria: Criteria) -> list[dict[str, Any]] | None:
        """The filter as $match stages when it has several fields, else None (query/plan.py:
        an aggregation whose first stage the database serves from an index)."""
        stages = match_stages(self._filter(type_name, criteria))
        return stages if len(stages) > 1 else None

    def find(self, type_name: str, criteria: Criteria, *, sort: Sort | None = None,
             skip: int = 0, limit: int = 0) -> Iterator[StoredVersion]:
        """Current versions matching the criteria, in the sort's order."""
        stages = self._split(type_name, criteria)
        cursor: Iterable[dict[str, Any]]
        if stages is None:
            cursor = self._current(type_name).find(self._filter(type_name, criteria),
                                                   CURRENT_FIELDS, session=self._s)
            if sort is not None:
                cursor = cursor.sort(sort_spec(sort))
            cursor = cursor.skip(skip).limit(limit)
        else:
            stages += [{"$sort": dict(sort_spec(sort))}] if sort is not None else []
            stages += [{"$skip": skip}] if skip else []
            stages += [{"$limit": limit}] if limit else []
            cursor = self._current(type_name).aggregate(
                [*stages, {"$project": CURRENT_FIELDS}], session=self._s)
        for doc in cursor:
            yield self._version(type_name, doc)

    def count(self, type_name: str, criteria: Criteria) -> int:
        """How many current versions match the criteria."""
        stages = self._split(type_name, criteria)
        if stages is None:
            return self._current(type_name).count_documents(
                self._filter(type_name, criteria), session=self._s)
        counted = next(self._current(type_name).aggregate(
            [*stages, {"$count": "n"}], session=self._s), None)
        return int(counted["n"]) if counted else 0

    def ids(self, type_name: str, criteria: Criteria) -> list[str]:
        """The ids of the current versions matching the criteria."""
        stages = self._split(type_name, criteria)
        if stages is None:
            found = self._current(type_name).distinct(
                "_id", self._filter(type_name, criteria), session=self._s)
        else:
            found = [doc["_id"] for doc in self._current(type_name).aggregate(
                [*stages, {"$project": {"_id": 1}}], session=self._s)]
        return [str(resource_id) for resource_id in found]

    def references(self, type_name: str, code: str, criteria: Criteria) -> list[str]:
        """The distinct reference keys ("Type/id", URLs) a reference parameter holds among the
        current versions matching the criteria (reverse chains)."""
        field = f"idx.p.{code}"
        stages = self._split(type_name, criteria)
        if stages is None:
            found = self._current(type_name).distinct(
                field, self._filter(type_name, criteria), session=self._s)
        else:
            found = [row["_id"] for row in self._current(type_name).aggregate(
                [*stages, {"$unwind": f"${field}"}, {"$group": {"_id": f"${field}"}}],
                session=self._s)]
        return [value for value in found if isinstance(value, str)]

    def atomic(self) -> AbstractContextManager[ClientSession | None]:
        """Run the enclosed writes in one MongoDB multi-document transaction."""
        return transactions.atomic(self.db.client)

    def transact(self, work: Callable[[], T]) -> T:
        """Run `work` as one transaction, retried on conflicts (storage/transactions.py)."""
        return transactions.transact(self.db.client, work)

    def claim(self, key: str) -> None:
        """Claim a key inside the open transaction (a no-op outside one)."""
        if current_session() is not None:
            transactions.claim(self.db, key)

    def claim_many(self, keys: Sequence[str]) -> None:
        """Claim several keys inside the open transaction in one round trip."""
        if current_session() is not None:
            transactions.claim_many(self.db, list(keys))

    def ensure_indexes(self, type_names: Sequence[str]) -> None:
        """Create the indexes reads and history need."""
        history = self.db[HISTORY]
        history.create_index([("t", ASCENDING), ("i", ASCENDING), ("v", DESCENDING)],
                             unique=True, name="type_id_version")
        history.create_index([("ts", DESCENDING), ("_id", DESCENDING)], name="ts")
        history.create_index([("t", ASCENDING), ("ts", DESCENDING)], name="type_ts")
        for type_name in type_names:
            self.db[type_name].create_index([("ts", ASCENDING)], name="ts")
            if self.unique.get(type_name):
                ensure_unique_index(self.db[type_name])
