"""The citizen's answer to a red-flag reaction report: an information issue (hotline 115 and
what to do) that a write with `Prefer: return=OperationOutcome` (http.html#ops), a bundle
entry's outcome and $validate carry. A ResourceChecker (interactions/context.py): it never
refuses a write."""

from __future__ import annotations

from typing import Any

from fhir_server.campaign.answers import answers
from fhir_server.campaign.reactions import ADVICE, is_report, red_flags
from fhir_server.errors import Issue


class ReactionAdvice:
    """Advice on every reaction report with a red-flag answer."""

    def check(self, resource: dict[str, Any]) -> list[Issue]:
        """One information issue naming the red-flag answers; none otherwise."""
        if resource.get("resourceType") != "QuestionnaireResponse" or not is_report(resource):
            return []
        flags = red_flags(answers(resource))
        if not flags:
            return []
        signs = ", ".join(str(a.code) for a in flags)
        return [Issue("informational", f"{ADVICE} [red flags: {signs}]", "information",
                      tuple(a.path for a in flags))]
