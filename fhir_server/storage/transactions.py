"""Multi-document transactions: one unit of work committed together, retried by the driver.

`transact(client, work)` runs `work` inside pymongo's `ClientSession.with_transaction`, which
re-runs the whole unit on a TransientTransactionError (a write conflict with a concurrent
transaction) and retries the commit on UnknownTransactionCommitResult. The store's operations
join the open transaction through a context variable (`current_session`), so the code doing the
work never sees a session. A unit that loses a race the store itself detected (a FhirError 409,
e.g. a resource created concurrently) is re-run a few times here, with a growing jittered pause,
before the 409 goes out. A database that refuses transactions (a standalone server) is answered
501 once, plainly.

An unreachable database is not retried (issue 16 point 3a): the driver would re-run the unit
and re-try the commit for up to 120 s, each try waiting out server selection, so a request made
during an outage hung for two minutes. Here a server-selection timeout (FHIR_DB_TIMEOUT_MS) in
the unit or its commit ends the transaction at once and goes out as 503 + Retry-After; write
conflicts and a dropped connection are still re-run. The unit commits itself so that the commit
retries are bounded the same way (`with_transaction` accepts a unit that ended its transaction).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from pymongo import MongoClient, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError, ServerSelectionTimeoutError

from fhir_server.errors import FhirError
from fhir_server.storage.unique_identifiers import DuplicateIdentifier

T = TypeVar("T")
CLAIMS = "_claims"
RACE_ATTEMPTS = 6  # re-runs of a unit that lost a race detected by the store (409)
ILLEGAL_OPERATION = 20  # "Transaction numbers are only allowed on a replica set member"
COMMIT_RETRY_SECONDS = 10.0  # re-tries of a commit whose result is unknown (connection lost)
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"
_session: ContextVar[ClientSession | None] = ContextVar("fhir_session", default=None)


def current_session() -> ClientSession | None:
    """The session of the transaction open in this context, if any."""
    return _session.get()


def _unsupported(error: OperationFailure) -> bool:
    return error.code == ILLEGAL_OPERATION or "replica set" in str(error).lower()


class _Unreachable(Exception):  # noqa: N818 - carries a driver error past with_transaction
    """The database did not answer within the server-selection timeout: do not re-run."""

    def __init__(self, error: ServerSelectionTimeoutError) -> None:
        super().__init__(str(error))
        self.error = error


def _commit(session: ClientSession) -> None:
    """Commit, re-trying an unknown result for a while; unreachable ends it at once, and a
    transient error goes back to `with_transaction`, which re-runs the unit."""
    deadline = time.monotonic() + COMMIT_RETRY_SECONDS
    while True:
        try:
            session.commit_transaction()
            return
        except ServerSelectionTimeoutError as error:
            raise _Unreachable(error) from error
        except PyMongoError as error:
            if not (error.has_error_label(UNKNOWN_COMMIT) and time.monotonic() < deadline):
                raise


def _run_once(client: MongoClient[Any], work: Callable[[], T]) -> T:
    def unit(session: ClientSession) -> T:
        token = _session.set(session)
        try:
            result = work()
        except ServerSelectionTimeoutError as error:
            raise _Unreachable(error) from error
        finally:
            _session.reset(token)
        _commit(session)
        return result

    with client.start_session() as session:
        try:
            return session.with_transaction(unit)
        except _Unreachable as unreachable:
            raise unreachable.error from None
        except OperationFailure as error:
            if _unsupported(error):
                raise FhirError("Transactions need MongoDB as a replica set (or a sharded "
                                "cluster); this database refuses them", status=501,
                                code="not-supported") from error
            raise


def transact(client: MongoClient[Any], work: Callable[[], T]) -> T:
    """Run `work` as one transaction (joined if one is already open); its result."""
    if _session.get() is not None:
        return work()
    for attempt in range(RACE_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0.005, 0.02) * 2 ** attempt)
        try:
            return _run_once(client, work)
        except FhirError as error:
            if error.status != 409 or attempt == RACE_ATTEMPTS - 1 or \
                    isinstance(error, DuplicateIdentifier):  # held: a re-run changes nothing
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def atomic(client: MongoClient[Any]) -> Iterator[ClientSession | None]:
    """The enclosed writes commit together (no retry: prefer `transact`)."""
    if _session.get() is not None:
        yield _session.get()
        return
    with client.start_session() as session, session.start_transaction():
        token = _session.set(session)
        try:
            yield session
        finally:
            _session.reset(token)


def claim(db: Database[Any], key: str) -> None:
    """Upsert a claim document in the open transaction: two concurrent transactions claiming
    the same key conflict, so only one of them commits (conditional creates)."""
    db[CLAIMS].update_one({"_id": key[:1000]}, {"$inc": {"n": 1}}, upsert=True,
                          session=_session.get())


def claim_many(db: Database[Any], keys: list[str]) -> None:
    """Claim several keys in the open transaction with one bulk write (as `claim`)."""
    if keys:
        db[CLAIMS].bulk_write([UpdateOne({"_id": key[:1000]}, {"$inc": {"n": 1}}, upsert=True)
                               for key in dict.fromkeys(keys)], ordered=False,
                              session=_session.get())
