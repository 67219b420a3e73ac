"""The hook where an access guard ANDs a mandatory filter into every search query.

`fn(type_name)` returns the extra Mongo filter for that type (e.g. "only this patient's
compartments"), or None. The access guard installs its function once (`install`); a block can
run under another one (`restricted`). Every query the search service runs - matches, chains,
reverse chains, includes and revincludes - applies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Restriction = Callable[[str], Mapping[str, Any] | None]
_current: ContextVar[Restriction | None] = ContextVar("fhir_search_restriction", default=None)


@contextmanager
def restricted(restriction: Restriction) -> Iterator[None]:
    """Apply a restriction to every search run inside the block."""
    token = _current.set(restriction)
    try:
        yield
    finally:
        _current.reset(token)


_installed: list[Restriction] = []


def install(restriction: Restriction) -> None:
    """Apply a restriction to every search outside `restricted` blocks (the access guard)."""
    _installed[:] = [restriction]


def mandatory_filters(type_name: str) -> list[Mapping[str, Any]]:
    """The extra filters every query on this type must satisfy right now."""
    restriction = _current.get() or (_installed[0] if _installed else None)
    if restriction is None:
        return []
    extra = restriction(type_name)
    return [extra] if extra else []
