"""Fixtures of the storage tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo.database import Database

from tests.storage.records_db import own_database


@pytest.fixture()
def db(mongo_uri: str) -> Iterator[Database[Any]]:
    """A fresh database on the test server, dropped after the test."""
    with own_database(mongo_uri) as database:
        yield database
