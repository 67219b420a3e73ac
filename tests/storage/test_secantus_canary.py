"""Canary for the known SecantusDB defect: a BSON regex on an indexed field matches nothing.

The server never queries with regexes (they also defeat MongoDB indexes). When this test starts
failing on SecantusDB, the bug is fixed upstream: say so in the notes. On a real MongoDB
(MONGODB_URI set) the regex works and the test checks that instead.
"""

from __future__ import annotations

import os
import re
import uuid

from pymongo import MongoClient


def test_regex_on_indexed_field(mongo_uri: str) -> None:
    with MongoClient(mongo_uri) as client:
        collection = client[f"canary_{uuid.uuid4().hex[:8]}"]["people"]
        collection.insert_many([{"indexed": "nguyen", "plain": "nguyen"}, {"indexed": "tran",
                                                                          "plain": "tran"}])
        collection.create_index("indexed")
        on_plain = collection.count_documents({"plain": re.compile("^ngu")})
        on_indexed = collection.count_documents({"indexed": re.compile("^ngu")})
        by_range = collection.count_documents({"indexed": {"$gte": "ngu", "$lt": "ngu\uffff"}})
        client.drop_database(collection.database.name)
    assert on_plain == 1 and by_range == 1
    if os.environ.get("MONGODB_URI"):
        assert on_indexed == 1  # real MongoDB
    else:
        assert on_indexed == 0, "SecantusDB regex-on-index bug looks fixed: update the notes"
