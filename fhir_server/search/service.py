"""Search entry points used by the interactions: type, compartment and system search, and the
matching behind conditional create/update/delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fhir_server.errors import InvalidRequest, Issue
from fhir_server.search.criteria import CompartmentSearch, Criteria, Sort, Term
from fhir_server.search.engine import Engine, SearchStore
from fhir_server.search.extract import SearchIndexer
from fhir_server.search.includes import resolve_includes
from fhir_server.search.normalize import ms
from fhir_server.search.paging import (
    Cursor,
    SortField,
    after_term,
    decode,
    encode,
    next_cursor,
    previous_cursor,
    signature,
    sort_fields,
)
from fhir_server.search.params import Clause, Unsupported, parse_clause
from fhir_server.search.results import (
    RESULT_PARAMS,
    UNSUPPORTED_RESULT,
    ResultParams,
    add_result_param,
)
from fhir_server.settings import Settings
from fhir_server.spec import compartments
from fhir_server.storage.base import StoredVersion


@dataclass
class Parsed:
    """A search request, parsed: clauses per type, result parameters, ignored parameters."""

    clauses: dict[str, list[Clause]]
    results: ResultParams
    applied: list[tuple[str, str]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


@dataclass
class SearchOutcome:
    """One page of results and what the Bundle needs to describe it."""

    matches: list[StoredVersion]
    included: list[StoredVersion]
    total: int | None
    self_params: list[tuple[str, str]]
    next_params: list[tuple[str, str]] | None = None
    previous_params: list[tuple[str, str]] | None = None
    issues: list[Issue] = field(default_factory=list)
    summary: str | None = None
    elements: list[str] | None = None


def compartment_links(compartment: str, type_name: str) -> tuple[str, ...] | None:
    """The parameters linking a type to a compartment (its own type: the non-'{def}' ones, as
    the compartment's resource is in its own compartment); None when the type is not in it."""
    links = compartments().get(compartment, {}).get(type_name)
    if type_name == compartment:
        return tuple(code for code in links or () if code != "{def}")
    return tuple(links) if links else None


class SearchService:
    """Finds current resources by search parameters."""

    def __init__(self, store: SearchStore, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        self.indexer = SearchIndexer(self.settings.base_url)
        self.engine = Engine(store, self.settings.base_url)

    # -- parsing ---------------------------------------------------------------------------
    def parse(self, type_names: list[str], params: Sequence[tuple[str, str]],
              strict: bool) -> Parsed:
        """Split parameters into clauses per type and result parameters."""
        parsed = Parsed({t: [] for t in type_names},
                        ResultParams(count=self.settings.default_page_size))
        for name, value in params:
            if name in RESULT_PARAMS:
                add_result_param(parsed.results, name, value, type_names,
                                 self.settings.max_page_size)
                continue
            if not value.strip(","):
                continue  # empty parameters (no value between the commas either) are ignored
            try:
                if name in UNSUPPORTED_RESULT:
                    raise Unsupported(name, f"Parameter '{name}' is not supported")
                clauses = [parse_clause(t, name, value) for t in type_names]
            except Unsupported as exc:
                if strict:
                    raise InvalidRequest.at(exc.reason, name[:100], "not-supported") from None
                parsed.issues.append(Issue("not-supported", f"{exc.reason}; ignored", "warning",
                                           (name[:100],)))
                continue
            for type_name, clause in zip(type_names, clauses, strict=True):
                parsed.clauses[type_name].append(clause)
            parsed.applied.append((name, value))
        return parsed

    # -- conditional interactions ----------------------------------------------------------
    def match(self, type_name: str, params: Sequence[tuple[str, str]],
              limit: int = 2) -> list[StoredVersion]:
        """Resources matching the criteria of a conditional interaction (at most `limit`)."""
        filters = [(n, v) for n, v in params if n not in ("_format", "_pretty")]
        if not [v for _n, v in filters if v != ""]:
            raise InvalidRequest("A conditional interaction needs search criteria")
        for name, _value in filters:
            if name in RESULT_PARAMS:
                raise InvalidRequest.at(f"'{name}' is not allowed in conditional criteria",
                                        name, "not-supported")
        parsed = self.parse([type_name], filters, strict=True)
        criteria = self.engine.criteria(type_name, parsed.clauses[type_name])
        return self.engine.find(type_name, criteria, None, limit)

    def criteria_for(self, type_name: str, params: Sequence[tuple[str, str]]) -> Criteria:
        """The criteria the filter parameters stand for (strict; for tests and tools)."""
        parsed = self.parse([type_name], params, strict=True)
        return self.engine.criteria(type_name, parsed.clauses[type_name])

    # -- type and compartment search -------------------------------------------------------
    def compartment_term(self, compartment_id: str, type_name: str,
                         compartment_type: str = "Patient") -> Term:
        """Restrict a search to one compartment, e.g. one patient's (compartmentdefinition)."""
        links = compartment_links(compartment_type, type_name)
        if links is None:
            raise InvalidRequest.at(f"{type_name} is not in the {compartment_type} compartment",
                                    type_name, "not-supported")
        return CompartmentSearch(compartment_id, links, compartment_type)

    def search(self, type_name: str, params: Sequence[tuple[str, str]], *, strict: bool = False,
               compartment: str | None = None, compartment_type: str = "Patient"
               ) -> SearchOutcome:
        """Search one type (optionally inside a compartment, by default a patient's): one page."""
        parsed = self.parse([type_name], params, strict)
        results = parsed.results
        terms = self.engine.terms(type_name, parsed.clauses[type_name])
        if compartment is not None:
            terms.append(self.compartment_term(compartment, type_name, compartment_type))
        fields = sort_fields(results.sort)
        cursor = decode(results.cursor, signature(fields)) if results.cursor else None
        count = 0 if results.summary == "count" else results.count
        base = Criteria(tuple(terms))
        page = base.and_(after_term(fields, cursor)) if cursor else base
        direction = 1 if cursor is None or cursor.forward else -1
        fetch_sort = Sort(tuple(fields), backward=direction < 0)
        items = self.engine.find(type_name, page, fetch_sort, count + 1) if count else []
        more = len(items) > count
        items = items[:count]
        if direction < 0:
            items.reverse()
        total = None
        if results.total != "none" or results.summary == "count":
            # when the first page holds every match, there is nothing else to count
            whole = cursor is None and count > 0 and not more
            total = len(items) if whole else self.store.count(type_name, base)
        outcome = self._outcome(parsed, items, total, cursor)
        if items:
            values_of = self._values_of(fields)
            forward_more = more if direction > 0 else True
            backward_more = cursor is not None if direction > 0 else more
            paging = self._paging_params(parsed)
            if forward_more:
                after = next_cursor(items, values_of, fields, cursor)
                outcome.next_params = [*paging, ("_cursor", encode(after))]
            if backward_more:
                before = previous_cursor(items, values_of, fields)
                outcome.previous_params = [*paging, ("_cursor", encode(before))]
        outcome.included = resolve_includes(self.engine, self.indexer, items, results.include,
                                            results.revinclude)
        return outcome

    def _outcome(self, parsed: Parsed, items: list[StoredVersion], total: int | None,
                 cursor: Cursor | None) -> SearchOutcome:
        results = parsed.results
        self_params = [*parsed.applied, *results.applied, ("_count", str(results.count))]
        if cursor is not None and results.cursor:
            self_params.append(("_cursor", results.cursor))
        return SearchOutcome(items, [], total, self_params, issues=parsed.issues,
                             summary=results.summary, elements=results.elements)

    def _paging_params(self, parsed: Parsed) -> list[tuple[str, str]]:
        return [*parsed.applied, *parsed.results.applied,
                ("_count", str(parsed.results.count))]

    def _values_of(self, fields: Sequence[SortField]) -> Any:
        def values_of(version: StoredVersion) -> list[Any]:
            out: list[Any] = []
            for code, direction in fields:
                if code == "_id":
                    out.append(version.id)
                elif code == "_lastUpdated":
                    out.append(ms(version.last_updated))
                else:  # a parameter's ascending (min) or descending (max) sort key
                    found = self.indexer.param_values(version.type, code, version.resource or {})
                    out.append(None if found.sort is None else
                               found.sort[0 if direction > 0 else 1])
            return out
        return values_of

    # -- system search ---------------------------------------------------------------------
    def search_system(self, params: Sequence[tuple[str, str]], *, strict: bool = False
                      ) -> SearchOutcome:
        """Search several types (_type, or all): one page, in type order then id order."""
        from fhir_server.search.system import run_system_search

        return run_system_search(self, params, strict)
