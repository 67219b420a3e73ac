"""storage/errors.py and storage/ping.py: what a driver error means for the layers above
(503 when unreachable, 500 otherwise, re-run on a transient transaction error), and pings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from fhir_server.embedded import free_port
from fhir_server.storage.errors import (
    DatabaseError,
    is_database_error,
    is_database_unavailable,
    is_transient_transaction_error,
)
from fhir_server.storage.ping import ping, server_answers
from tests.storage.records_db import own_database


@pytest.mark.parametrize("error", [ConnectionFailure("x"), ServerSelectionTimeoutError("x"),
                                   AutoReconnect("x")])
def test_unreachable(error: Exception) -> None:
    assert is_database_unavailable(error) and is_database_error(error)
    assert isinstance(error, DatabaseError)


@pytest.mark.parametrize("error", [OperationFailure("x", code=2), DuplicateKeyError("x")])
def test_other_database_errors(error: Exception) -> None:
    assert is_database_error(error) and not is_database_unavailable(error)


def test_not_database_errors() -> None:
    for error in (ValueError("x"), KeyError("x"), RuntimeError("x")):
        assert not is_database_error(error) and not is_database_unavailable(error)
        assert not is_transient_transaction_error(error)


def test_transient_transaction_label() -> None:
    conflict = OperationFailure("write conflict", code=112,
                                details={"errorLabels": ["TransientTransactionError"]})
    assert is_transient_transaction_error(conflict)
    assert not is_transient_transaction_error(OperationFailure("other", code=2))


@pytest.fixture()
def db(mongo_uri: str) -> Iterator[Database[Any]]:
    with own_database(mongo_uri) as database:
        yield database


def test_ping(db: Database[Any], mongo_uri: str) -> None:
    ping(db)  # answers: no exception
    assert server_answers(mongo_uri)


def test_ping_nobody_there() -> None:
    uri = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    assert not server_answers(uri, timeout_ms=200)
    client: MongoClient[dict[str, Any]]
    with MongoClient(uri, serverSelectionTimeoutMS=200) as client, \
            pytest.raises(DatabaseError) as caught:
        ping(client["nobody"])
    assert is_database_unavailable(caught.value)
