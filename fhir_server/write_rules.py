"""Per-type write rules: business rules the Repository runs on every write of a type.

Whatever the door (REST create/update/patch/delete, a bundle entry, an operation), a write of a
type with rules goes through `Repository._ruled`: each rule's `check` may refuse it (a
FhirError) and says whether it has dependent writes; if any has, the write runs in one
transaction where the current version is read again and `apply` re-checks and makes them
before the write itself (a booked Appointment marks its Slot busy in the same transaction:
fhir_server/scheduling/rules.py). The rule modules are listed in RULE_MODULES and imported on
the first write, so no app wiring is needed.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fhir_server.repository import Repository

RULE_MODULES = ("fhir_server.scheduling.rules",  # each calls add_write_rule on import
                "fhir_server.health_cards.rules",
                "fhir_server.campaign.rules")
_WRITE_RULES: dict[str, list[WriteRule]] = {}
_loaded: list[bool] = []


class WriteRule(Protocol):
    """A rule on the writes of one type (registered with add_write_rule)."""

    def check(self, repo: Repository, proposed: Mapping[str, Any] | None,
              current: Mapping[str, Any] | None) -> bool:
        """Raise a FhirError to refuse (reads only); True when `apply` must run with it."""

    def apply(self, repo: Repository, proposed: Mapping[str, Any] | None,
              current: Mapping[str, Any] | None) -> None:
        """Inside the write's transaction, before it: re-check and make the dependent writes."""


def add_write_rule(type_name: str, rule: WriteRule) -> None:
    """Register a rule run on every create, update and delete of this type."""
    _WRITE_RULES.setdefault(type_name, []).append(rule)


def write_rules(type_name: str) -> list[WriteRule]:
    """The rules registered for a type (the rule modules are imported on first use)."""
    if not _loaded:
        _loaded.append(True)
        for name in RULE_MODULES:
            importlib.import_module(name)
    return _WRITE_RULES.get(type_name, [])
