"""The one door to FHIR resources: a store bound to one caller that authorizes and audits.

Every interaction, operation, bundle entry, export job and card issue reaches resources through
a Repository (interactions/context.py binds one per request or job): reads and searches pass
each resource out through the same visibility check (history version by version), every query
is ANDed with the caller's restriction, and every write is checked on the resource as it
would be stored (access.py). What the caller touched, or tried to, is collected in an audit
unit: one AuditEvent per request, per bundle entry, per job (refused attempts too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from fhir_server import access
from fhir_server.auth import guard
from fhir_server.auth.compartment import compartment_params
from fhir_server.auth.principal import Principal
from fhir_server.errors import FhirError, Forbidden, Gone, NotFound
from fhir_server.search.criteria import Criteria, Sort
from fhir_server.storage.base import HistoryPage, StoredVersion
from fhir_server.write_effects import run_effects, run_many_effects
from fhir_server.write_rules import write_rules

MAX_AUDITED_REFS = 100  # entities one AuditEvent names (the query describes the rest)
T = TypeVar("T")
Q = TypeVar("Q")
RESTRICTED_HISTORY = 1000  # versions of one resource filtered for a restricted caller


class Store(Protocol):
    """What the repository needs of the storage layer (MongoResourceStore)."""

    def create(self, type_name: str, resource: dict[str, Any],
               resource_id: str | None = None) -> StoredVersion: ...
    def create_many(self, type_name: str, resources: Sequence[dict[str, Any]]
                    ) -> list[StoredVersion]: ...
    def update(self, type_name: str, resource_id: str, resource: dict[str, Any],
               if_match: int | None = None) -> tuple[StoredVersion, bool]: ...
    def delete(self, type_name: str, resource_id: str,
               if_match: int | None = None) -> StoredVersion | None: ...
    def read(self, type_name: str, resource_id: str) -> StoredVersion: ...
    def vread(self, type_name: str, resource_id: str, version: int) -> StoredVersion: ...
    def history(self, type_name: str | None, resource_id: str | None, *,
                since: datetime | None, until: datetime, offset: int, count: int,
                at: tuple[datetime, datetime] | None = None) -> HistoryPage: ...
    def find(self, type_name: str, criteria: Criteria, *, sort: Sort | None = None,
             skip: int = 0, limit: int = 0) -> Iterator[StoredVersion]: ...
    def count(self, type_name: str, criteria: Criteria) -> int: ...
    def ids(self, type_name: str, criteria: Criteria) -> list[str]: ...
    def references(self, type_name: str, code: str, criteria: Criteria) -> list[str]: ...
    def atomic(self) -> AbstractContextManager[Any]: ...
    def transact(self, work: Callable[[], T]) -> T: ...
    def claim(self, key: str) -> None: ...
    def claim_many(self, keys: Sequence[str]) -> None: ...


AuditRecorder = Callable[["AuditUnit", int], None]


@dataclass
class AuditUnit:
    """What one request (or bundle entry, or job) touched: the data of its AuditEvent."""

    interaction: str
    method: str = "GET"
    query: str | None = None
    refs: list[str] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    status: int | None = None  # set by a block that knows its outcome (a bundle entry)

    def touch(self, type_name: str, resource_id: str | None = None) -> None:
        """Note an access (or an attempt) to a type or one resource of it (shared reference
        data excepted, unless the type can name a patient: Schedule.actor)."""
        if type_name in guard.SHARED and not compartment_params(type_name):
            return
        self.types.add(type_name)
        if resource_id is not None and len(self.refs) < MAX_AUDITED_REFS:
            ref = f"{type_name}/{resource_id}"
            if ref not in self.refs:
                self.refs.append(ref)

    def name(self, *types: str) -> None:
        """Name types (or `*`, or a door) as asked, shared ones too: the door is audited
        whatever it turns out to hold (operations, exports, system history)."""
        self.types.update(types)

    def describe(self, description: str) -> None:
        """Add a description of the door to the unit's query (an export's job and file)."""
        self.query = f"{self.query} {description}" if self.query else description

    @property
    def personal(self) -> bool:
        """True when personal (non-shared) data was touched or asked for."""
        return bool(self.types)


class Repository:
    """A resource store bound to one caller: every resource in and out is authorized."""

    def __init__(self, store: Store, caller: Principal, base_url: str,
                 recorder: AuditRecorder | None = None, unit: AuditUnit | None = None) -> None:
        self.store = store
        self.caller = caller
        self.base_url = base_url
        self.recorder = recorder
        self.unit = unit or AuditUnit("operation")
        self.services: Any = None  # the Services this repository serves (after-write effects)

    # -- audit units -----------------------------------------------------------------------
    @contextmanager
    def audit_unit(self, interaction: str, method: str = "GET",
                   query: str | None = None) -> Iterator[AuditUnit]:
        """Collect what the block touches into its own AuditEvent (bundle entries, jobs)."""
        outer, self.unit = self.unit, AuditUnit(interaction, method, query)
        unit = self.unit
        status = 200
        try:
            yield unit
        except FhirError as exc:
            status = exc.status
            raise
        except Exception:
            status = 500
            raise
        finally:
            self.unit = outer
            self.finish(unit, unit.status or status)

    def finish(self, unit: AuditUnit, status: int) -> None:
        """Hand a finished unit to the audit recorder (when it touched personal data)."""
        if self.recorder is not None and unit.personal:
            self.recorder(unit, status)

    # -- reads -----------------------------------------------------------------------------
    def _visible(self, version: StoredVersion, content: Mapping[str, Any] | None) -> bool:
        return access.visible(self.caller, version.type, content, self.base_url)

    def last_live(self, type_name: str, resource_id: str) -> dict[str, Any] | None:
        """The last stored content of a deleted resource (its access rules still apply)."""
        page = self.store.history(type_name, resource_id, since=None, until=datetime.max,
                                  offset=0, count=2)
        return next((v.resource for v in page.versions if v.resource is not None), None)

    def read(self, type_name: str, resource_id: str) -> StoredVersion:
        """The current version (404 unknown or hidden, 410 deleted and visible)."""
        self.unit.touch(type_name, resource_id)
        guard.check_type("r", type_name, self.caller)
        try:
            version = self.store.read(type_name, resource_id)
        except Gone:
            access.require_visible(self.caller, type_name,
                                   self.last_live(type_name, resource_id), self.base_url)
            raise
        access.require_visible(self.caller, type_name, version.resource, self.base_url)
        return version

    def vread(self, type_name: str, resource_id: str, version_number: int) -> StoredVersion:
        """One version, checked on its own content (a tombstone on the content before it)."""
        self.unit.touch(type_name, resource_id)
        guard.check_type("r", type_name, self.caller)
        version = self.store.vread(type_name, resource_id, version_number)
        content = version.resource
        if content is None and version_number > 1:
            content = self.store.vread(type_name, resource_id, version_number - 1).resource
        access.require_visible(self.caller, type_name, content, self.base_url)
        return version

    def history(self, type_name: str | None, resource_id: str | None, *,
                since: datetime | None, until: datetime, offset: int, count: int,
                at: tuple[datetime, datetime] | None = None) -> HistoryPage:
        """Versions newest first; a restricted caller sees only the versions it may see."""
        if type_name is not None:
            self.unit.touch(type_name, resource_id)
        if resource_id is None:
            guard.check_history(type_name, self.caller)
            page = self.store.history(type_name, None, since=since, until=until,
                                      offset=offset, count=count, at=at)
            for version in page.versions:
                self.unit.touch(version.type, version.id)
            return page
        assert type_name is not None
        guard.check_type("r", type_name, self.caller)
        if not access.is_citizen(self.caller):
            return self.store.history(type_name, resource_id, since=since, until=until,
                                      offset=offset, count=count, at=at)
        every = self.store.history(type_name, resource_id, since=None, until=until, offset=0,
                                   count=RESTRICTED_HISTORY)
        shown, before = [], None
        for version in reversed(every.versions):  # oldest first: a tombstone hides with its past
            content = version.resource if version.resource is not None else before
            if self._visible(version, content):
                shown.append(version)
            before = version.resource
        if at is not None or since is not None:
            chosen = self.store.history(type_name, resource_id, since=since, until=until,
                                        offset=0, count=RESTRICTED_HISTORY, at=at)
            allowed = {v.version for v in shown}
            shown = [v for v in reversed(chosen.versions) if v.version in allowed]
        shown.reverse()
        return HistoryPage(shown[offset:offset + count], len(shown))

    def _restricted(self, action: str, type_name: str, criteria: Criteria) -> Criteria:
        self.unit.touch(type_name)
        guard.check_type(action, type_name, self.caller)
        restriction = access.restriction(self.caller, type_name)
        return criteria if restriction is None else criteria.and_(restriction)

    def find(self, type_name: str, criteria: Criteria, *, sort: Sort | None = None,
             skip: int = 0, limit: int = 0) -> Iterator[StoredVersion]:
        """Current versions matching the criteria, within what the caller may see."""
        where = self._restricted("s", type_name, criteria)
        for version in self.store.find(type_name, where, sort=sort, skip=skip, limit=limit):
            if self._visible(version, version.resource):  # the query restricts; this proves it
                self.unit.touch(type_name, version.id)
                yield version

    def count(self, type_name: str, criteria: Criteria) -> int:
        """How many current versions the caller may see match the criteria."""
        return self.store.count(type_name, self._restricted("s", type_name, criteria))

    def ids(self, type_name: str, criteria: Criteria) -> list[str]:
        """The ids of the visible matches (chains)."""
        return self.store.ids(type_name, self._restricted("s", type_name, criteria))

    def references(self, type_name: str, code: str, criteria: Criteria) -> list[str]:
        """The reference keys a parameter holds among the visible matches (_has)."""
        return self.store.references(type_name, code,
                                     self._restricted("s", type_name, criteria))

    def aggregate(self, read: Sequence[str], description: str,
                  queries: Callable[[], Sequence[Q]],
                  compute: Callable[[Repository, Q], T]) -> list[T]:
        """Counts over personal data (analytics; no resource leaves): noted in this request's
        AuditEvent (the types read, what was asked), refused to citizens and to callers who
        may not search MeasureReport, then `compute(self, query)` for each of `queries()`
        (made after the check: a refused caller learns nothing of its input)."""
        self.unit.name(*read)
        self.unit.describe(description)
        if access.is_citizen(self.caller):
            raise Forbidden("Indicators are for the health authorities")
        guard.check_type("s", "MeasureReport", self.caller)
        return [compute(self, query) for query in queries()]

    # -- writes ----------------------------------------------------------------------------
    def _lookup(self, type_name: str, resource_id: str) -> Mapping[str, Any] | None:
        try:
            return self.store.read(type_name, resource_id).resource
        except (NotFound, Gone):
            return None

    def _current(self, type_name: str, resource_id: str) -> dict[str, Any] | None:
        try:
            return self.store.read(type_name, resource_id).resource
        except Gone:
            return self.last_live(type_name, resource_id)
        except NotFound:
            return None

    def create(self, type_name: str, resource: dict[str, Any],
               resource_id: str | None = None) -> StoredVersion:
        """Create (server id unless given) after checking the content as stored."""
        self.unit.touch(type_name)
        if resource_id is not None:
            return self.update(type_name, resource_id, resource)[0]
        access.check_write(self.caller, "c", type_name, resource, None, self.base_url,
                           self._lookup)
        version = self._ruled(type_name, resource, None,
                              lambda: self.store.create(type_name, resource))
        self.unit.touch(type_name, version.id)
        run_effects(self.services, version, None)
        return version

    def create_many(self, type_name: str, resources: Sequence[dict[str, Any]]
                    ) -> list[StoredVersion]:
        """Create several new resources, each checked as stored."""
        self.unit.touch(type_name)
        for resource in resources:
            access.check_write(self.caller, "c", type_name, resource, None, self.base_url,
                               self._lookup)
        rules = write_rules(type_name)  # one by one when a rule has writes of its own to make
        if any(rule.check(self, resource, None) for resource in resources for rule in rules):
            created = [self._ruled(type_name, resource, None,
                                   partial(self.store.create, type_name, resource))
                       for resource in resources]
        else:
            created = self.store.create_many(type_name, resources)
        for version in created:
            self.unit.touch(type_name, version.id)
        run_many_effects(self.services, created)  # batch forms once, the others one by one
        return created

    def update(self, type_name: str, resource_id: str, resource: dict[str, Any],
               if_match: int | None = None) -> tuple[StoredVersion, bool]:
        """Update (or create with this id): current and proposed content both checked."""
        self.unit.touch(type_name, resource_id)
        current = self._current(type_name, resource_id)
        access.check_write(self.caller, "u" if current is not None else "c", type_name,
                           resource, current, self.base_url, self._lookup)
        stored = self._ruled(type_name, resource, current,
                             lambda: self.store.update(type_name, resource_id, resource,
                                                       if_match),
                             resource_id)
        run_effects(self.services, stored[0], current)
        return stored

    def delete(self, type_name: str, resource_id: str,
               if_match: int | None = None) -> StoredVersion | None:
        """Delete (a tombstone) when the caller may delete this resource."""
        self.unit.touch(type_name, resource_id)
        current = self._current(type_name, resource_id)
        access.check_delete(self.caller, type_name, current, self.base_url)
        deleted = self._ruled(type_name, None, current,
                              lambda: self.store.delete(type_name, resource_id, if_match),
                              resource_id)
        if deleted is not None:
            run_effects(self.services, deleted, current)  # those registered for deletes
        return deleted

    def _ruled(self, type_name: str, proposed: Mapping[str, Any] | None,
               current: Mapping[str, Any] | None, write: Callable[[], T],
               resource_id: str | None = None) -> T:
        """Run a write under its type's rules (write_rules.py): in one transaction, the
        current version read again, when a rule has dependent writes."""
        rules = write_rules(type_name)
        if not [rule for rule in rules if rule.check(self, proposed, current)]:
            return write()

        def unit() -> T:
            now = current if resource_id is None else self._current(type_name, resource_id)
            for rule in rules:
                if rule.check(self, proposed, now):
                    rule.apply(self, proposed, now)
            return write()
        return self.store.transact(unit)

    def atomic(self) -> AbstractContextManager[Any]:
        """Writes in the block commit together (one MongoDB transaction)."""
        return self.store.atomic()

    def transact(self, work: Callable[[], T]) -> T:
        """Run `work` (which reaches resources through this repository) as one transaction,
        retried by the storage layer on write conflicts."""
        return self.store.transact(work)

    def claim(self, key: str) -> None:
        """Claim a normalised conditional-create criteria in the open transaction, so two
        concurrent transactions cannot both create a match for it."""
        self.store.claim(key)

    def claim_many(self, keys: Sequence[str]) -> None:
        """Claim several keys in the open transaction (one round trip; as `claim`)."""
        self.store.claim_many(keys)
