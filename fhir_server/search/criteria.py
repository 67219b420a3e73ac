"""Search criteria as data: what the repository and the store take instead of database queries.

A `Criteria` is the AND of terms over the current resources of one type. The terms speak FHIR
(parsed search clauses, ids, compartments, lastUpdated windows, element values); only the
storage layer (storage/query) knows how they are laid out and compiled for the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fhir_server.search.params import Clause

SortKey = tuple[str, int]  # (_id | _lastUpdated | a parameter code, 1 ascending | -1 descending)


@dataclass(frozen=True)
class Context:
    """What compiling a clause needs besides the clause (the clock matters for `ap`)."""

    base_url: str
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Match:
    """One parsed, non-chained search clause (search.html#ptypes)."""

    clause: Clause
    context: Context


@dataclass(frozen=True)
class RefersTo:
    """A reference parameter pointing at one of these "Type/id" keys (resolved chains,
    _revinclude)."""

    clause: Clause
    keys: tuple[str, ...]
    rank: int = 10


@dataclass(frozen=True)
class IdIn:
    """The resource id is one of these (none: nothing matches)."""

    ids: tuple[str, ...]


@dataclass(frozen=True)
class IdAfter:
    """The resource id sorts after this one (system search paging)."""

    id: str


@dataclass(frozen=True)
class InCompartments:
    """Members of these patients' compartments: a Patient by id, any other type by one of
    its compartment parameters `codes` referencing one of the patients."""

    patient_ids: tuple[str, ...]
    codes: tuple[str, ...]


@dataclass(frozen=True)
class CompartmentSearch:
    """The compartment search `[compartment]/[id]/[type]`, e.g. `Patient/[id]/Observation` (its
    `links` are the CompartmentDefinition parameters of the type; the compartment's own type is
    matched by id or by its `links`, e.g. a Patient's `link`). `patient_id` is the id of the
    compartment's resource."""

    patient_id: str
    links: tuple[str, ...]
    compartment: str = "Patient"


@dataclass(frozen=True)
class NamesPatient:
    """Some compartment parameter (`codes`) references a Patient — or, with `negate`, none."""

    codes: tuple[str, ...]
    negate: bool = False


@dataclass(frozen=True)
class Updated:
    """meta.lastUpdated within bounds: after `gt`, at or after `gte`, at or before `lte`."""

    gt: datetime | None = None
    gte: datetime | None = None
    lte: datetime | None = None


@dataclass(frozen=True)
class ElementIs:
    """The resource's element at a dotted path (e.g. `url`, `meta.source`) equals a value."""

    path: str
    value: Any


@dataclass(frozen=True)
class AnyOf:
    """At least one of these criteria holds."""

    options: tuple[Criteria, ...]


@dataclass(frozen=True)
class After:
    """Keyset paging: the items after (or, backward, before) a cursor's boundary item in the
    order of `sort` (search/paging.py)."""

    sort: tuple[SortKey, ...]
    values: tuple[Any, ...]
    forward: bool = True
    ties: tuple[str, ...] = ()


Term = (Match | RefersTo | IdIn | IdAfter | InCompartments | CompartmentSearch | NamesPatient
        | Updated | ElementIs | AnyOf | After)


@dataclass(frozen=True)
class Criteria:
    """The AND of its terms (no terms: every current resource of the type)."""

    terms: tuple[Term, ...] = ()

    def and_(self, *terms: Term) -> Criteria:
        """These criteria with more terms ANDed in."""
        return Criteria((*self.terms, *terms))


EVERYTHING = Criteria()
NOTHING = Criteria((IdIn(()),))


@dataclass(frozen=True)
class Sort:
    """The order of a result: sort keys (ending with _id), walked backward for a page before
    a cursor."""

    keys: tuple[SortKey, ...]
    backward: bool = False


def of(*terms: Term) -> Criteria:
    """Criteria made of these terms."""
    return Criteria(terms)
