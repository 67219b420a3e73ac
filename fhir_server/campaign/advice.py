"""The reaction-report checker (a ResourceChecker, interactions/context.py), run on every
write before the Repository's own checks and by $validate:

- a report naming its dose (`immunization` answer) must name a completed Immunization of its
  own subject: an error issue at that answer otherwise (422, nothing written) -- checked here
  too, so the citizen learns which field is wrong before the reference itself is refused;
- a report with a red-flag answer gets an information issue: hotline 115 and what to do,
  which a write with `Prefer: return=OperationOutcome` (http.html#ops) answers.
"""

from __future__ import annotations

from typing import Any

from fhir_server.campaign import reactions
from fhir_server.campaign.answers import first
from fhir_server.errors import FhirError, Issue
from fhir_server.interactions.context import Services
from fhir_server.repository import Repository
from fhir_server.settings import Settings


class ReactionChecker:
    """Checks and advice on reaction reports (see the module docstring)."""

    def __init__(self, server: Repository) -> None:
        self.server = Services(server, Settings(base_url=server.base_url))

    def check(self, resource: dict[str, Any]) -> list[Issue]:
        """Issues of a reaction report: a named dose not the subject's; the red-flag advice."""
        if resource.get("resourceType") != "QuestionnaireResponse" or not reactions.is_report(
                resource):
            return []
        try:
            report = reactions.parse(resource)
            if first(report.found, "immunization") is not None:
                reactions.find_dose(self.server, report)
        except FhirError as error:
            return error.issues
        if not report.flags:
            return []
        signs = ", ".join(str(a.code) for a in report.flags)
        return [Issue("informational", f"{reactions.ADVICE} [red flags: {signs}]",
                      "information", tuple(a.path for a in report.flags))]
