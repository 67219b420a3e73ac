"""The QuestionnaireResponse write rule (write_rules.py): whatever the door (POST, PUT, PATCH,
a bundle entry), a reaction report is checked and recorded, a health declaration is checked.

- check: a health declaration's rules (declarations.py); for a reaction report that becomes
  final with this write (created completed, or completed now and not before) the dose is found
  among its subject's Immunizations through the caller's Repository (reactions.py) -- 422
  naming the answer otherwise, so nothing is written.
- apply (inside the write's transaction): the AdverseEvent, and with red flags the Flag, the
  site's Communication and the citizen's notice (reaction_records.py), once per report key.
Amending a completed report changes no AdverseEvent (the site updates it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_server.auth.principal import INTERNAL_PRINCIPAL
from fhir_server.campaign import declarations, reaction_records, reactions
from fhir_server.interactions.context import Services
from fhir_server.repository import Repository
from fhir_server.settings import Settings
from fhir_server.write_rules import add_write_rule

Resource = Mapping[str, Any] | None


def services(repo: Repository) -> tuple[Services, Services]:
    """Services for the caller and for the server, over the write's store."""
    settings = Settings(base_url=repo.base_url)
    internal = Repository(repo.store, INTERNAL_PRINCIPAL, repo.base_url, repo.recorder,
                          repo.unit)
    return Services(repo, settings), Services(internal, settings)


def _new_report(proposed: Resource, current: Resource) -> bool:
    return reactions.is_report(proposed) and not reactions.is_report(current)


class ResponseRule:
    """Reaction reports and health declarations (see the module docstring)."""

    def check(self, repo: Repository, proposed: Resource, current: Resource) -> bool:
        """Refuse a bad declaration or a report on a dose not the subject's; True when a
        report is to be recorded."""
        if declarations.is_declaration(proposed):
            assert proposed is not None
            declarations.check(proposed)
        if not _new_report(proposed, current):
            return False
        assert proposed is not None
        svc, _internal = services(repo)
        reactions.find_dose(svc, reactions.parse(proposed))
        return True

    def apply(self, repo: Repository, proposed: Resource, current: Resource) -> None:
        """Record the report (its AdverseEvent and alerts) unless its key is known."""
        if not _new_report(proposed, current):
            return
        assert proposed is not None
        svc, internal = services(repo)
        report = reactions.parse(proposed)
        dose = reactions.find_dose(svc, report)
        reaction_records.write(svc, internal, report, dict(proposed), dose,
                               svc.settings.clock())


add_write_rule("QuestionnaireResponse", ResponseRule())
