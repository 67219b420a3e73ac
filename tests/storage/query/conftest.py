"""The search bed (a store with the search indexer) for the query compiler tests."""

from tests.search.conftest import bed

__all__ = ["bed"]
